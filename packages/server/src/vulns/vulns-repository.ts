import type { Explanation } from './affected.js';
import type { AffectedEntry, Match, SoftwareEntry } from './matcher.js';
import type { AffectedPackage, FeedSource } from './model.js';
import type { SlaMatrix } from './sla.js';

/**
 * The persistence the vulnerability service needs. Implemented in store/vulns-store.ts; the domain
 * never sees SQL. Writes are bulk statements over jsonb parameters, in chunks.
 */

export interface AdvisoryKey {
  source: FeedSource | string;
  id: string;
}

export interface AdvisoryRow extends AdvisoryKey {
  aliases: string[];
  modified: Date;
  published: Date | null;
  withdrawn: Date | null;
  summary: string | null;
  severity: string;
  severityScore: number | null;
  severitySource: string;
  severityDetail: string;
  contentHash: string;
  affected: AffectedPackage[];
}

/** A host as matching sees it: the OS facts that pick its ecosystem. */
export interface MatchHost {
  hostId: string;
  distro: string;
  release: string;
  codename: string | null;
}

export interface HostEcosystem {
  hostId: string;
  osEcosystem: string;
}

export interface FindingsScope {
  /** Only these hosts' findings (after an inventory change). */
  hostIds?: readonly string[];
  /** Only findings of these records (after a feed change). */
  advisories?: readonly AdvisoryKey[];
}

export interface SyncResult {
  open: number;
  opened: number;
  closed: number;
}

export interface VulnerabilityListItem {
  source: string;
  id: string;
  aliases: string[];
  summary: string | null;
  severity: string;
  severitySource: string;
  hostCount: number;
  /** The earliest due date among its open findings. */
  dueAt: Date | null;
  overdueHostCount: number;
}

export interface FindingRow {
  hostId: string;
  hostname: string;
  source: string;
  advisoryId: string;
  aliases: string[];
  packageName: string;
  installedVersion: string;
  fixedVersion: string | null;
  severity: string;
  severityDetail: string;
  riskTier: number;
  site: string | null;
  firstSeenAt: Date;
  dueAt: Date;
  closedAt: Date | null;
  closedReason: string | null;
  explanation: Explanation;
}

export interface ListQuery {
  severity?: string | undefined;
  overdue?: boolean | undefined;
  /** Matches the record id or an alias. */
  id?: string | undefined;
  /** Only findings of hosts at this risk tier (the tier the finding was matched under: the host's effective tier). */
  tier?: number | undefined;
  /** Case-insensitive substring of the record id, an alias, or an open finding's package or hostname. */
  q?: string | undefined;
  limit: number;
  offset: number;
}

/** Which findings of a record to list: open ones, closed ones, or both (open first). */
export type FindingStatus = 'open' | 'closed';

export interface RecordFindingCounts {
  open: number;
  closed: number;
  /** Open and past their due date. */
  overdue: number;
  /** Hosts with at least one open finding. */
  openHosts: number;
  /** Hosts with at least one open finding past its due date. */
  overdueHosts: number;
}

export interface HostAttributes {
  riskTier: number | null;
  site: string | null;
  /** The tier used for SLA: the host's own, else its groups' highest, else the default. */
  effectiveTier: number;
}

export interface ImportRunRow {
  id: string;
  kind: string;
  location: string;
  actor: string;
  startedAt: Date;
  finishedAt: Date | null;
  counts: Record<string, number>;
  error: string | null;
}

export interface FeedScheduleRow {
  id: string;
  kind: string;
  location: string;
  cron: string;
  lastRunAt: Date | null;
  createdAt: Date;
}

export interface VulnsStore {
  /** Stored `modified` and content hash of these records, to skip unchanged ones. */
  storedVersions(source: string, ids: readonly string[]): Promise<Map<string, { modified: Date; contentHash: string }>>;
  /** Inserts or replaces records with their affected entries (one transaction per call). */
  upsertAdvisories(rows: readonly AdvisoryRow[], at: Date): Promise<void>;

  /** Affected entries of records not withdrawn; all of them, or those of the given records. */
  affectedEntries(advisories?: readonly AdvisoryKey[]): Promise<AffectedEntry[]>;
  /** Affected entries of records not withdrawn that name one of these packages. */
  affectedEntriesNamed(names: readonly string[]): Promise<AffectedEntry[]>;
  /** Hosts that are approved, with their OS facts; all, or the given ones. */
  matchHosts(hostIds?: readonly string[]): Promise<MatchHost[]>;
  /** Catalogue entries installed on some host: all, those of the given hosts, or those named so (by name or source). */
  software(filter: { hostIds?: readonly string[]; names?: readonly string[] }): Promise<SoftwareEntry[]>;
  /** Catalogue entries installed on these hosts that were never matched under their OS ecosystem. */
  unmatchedSoftware(hosts: readonly HostEcosystem[]): Promise<SoftwareEntry[]>;

