import { createHash } from 'node:crypto';
import path from 'node:path';
import { BrierError, canonicalJson } from '@brier/protocol';
import type { Logger } from 'pino';
import { parseCronSchedule } from '../rollouts/cron-schedule.js';
import type { AuditSink } from '../rollouts/deployments-service.js';
import { type Explanation, evaluateAffected } from './affected.js';
import { isFeedError } from './feeds/feed-error.js';
import { AffectedIndex, type Match, type MatchStats, matchSoftware } from './matcher.js';
import type { Advisory, FeedItem } from './model.js';
import { ecosystemApplies, hostEcosystem, schemeOf } from './os-ecosystem.js';
import { scoreSeverity } from './severity.js';
import {
  bucketByDay,
  DEFAULT_RISK_TIER,
  DEFAULT_SLA_MATRIX,
  isRiskTier,
  meanTimeToRemediateHours,
  RISK_TIERS,
  type SlaMatrix,
  validateSlaMatrix,
} from './sla.js';
import type { AdvisoryKey, AdvisoryRow, FindingRow, FindingStatus, HostEcosystem, ListQuery, VulnsStore } from './vulns-repository.js';

export type FeedKind = 'osv' | 'debian-tracker';

export interface ImportProgress {
  /** Records read from the feed so far (stored, unchanged and rejected). */
  read: number;
  stored: number;
  rejected: number;
}

export interface ImportResult {
  importId: string;
  kind: FeedKind;
  read: number;
  /** New or changed records written. */
  stored: number;
  /** Records identical to (or older than) what is stored: skipped. */
  unchanged: number;
  /** Records that failed the schema or could not be used: skipped and counted, never half-imported. */
  rejected: number;
  withdrawn: number;
  /** The first few rejections, for the operator. */
  rejections: { id?: string; where: string; reason: string }[];
  findings: { open: number; opened: number; closed: number };
}

export interface RematchResult extends MatchStats {
  hosts: number;
  software: number;
  entries: number;
  findings: { open: number; opened: number; closed: number };
}

export interface VulnsServiceDeps {
  store: VulnsStore;
  audit: AuditSink;
  now: () => Date;
  logger?: Logger;
  /** Reads a feed into normalised records (feeds/index.ts in the server; a fake in some tests). */
  readFeed: (kind: FeedKind, location: string, opts: { signal?: AbortSignal; modified: string }) => AsyncIterable<FeedItem>;
  /** Which reader a file or URL needs (feeds/index.ts detectFeedKind). */
  detectFeedKind: (location: string) => Promise<FeedKind>;
}

const SLA_KEY = 'vulns.sla';
/** Records per store round trip while importing. */
const IMPORT_BATCH = 500;
/** After an import touching more records than this, one full re-match is cheaper than scoped ones. */
const FULL_REMATCH_ABOVE = 5_000;
const MAX_REJECTIONS_SHOWN = 20;

function keyOf(k: AdvisoryKey): string {
  return `${k.source}\u0000${k.id}`;
}

/** sha256 of the record's canonical JSON: identical content hashes alike whatever the key order. */
export function contentHash(advisory: Advisory): string {
  const { modified: _modified, ...content } = advisory;
  // The JSON round trip drops absent optional fields, which canonical JSON refuses as undefined.
  return createHash('sha256')
    .update(canonicalJson(JSON.parse(JSON.stringify(content))))
    .digest('hex');
}

/** A normalised record as the store keeps it: scored, hashed (the importer's conversion; the bench uses it too). */
export function toRow(a: Advisory): AdvisoryRow {
  const score = scoreSeverity(a.severity);
  return {
    source: a.source,
    id: a.id,
    aliases: a.aliases,
    modified: new Date(a.modified),
    published: a.published ? new Date(a.published) : null,
    withdrawn: a.withdrawn ? new Date(a.withdrawn) : null,
    summary: a.summary ?? null,
    severity: score.severity,
    severityScore: score.score ?? null,
    severitySource: score.source,
    severityDetail: score.detail,
    contentHash: contentHash(a),
    affected: a.affected,
  };
}

