import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Explanation } from '../vulns/affected.js';
import type { AffectedEntry, Match, SoftwareEntry } from '../vulns/matcher.js';
import type { AffectedPackage } from '../vulns/model.js';
import type { AdvisoryKey, FindingRow, HostEcosystem, MatchHost, VulnsStore } from '../vulns/vulns-repository.js';
import { type Db, likeContains, queryRows } from './db.js';
import { groupTiers, hostAttributes, settings, vulnAdvisories, vulnFeeds, vulnImports } from './schema.js';

/**
 * Vulnerability records, matches and findings. Every multi-row write travels as one jsonb
 * parameter expanded with jsonb_to_recordset (as in inventory-store.ts), in chunks, and findings
 * are derived from matches with one set-based statement per scope, never a row per query.
 */

/** Rows per bulk statement: a few MiB per jsonb parameter at most. */
const CHUNK = 2_000;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const keysJson = (keys: readonly AdvisoryKey[]) => JSON.stringify(keys.map((k) => ({ source: k.source, id: k.id })));

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

async function rows<T>(db: Db | Tx, query: ReturnType<typeof sql>): Promise<T[]> {
  return queryRows<T>(db as Db, query);
}

/**
 * `(f.source, f.advisory_id)` is one of a few records (one id or alias names at most a handful):
 * spelled out, so the planner probes vuln_findings_advisory_idx once per record.
 */
function keysFilter(advisories: readonly AdvisoryKey[]): SQL {
  return sql`(f.source, f.advisory_id) in (${sql.join(
    advisories.map((k) => sql`(${k.source}, ${k.id})`),
    sql`, `,
  )})`;
}

const SEVERITY_RANK = sql`case a.severity when 'critical' then 0 when 'high' then 1 when 'medium' then 2 when 'low' then 3 else 4 end`;

interface FindingSqlRow {
  host_id: string;
  hostname: string;
  source: string;
  advisory_id: string;
  aliases: string[];
  package_name: string;
  installed_version: string;
  fixed_version: string | null;
  severity: string;
  severity_detail: string;
  risk_tier: number;
  site: string | null;
  first_seen_at: string | Date;
  due_at: string | Date;
  closed_at: string | Date | null;
  closed_reason: string | null;
  explanation: Explanation;
}

const date = (v: string | Date) => (v instanceof Date ? v : new Date(v));

function toFinding(r: FindingSqlRow): FindingRow {
  return {
    hostId: r.host_id,
    hostname: r.hostname,
    source: r.source,
    advisoryId: r.advisory_id,
    aliases: r.aliases,
    packageName: r.package_name,
    installedVersion: r.installed_version,
    fixedVersion: r.fixed_version,
    severity: r.severity,
    severityDetail: r.severity_detail,
    riskTier: r.risk_tier,
    site: r.site,
    firstSeenAt: date(r.first_seen_at),
    dueAt: date(r.due_at),
    closedAt: r.closed_at === null ? null : date(r.closed_at),
    closedReason: r.closed_reason,
    explanation: r.explanation,
  };
}

const FINDING_COLUMNS = sql`f.host_id, h.hostname, f.source, f.advisory_id, a.aliases, f.package_name, f.installed_version,
  f.fixed_version, f.severity, a.severity_detail, f.risk_tier, ha.site, f.first_seen_at, f.due_at, f.closed_at, f.closed_reason,
  f.explanation`;

const FINDING_FROM = sql`vuln_findings f
  join hosts h on h.id = f.host_id
  join vuln_advisories a on a.source = f.source and a.id = f.advisory_id
  left join host_attributes ha on ha.host_id = f.host_id`;

/**
 * The tier SLA uses for each host: its own, else its groups' highest, else the default. `hostId` is
 * the host's id column; the query must have joined host_attributes as `ha` on it.
 */
export function effectiveTier(hostId: SQL, defaultTier: number) {
  return sql`coalesce(ha.risk_tier, (select max(gt.risk_tier) from host_groups hg join group_tiers gt on gt.group_name = hg.group_name where hg.host_id = ${hostId}), ${defaultTier})`;
}