  /** Replaces every match (a full re-match). */
  replaceAllMatches(matches: readonly Match[], matched: readonly { softwareId: number; osEcosystem: string }[]): Promise<void>;
  /** Replaces the matches of these records. */
  replaceMatchesOfAdvisories(advisories: readonly AdvisoryKey[], matches: readonly Match[]): Promise<void>;
  /** Adds the matches of newly seen catalogue entries and marks them matched. */
  addMatchesOfSoftware(matched: readonly { softwareId: number; osEcosystem: string }[], matches: readonly Match[]): Promise<void>;

  /** Brings findings in `scope` in line with the matches: opens new, refreshes open, closes gone. */
  syncFindings(hosts: readonly HostEcosystem[], scope: FindingsScope, sla: SlaMatrix, defaultTier: number, at: Date): Promise<SyncResult>;

  listVulnerabilities(query: ListQuery, at: Date): Promise<{ items: VulnerabilityListItem[]; total: number }>;
  /** Findings of one host: open ones, or every one with `includeClosed`. */
  hostFindings(hostId: string, opts: { includeClosed?: boolean; id?: string }): Promise<FindingRow[]>;
  /** Open findings past their due date, most overdue first. */
  overdueFindings(at: Date, limit: number, offset: number): Promise<{ items: FindingRow[]; total: number }>;
  /** Findings opened or closed in [from, to), for exposure and time-to-remediate series. */
  findingsForMetrics(
    from: Date,
    to: Date,
  ): Promise<
    { severity: string; riskTier: number; site: string | null; firstSeenAt: Date; closedAt: Date | null; closedReason: string | null }[]
  >;
  /** Open findings counted by severity and stored risk tier, with how many of them are past due at `at`. */
  openFindingCounts(at: Date): Promise<{ severity: string; riskTier: number; open: number; overdue: number }[]>;
  /**
   * Per UTC day of [from, to): findings first seen that day, findings remediated that day (withdrawn
   * records are neither) and the median hours those took. Counted in SQL: a fleet has millions.
   */
  remediationByDay(
    from: Date,
    to: Date,
  ): Promise<{ day: string; opened: number; remediated: number; medianHoursToRemediate: number | null }[]>;
  /** The records with this id or alias, with their affected entries (for explain and remediate). */
  advisoriesById(idOrAlias: string): Promise<(AdvisoryRow & { importedAt: Date })[]>;
  /** Hosts with an open finding of these records, with the packages and fixed versions. */
  openFindingsOf(advisories: readonly AdvisoryKey[]): Promise<FindingRow[]>;
  /** The keys of the records with this id or alias (no affected entries: a cheap existence check). */
  advisoryKeys(idOrAlias: string): Promise<AdvisoryKey[]>;
  /**
   * A page of the findings of these records with their hosts, most urgent first: open before
   * closed, then by due date (then hostname, package).
   */
  findingsOf(
    advisories: readonly AdvisoryKey[],
    query: { status?: FindingStatus | undefined; limit: number; offset: number },
  ): Promise<{ items: FindingRow[]; total: number }>;
  /** Findings of these records counted in SQL, `overdue` as of `at`. */
  findingCountsOf(advisories: readonly AdvisoryKey[], at: Date): Promise<RecordFindingCounts>;

  hostAttributes(hostId: string): Promise<HostAttributes | undefined>;
  setHostAttributes(hostId: string, patch: { riskTier?: number | null; site?: string | null }): Promise<void>;
  groupTiers(): Promise<{ group: string; riskTier: number }[]>;
  setGroupTier(group: string, riskTier: number | null): Promise<void>;

  getSetting(key: string): Promise<unknown>;
  setSetting(key: string, value: unknown, by: string, at: Date): Promise<void>;

  startImport(row: Omit<ImportRunRow, 'id' | 'finishedAt' | 'error'>): Promise<string>;
  finishImport(id: string, counts: Record<string, number>, error: string | null, at: Date): Promise<void>;
  listImports(limit: number): Promise<ImportRunRow[]>;

  feeds(): Promise<FeedScheduleRow[]>;
  addFeed(row: Omit<FeedScheduleRow, 'id' | 'lastRunAt'>): Promise<FeedScheduleRow>;
  removeFeed(id: string): Promise<boolean>;
  markFeedRun(id: string, at: Date): Promise<void>;
}
