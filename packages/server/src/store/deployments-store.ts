import type { SignedAssignment } from '@brier/protocol';
import { and, asc, count, desc, eq, inArray, isNull, lte, or, type SQL, sql } from 'drizzle-orm';
import type {
  AssignmentRow,
  DeploymentEventRow,
  DeploymentRow,
  DeploymentsStore,
  InstalledPackage,
  MaintenanceWindowRow,
  NewDeploymentEvent,
  StoredSpec,
  TargetHost,
  WaveRow,
} from '../rollouts/deployments-repository.js';
import type { AssignmentState, DeploymentState, WaveSpec } from '../rollouts/types.js';
import { type Db, queryRows } from './db.js';
import { assignments, deploymentEvents, deployments, deploymentWaves, hostGroups, hosts, maintenanceWindows } from './schema.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

function toDeployment(row: typeof deployments.$inferSelect): DeploymentRow {
  return { ...row, state: row.state as DeploymentState, spec: row.spec as StoredSpec };
}

function toWave(row: typeof deploymentWaves.$inferSelect): WaveRow {
  return { ...row, spec: row.spec as WaveSpec };
}

const assignmentColumns = {
  row: assignments,
  hostname: hosts.hostname,
};

function toAssignment(r: { row: typeof assignments.$inferSelect; hostname: string | null }): AssignmentRow {
  return {
    ...r.row,
    hostname: r.hostname ?? '',
    state: r.row.state as AssignmentState,
    signed: (r.row.signed as SignedAssignment | null) ?? null,
    installed: (r.row.installed as InstalledPackage[] | null) ?? null,
  };
}

function toEvent(row: typeof deploymentEvents.$inferSelect): DeploymentEventRow {
  return {
    ...row,
    kind: row.kind as DeploymentEventRow['kind'],
    fromState: row.fromState as DeploymentState | null,
    toState: row.toState as DeploymentState | null,
    detail: (row.detail as Record<string, unknown> | null) ?? null,
  };
}

async function insertEvent(db: Db | Tx, deploymentId: string, event: NewDeploymentEvent): Promise<void> {
  await db.insert(deploymentEvents).values({ deploymentId, ...event });
}

/** Rows per bulk statement: well under PostgreSQL's 65,535 bind parameters and a few MiB per jsonb parameter. */
const BULK_CHUNK = 1_000;