async function loadAffected(db: Db, advisories?: readonly AdvisoryKey[] | { names: readonly string[] }): Promise<AffectedEntry[]> {
  type R = {
    source: string;
    advisory_id: string;
    ecosystem: string;
    name: string;
    keyed_by: string;
    ranges: AffectedPackage['ranges'];
    versions: string[];
    end_of_life: boolean;
  };
  const toEntry = (r: R): AffectedEntry => ({
    source: r.source,
    advisoryId: r.advisory_id,
    ecosystem: r.ecosystem,
    name: r.name,
    keyedBy: r.keyed_by === 'source' ? 'source' : 'binary',
    ranges: r.ranges,
    versions: r.versions,
    endOfLife: r.end_of_life,
  });
  const base = sql`select v.source, v.advisory_id, v.ecosystem, v.name, v.keyed_by, v.ranges, v.versions, v.end_of_life
    from vuln_affected v join vuln_advisories a on a.source = v.source and a.id = v.advisory_id
    where a.withdrawn is null`;
  if (advisories === undefined) return (await rows<R>(db, base)).map(toEntry);
  if ('names' in advisories) {
    const out: AffectedEntry[] = [];
    for (const part of chunks(advisories.names)) {
      const found = await rows<R>(
        db,
        sql`${base} and v.name in (select value from jsonb_array_elements_text(${JSON.stringify(part)}::jsonb))`,
      );
      out.push(...found.map(toEntry));
    }
    return out;
  }
  const out: AffectedEntry[] = [];
  for (const part of chunks(advisories)) {
    const found = await rows<R>(
      db,
      sql`${base} and (v.source, v.advisory_id) in (select k.source, k.id from jsonb_to_recordset(${keysJson(part)}::jsonb) as k(source text, id text))`,
    );
    out.push(...found.map(toEntry));
  }
  return out;
}

