import type { HostFacts } from '@brier/protocol';
import { and, asc, count, eq, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { EnrollmentToken } from '../auth/types.js';
import type { FacetCount, Host, HostHistoryKind, HostHistoryRow, HostQuery, HostsStore, PlacedHost } from '../hosts/types.js';
import { DEFAULT_RISK_TIER } from '../vulns/sla.js';
import { type Db, likeContains, queryRows } from './db.js';
import { enrollmentTokens, hostSoftware, hosts, revokedKeys, software } from './schema.js';
import { effectiveTier } from './vulns-store.js';

type Row = typeof hosts.$inferSelect;

export function toHost(row: Row): Host {
  return {
    id: row.id,
    hostname: row.hostname,
    publicKey: row.publicKey,
    status: row.status,
    enrolledAt: row.enrolledAt,
    approvedAt: row.approvedAt,
    revokedAt: row.revokedAt,
    online: row.online,
    lastSeenAt: row.lastSeenAt,
    os: {
      platform: row.osPlatform,
      distro: row.osDistro,
      release: row.osRelease,
      codename: row.osCodename,
      kernel: row.osKernel,
      arch: row.osArch,
    },
    facts: (row.facts as HostFacts | null) ?? null,
    inventoryHash: row.inventoryHash,
    inventoryAt: row.inventoryAt,
    packageCount: row.packageCount,
  };
}

/** A host row as raw SQL returns it (timestamps as Date or text, depending on the driver). */
interface PlacedRow {
  id: string;
  hostname: string;
  public_key: string;
  status: Host['status'];
  enrolled_at: Date | string;
  approved_at: Date | string | null;
  revoked_at: Date | string | null;
  online: boolean;
  last_seen_at: Date | string | null;
  os_platform: string;
  os_distro: string;
  os_release: string;
  os_codename: string | null;
  os_kernel: string | null;
  os_arch: string | null;
  facts: HostFacts | null;
  inventory_hash: string | null;
  inventory_at: Date | string | null;
  package_count: number;
  site: string | null;
  groups: string[] | null;
  tier: number;
  own_tier: number | null;
  open_findings: number;
}

const date = (v: Date | string) => (v instanceof Date ? v : new Date(v));
const maybeDate = (v: Date | string | null) => (v === null ? null : date(v));

function toPlacedHost(r: PlacedRow): PlacedHost {
  return {
    id: r.id,
    hostname: r.hostname,
    publicKey: r.public_key,
    status: r.status,
    enrolledAt: date(r.enrolled_at),
    approvedAt: maybeDate(r.approved_at),
    revokedAt: maybeDate(r.revoked_at),
    online: r.online,
    lastSeenAt: maybeDate(r.last_seen_at),
    os: {
      platform: r.os_platform,
      distro: r.os_distro,
      release: r.os_release,
      codename: r.os_codename,
      kernel: r.os_kernel,
      arch: r.os_arch,
    },
    facts: r.facts ?? null,
    inventoryHash: r.inventory_hash,
    inventoryAt: maybeDate(r.inventory_at),
    packageCount: Number(r.package_count),
    site: r.site,
    groups: r.groups ?? [],
    tier: Number(r.tier),
    riskTier: r.own_tier === null ? null : Number(r.own_tier),
    openFindings: Number(r.open_findings),
  };
}

/** The effective tier of host `h` (host_attributes joined as `ha`). */
const TIER = effectiveTier(sql`h.id`, DEFAULT_RISK_TIER);

/** The filters of a host list, over `hosts h left join host_attributes ha`. */
function hostFilters(query: Omit<HostQuery, 'limit' | 'offset'>): SQL {
  const conditions: SQL[] = [sql`true`];
  if (query.q) conditions.push(sql`h.hostname ilike ${likeContains(query.q)}`);
  if (query.status) conditions.push(sql`h.status = ${query.status}`);
  if (query.online !== undefined) conditions.push(sql`h.online = ${query.online}`);
  if (query.site !== undefined) conditions.push(sql`ha.site = ${query.site}`);
  if (query.group !== undefined)
    conditions.push(sql`exists (select 1 from host_groups hg where hg.host_id = h.id and hg.group_name = ${query.group})`);
  if (query.os !== undefined) {
    const os = query.os.trim().replace(/\s+/g, ' ').toLowerCase();
    conditions.push(sql`(lower(h.os_distro) = ${os} or lower(h.os_distro || ' ' || h.os_release) = ${os})`);
  }
  if (query.tier !== undefined) conditions.push(sql`${TIER} = ${query.tier}`);
  return sql.join(conditions, sql` and `);
}

/** ORDER BY over the page's columns (hostname, last_seen_at, tier, id), ties broken by name then id. */
function hostOrder(query: Pick<HostQuery, 'sort' | 'order'>, alias: string): SQL {
  const dir = sql.raw(query.order === 'desc' ? 'desc' : 'asc');
  const col = (name: string) => sql.raw(`${alias}.${name}`);
  switch (query.sort) {
    case 'lastSeenAt':
      return sql`${col('last_seen_at')} ${dir} nulls last, ${col('hostname')}, ${col('id')}`;
    case 'tier':
      return sql`${col('tier')} ${dir}, ${col('hostname')}, ${col('id')}`;
    default:
      return sql`${col('hostname')} ${dir}, ${col('id')} ${dir}`;
  }
}

/**
 * Hosts with their placement: the page (ids picked with filters, order, limit) is chosen first, so
 * the per-host subqueries (groups, open findings) run for the page's rows only.
 */
function placedHosts(where: SQL, query: Pick<HostQuery, 'sort' | 'order'>, limit: number, offset: number): SQL {
  return sql`
    with matching as (
      select h.id, h.hostname, h.last_seen_at, ${TIER} as tier
      from hosts h left join host_attributes ha on ha.host_id = h.id
      where ${where}
    ),
    page as (select m.* from matching m order by ${hostOrder(query, 'm')} limit ${limit} offset ${offset})
    select h.id, h.hostname, h.public_key, h.status, h.enrolled_at, h.approved_at, h.revoked_at, h.online, h.last_seen_at,
      h.os_platform, h.os_distro, h.os_release, h.os_codename, h.os_kernel, h.os_arch, h.facts, h.inventory_hash,
      h.inventory_at, h.package_count, ha.site, p.tier, ha.risk_tier as own_tier,
      array(select hg.group_name from host_groups hg where hg.host_id = h.id order by hg.group_name) as groups,
      (select count(*)::int from vuln_findings f where f.host_id = h.id and f.closed_at is null) as open_findings
    from page p join hosts h on h.id = p.id left join host_attributes ha on ha.host_id = h.id
    order by ${hostOrder(query, 'p')}`;
}

/** Audit actions about quarantine: shown as the host's quarantine history, not as plain audit. */
const QUARANTINE_ACTIONS = ['host.quarantine', 'host.release'];

export type EnrollOutcome = { host: Host } | { refused: 'token_invalid' | 'token_expired' | 'token_exhausted' | 'conflict' };

export interface HostsStoreWithEnrollment extends HostsStore {
  /**
   * Consumes one use of the join token and creates the host in one transaction, so a token's use
   * count can never be exceeded by concurrent enrolments. `check` is the domain's validity rule.
   */
  enroll(
    secretHash: string,
    check: (token: EnrollmentToken) => 'token_expired' | 'token_exhausted' | 'token_invalid' | null,
    input: { hostname: string; publicKey: string; at: Date },
  ): Promise<EnrollOutcome>;
}

export function createHostsStore(db: Db): HostsStoreWithEnrollment {
  return {
    async create(input) {
      const [row] = await db
        .insert(hosts)
        .values({
          hostname: input.hostname,
          publicKey: input.publicKey,
          status: input.status,
          enrollmentTokenId: input.enrollmentTokenId,
          enrolledAt: input.at,
          approvedAt: input.status === 'approved' ? input.at : null,
        })
        .returning();
      if (!row) throw new Error('insert returned no row');
      return toHost(row);
    },

    async enroll(secretHash, check, input) {
      return db.transaction(async (tx) => {
        const [tokenRow] = await tx.select().from(enrollmentTokens).where(eq(enrollmentTokens.secretHash, secretHash)).for('update');
        if (!tokenRow) return { refused: 'token_invalid' as const };
        const { secretHash: _s, ...token } = tokenRow;
        const refusal = check(token);
        if (refusal) return { refused: refusal };
        const [revoked] = await tx.select().from(revokedKeys).where(eq(revokedKeys.publicKey, input.publicKey));
        const [existing] = await tx.select({ id: hosts.id }).from(hosts).where(eq(hosts.publicKey, input.publicKey));
        if (revoked || existing) return { refused: 'conflict' as const };
        await tx
          .update(enrollmentTokens)
          .set({ uses: sql`${enrollmentTokens.uses} + 1` })
          .where(eq(enrollmentTokens.id, token.id));
        const status = token.autoApprove ? 'approved' : 'pending';
        const [row] = await tx
          .insert(hosts)
          .values({
            hostname: input.hostname,
            publicKey: input.publicKey,
            status,
            enrollmentTokenId: token.id,
            enrolledAt: input.at,
            approvedAt: status === 'approved' ? input.at : null,
          })
          .returning();
        if (!row) throw new Error('insert returned no row');
        return { host: toHost(row) };
      });
    },

    async get(id) {
      const [row] = await db.select().from(hosts).where(eq(hosts.id, id));
      return row ? toHost(row) : undefined;
    },

    async placed(id) {
      const [row] = await queryRows<PlacedRow>(db, placedHosts(sql`h.id = ${id}`, {}, 1, 0));
      return row ? toPlacedHost(row) : undefined;
    },

    async list(query) {
      const where = hostFilters(query);
      const [rows, totals] = await Promise.all([
        queryRows<PlacedRow>(db, placedHosts(where, query, query.limit, query.offset)),
        queryRows<{ n: number }>(
          db,
          sql`select count(*)::int as n from hosts h left join host_attributes ha on ha.host_id = h.id where ${where}`,
        ),
      ]);
      return { items: rows.map(toPlacedHost), total: totals[0]?.n ?? 0 };
    },

    async facets() {
      const rows = await queryRows<{ kind: 'site' | 'group' | 'os'; name: string; n: number }>(
        db,
        sql`select 'site' as kind, ha.site as name, count(*)::int as n from host_attributes ha where ha.site is not null group by ha.site
            union all
            select 'group', hg.group_name, count(*)::int from host_groups hg group by hg.group_name
            union all
            select 'os', btrim(h.os_distro || ' ' || h.os_release), count(*)::int from hosts h where h.os_distro <> ''
              group by btrim(h.os_distro || ' ' || h.os_release)
            order by 1, 2`,
      );
      const of = (kind: string): FacetCount[] => rows.filter((r) => r.kind === kind).map((r) => ({ name: r.name, count: Number(r.n) }));
      return { sites: of('site'), groups: of('group'), os: of('os') };
    },

    async counts() {
      const [row] = await queryRows<{ total: number; approved: number; pending: number; revoked: number; online: number }>(
        db,
        sql`select count(*)::int as total,
              count(*) filter (where status = 'approved')::int as approved,
              count(*) filter (where status = 'pending')::int as pending,
              count(*) filter (where status = 'revoked')::int as revoked,
              count(*) filter (where online)::int as online
            from hosts`,
      );
      return {
        total: Number(row?.total ?? 0),
        approved: Number(row?.approved ?? 0),
        pending: Number(row?.pending ?? 0),
        revoked: Number(row?.revoked ?? 0),
        online: Number(row?.online ?? 0),
      };
    },

    async history(id, limit, offset) {
      // One union, ordered and paged in the database: each part reads the host's rows by index.
      const union = sql`
        select a.at, case when a.action in (${sql.join(
          QUARANTINE_ACTIONS.map((q) => sql`${q}`),
          sql`, `,
        )}) or a.action like 'quarantine.%' then 'quarantine' else 'audit' end as kind,
          a.action, a.actor, a.id::text as ref, coalesce(a.detail, '{}'::jsonb) as detail
        from audit_log a where a.target = ${id}
        union all
        select s.updated_at, 'deployment', 'deployment', d.created_by_name, d.id::text,
          jsonb_build_object('name', d.name, 'state', s.state, 'reason', s.state_reason, 'wave', s.wave_index,
            'deploymentState', d.state)
        from assignments s join deployments d on d.id = s.deployment_id where s.host_id = ${id}
        union all
        select r.at, 'remediation', 'remediation', null, r.policy_id::text,
          jsonb_build_object('policy', p.name, 'rule', r.rule, 'action', r.action, 'ok', r.ok, 'before', r.before, 'after', r.after)
        from remediation_events r left join policies p on p.id = r.policy_id where r.host_id = ${id}
        union all
        select q.updated_at, 'quarantine', 'quarantine.state', null, null,
          jsonb_build_object('order', q.action, 'state', q.state, 'detail', q.detail, 'sequence', q.sequence)
        from quarantines q where q.host_id = ${id} and q.state <> 'pending'`;
      const [rows, totals] = await Promise.all([
        queryRows<{
          at: Date | string;
          kind: HostHistoryKind;
          action: string;
          actor: string | null;
          ref: string | null;
          detail: Record<string, unknown>;
        }>(db, sql`select * from (${union}) x order by x.at desc, x.kind, x.ref desc limit ${limit} offset ${offset}`),
        queryRows<{ n: number }>(db, sql`select count(*)::int as n from (${union}) x`),
      ]);
      const items: HostHistoryRow[] = rows.map((r) => ({ ...r, at: date(r.at) }));
      return { items, total: Number(totals[0]?.n ?? 0) };
    },

    async groups() {
      const rows = await queryRows<{ name: string; host_count: number; tier: number | null }>(
        db,
        sql`select g.name, coalesce(c.n, 0)::int as host_count, gt.risk_tier as tier
            from (select group_name as name from host_groups union select group_name from group_tiers
                  union select group_name from maintenance_windows) g
            left join (select group_name, count(*) as n from host_groups group by group_name) c on c.group_name = g.name
            left join group_tiers gt on gt.group_name = g.name
            order by g.name`,
      );
      return rows.map((r) => ({ name: r.name, hostCount: Number(r.host_count), tier: r.tier === null ? null : Number(r.tier) }));
    },

    async setStatus(id, status, at) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(hosts)
          .set({
            status,
            ...(status === 'approved' ? { approvedAt: at } : {}),
            ...(status === 'revoked' ? { revokedAt: at, online: false } : {}),
          })
          .where(eq(hosts.id, id))
          .returning();
        if (!row) return undefined;
        if (status === 'revoked') {
          await tx.insert(revokedKeys).values({ publicKey: row.publicKey, hostId: row.id, revokedAt: at }).onConflictDoNothing();
        }
        return toHost(row);
      });
    },

    async delete(id) {
      const rows = await db.delete(hosts).where(eq(hosts.id, id)).returning({ id: hosts.id });
      return rows.length > 0;
    },

    async isKeyRevoked(publicKey) {
      const [row] = await db.select({ k: revokedKeys.publicKey }).from(revokedKeys).where(eq(revokedKeys.publicKey, publicKey));
      return row !== undefined;
    },

    async setOnline(id, online, at) {
      await db.update(hosts).set({ online, lastSeenAt: at }).where(eq(hosts.id, id));
    },

    async touchLastSeen(ids, at) {
      if (ids.length === 0) return;
      await db
        .update(hosts)
        .set({ lastSeenAt: at })
        .where(inArray(hosts.id, [...ids]));
    },

    async markAllOffline(at) {
      await db.update(hosts).set({ online: false, lastSeenAt: at }).where(eq(hosts.online, true));
    },

    async software(id, query) {
      const conditions: SQL[] = [eq(hostSoftware.hostId, id)];
      if (query.q) {
        const pattern = likeContains(query.q);
        const match = or(ilike(software.name, pattern), ilike(software.source, pattern), ilike(software.version, pattern));
        if (match) conditions.push(match);
      }
      const where = and(...conditions);
      const [rows, totals] = await Promise.all([
        db
          .select({
            ecosystem: software.ecosystem,
            name: software.name,
            version: software.version,
            arch: software.arch,
            source: software.source,
            sourceVersion: software.sourceVersion,
          })
          .from(hostSoftware)
          .innerJoin(software, eq(software.id, hostSoftware.softwareId))
          .where(where)
          .orderBy(asc(software.name), asc(software.arch), asc(software.ecosystem))
          .limit(query.limit)
          .offset(query.offset),
        db.select({ n: count() }).from(hostSoftware).innerJoin(software, eq(software.id, hostSoftware.softwareId)).where(where),
      ]);
      return {
        items: rows.map((r) => ({ ...r, source: r.source || null, sourceVersion: r.sourceVersion || null })),
        total: totals[0]?.n ?? 0,
      };
    },
  };
}
