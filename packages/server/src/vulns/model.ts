/**
 * The one shape every vulnerability feed is normalised to before it reaches the store and the
 * matcher. Feeds (`feeds/<source>/`) parse into it; the importer stores it; the matcher reads it.
 * It follows OSV (https://ossf.github.io/osv-schema/) because OSV is the richest of the feeds, and
 * the Debian Security Tracker maps onto it without loss for what matching needs.
 */

/** Where a record came from. Records with the same id from two sources are kept apart. */
export type FeedSource = 'osv' | 'debian-tracker';

/**
 * One OSV range event. Exactly one key is set. `introduced: "0"` means "from the first version";
 * `limit: "*"` means no limit. Versions are in the ecosystem's own syntax (dpkg, rpm, apk, semver).
 */
export type RangeEvent = { introduced: string } | { fixed: string } | { last_affected: string } | { limit: string };

/**
 * OSV range types. `ECOSYSTEM` and `SEMVER` are ordered with the ecosystem's version ordering;
 * `GIT` ranges name commits and cannot be matched against installed packages (kept, never matched).
 */
export type RangeType = 'ECOSYSTEM' | 'SEMVER' | 'GIT';

export interface AffectedRange {
  type: RangeType;
  events: RangeEvent[];
}

export interface AffectedPackage {
  /** OSV ecosystem string, e.g. `Debian:12`, `Ubuntu:22.04`, `Alpine:v3.19`, `Red Hat`, `npm`. */
  ecosystem: string;
  /** Package name as the feed keys it. For Debian (both feeds) this is the *source* package. */
  name: string;
  /** Whether `name` is a source package (match against an installed package's source) or a binary one. */
  keyedBy: 'source' | 'binary';
  ranges: AffectedRange[];
  /** Versions the record lists explicitly as affected (OSV `versions`). */
  versions: string[];
  /** Debian tracker only: the release is end-of-life, so no fix will come (`<end-of-life>`). */
  endOfLife?: boolean;
  /**
   * Severities the feed states for this package alone: the tracker's urgency per release, OSV
   * `affected[].severity` and `affected[].ecosystem_specific.urgency|severity`. Every one is also in
   * `Advisory.severity`, so a scorer reading only the advisory loses just the per-release distinction.
   */
  severity?: SeverityInput[];
}

/**
 * A severity as the feed states it, before Brier scores it. `CVSS_V3`/`CVSS_V4` carry a vector
 * (`CVSS:3.1/AV:N/...`); `DEBIAN_URGENCY` carries the tracker's urgency (`high`, `low**`, ...);
 * `DATABASE` carries a free-text rating from the record's `database_specific.severity`.
 */
export interface SeverityInput {
  type: 'CVSS_V2' | 'CVSS_V3' | 'CVSS_V4' | 'DEBIAN_URGENCY' | 'DATABASE';
  score: string;
}

export interface Advisory {
  source: FeedSource;
  /** OSV id (`GHSA-…`, `DSA-…`, `CVE-…`); for the Debian tracker the CVE id. */
  id: string;
  aliases: string[];
  /** ISO 8601; incremental imports skip a record whose stored `modified` is the same or newer. */
  modified: string;
  published?: string;
  /** Set when the record was withdrawn: its findings are closed, it is never matched again. */
  withdrawn?: string;
  summary?: string;
  severity: SeverityInput[];
  affected: AffectedPackage[];
}

/** What a feed reader yields: a parsed record, or one it refused (counted, never half-imported). */
export type FeedItem = { kind: 'advisory'; advisory: Advisory } | { kind: 'rejected'; id?: string; where: string; reason: string };