export function createVulnsStore(db: Db): VulnsStore {
  return {
    async storedVersions(source, ids) {
      const out = new Map<string, { modified: Date; contentHash: string }>();
      for (const part of chunks(ids)) {
        const found = await rows<{ id: string; modified: string | Date; content_hash: string }>(
          db,
          sql`select id, modified, content_hash from vuln_advisories
              where source = ${source} and id in (select value from jsonb_array_elements_text(${JSON.stringify(part)}::jsonb))`,
        );
        for (const r of found) out.set(r.id, { modified: date(r.modified), contentHash: r.content_hash });
      }
      return out;
    },

    async upsertAdvisories(input, at) {
      if (input.length === 0) return;
      await db.transaction(async (tx) => {
        for (const part of chunks(input, 500)) {
          const records = part.map((r) => ({
            source: r.source,
            id: r.id,
            aliases: r.aliases,
            modified: r.modified.toISOString(),
            published: r.published?.toISOString() ?? null,
            withdrawn: r.withdrawn?.toISOString() ?? null,
            summary: r.summary,
            severity: r.severity,
            severity_score: r.severityScore,
            severity_source: r.severitySource,
            severity_detail: r.severityDetail,
            content_hash: r.contentHash,
          }));
          await tx.execute(sql`
            insert into vuln_advisories (source, id, aliases, modified, published, withdrawn, summary, severity, severity_score,
              severity_source, severity_detail, content_hash, imported_at)
            select x.source, x.id, x.aliases, x.modified, x.published, x.withdrawn, x.summary, x.severity, x.severity_score,
              x.severity_source, x.severity_detail, x.content_hash, ${at}
            from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as x(source text, id text, aliases jsonb, modified timestamptz,
              published timestamptz, withdrawn timestamptz, summary text, severity text, severity_score double precision,
              severity_source text, severity_detail text, content_hash text)
            on conflict (source, id) do update set aliases = excluded.aliases, modified = excluded.modified,
              published = excluded.published, withdrawn = excluded.withdrawn, summary = excluded.summary,
              severity = excluded.severity, severity_score = excluded.severity_score, severity_source = excluded.severity_source,
              severity_detail = excluded.severity_detail, content_hash = excluded.content_hash, imported_at = excluded.imported_at`);
          await tx.execute(sql`
            delete from vuln_affected v using jsonb_to_recordset(${keysJson(part)}::jsonb) as k(source text, id text)
            where v.source = k.source and v.advisory_id = k.id`);
          const affected = part.flatMap((r) =>
            r.affected.map((a) => ({
              source: r.source,
              advisory_id: r.id,
              ecosystem: a.ecosystem,
              name: a.name,
              keyed_by: a.keyedBy,
              ranges: a.ranges,
              versions: a.versions,
              end_of_life: a.endOfLife === true,
            })),
          );
          for (const slice of chunks(affected)) {
            await tx.execute(sql`
              insert into vuln_affected (source, advisory_id, ecosystem, name, keyed_by, ranges, versions, end_of_life)
              select x.source, x.advisory_id, x.ecosystem, x.name, x.keyed_by, x.ranges, x.versions, x.end_of_life
              from jsonb_to_recordset(${JSON.stringify(slice)}::jsonb) as x(source text, advisory_id text, ecosystem text, name text,
                keyed_by text, ranges jsonb, versions jsonb, end_of_life boolean)`);
          }
        }
      });
    },

    async affectedEntriesNamed(names) {
      return loadAffected(db, { names });
    },

    async affectedEntries(advisories) {
      return loadAffected(db, advisories);
    },

    async matchHosts(hostIds) {
      const filter =
        hostIds === undefined
          ? sql``
          : sql`and id in (select value::uuid from jsonb_array_elements_text(${JSON.stringify(hostIds)}::jsonb))`;
      const found = await rows<{ id: string; os_distro: string; os_release: string; os_codename: string | null }>(
        db,
        sql`select id, os_distro, os_release, os_codename from hosts where status = 'approved' ${filter}`,
      );
      return found.map((r): MatchHost => ({ hostId: r.id, distro: r.os_distro, release: r.os_release, codename: r.os_codename }));
    },

    async software(filter) {
      type R = { id: number | string; ecosystem: string; name: string; version: string; source: string; source_version: string };
      const toEntry = (r: R): SoftwareEntry => ({
        id: Number(r.id),
        ecosystem: r.ecosystem,
        name: r.name,
        version: r.version,
        source: r.source,
        sourceVersion: r.source_version,
      });
      const cols = sql`s.id, s.ecosystem, s.name, s.version, s.source, s.source_version`;
      if (filter.hostIds !== undefined) {
        return (
          await rows<R>(
            db,
            sql`select distinct ${cols} from host_software hs join software s on s.id = hs.software_id
                where hs.host_id in (select value::uuid from jsonb_array_elements_text(${JSON.stringify(filter.hostIds)}::jsonb))`,
          )
        ).map(toEntry);
      }
      if (filter.names !== undefined) {
        const out: SoftwareEntry[] = [];
        for (const part of chunks(filter.names)) {
          const names = JSON.stringify(part);
          const found = await rows<R>(
            db,
            sql`select ${cols} from software s
                where (s.name in (select value from jsonb_array_elements_text(${names}::jsonb))
                    or s.source in (select value from jsonb_array_elements_text(${names}::jsonb)))
                  and exists (select 1 from host_software hs where hs.software_id = s.id)`,
          );
          out.push(...found.map(toEntry));
        }
        return out;
      }
      return (
        await rows<R>(db, sql`select ${cols} from software s where exists (select 1 from host_software hs where hs.software_id = s.id)`)
      ).map(toEntry);
    },

    async unmatchedSoftware(hosts) {
      if (hosts.length === 0) return [];
      const found = await rows<{
        id: number | string;
        ecosystem: string;
        name: string;
        version: string;
        source: string;
        source_version: string;
      }>(
        db,
        sql`select distinct s.id, s.ecosystem, s.name, s.version, s.source, s.source_version
            from jsonb_to_recordset(${JSON.stringify(hosts.map((h) => ({ host_id: h.hostId, os_ecosystem: h.osEcosystem })))}::jsonb)
              as he(host_id uuid, os_ecosystem text)
            join host_software hs on hs.host_id = he.host_id
            join software s on s.id = hs.software_id
            where not exists (select 1 from vuln_matched vm where vm.software_id = s.id and vm.os_ecosystem = he.os_ecosystem)`,
      );
      return found.map((r) => ({
        id: Number(r.id),
        ecosystem: r.ecosystem,
        name: r.name,
        version: r.version,
        source: r.source,
        sourceVersion: r.source_version,
      }));
    },

    async replaceAllMatches(matches, matched) {
      await db.transaction(async (tx) => {
        await tx.execute(sql`delete from vuln_matches`);
        await tx.execute(sql`delete from vuln_matched`);
        await insertMatches(tx, matches);
        await insertMatched(tx, matched);
      });
    },

    async replaceMatchesOfAdvisories(advisories, matches) {
      await db.transaction(async (tx) => {
        for (const part of chunks(advisories)) {
          await tx.execute(sql`
            delete from vuln_matches m using jsonb_to_recordset(${keysJson(part)}::jsonb) as k(source text, id text)
            where m.source = k.source and m.advisory_id = k.id`);
        }
        await insertMatches(tx, matches);
      });
    },

    async addMatchesOfSoftware(matched, matches) {
      await db.transaction(async (tx) => {
        await insertMatches(tx, matches);
        await insertMatched(tx, matched);
      });
    },

    async syncFindings(hosts, scope, sla, defaultTier, at) {
      const hostsJson = JSON.stringify(hosts.map((h) => ({ host_id: h.hostId, os_ecosystem: h.osEcosystem })));
      const slaJson = JSON.stringify(sla);
      const advisoryFilter = (alias: string) =>
        scope.advisories === undefined
          ? sql``
          : sql`and (${sql.raw(alias)}.source, ${sql.raw(alias)}.advisory_id) in (select k.source, k.id from jsonb_to_recordset(${keysJson(scope.advisories)}::jsonb) as k(source text, id text))`;
      const hostFilter =
        scope.hostIds === undefined
          ? sql``
          : sql`and f.host_id in (select value::uuid from jsonb_array_elements_text(${JSON.stringify(scope.hostIds)}::jsonb))`;
      // Hours for a severity and tier; 'unknown' severities take the low row.
      const hours = (sev: ReturnType<typeof sql>, tier: ReturnType<typeof sql>) =>
        sql`((${slaJson}::jsonb -> (case when ${sev} in ('critical','high','medium','low') then ${sev} else 'low' end)) ->> (${tier})::text)::int`;
      // Three steps in one transaction, over two temporary tables the planner has statistics for:
      // the hosts in scope with their ecosystem and tier, and the current exposures (`cur`). Passing
      // hosts inline (jsonb_to_recordset, always estimated at 100 rows) made PostgreSQL pair every
      // match with every host before probing the links: minutes at 10,000 hosts (bench/README.md).
      return db.transaction(async (tx) => {
        await tx.execute(
          sql`create temporary table brier_sync_hosts (host_id uuid primary key, os_ecosystem text not null, tier int not null) on commit drop`,
        );
        await tx.execute(sql`
          insert into brier_sync_hosts (host_id, os_ecosystem, tier)
          select he.host_id, he.os_ecosystem, ${effectiveTier(sql`he.host_id`, defaultTier)}
          from jsonb_to_recordset(${hostsJson}::jsonb) as he(host_id uuid, os_ecosystem text)
          left join host_attributes ha on ha.host_id = he.host_id`);
        await tx.execute(sql`analyze brier_sync_hosts`);
        // A few hosts (an inventory change): take their links first, so the join starts from them
        // rather than from every host running a matched package.
        let links = sql.raw('host_software');
        if (scope.hostIds !== undefined) {
          await tx.execute(sql`
            create temporary table brier_sync_links on commit drop as
            select hs.host_id, hs.software_id from host_software hs join brier_sync_hosts t on t.host_id = hs.host_id`);
          await tx.execute(sql`analyze brier_sync_links`);
          links = sql.raw('brier_sync_links');
        }
        await tx.execute(sql`
          create temporary table brier_sync_cur on commit drop as
          select distinct on (t.host_id, m.source, m.advisory_id, s.name)
            t.host_id, m.source, m.advisory_id, s.name as package_name, s.version as installed_version, m.fixed_version,
            a.severity, t.tier, m.explanation
          from vuln_matches m
          join ${links} hs on hs.software_id = m.software_id
          join brier_sync_hosts t on t.host_id = hs.host_id and t.os_ecosystem = m.os_ecosystem
          join software s on s.id = m.software_id
          join vuln_advisories a on a.source = m.source and a.id = m.advisory_id and a.withdrawn is null
          where true ${advisoryFilter('m')}
          order by t.host_id, m.source, m.advisory_id, s.name, s.version`);
        await tx.execute(sql`create index on brier_sync_cur (host_id, source, advisory_id, package_name)`);
        await tx.execute(sql`analyze brier_sync_cur`);
        const [upserted] = await rows<{ opened: number }>(
          tx,
          sql`
          with upserted as (
            insert into vuln_findings as f (host_id, source, advisory_id, package_name, installed_version, fixed_version, severity,
              risk_tier, first_seen_at, due_at, last_matched_at, closed_at, closed_reason, explanation)
            select c.host_id, c.source, c.advisory_id, c.package_name, c.installed_version, c.fixed_version, c.severity, c.tier,
              ${at}, ${at}::timestamptz + make_interval(hours => ${hours(sql`c.severity`, sql`c.tier`)}), ${at}, null, null, c.explanation
            from brier_sync_cur c
            on conflict (host_id, source, advisory_id, package_name) do update set
              installed_version = excluded.installed_version, fixed_version = excluded.fixed_version, severity = excluded.severity,
              risk_tier = excluded.risk_tier, explanation = excluded.explanation, last_matched_at = excluded.last_matched_at,
              first_seen_at = case when f.closed_at is null then f.first_seen_at else excluded.first_seen_at end,
              due_at = (case when f.closed_at is null then f.first_seen_at else excluded.first_seen_at end)
                + make_interval(hours => ${hours(sql`excluded.severity`, sql`excluded.risk_tier`)}),
              closed_at = null, closed_reason = null
            -- Only what changed is rewritten: a re-match of an unchanged fleet writes nothing.
            where f.closed_at is not null or f.installed_version is distinct from excluded.installed_version
              or f.fixed_version is distinct from excluded.fixed_version or f.severity is distinct from excluded.severity
              or f.risk_tier is distinct from excluded.risk_tier or f.explanation is distinct from excluded.explanation
              or f.due_at is distinct from (f.first_seen_at + make_interval(hours => ${hours(sql`excluded.severity`, sql`excluded.risk_tier`)}))
            returning (xmax = 0) as inserted
          ) select count(*) filter (where inserted)::int as opened from upserted`,
        );
        // Findings in scope that are not current any more are closed.
        const [closed] = await rows<{ n: number }>(
          tx,
          sql`
          with gone as (
            update vuln_findings f set closed_at = ${at},
              closed_reason = case when exists (select 1 from vuln_advisories a where a.source = f.source and a.id = f.advisory_id
                and a.withdrawn is not null) then 'withdrawn' else 'remediated' end
            where f.closed_at is null ${hostFilter} ${advisoryFilter('f')}
              and not exists (select 1 from brier_sync_cur c where c.host_id = f.host_id and c.source = f.source
                and c.advisory_id = f.advisory_id and c.package_name = f.package_name)
            returning 1
          ) select count(*)::int as n from gone`,
        );
        const [open] = await rows<{ n: number }>(tx, sql`select count(*)::int as n from brier_sync_cur`);
        return { open: open?.n ?? 0, opened: upserted?.opened ?? 0, closed: closed?.n ?? 0 };
      });
    },

    async listVulnerabilities(query, at) {
      const filters = [sql`f.closed_at is null`];
      if (query.severity !== undefined) filters.push(sql`a.severity = ${query.severity}`);
      if (query.id !== undefined) filters.push(sql`(a.id = ${query.id} or a.aliases ? ${query.id})`);
      // The tier a finding was matched under is its host's effective tier (re-matching keeps it current).
      const tier = query.tier === undefined ? sql`` : sql`and f.risk_tier = ${query.tier}`;
      if (query.q) {
        // A record matches by its id or an alias, or by one of its open findings' package or host.
        // The matching records are picked first, so only they are grouped; their counts stay those
        // of the whole record (within the other filters). The subqueries name their own `f`, so the
        // tier condition applies inside them too.
        const q = likeContains(query.q);
        filters.push(sql`(a.source, a.id) in (
          select m.source, m.id from vuln_advisories m
            where m.id ilike ${q} or exists (select 1 from jsonb_array_elements_text(m.aliases) al where al ilike ${q})
          union select f.source, f.advisory_id from vuln_findings f where f.closed_at is null ${tier} and f.package_name ilike ${q}
          union select f.source, f.advisory_id from vuln_findings f join hosts h on h.id = f.host_id
            where f.closed_at is null ${tier} and h.hostname ilike ${q})`);
      }
      const where = sql`${sql.join(filters, sql` and `)} ${tier}`;
      const having = query.overdue === true ? sql`having min(f.due_at) < ${at}` : sql``;
      const grouped = sql`
        select a.source, a.id, a.aliases, a.summary, a.severity, a.severity_source, count(distinct f.host_id)::int as host_count,
          min(f.due_at) as due_at, count(distinct f.host_id) filter (where f.due_at < ${at})::int as overdue_host_count,
          ${SEVERITY_RANK} as rank
        from vuln_findings f join vuln_advisories a on a.source = f.source and a.id = f.advisory_id
        where ${where}
        group by a.source, a.id ${having}`;
      const [items, total] = await Promise.all([
        rows<{
          source: string;
          id: string;
          aliases: string[];
          summary: string | null;
          severity: string;
          severity_source: string;
          host_count: number;
          due_at: string | Date | null;
          overdue_host_count: number;
        }>(db, sql`${grouped} order by rank, host_count desc, id limit ${query.limit} offset ${query.offset}`),
        rows<{ n: number }>(db, sql`select count(*)::int as n from (${grouped}) g`),
      ]);
      return {
        items: items.map((r) => ({
          source: r.source,
          id: r.id,
          aliases: r.aliases,
          summary: r.summary,
          severity: r.severity,
          severitySource: r.severity_source,
          hostCount: r.host_count,
          dueAt: r.due_at === null ? null : date(r.due_at),
          overdueHostCount: r.overdue_host_count,
        })),
        total: total[0]?.n ?? 0,
      };
    },

    async hostFindings(hostId, opts) {
      const filters = [sql`f.host_id = ${hostId}`];
      if (opts.includeClosed !== true) filters.push(sql`f.closed_at is null`);
      if (opts.id !== undefined) filters.push(sql`(a.id = ${opts.id} or a.aliases ? ${opts.id})`);
      const found = await rows<FindingSqlRow>(
        db,
        sql`select ${FINDING_COLUMNS} from ${FINDING_FROM} where ${sql.join(filters, sql` and `)}
            order by ${SEVERITY_RANK}, f.due_at, f.advisory_id, f.package_name`,
      );
      return found.map(toFinding);
    },

    async overdueFindings(at, limit, offset) {
      const where = sql`f.closed_at is null and f.due_at < ${at}`;
      const [items, total] = await Promise.all([
        rows<FindingSqlRow>(
          db,
          sql`select ${FINDING_COLUMNS} from ${FINDING_FROM} where ${where} order by f.due_at, f.host_id, f.advisory_id limit ${limit} offset ${offset}`,
        ),
        rows<{ n: number }>(db, sql`select count(*)::int as n from vuln_findings f where ${where}`),
      ]);
      return { items: items.map(toFinding), total: total[0]?.n ?? 0 };
    },

    async findingsForMetrics(from, to) {
      const found = await rows<{
        severity: string;
        risk_tier: number;
        site: string | null;
        first_seen_at: string | Date;
        closed_at: string | Date | null;
        closed_reason: string | null;
      }>(
        db,
        sql`select f.severity, f.risk_tier, ha.site, f.first_seen_at, f.closed_at, f.closed_reason
            from vuln_findings f left join host_attributes ha on ha.host_id = f.host_id
            where f.first_seen_at < ${to} and (f.closed_at is null or f.closed_at >= ${from})`,
      );
      return found.map((r) => ({
        severity: r.severity,
        riskTier: r.risk_tier,
        site: r.site,
        firstSeenAt: date(r.first_seen_at),
        closedAt: r.closed_at === null ? null : date(r.closed_at),
        closedReason: r.closed_reason,
      }));
    },

    async openFindingCounts(at) {
      const found = await rows<{ severity: string; risk_tier: number; open: number; overdue: number }>(
        db,
        sql`select f.severity, f.risk_tier, count(*)::int as open, count(*) filter (where f.due_at < ${at})::int as overdue
            from vuln_findings f where f.closed_at is null group by f.severity, f.risk_tier`,
      );
      return found.map((r) => ({ severity: r.severity, riskTier: Number(r.risk_tier), open: Number(r.open), overdue: Number(r.overdue) }));
    },

    async remediationByDay(from, to) {
      // Same rules as bucketByDay (sla.ts) behind /vulnerabilities/metrics: UTC days, withdrawn records
      // are not remediation, a remediation recorded before the first sighting took 0 hours.
      const found = await rows<{ day: string; opened: number; remediated: number; median: number | string | null }>(
        db,
        sql`
        with days as (
          select d::date as day
          from generate_series((${from}::timestamptz at time zone 'UTC')::date, ((${to}::timestamptz - interval '1 microsecond') at time zone 'UTC')::date, interval '1 day') as d
        ),
        opened as (
          select (f.first_seen_at at time zone 'UTC')::date as day, count(*)::int as n
          from vuln_findings f
          where f.first_seen_at >= ${from} and f.first_seen_at < ${to} and f.closed_reason is distinct from 'withdrawn'
          group by 1
        ),
        remediated as (
          select (f.closed_at at time zone 'UTC')::date as day, count(*)::int as n,
            percentile_cont(0.5) within group (order by greatest(extract(epoch from f.closed_at - f.first_seen_at), 0) / 3600.0) as median
          from vuln_findings f
          where f.closed_at >= ${from} and f.closed_at < ${to} and f.closed_reason is distinct from 'withdrawn'
          group by 1
        )
        select to_char(days.day, 'YYYY-MM-DD') as day, coalesce(o.n, 0)::int as opened, coalesce(r.n, 0)::int as remediated, r.median
        from days left join opened o on o.day = days.day left join remediated r on r.day = days.day
        order by days.day`,
      );
      return found.map((r) => ({
        day: r.day,
        opened: Number(r.opened),
        remediated: Number(r.remediated),
        medianHoursToRemediate: r.median === null ? null : Number(r.median),
      }));
    },

    async advisoriesById(idOrAlias) {
      const found = await db
        .select()
        .from(vulnAdvisories)
        .where(sql`${vulnAdvisories.id} = ${idOrAlias} or ${vulnAdvisories.aliases} ? ${idOrAlias}`)
        .orderBy(vulnAdvisories.source, vulnAdvisories.id);
      if (found.length === 0) return [];
      const entries = await loadAffected(
        db,
        found.map((a) => ({ source: a.source, id: a.id })),
      );
      return found.map((a) => ({
        source: a.source,
        id: a.id,
        aliases: a.aliases as string[],
        modified: a.modified,
        published: a.published,
        withdrawn: a.withdrawn,
        summary: a.summary,
        severity: a.severity,
        severityScore: a.severityScore,
        severitySource: a.severitySource,
        severityDetail: a.severityDetail,
        contentHash: a.contentHash,
        importedAt: a.importedAt,
        affected: entries.filter((e) => e.source === a.source && e.advisoryId === a.id),
      }));
    },

    async openFindingsOf(advisories) {
      if (advisories.length === 0) return [];
      const found = await rows<FindingSqlRow>(
        db,
        sql`select ${FINDING_COLUMNS} from ${FINDING_FROM}
            where f.closed_at is null and (f.source, f.advisory_id) in
              (select k.source, k.id from jsonb_to_recordset(${keysJson(advisories)}::jsonb) as k(source text, id text))
            order by h.hostname, f.package_name`,
      );
      return found.map(toFinding);
    },

    async advisoryKeys(idOrAlias) {
      return rows<AdvisoryKey>(
        db,
        sql`select a.source, a.id from vuln_advisories a where a.id = ${idOrAlias} or a.aliases ? ${idOrAlias} order by a.source, a.id`,
      );
    },

    async findingsOf(advisories, query) {
      if (advisories.length === 0) return { items: [], total: 0 };
      const filters = [keysFilter(advisories)];
      if (query.status === 'open') filters.push(sql`f.closed_at is null`);
      if (query.status === 'closed') filters.push(sql`f.closed_at is not null`);
      const where = sql.join(filters, sql` and `);
      const [items, total] = await Promise.all([
        rows<FindingSqlRow>(
          db,
          sql`select ${FINDING_COLUMNS} from ${FINDING_FROM} where ${where}
              order by (f.closed_at is not null), f.due_at, h.hostname, f.host_id, f.advisory_id, f.package_name
              limit ${query.limit} offset ${query.offset}`,
        ),
        rows<{ n: number }>(db, sql`select count(*)::int as n from vuln_findings f where ${where}`),
      ]);
      return { items: items.map(toFinding), total: Number(total[0]?.n ?? 0) };
    },

    async findingCountsOf(advisories, at) {
      if (advisories.length === 0) return { open: 0, closed: 0, overdue: 0, openHosts: 0, overdueHosts: 0 };
      const [r] = await rows<{ open: number; closed: number; overdue: number; open_hosts: number; overdue_hosts: number }>(
        db,
        sql`select count(*) filter (where f.closed_at is null)::int as open,
              count(*) filter (where f.closed_at is not null)::int as closed,
              count(*) filter (where f.closed_at is null and f.due_at < ${at})::int as overdue,
              count(distinct f.host_id) filter (where f.closed_at is null)::int as open_hosts,
              count(distinct f.host_id) filter (where f.closed_at is null and f.due_at < ${at})::int as overdue_hosts
            from vuln_findings f where ${keysFilter(advisories)}`,
      );
      return {
        open: Number(r?.open ?? 0),
        closed: Number(r?.closed ?? 0),
        overdue: Number(r?.overdue ?? 0),
        openHosts: Number(r?.open_hosts ?? 0),
        overdueHosts: Number(r?.overdue_hosts ?? 0),
      };
    },

    async hostAttributes(hostId) {
      const found = await rows<{ risk_tier: number | null; site: string | null; group_tier: number | null; exists: boolean }>(
        db,
        sql`select ha.risk_tier, ha.site,
              (select max(gt.risk_tier) from host_groups hg join group_tiers gt on gt.group_name = hg.group_name where hg.host_id = h.id)
                as group_tier, true as exists
            from hosts h left join host_attributes ha on ha.host_id = h.id where h.id = ${hostId}`,
      );
      const r = found[0];
      if (!r) return undefined;
      return { riskTier: r.risk_tier, site: r.site, effectiveTier: r.risk_tier ?? r.group_tier ?? 0 };
    },

    async setHostAttributes(hostId, patch) {
      const set: { riskTier?: number | null; site?: string | null } = {};
      if (patch.riskTier !== undefined) set.riskTier = patch.riskTier;
      if (patch.site !== undefined) set.site = patch.site;
      await db
        .insert(hostAttributes)
        .values({ hostId, riskTier: patch.riskTier ?? null, site: patch.site ?? null })
        .onConflictDoUpdate({ target: hostAttributes.hostId, set });
    },

    async groupTiers() {
      const found = await db.select().from(groupTiers).orderBy(groupTiers.groupName);
      return found.map((g) => ({ group: g.groupName, riskTier: g.riskTier }));
    },

    async setGroupTier(group, riskTier) {
      if (riskTier === null) {
        await db.delete(groupTiers).where(eq(groupTiers.groupName, group));
        return;
      }
      await db
        .insert(groupTiers)
        .values({ groupName: group, riskTier })
        .onConflictDoUpdate({ target: groupTiers.groupName, set: { riskTier } });
    },

    async getSetting(key) {
      const [row] = await db.select().from(settings).where(eq(settings.key, key));
      return row?.value;
    },

    async setSetting(key, value, by, at) {
      await db
        .insert(settings)
        .values({ key, value, updatedAt: at, updatedBy: by })
        .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: at, updatedBy: by } });
    },

    async startImport(row) {
      const [inserted] = await db.insert(vulnImports).values(row).returning({ id: vulnImports.id });
      if (!inserted) throw new Error('insert returned no row');
      return inserted.id;
    },

    async finishImport(id, counts, error, at) {
      await db.update(vulnImports).set({ counts, error, finishedAt: at }).where(eq(vulnImports.id, id));
    },

    async listImports(limit) {
      const found = await db.select().from(vulnImports).orderBy(desc(vulnImports.startedAt)).limit(limit);
      return found.map((r) => ({ ...r, counts: r.counts as Record<string, number> }));
    },

    async feeds() {
      return db.select().from(vulnFeeds).orderBy(vulnFeeds.createdAt);
    },

    async addFeed(row) {
      const [inserted] = await db.insert(vulnFeeds).values(row).returning();
      if (!inserted) throw new Error('insert returned no row');
      return inserted;
    },

    async removeFeed(id) {
      const gone = await db.delete(vulnFeeds).where(eq(vulnFeeds.id, id)).returning({ id: vulnFeeds.id });
      return gone.length > 0;
    },

    async markFeedRun(id, at) {
      await db
        .update(vulnFeeds)
        .set({ lastRunAt: at })
        .where(and(eq(vulnFeeds.id, id)));
    },
  };
}

