import type { PolicyMode, PolicyRule, RemediationEvent, RuleKind, SignedPolicyBundle, SignedQuarantineOrder } from '@brier/protocol';
import { and, asc, count, desc, eq, inArray, ne, type SQL } from 'drizzle-orm';
import type { DeviceMark, DiscoveryStore, MarkState, UnmanagedDevice } from '../discovery/discovery-repository.js';
import type {
  BundleRow,
  ComplianceRow,
  PoliciesStore,
  PolicyComplianceCounts,
  PolicyRow,
  PolicyTargets,
  QuarantineRequestRow,
  QuarantineRequestState,
  QuarantineRow,
  QuarantineStore,
  StatusCounts,
} from '../policies/policies-repository.js';
import { type Db, queryRows, sql } from './db.js';
import { deviceMarks, hostBundles, hosts, policies, quarantines, remediationEvents } from './schema.js';

/**
 * Desired state: policies, bundles, compliance, remediation events, quarantine, and discovery
 * (network sightings, device marks). Multi-row writes travel as one jsonb parameter expanded with
 * jsonb_to_recordset, in chunks, as in inventory-store.ts and vulns-store.ts. Targeting is matched
 * in SQL: a policy's `targets` is `{hostIds: [...], groups: [...]}` and a JSON array contains a
 * string when that string is one of its elements (`@>`).
 */

const CHUNK = 2_000;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

async function rows<T>(db: Db | Tx, query: ReturnType<typeof sql>): Promise<T[]> {
  return queryRows<T>(db as Db, query);
}

const date = (v: string | Date) => (v instanceof Date ? v : new Date(v));
const json = (v: unknown) => JSON.stringify(v);

// ------------------------------------------------------------------ policies

type PolicyTableRow = typeof policies.$inferSelect;

function targetsOf(value: unknown): PolicyTargets {
  const t = (value ?? {}) as Partial<PolicyTargets>;
  return { hostIds: Array.isArray(t.hostIds) ? t.hostIds : [], groups: Array.isArray(t.groups) ? t.groups : [] };
}