export function createDeploymentsStore(db: Db): DeploymentsStore {
  async function selectAssignments(where: SQL | undefined): Promise<AssignmentRow[]> {
    const rows = await db
      .select(assignmentColumns)
      .from(assignments)
      .leftJoin(hosts, eq(hosts.id, assignments.hostId))
      .where(where)
      .orderBy(asc(assignments.waveIndex), asc(assignments.sequence), asc(assignments.id));
    return rows.map(toAssignment);
  }

  return {
    async create(row, event) {
      return db.transaction(async (tx) => {
        const [inserted] = await tx.insert(deployments).values(row).returning();
        if (!inserted) throw new Error('insert returned no row');
        await insertEvent(tx, inserted.id, event);
        return toDeployment(inserted);
      });
    },

    async get(id) {
      const [row] = await db.select().from(deployments).where(eq(deployments.id, id));
      return row ? toDeployment(row) : undefined;
    },

    async list(query) {
      const where = query.state
        ? eq(deployments.state, query.state)
        : query.states !== undefined
          ? inArray(deployments.state, [...query.states])
          : undefined;
      if (query.states !== undefined && query.states.length === 0 && !query.state) return { items: [], total: 0 };
      const [rows, totals] = await Promise.all([
        db
          .select()
          .from(deployments)
          .where(where)
          .orderBy(desc(deployments.createdAt), desc(deployments.id))
          .limit(query.limit)
          .offset(query.offset),
        db.select({ n: count() }).from(deployments).where(where),
      ]);
      return { items: rows.map(toDeployment), total: totals[0]?.n ?? 0 };
    },

    async assignmentCounts(deploymentIds) {
      if (deploymentIds.length === 0) return [];
      const rows = await db
        .select({
          deploymentId: assignments.deploymentId,
          state: assignments.state,
          rebootRequired: assignments.rebootRequired,
          verified: assignments.verified,
          count: count(),
        })
        .from(assignments)
        .where(inArray(assignments.deploymentId, [...deploymentIds]))
        .groupBy(assignments.deploymentId, assignments.state, assignments.rebootRequired, assignments.verified);
      return rows.map((r) => ({ ...r, state: r.state as AssignmentState, count: Number(r.count) }));
    },

    async packageVersions(hostIds, ecosystem, names) {
      if (hostIds.length === 0 || names.length === 0) return { installed: [], candidates: [], updatesReported: [] };
      // Ids and names travel as one jsonb parameter each, whatever their number (10,000 hosts).
      const ids = JSON.stringify(hostIds);
      const wanted = JSON.stringify(names);
      const [installed, candidates, reported] = await Promise.all([
        queryRows<{ host_id: string; name: string; arch: string; version: string }>(
          db,
          sql`select hs.host_id, s.name, s.arch, s.version
              from software s join host_software hs on hs.software_id = s.id
              where s.ecosystem = ${ecosystem} and s.name in (select value from jsonb_array_elements_text(${wanted}::jsonb))
                and hs.host_id in (select value::uuid from jsonb_array_elements_text(${ids}::jsonb))
              order by hs.host_id, s.name, s.arch`,
        ),
        queryRows<{ host_id: string; name: string; arch: string; version: string }>(
          db,
          sql`select u.host_id, u.name, u.arch, u.candidate_version as version
              from host_updates u
              where u.ecosystem = ${ecosystem} and u.name in (select value from jsonb_array_elements_text(${wanted}::jsonb))
                and u.host_id in (select value::uuid from jsonb_array_elements_text(${ids}::jsonb))
              order by u.host_id, u.name, u.arch`,
        ),
        queryRows<{ id: string }>(
          db,
          sql`select h.id from hosts h
              where h.updates_at is not null and h.id in (select value::uuid from jsonb_array_elements_text(${ids}::jsonb))`,
        ),
      ]);
      const toVersion = (r: { host_id: string; name: string; arch: string; version: string }) => ({
        hostId: r.host_id,
        name: r.name,
        arch: r.arch,
        version: r.version,
      });
      return { installed: installed.map(toVersion), candidates: candidates.map(toVersion), updatesReported: reported.map((r) => r.id) };
    },

    async idsInStates(states) {
      if (states.length === 0) return [];
      const rows = await db
        .select({ id: deployments.id })
        .from(deployments)
        .where(inArray(deployments.state, [...states]))
        .orderBy(asc(deployments.createdAt), asc(deployments.id));
      return rows.map((r) => r.id);
    },

    async transition(id, from, to, patch, event) {
      return db.transaction(async (tx) => {
        const updated = await tx
          .update(deployments)
          .set({ ...patch, state: to })
          .where(and(eq(deployments.id, id), eq(deployments.state, from)))
          .returning({ id: deployments.id });
        if (updated.length === 0) return false;
        await insertEvent(tx, id, event);
        return true;
      });
    },

    async start(id, from, patch, event, waves, planned, at) {
      return db.transaction(async (tx) => {
        const updated = await tx
          .update(deployments)
          .set({ ...patch, state: 'running' })
          .where(and(eq(deployments.id, id), eq(deployments.state, from)))
          .returning({ id: deployments.id });
        if (updated.length === 0) return false;
        await insertEvent(tx, id, event);
        if (waves.length > 0) await tx.insert(deploymentWaves).values(waves.map((w) => ({ ...w, deploymentId: id })));
        if (planned.length > 0) {
          // One statement allocates every host's next sequence; the row locks it takes serialise
          // concurrent starts touching the same hosts, so no two assignments of a host share one.
          // In chunks: one statement may bind at most 65,535 parameters.
          const byHost = new Map<string, number>();
          const hostIds = planned.map((p) => p.hostId);
          for (let i = 0; i < hostIds.length; i += BULK_CHUNK) {
            const sequences = await tx
              .update(hosts)
              .set({ assignmentSequence: sql`${hosts.assignmentSequence} + 1` })
              .where(inArray(hosts.id, hostIds.slice(i, i + BULK_CHUNK)))
              .returning({ id: hosts.id, sequence: hosts.assignmentSequence });
            for (const s of sequences) byHost.set(s.id, s.sequence);
          }
          const rows = planned.flatMap((p) => {
            const sequence = byHost.get(p.hostId);
            // A host deleted since planning has no row to update: it gets no assignment.
            return sequence === undefined
              ? []
              : [
                  {
                    id: p.id,
                    deploymentId: id,
                    hostId: p.hostId,
                    waveIndex: p.waveIndex,
                    sequence,
                    state: 'pending',
                    stateReason: p.stateReason,
                    updatedAt: at,
                  },
                ];
          });
          for (let i = 0; i < rows.length; i += BULK_CHUNK) await tx.insert(assignments).values(rows.slice(i, i + BULK_CHUNK));
        }
        return true;
      });
    },

    async setPostmortem(id, text) {
      const rows = await db.update(deployments).set({ postmortem: text }).where(eq(deployments.id, id)).returning({ id: deployments.id });
      return rows.length > 0;
    },

    async addEvent(deploymentId, event) {
      await insertEvent(db, deploymentId, event);
    },

    async events(deploymentId) {
      const rows = await db
        .select()
        .from(deploymentEvents)
        .where(eq(deploymentEvents.deploymentId, deploymentId))
        .orderBy(asc(deploymentEvents.id));
      return rows.map(toEvent);
    },

    async waves(deploymentId) {
      const rows = await db
        .select()
        .from(deploymentWaves)
        .where(eq(deploymentWaves.deploymentId, deploymentId))
        .orderBy(asc(deploymentWaves.index));
      return rows.map(toWave);
    },

    async updateWave(deploymentId, index, patch, options = {}) {
      const conditions = [eq(deploymentWaves.deploymentId, deploymentId), eq(deploymentWaves.index, index)];
      if (options.onlyIfNotStarted) conditions.push(isNull(deploymentWaves.startedAt));
      const rows = await db
        .update(deploymentWaves)
        .set(patch)
        .where(and(...conditions))
        .returning({ index: deploymentWaves.index });
      return rows.length > 0;
    },

    async assignments(deploymentId) {
      return selectAssignments(eq(assignments.deploymentId, deploymentId));
    },

    async assignment(id) {
      const [row] = await selectAssignments(eq(assignments.id, id));
      return row;
    },

    async assignmentsOfHost(hostId, states, deploymentStates) {
      if (states.length === 0 || deploymentStates.length === 0) return [];
      const rows = await db
        .select(assignmentColumns)
        .from(assignments)
        .innerJoin(deployments, eq(deployments.id, assignments.deploymentId))
        .leftJoin(hosts, eq(hosts.id, assignments.hostId))
        .where(
          and(eq(assignments.hostId, hostId), inArray(assignments.state, [...states]), inArray(deployments.state, [...deploymentStates])),
        )
        .orderBy(asc(assignments.sequence));
      return rows.map(toAssignment);
    },

    async storeSigned(id, signed, notBefore, expiresAt, at) {
      const rows = await db
        .update(assignments)
        .set({ signed, notBefore, expiresAt, updatedAt: at })
        .where(and(eq(assignments.id, id), isNull(assignments.signed)))
        .returning({ id: assignments.id });
      return rows.length > 0;
    },

    async storeSignedMany(items, at) {
      const stored = new Set<string>();
      // Chunks bound the size of one statement's parameter (a signed document is about 1 KiB).
      for (let i = 0; i < items.length; i += BULK_CHUNK) {
        const json = JSON.stringify(
          items
            .slice(i, i + BULK_CHUNK)
            .map((x) => ({ id: x.id, signed: x.signed, not_before: x.notBefore.toISOString(), expires_at: x.expiresAt.toISOString() })),
        );
        const rows = await queryRows<{ id: string }>(
          db,
          sql`update assignments as a
              set signed = x.signed, not_before = x.not_before, expires_at = x.expires_at, updated_at = ${at.toISOString()}::timestamptz
              from jsonb_to_recordset(${json}::jsonb) as x(id uuid, signed jsonb, not_before timestamptz, expires_at timestamptz)
              where a.id = x.id and a.signed is null
              returning a.id`,
        );
        for (const r of rows) stored.add(r.id);
      }
      return stored;
    },

    async updateAssignmentsMany(ids, from, patch, at) {
      const moved = new Set<string>();
      if (from.length === 0) return moved;
      for (let i = 0; i < ids.length; i += BULK_CHUNK) {
        const rows = await db
          .update(assignments)
          .set({ ...patch, updatedAt: at })
          .where(and(inArray(assignments.id, ids.slice(i, i + BULK_CHUNK)), inArray(assignments.state, [...from])))
          .returning({ id: assignments.id });
        for (const r of rows) moved.add(r.id);
      }
      return moved;
    },

    async updateAssignment(id, from, patch, at) {
      if (from.length === 0) return undefined;
      const rows = await db
        .update(assignments)
        .set({ ...patch, updatedAt: at })
        .where(and(eq(assignments.id, id), inArray(assignments.state, [...from])))
        .returning({ id: assignments.id });
      if (rows.length === 0) return undefined;
      const [row] = await selectAssignments(eq(assignments.id, id));
      return row;
    },

    async expireDue(from, now) {
      if (from.length === 0) return [];
      const rows = await db
        .update(assignments)
        .set({ state: 'expired', stateReason: 'expired before it ran', updatedAt: now, finishedAt: now })
        .where(and(inArray(assignments.state, [...from]), lte(assignments.expiresAt, now)))
        .returning({ id: assignments.id });
      if (rows.length === 0) return [];
      return selectAssignments(
        inArray(
          assignments.id,
          rows.map((r) => r.id),
        ),
      );
    },

    async moveAll(deploymentId, from, to, reason, at) {
      if (from.length === 0) return 0;
      const rows = await db
        .update(assignments)
        .set({ state: to, stateReason: reason, updatedAt: at })
        .where(and(eq(assignments.deploymentId, deploymentId), inArray(assignments.state, [...from])))
        .returning({ id: assignments.id });
      return rows.length;
    },

    async renewFailed(deploymentId, reason, at, newId) {
      return db.transaction(async (tx) => {
        const failed = await tx
          .select({ id: assignments.id, hostId: assignments.hostId })
          .from(assignments)
          .where(and(eq(assignments.deploymentId, deploymentId), eq(assignments.state, 'failed')))
          .for('update');
        for (const f of failed) {
          // One statement per failed host: retries are rare and operator-driven, never fan-out.
          const [seq] = await tx
            .update(hosts)
            .set({ assignmentSequence: sql`${hosts.assignmentSequence} + 1` })
            .where(eq(hosts.id, f.hostId))
            .returning({ sequence: hosts.assignmentSequence });
          if (!seq) continue;
          await tx
            .update(assignments)
            .set({
              id: newId(),
              sequence: seq.sequence,
              state: 'pending',
              stateReason: reason,
              code: null,
              signed: null,
              notBefore: null,
              expiresAt: null,
              offeredAt: null,
              startedAt: null,
              finishedAt: null,
              installed: null,
              rebootRequired: false,
              verified: false,
              output: null,
              updatedAt: at,
            })
            .where(eq(assignments.id, f.id));
        }
        return failed.length;
      });
    },

    async targetHosts(hostIds, groups) {
      const conditions: SQL[] = [];
      if (hostIds.length > 0) conditions.push(inArray(hosts.id, [...hostIds]));
      if (groups.length > 0)
        conditions.push(
          inArray(
            hosts.id,
            db
              .select({ id: hostGroups.hostId })
              .from(hostGroups)
              .where(inArray(hostGroups.groupName, [...groups])),
          ),
        );
      if (conditions.length === 0) return [];
      const rows = await db
        .select({ id: hosts.id, hostname: hosts.hostname, status: hosts.status })
        .from(hosts)
        .where(or(...conditions))
        .orderBy(asc(hosts.hostname), asc(hosts.id));
      if (rows.length === 0) return [];
      const memberships = await db
        .select()
        .from(hostGroups)
        .where(
          inArray(
            hostGroups.hostId,
            rows.map((r) => r.id),
          ),
        )
        .orderBy(asc(hostGroups.groupName));
      const groupsOf = new Map<string, string[]>();
      for (const m of memberships) groupsOf.set(m.hostId, [...(groupsOf.get(m.hostId) ?? []), m.groupName]);
      return rows.map((r): TargetHost => ({ ...r, groups: groupsOf.get(r.id) ?? [] }));
    },

    async setHostGroups(hostId, groups) {
      await db.transaction(async (tx) => {
        await tx.delete(hostGroups).where(eq(hostGroups.hostId, hostId));
        const unique = [...new Set(groups)];
        if (unique.length > 0) await tx.insert(hostGroups).values(unique.map((groupName) => ({ hostId, groupName })));
      });
    },

    async listWindows() {
      return db
        .select()
        .from(maintenanceWindows)
        .orderBy(asc(maintenanceWindows.groupName), asc(maintenanceWindows.createdAt), asc(maintenanceWindows.id));
    },

    async createWindow(window) {
      const [row] = await db.insert(maintenanceWindows).values(window).returning();
      if (!row) throw new Error('insert returned no row');
      return row;
    },

    async deleteWindow(id) {
      const [row] = await db.delete(maintenanceWindows).where(eq(maintenanceWindows.id, id)).returning();
      return row;
    },

    async windowsForHosts(hostIds) {
      const out = new Map<string, MaintenanceWindowRow[]>();
      if (hostIds.length === 0) return out;
      const rows = await db
        .select({ hostId: hostGroups.hostId, window: maintenanceWindows })
        .from(hostGroups)
        .innerJoin(maintenanceWindows, eq(maintenanceWindows.groupName, hostGroups.groupName))
        .where(inArray(hostGroups.hostId, [...new Set(hostIds)]))
        .orderBy(asc(hostGroups.hostId), asc(maintenanceWindows.groupName), asc(maintenanceWindows.createdAt), asc(maintenanceWindows.id));
      for (const r of rows) out.set(r.hostId, [...(out.get(r.hostId) ?? []), r.window]);
      return out;
    },
  };
}