async function insertMatches(tx: Tx, matches: readonly Match[]): Promise<void> {
  for (const part of chunks(matches)) {
    const json = JSON.stringify(
      part.map((m) => ({
        software_id: m.softwareId,
        os_ecosystem: m.osEcosystem,
        source: m.source,
        advisory_id: m.advisoryId,
        fixed_version: m.fixedVersion,
        explanation: m.explanation,
      })),
    );
    await tx.execute(sql`
      insert into vuln_matches (software_id, os_ecosystem, source, advisory_id, fixed_version, explanation)
      select x.software_id, x.os_ecosystem, x.source, x.advisory_id, x.fixed_version, x.explanation
      from jsonb_to_recordset(${json}::jsonb) as x(software_id bigint, os_ecosystem text, source text, advisory_id text,
        fixed_version text, explanation jsonb)
      on conflict do nothing`);
  }
}

async function insertMatched(tx: Tx, matched: readonly { softwareId: number; osEcosystem: string }[]): Promise<void> {
  for (const part of chunks(matched, 10_000)) {
    const json = JSON.stringify(part.map((m) => ({ software_id: m.softwareId, os_ecosystem: m.osEcosystem })));
    await tx.execute(sql`
      insert into vuln_matched (software_id, os_ecosystem)
      select x.software_id, x.os_ecosystem from jsonb_to_recordset(${json}::jsonb) as x(software_id bigint, os_ecosystem text)
      on conflict do nothing`);
  }
}

export type { HostEcosystem };
