import { compareVersions, isValidVersion, type VersionScheme } from '@brier/protocol';
import type { AffectedPackage, AffectedRange, RangeEvent } from './model.js';

/**
 * Whether one installed version falls in an OSV affected entry, and why: the exact comparisons
 * that decided it, in the ecosystem's own ordering. This is the part users complain about in other
 * tools, so every answer carries its evidence.
 *
 * Range semantics follow the OSV specification's evaluation pseudo-code: events are sorted by
 * version (`introduced: "0"` first); walking them, an `introduced` at or below the version opens
 * the range, a `fixed` at or below it closes it, a `last_affected` below it closes it; a `limit`
 * (other than `*`) at or below the version excludes it whatever the walk said.
 */
export interface Explanation {
  /** The record's id and the feed it came from. */
  record: string;
  source: string;
  ecosystem: string;
  /** The feed's package: a source package when `matchedBy` is 'source'. */
  package: string;
  matchedBy: 'source' | 'binary';
  /** The version compared: the installed (binary) version, or its source version. */
  comparedVersion: string;
  /** The range in words, e.g. `introduced 0, fixed 3.0.13-1~deb12u1`, or `listed versions`. */
  range: string;
  /** The comparisons that decided it, e.g. `dpkg: 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1 (fixed)`. */
  decision: string;
  fixedVersion: string | null;
  /** The feed says no fix will come for this release (Debian `<end-of-life>`). */
  endOfLife: boolean;
}

export type Verdict = { affected: false } | { affected: true; range: string; decision: string; fixedVersion: string | null };

function eventVersion(e: RangeEvent): string {
  if ('introduced' in e) return e.introduced;
  if ('fixed' in e) return e.fixed;
  if ('last_affected' in e) return e.last_affected;
  return e.limit;
}

function eventKind(e: RangeEvent): 'introduced' | 'fixed' | 'last_affected' | 'limit' {
  if ('introduced' in e) return 'introduced';
  if ('fixed' in e) return 'fixed';
  if ('last_affected' in e) return 'last_affected';
  return 'limit';
}

const SIGN = { '-1': '<', '0': '=', '1': '>' } as const;

function describeRange(events: readonly RangeEvent[]): string {
  return events.map((e) => `${eventKind(e)} ${eventVersion(e)}`).join(', ');
}

/** Whether `a` sorts before `b`, for sorting events; versions the scheme refuses sort last. */
function compareLoose(scheme: VersionScheme, a: string, b: string): number {
  try {
    return compareVersions(scheme, a, b);
  } catch {
    return 0;
  }
}

/**
 * Evaluates one range. Versions in the feed that the scheme cannot parse make the range unusable:
 * it is treated as not matching (and the caller counts it), never as matching everything.
 */
export function evaluateRange(scheme: VersionScheme, range: AffectedRange, version: string): Verdict {
  if (range.type === 'GIT') return { affected: false };
  const isZero = (e: RangeEvent) => 'introduced' in e && e.introduced === '0';
  const limits = range.events.filter((e) => 'limit' in e && e.limit !== '*');
  const ordered = range.events
    .filter((e) => !('limit' in e))
    .map((e, i) => ({ e, i }))
    .sort((x, y) => {
      if (isZero(x.e) !== isZero(y.e)) return isZero(x.e) ? -1 : 1;
      return compareLoose(scheme, eventVersion(x.e), eventVersion(y.e)) || x.i - y.i;
    })
    .map((x) => x.e);
  let affected = false;
  let opened: string | undefined;
  for (const e of ordered) {
    const v = eventVersion(e);
    const c = isZero(e) ? 1 : compareVersions(scheme, version, v);
    if ('introduced' in e) {
      if (c >= 0) {
        affected = true;
        opened = isZero(e) ? 'introduced 0' : `${scheme}: ${version} ${SIGN[c as 0 | 1]} ${v} (introduced)`;
      }
    } else if ('fixed' in e) {
      if (c >= 0) affected = false;
    } else if ('last_affected' in e) {
      if (c > 0) affected = false;
    }
  }
  if (!affected) return { affected: false };
  for (const l of limits) {
    const v = eventVersion(l);
    if (compareVersions(scheme, version, v) >= 0) return { affected: false };
  }
  // The closing event just above the version: the fix to move to, or the last affected version.
  const above = ordered.find((e) => ('fixed' in e || 'last_affected' in e) && compareVersions(scheme, version, eventVersion(e)) <= 0);
  const parts = [opened ?? 'introduced'];
  let fixedVersion: string | null = null;
  if (above && 'fixed' in above) {
    parts.push(`${scheme}: ${version} < ${above.fixed} (fixed)`);
    fixedVersion = above.fixed;
  } else if (above && 'last_affected' in above) {
    parts.push(
      `${scheme}: ${version} ${SIGN[compareVersions(scheme, version, above.last_affected) as -1 | 0]} ${above.last_affected} (last affected)`,
    );
  } else {
    parts.push('no fixed version after it');
  }
  for (const l of limits) parts.push(`${scheme}: ${version} < ${eventVersion(l)} (limit)`);
  return { affected: true, range: describeRange(range.events), decision: parts.join('; '), fixedVersion };
}

/**
 * Evaluates an affected entry: explicit `versions` first, then each range; the first range that
 * matches explains the finding. An installed version the scheme refuses matches nothing (the
 * matcher counts it); feed versions that do not parse make their range miss, never match all.
 */
export function evaluateAffected(scheme: VersionScheme, entry: AffectedPackage, version: string): Verdict {
  if (!isValidVersion(scheme, version)) return { affected: false };
  for (const listed of entry.versions) {
    let same = false;
    try {
      same = compareVersions(scheme, version, listed) === 0;
    } catch {
      same = false;
    }
    if (same)
      return {
        affected: true,
        range: 'listed versions',
        decision: `${scheme}: ${version} = ${listed} (listed as affected)`,
        fixedVersion: null,
      };
  }
  for (const range of entry.ranges) {
    let verdict: Verdict;
    try {
      verdict = evaluateRange(scheme, range, version);
    } catch {
      continue;
    }
    if (verdict.affected) return verdict;
  }
  return { affected: false };
}