function toPolicy(r: PolicyTableRow): PolicyRow {
  return {
    id: r.id,
    name: r.name,
    mode: r.mode as PolicyMode,
    rules: r.rules as PolicyRule[],
    targets: targetsOf(r.targets),
    intervalMinutes: r.intervalMinutes,
    quarantineAfterMinutes: r.quarantineAfterMinutes,
    version: r.version,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

interface PolicySqlRow {
  id: string;
  name: string;
  mode: string;
  rules: PolicyRule[];
  targets: unknown;
  interval_minutes: number;
  quarantine_after_minutes: number | null;
  version: number;
  created_by: string;
  created_at: string | Date;
  updated_at: string | Date;
}

function fromSql(r: PolicySqlRow): PolicyRow {
  return {
    id: r.id,
    name: r.name,
    mode: r.mode as PolicyMode,
    rules: r.rules,
    targets: targetsOf(r.targets),
    intervalMinutes: Number(r.interval_minutes),
    quarantineAfterMinutes: r.quarantine_after_minutes === null ? null : Number(r.quarantine_after_minutes),
    version: Number(r.version),
    createdBy: r.created_by,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

/** `p` targets the host `hostId` (an expression of type text): by id, or by one of its groups. */
const targets = (hostId: ReturnType<typeof sql>) => sql`(
  coalesce(p.targets->'hostIds', '[]'::jsonb) @> to_jsonb(${hostId})
  or exists (select 1 from host_groups hg where hg.host_id = (${hostId})::uuid
    and coalesce(p.targets->'groups', '[]'::jsonb) @> to_jsonb(hg.group_name)))`;

function emptyCounts(): StatusCounts {
  return { compliant: 0, noncompliant: 0, remediated: 0, error: 0, unknown: 0 };
}

function bump(c: StatusCounts, status: string, n: number): void {
  if (status === 'compliant' || status === 'noncompliant' || status === 'remediated' || status === 'error' || status === 'unknown')
    c[status] += n;
}

export function createPoliciesStore(db: Db): PoliciesStore {
  return {
    async createPolicy(row) {
      const [created] = await db
        .insert(policies)
        .values({ ...row, rules: row.rules, targets: row.targets })
        .onConflictDoNothing({ target: policies.name })
        .returning();
      return created ? toPolicy(created) : undefined;
    },

    async getPolicy(id) {
      const [row] = await db.select().from(policies).where(eq(policies.id, id));
      return row ? toPolicy(row) : undefined;
    },

    async policyByName(name) {
      const [row] = await db.select().from(policies).where(eq(policies.name, name));
      return row ? toPolicy(row) : undefined;
    },

    async listPolicies() {
      return (await db.select().from(policies).orderBy(asc(policies.name))).map(toPolicy);
    },

    async replacePolicy(id, expectedVersion, patch) {
      const [row] = await db
        .update(policies)
        .set({
          name: patch.name,
          mode: patch.mode,
          rules: patch.rules,
          targets: patch.targets,
          intervalMinutes: patch.intervalMinutes,
          quarantineAfterMinutes: patch.quarantineAfterMinutes,
          version: patch.version,
          updatedAt: patch.updatedAt,
        })
        .where(and(eq(policies.id, id), eq(policies.version, expectedVersion)))
        .returning();
      return row ? toPolicy(row) : undefined;
    },

    async deletePolicy(id, at) {
      return db.transaction(async (tx) => {
        const [row] = await tx.delete(policies).where(eq(policies.id, id)).returning();
        if (!row) return undefined;
        await tx.execute(sql`delete from compliance where policy_id = ${id}::uuid`);
        await tx.execute(sql`update quarantine_requests set state = 'cancelled', decided_by = 'policy deleted',
          decided_at = ${at.toISOString()}::timestamptz where policy_id = ${id}::uuid and state = 'pending'`);
        return toPolicy(row);
      });
    },

    async knownHostIds(ids) {
      const out: string[] = [];
      for (const part of chunks(ids)) {
        const found = await db
          .select({ id: hosts.id })
          .from(hosts)
          .where(and(ne(hosts.status, 'revoked'), inArray(hosts.id, [...part])));
        out.push(...found.map((r) => r.id));
      }
      return out;
    },

    async targetedHosts(t) {
      if (t.hostIds.length === 0 && t.groups.length === 0) return [];
      const found = await rows<{ id: string }>(
        db,
        sql`select h.id from hosts h where h.status <> 'revoked' and (
              h.id::text in (select value from jsonb_array_elements_text(${json(t.hostIds)}::jsonb))
              or h.id in (select hg.host_id from host_groups hg
                where hg.group_name in (select value from jsonb_array_elements_text(${json(t.groups)}::jsonb))))
            order by h.id`,
      );
      return found.map((r) => r.id);
    },

    async policiesForHosts(hostIds) {
      const out = new Map<string, PolicyRow[]>();
      for (const part of chunks(hostIds, 500)) {
        const found = await rows<PolicySqlRow & { host_id: string }>(
          db,
          sql`select x.host_id, p.id, p.name, p.mode, p.rules, p.targets, p.interval_minutes, p.quarantine_after_minutes, p.version,
                p.created_by, p.created_at, p.updated_at
              from jsonb_array_elements_text(${json(part)}::jsonb) as x(host_id)
              join policies p on ${targets(sql`x.host_id`)}
              order by x.host_id, p.id`,
        );
        for (const r of found) out.set(r.host_id, [...(out.get(r.host_id) ?? []), fromSql(r)]);
      }
      return out;
    },

    async bundles(hostIds) {
      const out = new Map<string, BundleRow>();
      for (const part of chunks(hostIds)) {
        const found = await db
          .select()
          .from(hostBundles)
          .where(inArray(hostBundles.hostId, [...part]));
        for (const r of found)
          out.set(r.hostId, {
            hostId: r.hostId,
            sequence: r.sequence,
            contentHash: r.contentHash,
            signed: r.signed as SignedPolicyBundle,
            issuedAt: r.issuedAt,
            ackedSequence: r.ackedSequence,
          });
      }
      return out;
    },

    async saveBundles(input) {
      const saved = new Set<string>();
      if (input.length === 0) return saved;
      await db.transaction(async (tx) => {
        for (const part of chunks(input, 500)) {
          const records = part.map((r) => ({
            host_id: r.hostId,
            sequence: r.sequence,
            content_hash: r.contentHash,
            signed: r.signed,
            issued_at: r.issuedAt.toISOString(),
          }));
          // Compare-and-set: a bundle replaces only an older one. A host deleted meanwhile is skipped.
          const written = await rows<{ host_id: string }>(
            tx,
            sql`insert into host_bundles (host_id, sequence, content_hash, signed, issued_at)
                select x.host_id, x.sequence, x.content_hash, x.signed, x.issued_at
                from jsonb_to_recordset(${json(records)}::jsonb)
                  as x(host_id uuid, sequence bigint, content_hash text, signed jsonb, issued_at timestamptz)
                where exists (select 1 from hosts h where h.id = x.host_id)
                on conflict (host_id) do update set sequence = excluded.sequence, content_hash = excluded.content_hash,
                  signed = excluded.signed, issued_at = excluded.issued_at
                where host_bundles.sequence < excluded.sequence
                returning host_id`,
          );
          const done = new Set(written.map((w) => w.host_id));
          for (const id of done) saved.add(id);
          // Results of policies (or rule indexes) a host no longer holds would only mislead.
          const keep = part
            .filter((r) => done.has(r.hostId))
            .map((r) => ({ host_id: r.hostId, policies: r.signed.document.policies.map((p) => ({ id: p.id, rules: p.rules.length })) }));
          if (keep.length === 0) continue;
          await tx.execute(sql`
            delete from compliance c using jsonb_to_recordset(${json(keep)}::jsonb) as k(host_id uuid, policies jsonb)
            where c.host_id = k.host_id and not exists (
              select 1 from jsonb_to_recordset(k.policies) as p(id uuid, rules int) where p.id = c.policy_id and c.rule < p.rules)`);
        }
      });
      return saved;
    },

    async ackBundle(hostId, sequence) {
      await db.execute(sql`update host_bundles set acked_sequence = ${sequence}
        where host_id = ${hostId}::uuid and (acked_sequence is null or acked_sequence < ${sequence})`);
    },

    async upsertCompliance(hostId, input) {
      for (const part of chunks(input)) {
        const records = part.map((r) => ({
          policy_id: r.policyId,
          policy_version: r.policyVersion,
          rule: r.rule,
          kind: r.kind,
          status: r.status,
          detail: r.detail,
          checked_at: r.checkedAt.toISOString(),
        }));
        await db.execute(sql`
          insert into compliance as c (host_id, policy_id, rule, policy_version, kind, status, detail, checked_at, since_at)
          select ${hostId}::uuid, x.policy_id, x.rule, x.policy_version, x.kind, x.status, x.detail, x.checked_at, x.checked_at
          from jsonb_to_recordset(${json(records)}::jsonb)
            as x(policy_id uuid, rule int, policy_version int, kind text, status text, detail text, checked_at timestamptz)
          on conflict (host_id, policy_id, rule) do update set policy_version = excluded.policy_version, kind = excluded.kind,
            status = excluded.status, detail = excluded.detail, checked_at = excluded.checked_at,
            since_at = case when c.status = excluded.status and c.kind = excluded.kind then c.since_at else excluded.checked_at end
          where c.checked_at <= excluded.checked_at`);
      }
    },

    async hostCompliance(hostId) {
      const found = await rows<{
        policy_id: string;
        policy_name: string;
        policy_version: number;
        rule: number;
        kind: string;
        status: string;
        detail: string;
        checked_at: string | Date;
        since_at: string | Date;
      }>(
        db,
        sql`select c.policy_id, p.name as policy_name, c.policy_version, c.rule, c.kind, c.status, c.detail, c.checked_at, c.since_at
            from compliance c join policies p on p.id = c.policy_id
            where c.host_id = ${hostId}::uuid
            order by p.name, c.policy_id, c.rule`,
      );
      return found.map(
        (r): ComplianceRow => ({
          policyId: r.policy_id,
          policyName: r.policy_name,
          policyVersion: Number(r.policy_version),
          rule: Number(r.rule),
          kind: r.kind as RuleKind,
          status: r.status as ComplianceRow['status'],
          detail: r.detail,
          checkedAt: date(r.checked_at),
          sinceAt: date(r.since_at),
        }),
      );
    },

    async complianceCounts(policyId) {
      const filter = policyId === undefined ? sql`` : sql`and id = ${policyId}::uuid`;
      // Set-based, so it stays cheap on a large fleet: each policy's approved targets are resolved
      // once (the hosts it names by id, union the members of the groups it names: the same string
      // equality as `targets` above), then joined to the results stored for its current version and
      // rule indexes. A rule without a result is 'unknown'; a policy without rules counts no host.
      // One statement answers three parts: per policy its rule count and targeted hosts (`targeted`),
      // results by rule and status (`rule`), and hosts by verdict (`host`).
      const found = await rows<{
        part: 'targeted' | 'rule' | 'host';
        policy_id: string;
        rule: number | null;
        status: string | null;
        n: number;
      }>(
        db,
        sql`
        with p as (
          select id, version, jsonb_array_length(rules) as rules,
            case when jsonb_typeof(targets->'hostIds') = 'array' then targets->'hostIds' else '[]'::jsonb end as host_ids,
            case when jsonb_typeof(targets->'groups') = 'array' then targets->'groups' else '[]'::jsonb end as groups
          from policies where jsonb_array_length(rules) > 0 ${filter}
        ),
        t as (
          select p.id as policy_id, p.version, p.rules, h.id as host_id
          from p cross join lateral (
            -- Only the canonical text of a uuid can equal a host's id::text; anything else names no host.
            select case when e.value ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then e.value::uuid end
            from jsonb_array_elements_text(p.host_ids) as e(value)
            union
            select hg.host_id from jsonb_array_elements_text(p.groups) as g(name) join host_groups hg on hg.group_name = g.name
          ) as x(host_id)
          join hosts h on h.id = x.host_id and h.status = 'approved'
        ),
        r as (
          select t.policy_id, t.host_id, c.rule, c.status
          from t join compliance c on c.host_id = t.host_id and c.policy_id = t.policy_id and c.policy_version = t.version
            and c.rule >= 0 and c.rule < t.rules
        ),
        -- A host's verdict on a policy: noncompliant if any rule is, else error, else unknown (a rule
        -- without a result), else remediated, else compliant.
        v as (
          select t.policy_id, case
            when bool_or(r.status = 'noncompliant') then 'noncompliant'
            when bool_or(r.status = 'error') then 'error'
            when count(r.rule) < min(t.rules) then 'unknown'
            when bool_or(r.status = 'remediated') then 'remediated'
            else 'compliant' end as status
          from t left join r on r.policy_id = t.policy_id and r.host_id = t.host_id
          group by t.policy_id, t.host_id
        )
        select 'targeted' as part, policy_id, min(rules) as rule, null::text as status, count(*)::int as n from t group by policy_id
        union all
        select 'rule', policy_id, rule, status, count(*)::int from r group by policy_id, rule, status
        union all
        select 'host', policy_id, null, status, count(*)::int from v group by policy_id, status`,
      );
      const out = new Map<string, PolicyComplianceCounts>();
      // Every rule of a targeted policy starts with all its hosts unknown; each result moves one out.
      for (const r of found) {
        if (r.part !== 'targeted') continue;
        const hosts = Number(r.n);
        const rules = Array.from({ length: Number(r.rule) }, (): StatusCounts => ({ ...emptyCounts(), unknown: hosts }));
        out.set(r.policy_id, { policyId: r.policy_id, hosts: emptyCounts(), rules });
      }
      for (const r of found) {
        const e = out.get(r.policy_id);
        if (r.part === 'targeted' || !e || r.status === null) continue;
        if (r.part === 'host') bump(e.hosts, r.status, Number(r.n));
        const counts = r.part === 'rule' ? e.rules[Number(r.rule)] : undefined;
        if (counts) {
          counts.unknown -= Number(r.n);
          bump(counts, r.status, Number(r.n));
        }
      }
      return [...out.values()];
    },

    async insertRemediations(hostId, events, receivedAt) {
      for (const part of chunks(events)) {
        const records = part.map((e) => ({
          policy_id: e.policyId,
          policy_version: e.policyVersion,
          rule: e.rule,
          action: e.action,
          ok: e.ok,
          before: e.before,
          after: e.after,
          at: e.at,
        }));
        await db.execute(sql`
          insert into remediation_events (host_id, policy_id, policy_version, rule, action, ok, before, after, at, received_at)
          select ${hostId}::uuid, x.policy_id, x.policy_version, x.rule, x.action, x.ok, x.before, x.after, x.at,
            ${receivedAt.toISOString()}::timestamptz
          from jsonb_to_recordset(${json(records)}::jsonb) as x(policy_id uuid, policy_version int, rule int, action text, ok boolean,
            before text, after text, at timestamptz)`);
      }
    },

    async remediations(hostId, limit, offset) {
      const [items, totals] = await Promise.all([
        db
          .select()
          .from(remediationEvents)
          .where(eq(remediationEvents.hostId, hostId))
          .orderBy(desc(remediationEvents.at), desc(remediationEvents.id))
          .limit(limit)
          .offset(offset),
        db.select({ n: count() }).from(remediationEvents).where(eq(remediationEvents.hostId, hostId)),
      ]);
      return {
        items: items.map((r): RemediationEvent & { id: number; receivedAt: Date } => ({
          id: r.id,
          policyId: r.policyId,
          policyVersion: r.policyVersion,
          rule: r.rule,
          action: r.action,
          ok: r.ok,
          before: r.before,
          after: r.after,
          at: r.at.toISOString(),
          receivedAt: r.receivedAt,
        })),
        total: totals[0]?.n ?? 0,
      };
    },
  };
}

// ------------------------------------------------------------------ quarantine

interface RequestSqlRow {
  id: string;
  host_id: string;
  hostname: string;
  policy_id: string;
  policy_name: string | null;
  reason: string;
  state: string;
  requested_at: string | Date;
  decided_by: string | null;
  decided_at: string | Date | null;
}

function toRequest(r: RequestSqlRow): QuarantineRequestRow {
  return {
    id: r.id,
    hostId: r.host_id,
    hostname: r.hostname,
    policyId: r.policy_id,
    policyName: r.policy_name,
    reason: r.reason,
    state: r.state as QuarantineRequestState,
    requestedAt: date(r.requested_at),
    decidedBy: r.decided_by,
    decidedAt: r.decided_at === null ? null : date(r.decided_at),
  };
}

const REQUEST_SELECT = sql`select q.id, q.host_id, h.hostname, q.policy_id, p.name as policy_name, q.reason, q.state, q.requested_at,
  q.decided_by, q.decided_at
  from quarantine_requests q join hosts h on h.id = q.host_id left join policies p on p.id = q.policy_id`;

function toQuarantine(r: typeof quarantines.$inferSelect): QuarantineRow {
  return {
    hostId: r.hostId,
    action: r.action as QuarantineRow['action'],
    sequence: r.sequence,
    signed: r.signed as SignedQuarantineOrder,
    state: r.state as QuarantineRow['state'],
    detail: r.detail,
    reason: r.reason,
    requestedBy: r.requestedBy,
    requestedAt: r.requestedAt,
    updatedAt: r.updatedAt,
  };
}

export function createQuarantineStore(db: Db): QuarantineStore {
  async function getRequest(id: string): Promise<QuarantineRequestRow | undefined> {
    const [row] = await rows<RequestSqlRow>(db, sql`${REQUEST_SELECT} where q.id = ${id}::uuid`);
    return row ? toRequest(row) : undefined;
  }

  return {
    async get(hostId) {
      const [r] = await db.select().from(quarantines).where(eq(quarantines.hostId, hostId));
      return r ? toQuarantine(r) : undefined;
    },

    async list(query) {
      const conditions: SQL[] = [];
      if (query.state !== undefined) conditions.push(eq(quarantines.state, query.state));
      if (query.action !== undefined) conditions.push(eq(quarantines.action, query.action));
      // By default a host whose release the agent confirmed is not in quarantine any more.
      if (conditions.length === 0) conditions.push(sql`not (${quarantines.action} = 'release' and ${quarantines.state} = 'released')`);
      const where = and(...conditions);
      const [found, totals] = await Promise.all([
        db
          .select({ q: quarantines, hostname: hosts.hostname, online: hosts.online })
          .from(quarantines)
          .innerJoin(hosts, eq(hosts.id, quarantines.hostId))
          .where(where)
          .orderBy(desc(quarantines.requestedAt), asc(quarantines.hostId))
          .limit(query.limit)
          .offset(query.offset),
        db.select({ n: count() }).from(quarantines).where(where),
      ]);
      return {
        items: found.map((r) => ({ ...toQuarantine(r.q), hostname: r.hostname, online: r.online })),
        total: Number(totals[0]?.n ?? 0),
      };
    },

    async save(row) {
      const written = await rows<{ host_id: string }>(
        db,
        sql`insert into quarantines (host_id, action, sequence, signed, state, detail, reason, requested_by, requested_at, updated_at)
            values (${row.hostId}::uuid, ${row.action}, ${row.sequence}, ${json(row.signed)}::jsonb, ${row.state}, ${row.detail},
              ${row.reason}, ${row.requestedBy}, ${row.requestedAt.toISOString()}::timestamptz, ${row.updatedAt.toISOString()}::timestamptz)
            on conflict (host_id) do update set action = excluded.action, sequence = excluded.sequence, signed = excluded.signed,
              state = excluded.state, detail = excluded.detail, reason = excluded.reason, requested_by = excluded.requested_by,
              requested_at = excluded.requested_at, updated_at = excluded.updated_at
            where quarantines.sequence < excluded.sequence
            returning host_id`,
      );
      return written.length === 1;
    },

    async setState(hostId, sequence, state, detail, at) {
      const updated = await db
        .update(quarantines)
        .set({ state, detail, updatedAt: at })
        .where(and(eq(quarantines.hostId, hostId), eq(quarantines.sequence, sequence)))
        .returning({ hostId: quarantines.hostId });
      return updated.length === 1;
    },

    async overdueAntivirus(hostId, at) {
      const found = await rows<{ policy_id: string; name: string; rule: number; since_at: string | Date; minutes: number }>(
        db,
        sql`select c.policy_id, p.name, c.rule, c.since_at, p.quarantine_after_minutes as minutes
            from compliance c join policies p on p.id = c.policy_id and p.version = c.policy_version
            where c.host_id = ${hostId}::uuid and c.kind = 'antivirus' and c.status = 'noncompliant'
              and p.quarantine_after_minutes is not null
              and c.since_at <= ${at.toISOString()}::timestamptz - make_interval(mins => p.quarantine_after_minutes)
            order by c.policy_id, c.rule`,
      );
      return found.map((r) => ({
        policyId: r.policy_id,
        policyName: r.name,
        rule: Number(r.rule),
        sinceAt: date(r.since_at),
        quarantineAfterMinutes: Number(r.minutes),
      }));
    },

    async createRequest(input) {
      // Once per host and policy while pending. Within one process the caller serialises per host;
      // two replicas racing could both insert, which an approver then sees twice (harmless).
      const [created] = await rows<{ id: string }>(
        db,
        sql`insert into quarantine_requests (host_id, policy_id, reason, state, requested_at)
            select ${input.hostId}::uuid, ${input.policyId}::uuid, ${input.reason}, 'pending', ${input.requestedAt.toISOString()}::timestamptz
            where not exists (select 1 from quarantine_requests q
              where q.host_id = ${input.hostId}::uuid and q.policy_id = ${input.policyId}::uuid and q.state = 'pending')
            returning id`,
      );
      return created ? getRequest(created.id) : undefined;
    },

    getRequest,

    async listRequests(state) {
      const filter = state === undefined ? sql`` : sql`where q.state = ${state}`;
      return (await rows<RequestSqlRow>(db, sql`${REQUEST_SELECT} ${filter} order by q.requested_at desc, q.id`)).map(toRequest);
    },

    async decideRequest(id, state, by, at) {
      const [done] = await rows<{ id: string }>(
        db,
        sql`update quarantine_requests set state = ${state}, decided_by = ${by}, decided_at = ${at.toISOString()}::timestamptz
            where id = ${id}::uuid and state = 'pending' returning id`,
      );
      return done ? getRequest(done.id) : undefined;
    },
  };
}

// ------------------------------------------------------------------ discovery

export function createDiscoveryStore(db: Db): DiscoveryStore {
  const store: DiscoveryStore = {
    async recordSightings(hostId, sightings, at) {
      const when = at.toISOString();
      for (const part of chunks(sightings)) {
        await db.execute(sql`
          insert into network_sightings as s (mac, ip, host_id, interface, first_seen_at, last_seen_at)
          select x.mac, x.ip, ${hostId}::uuid, x.interface, ${when}::timestamptz, ${when}::timestamptz
          from jsonb_to_recordset(${json(part)}::jsonb) as x(mac text, ip text, interface text)
          on conflict (mac, ip, host_id) do update set interface = excluded.interface,
            last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at)`);
      }
    },

    async unmanaged(query): Promise<{ items: UnmanagedDevice[]; total: number }> {
      const include =
        query.include.length === 0
          ? sql``
          : sql`or m.state in (select value from jsonb_array_elements_text(${json(query.include)}::jsonb))`;
      // Enrolled hosts' own addresses, spelled as sightings are: MACs lower case with colons; IPs
      // lower case without prefix length or zone. Facts are the agent's word: anything that is not
      // an array is read as empty rather than failing the listing.
      const arr = (e: ReturnType<typeof sql>) => sql`(case when jsonb_typeof(${e}) = 'array' then ${e} else '[]'::jsonb end)`;
      const found = await rows<{
        mac: string;
        ip: string;
        first_seen_at: string | Date;
        last_seen_at: string | Date;
        seen_by: { hostId: string; hostname: string }[];
        state: string | null;
        note: string | null;
        marked_by: string | null;
        marked_at: string | Date | null;
        total: number;
      }>(
        db,
        sql`with nic as (
              select n.value as nic from hosts h cross join lateral jsonb_array_elements(${arr(sql`h.facts->'network'`)}) as n(value)
              where h.status <> 'revoked'
            ),
            own_mac as (
              select distinct lower(replace(nic->>'mac', '-', ':')) as mac from nic where jsonb_typeof(nic->'mac') = 'string'
            ),
            own_ip as (
              select distinct lower(split_part(split_part(a.value, '/', 1), '%', 1)) as ip
              from nic cross join lateral jsonb_array_elements_text(${arr(sql`nic->'ipv4'`)} || ${arr(sql`nic->'ipv6'`)}) as a(value)
            )
            select s.mac, s.ip, min(s.first_seen_at) as first_seen_at, max(s.last_seen_at) as last_seen_at,
              jsonb_agg(jsonb_build_object('hostId', h.id, 'hostname', h.hostname) order by h.hostname, h.id) as seen_by,
              m.state, m.note, m.marked_by, m.marked_at, count(*) over ()::int as total
            from network_sightings s
            join hosts h on h.id = s.host_id and h.status <> 'revoked'
            left join device_marks m on m.mac = s.mac
            where not exists (select 1 from own_mac o where o.mac = s.mac)
              and not exists (select 1 from own_ip o where o.ip = s.ip)
              and (m.state is null ${include})
            group by s.mac, s.ip, m.state, m.note, m.marked_by, m.marked_at
            order by max(s.last_seen_at) desc, s.mac, s.ip
            limit ${query.limit} offset ${query.offset}`,
      );
      // The total rides on every row of the page; a page past the end has none to carry it.
      if (found.length === 0 && query.offset > 0) {
        const first = await store.unmanaged({ ...query, limit: 1, offset: 0 });
        return { items: [], total: first.total };
      }
      const items = found.map(
        (r): UnmanagedDevice => ({
          mac: r.mac,
          ip: r.ip,
          firstSeenAt: date(r.first_seen_at),
          lastSeenAt: date(r.last_seen_at),
          seenBy: r.seen_by,
          mark:
            r.state === null
              ? null
              : {
                  mac: r.mac,
                  state: r.state as MarkState,
                  note: r.note,
                  markedBy: r.marked_by ?? '',
                  markedAt: date(r.marked_at ?? new Date(0)),
                },
        }),
      );
      return { items, total: Number(found[0]?.total ?? 0) };
    },

    async setMark(mac, mark): Promise<DeviceMark | null> {
      if (mark === null) {
        await db.delete(deviceMarks).where(eq(deviceMarks.mac, mac));
        return null;
      }
      const [row] = await db
        .insert(deviceMarks)
        .values({ mac, ...mark })
        .onConflictDoUpdate({
          target: deviceMarks.mac,
          set: { state: mark.state, note: mark.note, markedBy: mark.markedBy, markedAt: mark.markedAt },
        })
        .returning();
      if (!row) throw new Error('upsert returned no row');
      return { mac: row.mac, state: row.state as MarkState, note: row.note, markedBy: row.markedBy, markedAt: row.markedAt };
    },
  };
  return store;
}
