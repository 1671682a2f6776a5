import type { PendingUpdate } from '@brier/protocol';
import { asc, eq, sql } from 'drizzle-orm';
import type { CatalogueEntry, PatchesStore } from '../patches/types.js';
import { type Db, likeContains, queryRows } from './db.js';
import { hosts, hostUpdates } from './schema.js';

function toUpdate(row: typeof hostUpdates.$inferSelect): PendingUpdate {
  return {
    ecosystem: row.ecosystem as PendingUpdate['ecosystem'],
    manager: row.manager as PendingUpdate['manager'],
    kind: row.kind as PendingUpdate['kind'],
    name: row.name,
    arch: row.arch,
    candidateVersion: row.candidateVersion,
    security: row.security,
    ...(row.installedVersion !== null ? { installedVersion: row.installedVersion } : {}),
    ...(row.origin !== null ? { origin: row.origin } : {}),
    ...(row.suite !== null ? { suite: row.suite } : {}),
    ...(row.title !== null ? { title: row.title } : {}),
    ...(row.advisories ? { advisories: row.advisories } : {}),
    ...(row.rebootLikely !== null ? { rebootLikely: row.rebootLikely } : {}),
  };
}

interface CatalogueRow {
  ecosystem: string;
  manager: string;
  kind: string;
  name: string;
  candidate_version: string;
  security: boolean;
  host_count: number;
  advisories: string[] | null;
  suites: string[] | null;
  title: string | null;
  reboot_likely: boolean;
  total: number;
}

export function createPatchesStore(db: Db): PatchesStore {
  return {
    async replaceForHost(hostId, updates, at) {
      await db.transaction(async (tx) => {
        await tx.delete(hostUpdates).where(eq(hostUpdates.hostId, hostId));
        if (updates.length > 0) {
          // One bulk statement whatever the count; reports hold at most a few thousand rows.
          await tx.insert(hostUpdates).values(
            updates.map((u) => ({
              hostId,
              manager: u.manager,
              name: u.name,
              arch: u.arch,
              ecosystem: u.ecosystem,
              kind: u.kind,
              installedVersion: u.installedVersion ?? null,
              candidateVersion: u.candidateVersion,
              origin: u.origin ?? null,
              suite: u.suite ?? null,
              title: u.title ?? null,
              security: u.security,
              advisories: u.advisories ?? null,
              rebootLikely: u.rebootLikely ?? null,
            })),
          );
        }
        await tx.update(hosts).set({ updatesAt: at }).where(eq(hosts.id, hostId));
      });
    },

    async forHost(hostId) {
      const [host] = await db.select({ updatesAt: hosts.updatesAt }).from(hosts).where(eq(hosts.id, hostId));
      if (!host) return undefined;
      const rows = await db
        .select()
        .from(hostUpdates)
        .where(eq(hostUpdates.hostId, hostId))
        .orderBy(asc(hostUpdates.name), asc(hostUpdates.arch));
      return { updates: rows.map(toUpdate), updatesAt: host.updatesAt };
    },

    async catalogue(query) {
      const filters = [sql`true`];
      if (query.q) {
        const pattern = likeContains(query.q);
        filters.push(sql`(u.name ilike ${pattern} or u.title ilike ${pattern} or u.advisories::text ilike ${pattern})`);
      }
      const having = query.security === undefined ? sql`true` : sql`bool_or(u.security) = ${query.security}`;
      const rows = await queryRows<CatalogueRow>(
        db,
        sql`
        select u.ecosystem, u.manager, u.kind, u.name, u.candidate_version,
          bool_or(u.security) as security,
          count(distinct u.host_id)::int as host_count,
          coalesce(jsonb_agg(distinct a.id) filter (where a.id is not null), '[]'::jsonb) as advisories,
          coalesce(jsonb_agg(distinct u.suite) filter (where u.suite is not null), '[]'::jsonb) as suites,
          max(u.title) as title,
          coalesce(bool_or(u.reboot_likely), false) as reboot_likely,
          count(*) over ()::int as total
        -- Advisories fan a row out per id; every aggregate here is distinct or boolean, so that is harmless.
        from host_updates u left join lateral jsonb_array_elements_text(coalesce(u.advisories, '[]'::jsonb)) as a(id) on true
        where ${sql.join(filters, sql` and `)}
        group by u.ecosystem, u.manager, u.kind, u.name, u.candidate_version
        having ${having}
        order by bool_or(u.security) desc, count(distinct u.host_id) desc, u.name, u.candidate_version
        limit ${query.limit} offset ${query.offset}`,
      );
      const items: CatalogueEntry[] = rows.map((r) => ({
        ecosystem: r.ecosystem,
        manager: r.manager,
        kind: r.kind,
        name: r.name,
        candidateVersion: r.candidate_version,
        security: r.security,
        hostCount: r.host_count,
        advisories: (r.advisories ?? []).sort(),
        suites: (r.suites ?? []).sort(),
        title: r.title,
        rebootLikely: r.reboot_likely,
      }));
      // count(*) over () is absent when the page is empty; count the groups then.
      if (rows.length > 0) return { items, total: rows[0]?.total ?? 0 };
      if (query.offset === 0) return { items, total: 0 };
      const [counted] = await queryRows<{ n: number }>(
        db,
        sql`select count(*)::int as n from (select 1 from host_updates u where ${sql.join(filters, sql` and `)}
            group by u.ecosystem, u.manager, u.kind, u.name, u.candidate_version having ${having}) g`,
      );
      return { items, total: counted?.n ?? 0 };
    },

    async hostsNeeding(ecosystem, name, candidateVersion) {
      const rows = await db
        .selectDistinct({ hostId: hostUpdates.hostId })
        .from(hostUpdates)
        .where(
          sql`${hostUpdates.ecosystem} = ${ecosystem} and ${hostUpdates.name} = ${name} and ${hostUpdates.candidateVersion} = ${candidateVersion}`,
        );
      return rows.map((r) => r.hostId);
    },
  };
}