/**
 * Debian's tracker lists a CVE once per source package it affects, far apart in the file; one
 * record per CVE is what the store keeps, so the importer merges items that share an id.
 */
function mergeInto(target: Advisory, next: Advisory): void {
  target.affected.push(...next.affected);
  for (const a of next.aliases) if (!target.aliases.includes(a)) target.aliases.push(a);
  for (const s of next.severity) if (!target.severity.some((t) => t.type === s.type && t.score === s.score)) target.severity.push(s);
}

export function createVulnsService(deps: VulnsServiceDeps) {
  const { store, now } = deps;
  const log = deps.logger?.child({ module: 'vulns' });

  async function sla(): Promise<SlaMatrix> {
    const stored = await store.getSetting(SLA_KEY);
    if (stored === undefined) return DEFAULT_SLA_MATRIX;
    try {
      return validateSlaMatrix(stored);
    } catch {
      return DEFAULT_SLA_MATRIX;
    }
  }

  function ecosystemsOf(hosts: { hostId: string; distro: string; release: string; codename: string | null }[]): HostEcosystem[] {
    const out: HostEcosystem[] = [];
    for (const h of hosts) {
      const eco = hostEcosystem(h);
      if (eco !== undefined) out.push({ hostId: h.hostId, osEcosystem: eco });
    }
    return out;
  }

  const distinct = (hosts: readonly HostEcosystem[]) => [...new Set(hosts.map((h) => h.osEcosystem))].sort();

  /** Re-matches everything: every catalogue entry on a host against every record. */
  async function rematchAll(): Promise<RematchResult> {
    const hosts = ecosystemsOf(await store.matchHosts());
    const ecosystems = distinct(hosts);
    const [entries, software] = await Promise.all([store.affectedEntries(), store.software({})]);
    const stats: MatchStats = { evaluated: 0, matches: 0, invalidVersions: 0 };
    const matches = matchSoftware(software, new AffectedIndex(entries), ecosystems, stats);
    const matched = software.flatMap((s) => ecosystems.map((osEcosystem) => ({ softwareId: s.id, osEcosystem })));
    await store.replaceAllMatches(matches, matched);
    const findings = await store.syncFindings(hosts, {}, await sla(), DEFAULT_RISK_TIER, now());
    log?.info({ hosts: hosts.length, software: software.length, entries: entries.length, ...stats, ...findings }, 'full re-match');
    return { hosts: hosts.length, software: software.length, entries: entries.length, ...stats, findings };
  }

  /** Re-matches the given records only (after a feed brought new or changed ones). */
  async function rematchAdvisories(keys: readonly AdvisoryKey[]): Promise<RematchResult> {
    const hosts = ecosystemsOf(await store.matchHosts());
    const entries = await store.affectedEntries(keys);
    const names = [...new Set(entries.map((e) => e.name))];
    const software = names.length === 0 ? [] : await store.software({ names });
    const stats: MatchStats = { evaluated: 0, matches: 0, invalidVersions: 0 };
    const matches = matchSoftware(software, new AffectedIndex(entries), distinct(hosts), stats);
    await store.replaceMatchesOfAdvisories(keys, matches);
    const findings = await store.syncFindings(hosts, { advisories: keys }, await sla(), DEFAULT_RISK_TIER, now());
    return { hosts: hosts.length, software: software.length, entries: entries.length, ...stats, findings };
  }

  /** Matches what is new on these hosts and brings their findings up to date (after an inventory change). */
  async function rematchHosts(hostIds: readonly string[]): Promise<RematchResult> {
    const hosts = ecosystemsOf(await store.matchHosts(hostIds));
    const fresh = await store.unmatchedSoftware(hosts);
    const stats: MatchStats = { evaluated: 0, matches: 0, invalidVersions: 0 };
    let matches: Match[] = [];
    let entryCount = 0;
    if (fresh.length > 0) {
      // Only entries naming these packages (or their source packages) matter.
      const names = [...new Set(fresh.flatMap((s) => (s.source === '' ? [s.name] : [s.name, s.source])))];
      const entries = await store.affectedEntriesNamed(names);
      entryCount = entries.length;
      matches = matchSoftware(fresh, new AffectedIndex(entries), distinct(hosts), stats);
    }
    const ecosystemOf = new Map(hosts.map((h) => [h.hostId, h.osEcosystem]));
    const matched = fresh.flatMap((s) => [...new Set(ecosystemOf.values())].map((osEcosystem) => ({ softwareId: s.id, osEcosystem })));
    await store.addMatchesOfSoftware(matched, matches);
    const findings = await store.syncFindings(hosts, { hostIds }, await sla(), DEFAULT_RISK_TIER, now());
    return { hosts: hosts.length, software: fresh.length, entries: entryCount, ...stats, findings };
  }

  // Inventory changes arrive from the gateway; matching runs behind them, one drain at a time.
  const dirtyHosts = new Set<string>();
  let draining: Promise<void> | undefined;

  function drain(): Promise<void> {
    if (draining) return draining;
    draining = (async () => {
      while (dirtyHosts.size > 0) {
        const batch = [...dirtyHosts];
        dirtyHosts.clear();
        try {
          await rematchHosts(batch);
        } catch (error) {
          log?.error({ err: error, hosts: batch.length }, 'matching after an inventory change failed');
        }
      }
    })().finally(() => {
      draining = undefined;
    });
    return draining;
  }

  function inventoryChanged(hostId: string): void {
    dirtyHosts.add(hostId);
    void drain();
  }

  /** Resolves once no inventory-triggered matching is pending (tests, shutdown). */
  async function idle(): Promise<void> {
    while (draining) await draining;
  }

  /**
   * Imports a feed from `source` (a path or URL the readers understand). `location` is what the
   * import log and audit show (an upload's name rather than its temporary path).
   */
  async function importFeed(
    actor: string,
    kind: FeedKind,
    source: string,
    opts: { signal?: AbortSignal; onProgress?: (p: ImportProgress) => void; location?: string } = {},
  ): Promise<ImportResult> {
    const startedAt = now();
    const location = opts.location ?? source;
    const importId = await store.startImport({ kind, location, actor, startedAt, counts: {} });
    const counts = { read: 0, stored: 0, unchanged: 0, rejected: 0, withdrawn: 0 };
    const rejections: ImportResult['rejections'] = [];
    const changed: AdvisoryKey[] = [];
    let batch: Advisory[] = [];
    let pending: Advisory | undefined;
    const whole = new Map<string, Advisory>();

    async function flush(): Promise<void> {
      if (batch.length === 0) return;
      const rows = batch.map(toRow);
      batch = [];
      const bySource = new Map<string, AdvisoryRow[]>();
      for (const r of rows) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
      const write: AdvisoryRow[] = [];
      for (const [source, list] of bySource) {
        const stored = await store.storedVersions(
          source,
          list.map((r) => r.id),
        );
        for (const r of list) {
          const old = stored.get(r.id);
          // Same content, or an older edition of a record (OSV `modified`): nothing to do.
          if (old && (old.contentHash === r.contentHash || (source === 'osv' && old.modified.getTime() > r.modified.getTime()))) {
            counts.unchanged += 1;
            continue;
          }
          write.push(r);
        }
      }
      await store.upsertAdvisories(write, now());
      for (const r of write) {
        changed.push({ source: r.source, id: r.id });
        if (r.withdrawn) counts.withdrawn += 1;
      }
      counts.stored += write.length;
      opts.onProgress?.({ read: counts.read, stored: counts.stored, rejected: counts.rejected });
    }

    try {
      for await (const item of deps.readFeed(kind, source, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        modified: startedAt.toISOString(),
      })) {
        counts.read += 1;
        if (item.kind === 'rejected') {
          counts.rejected += 1;
          // An upload's temporary path means nothing to the operator: show the name it was given.
          const where = item.where.split(source).join(location);
          if (rejections.length < MAX_REJECTIONS_SHOWN)
            rejections.push({ ...(item.id ? { id: item.id } : {}), where, reason: item.reason });
          continue;
        }
        const a = item.advisory;
        const copy = { ...a, affected: [...a.affected], aliases: [...a.aliases], severity: [...a.severity] };
        if (kind === 'debian-tracker') {
          // The tracker is one file keyed package → CVE: a CVE's parts are only whole at the end.
          // Held in memory (the real file is ~70 MB of JSON), then written in batches.
          const held = whole.get(a.id);
          if (held) mergeInto(held, a);
          else whole.set(a.id, copy);
          continue;
        }
        if (pending && pending.source === a.source && pending.id === a.id) {
          mergeInto(pending, a);
          continue;
        }
        if (pending) batch.push(pending);
        pending = copy;
        if (batch.length >= IMPORT_BATCH) await flush();
      }
      if (pending) batch.push(pending);
      for (const a of whole.values()) {
        batch.push(a);
        if (batch.length >= IMPORT_BATCH) await flush();
      }
      await flush();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await store.finishImport(importId, counts, message, now());
      await deps.audit.record({ actor, action: 'vulns.import', target: location, detail: { kind, ...counts, error: message }, at: now() });
      if (isFeedError(error)) {
        const code =
          error.code === 'feed-too-large'
            ? 'payload_too_large'
            : error.code === 'feed-unreachable' || error.code === 'feed-timeout'
              ? 'unavailable'
              : 'bad_request';
        throw new BrierError(code, message.split(source).join(location), { cause: error, details: { feedError: error.code } });
      }
      throw error;
    }
    const unique = [...new Map(changed.map((k) => [keyOf(k), k])).values()];
    const rematch =
      unique.length === 0 ? undefined : unique.length > FULL_REMATCH_ABOVE ? await rematchAll() : await rematchAdvisories(unique);
    const findings = rematch?.findings ?? { open: 0, opened: 0, closed: 0 };
    await store.finishImport(importId, { ...counts, ...findings }, null, now());
    await deps.audit.record({ actor, action: 'vulns.import', target: location, detail: { kind, ...counts, findings }, at: now() });
    log?.info({ kind, ...counts, findings }, 'feed imported');
    return { importId, kind, ...counts, rejections, findings };
  }

  /** Imports a file (an upload, or a path on the server), detecting its kind when asked to. */
  async function importFile(
    actor: string,
    kind: FeedKind | 'auto',
    file: string,
    location: string,
    opts: { signal?: AbortSignal; onProgress?: (p: ImportProgress) => void } = {},
  ): Promise<ImportResult> {
    let resolved: FeedKind;
    try {
      resolved = kind === 'auto' ? await deps.detectFeedKind(file) : kind;
    } catch (error) {
      throw new BrierError('bad_request', error instanceof Error ? error.message : 'unreadable feed', { cause: error });
    }
    return importFeed(actor, resolved, file, { ...opts, location });
  }

  async function addFeed(actor: string, input: { kind: FeedKind; location: string; cron: string }) {
    const schedule = parseCronSchedule(input.cron, 'UTC');
    if (!schedule.ok) throw new BrierError('bad_request', schedule.error.message);
    if (!/^https?:\/\//i.test(input.location) && !path.isAbsolute(input.location))
      throw new BrierError('bad_request', 'location must be an http(s) URL or an absolute path on the server');
    const at = now();
    const row = await store.addFeed({ kind: input.kind, location: input.location, cron: schedule.value.expression, createdAt: at });
    await deps.audit.record({ actor, action: 'vulns.feed.add', target: row.id, detail: { ...input }, at });
    return row;
  }

  async function removeFeed(actor: string, id: string) {
    if (!(await store.removeFeed(id))) throw new BrierError('not_found', 'no such feed');
    await deps.audit.record({ actor, action: 'vulns.feed.remove', target: id, detail: {}, at: now() });
  }

  /** Imports every scheduled feed whose cron fired since its last run (run by a job every minute). */
  async function runDueFeeds(): Promise<number> {
    let ran = 0;
    for (const feed of await store.feeds()) {
      const schedule = parseCronSchedule(feed.cron, 'UTC');
      if (!schedule.ok) continue;
      const at = now();
      const last = feed.lastRunAt ?? feed.createdAt;
      if (schedule.value.prev(at).getTime() <= last.getTime()) continue;
      await store.markFeedRun(feed.id, at);
      ran += 1;
      try {
        await importFeed('scheduler', feed.kind === 'debian-tracker' ? 'debian-tracker' : 'osv', feed.location);
      } catch (error) {
        log?.warn({ err: error, feed: feed.id, location: feed.location }, 'scheduled feed import failed');
      }
    }
    return ran;
  }

  async function list(query: ListQuery) {
    return store.listVulnerabilities(query, now());
  }

  async function hostFindings(hostId: string, opts: { includeClosed?: boolean } = {}): Promise<FindingRow[]> {
    if ((await store.hostAttributes(hostId)) === undefined) throw new BrierError('not_found', 'no such host');
    return store.hostFindings(hostId, opts);
  }

  /**
   * Why a host is (or is not) affected by a record: its findings with their explanations, and for
   * each affected entry naming one of its packages that did not match, the comparison that cleared it.
   */
  async function explain(hostId: string, id: string) {
    if ((await store.hostAttributes(hostId)) === undefined) throw new BrierError('not_found', 'no such host');
    const records = await store.advisoriesById(id);
    if (records.length === 0) throw new BrierError('not_found', `no vulnerability record with id or alias ${id}`);
    const findings = await store.hostFindings(hostId, { id });
    const [host] = await store.matchHosts([hostId]);
    const eco = host ? hostEcosystem(host) : undefined;
    const scheme = eco === undefined ? undefined : schemeOf(eco);
    const notAffected: { record: string; source: string; package: string; installedVersion: string; reason: string }[] = [];
    if (eco !== undefined && scheme !== undefined) {
      const software = await store.software({ hostIds: [hostId] });
      for (const r of records) {
        for (const entry of r.affected) {
          if (!ecosystemApplies(entry.ecosystem, eco)) continue;
          for (const s of software) {
            const name = entry.keyedBy === 'source' ? s.source || s.name : s.name;
            if (name !== entry.name) continue;
            if (findings.some((f) => f.source === r.source && f.advisoryId === r.id && f.packageName === s.name)) continue;
            const compared = entry.keyedBy === 'source' && s.sourceVersion !== '' ? s.sourceVersion : s.version;
            const verdict = evaluateAffected(scheme, entry, compared);
            const ranges = entry.ranges.map((g) => g.events.map((e) => Object.entries(e)[0]?.join(' ')).join(', ')).join(' | ');
            notAffected.push({
              record: r.id,
              source: r.source,
              package: s.name,
              installedVersion: compared,
              reason: verdict.affected
                ? 'affected by the record, but not yet matched (matching runs after the next inventory or feed change)'
                : `${scheme}: ${compared} is outside the affected range (${ranges || 'no ranges'})`,
            });
          }
        }
      }
    }
    return {
      host: { id: hostId, ecosystem: eco ?? null },
      records: records.map((r) => ({
        source: r.source,
        id: r.id,
        aliases: r.aliases,
        summary: r.summary,
        severity: r.severity,
        severityDetail: r.severityDetail,
        withdrawn: r.withdrawn,
      })),
      findings,
      notAffected,
    };
  }

  /**
   * A record by id or alias with its affected packages and the counts of its findings. One name can
   * resolve to several records (a CVE in the Debian tracker, and an OSV record listing it as an
   * alias): the one whose id is the name comes first, the others follow in `related`; the counts
   * cover all of them, as the hosts list does.
   */
  async function record(id: string) {
    const records = await store.advisoriesById(id);
    if (records.length === 0) throw new BrierError('not_found', `no vulnerability record with id or alias ${id}`);
    const ordered = [...records.filter((r) => r.id === id), ...records.filter((r) => r.id !== id)];
    const [primary, ...related] = ordered as [(typeof records)[number], ...typeof records];
    const counts = await store.findingCountsOf(
      ordered.map((r) => ({ source: r.source, id: r.id })),
      now(),
    );
    return { primary, related, counts };
  }

  /** A page of the findings of a record (by id or alias) with their hosts, most urgent first. */
  async function recordFindings(id: string, query: { status?: FindingStatus | undefined; limit: number; offset: number }) {
    const keys = await store.advisoryKeys(id);
    if (keys.length === 0) throw new BrierError('not_found', `no vulnerability record with id or alias ${id}`);
    return store.findingsOf(keys, query);
  }

  async function overdue(limit: number, offset: number) {
    return store.overdueFindings(now(), limit, offset);
  }

  /**
   * Exposure and time to remediate, per day over [from, to), split by severity, site or tier.
   * Withdrawn records are not remediation, so their closures count as neither.
   */
  async function metrics(query: { from: Date; to: Date; by: 'severity' | 'site' | 'tier' }) {
    const rows = await store.findingsForMetrics(query.from, query.to);
    const groups = new Map<string, { firstSeenAt: Date; remediatedAt?: Date }[]>();
    for (const r of rows) {
      if (r.closedReason === 'withdrawn') continue;
      const key = query.by === 'severity' ? r.severity : query.by === 'tier' ? String(r.riskTier) : (r.site ?? '(none)');
      const list = groups.get(key) ?? [];
      list.push({ firstSeenAt: r.firstSeenAt, ...(r.closedAt ? { remediatedAt: r.closedAt } : {}) });
      groups.set(key, list);
    }
    return {
      by: query.by,
      from: query.from,
      to: query.to,
      series: [...groups.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, list]) => ({
          key,
          meanTimeToRemediateHours: meanTimeToRemediateHours(list.filter((f) => f.remediatedAt !== undefined)) ?? null,
          days: bucketByDay(list, query.from, query.to),
        })),
    };
  }

  /**
   * For the dashboard: open findings by severity, and those past due by risk tier (every tier 1-5
   * present). Findings carry the tier they were matched under (kept current by re-matching).
   */
  async function exposureSummary() {
    const rows = await store.openFindingCounts(now());
    const findings = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
    const overdue = new Map<number, number>(RISK_TIERS.map((t) => [t, 0]));
    for (const r of rows) {
      const severity = r.severity in findings ? (r.severity as keyof typeof findings) : 'unknown';
      findings[severity] += r.open;
      if (overdue.has(r.riskTier)) overdue.set(r.riskTier, (overdue.get(r.riskTier) ?? 0) + r.overdue);
    }
    return { findings, overdue: [...overdue.entries()].map(([tier, count]) => ({ tier, count })) };
  }

  /** Findings opened and remediated per UTC day over the last `days` days (today included), with the median time to remediate. */
  async function remediationTrend(days: number) {
    const to = now();
    const from = new Date(Math.floor(to.getTime() / 86_400_000 - (days - 1)) * 86_400_000);
    return store.remediationByDay(from, to);
  }

  /**
   * What a remediation deployment needs for a record: the hosts with an open finding and, per
   * package, the least version that fixes it on all of them. Feeds keyed by source package give the
   * fixed *source* version; Debian builds binaries at the source version, so it pins nothing lower.
   */
  async function remediationPlan(id: string, hostIds?: readonly string[]) {
    const records = await store.advisoriesById(id);
    if (records.length === 0) throw new BrierError('not_found', `no vulnerability record with id or alias ${id}`);
    let open = await store.openFindingsOf(records.map((r) => ({ source: r.source, id: r.id })));
    if (hostIds !== undefined) open = open.filter((f) => hostIds.includes(f.hostId));
    if (open.length === 0) throw new BrierError('bad_request', `no host has an open finding of ${id}`);
    const packages = new Map<string, string | null>();
    for (const f of open) {
      const known = packages.get(f.packageName);
      if (!packages.has(f.packageName) || (known === null && f.fixedVersion !== null)) packages.set(f.packageName, f.fixedVersion);
    }
    return {
      records: records.map((r) => r.id),
      hostIds: [...new Set(open.map((f) => f.hostId))].sort(),
      packages: [...packages.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, fixedVersion]) => ({ name, fixedVersion })),
      unfixed: open.filter((f) => f.fixedVersion === null).map((f) => ({ hostId: f.hostId, package: f.packageName })),
    };
  }

  async function getSla(): Promise<SlaMatrix> {
    return sla();
  }

  async function setSla(actor: string, input: unknown): Promise<SlaMatrix> {
    let matrix: SlaMatrix;
    try {
      matrix = validateSlaMatrix(input);
    } catch (error) {
      throw new BrierError('bad_request', error instanceof Error ? error.message : 'invalid SLA matrix', { cause: error });
    }
    const at = now();
    await store.setSetting(SLA_KEY, matrix, actor, at);
    await deps.audit.record({ actor, action: 'vulns.sla.update', target: SLA_KEY, detail: { matrix }, at });
    // Due dates follow the matrix: refresh every open finding.
    const hosts = ecosystemsOf(await store.matchHosts());
    await store.syncFindings(hosts, {}, matrix, DEFAULT_RISK_TIER, at);
    return matrix;
  }

  async function setHostTier(actor: string, hostId: string, patch: { riskTier?: number | null; site?: string | null }) {
    if ((await store.hostAttributes(hostId)) === undefined) throw new BrierError('not_found', 'no such host');
    if (patch.riskTier !== undefined && patch.riskTier !== null && !isRiskTier(patch.riskTier))
      throw new BrierError('bad_request', 'riskTier must be an integer from 1 to 5, or null');
    await store.setHostAttributes(hostId, patch);
    await deps.audit.record({ actor, action: 'host.attributes', target: hostId, detail: patch, at: now() });
    await rematchHosts([hostId]);
    const attributes = await store.hostAttributes(hostId);
    return { ...attributes!, effectiveTier: attributes?.effectiveTier || DEFAULT_RISK_TIER };
  }

  async function hostAttributes(hostId: string) {
    const attributes = await store.hostAttributes(hostId);
    if (attributes === undefined) throw new BrierError('not_found', 'no such host');
    return { ...attributes, effectiveTier: attributes.effectiveTier || DEFAULT_RISK_TIER };
  }

  async function setGroupTier(actor: string, group: string, riskTier: number | null) {
    if (riskTier !== null && !isRiskTier(riskTier)) throw new BrierError('bad_request', 'riskTier must be an integer from 1 to 5, or null');
    await store.setGroupTier(group, riskTier);
    await deps.audit.record({ actor, action: 'group.tier', target: group, detail: { riskTier }, at: now() });
    const hosts = ecosystemsOf(await store.matchHosts());
    await store.syncFindings(hosts, {}, await sla(), DEFAULT_RISK_TIER, now());
    return store.groupTiers();
  }

  return {
    importFeed,
    importFile,
    addFeed,
    removeFeed,
    runDueFeeds,
    rematchAll,
    rematchAdvisories,
    rematchHosts,
    inventoryChanged,
    idle,
    list,
    hostFindings,
    explain,
    record,
    recordFindings,
    overdue,
    metrics,
    exposureSummary,
    remediationTrend,
    remediationPlan,
    getSla,
    setSla,
    hostAttributes,
    setHostTier,
    setGroupTier,
    groupTiers: () => store.groupTiers(),
    imports: (limit: number) => store.listImports(limit),
    feeds: () => store.feeds(),
    store,
  };
}

export type VulnsService = ReturnType<typeof createVulnsService>;
export type { Explanation };
