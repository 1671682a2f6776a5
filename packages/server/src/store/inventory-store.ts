import type { HostFacts, PackageEntry } from '@brier/protocol';
import { eq, sql } from 'drizzle-orm';
import type { InventoryStore } from '../hosts/types.js';
import { type Db, queryRows } from './db.js';
import { hosts } from './schema.js';

/**
 * Inventory writes are bulk statements: the whole package list travels as one jsonb parameter and
 * is expanded server-side with jsonb_to_recordset, so ingesting 1,500 packages is a handful of
 * statements whatever the count (never a row per query). Measured in bench/inventory-ingest.ts:
 * passing parallel `unnest(text[])` arrays instead was 1.5-1.9x slower, because the accurate row
 * estimate makes PostgreSQL hash-join the whole catalogue on every upload.
 */

interface Row {
  ecosystem: string;
  name: string;
  version: string;
  arch: string;
  source: string;
  source_version: string;
}

function toRows(packages: readonly PackageEntry[]): string {
  return JSON.stringify(
    packages.map((p) => ({
      ecosystem: p.ecosystem,
      name: p.name,
      version: p.version,
      arch: p.arch,
      source: p.source ?? '',
      source_version: p.sourceVersion ?? '',
    })),
  );
}

const RECORDSET = sql.raw('(ecosystem text, name text, version text, arch text, source text, source_version text)');
const KEYSET = sql.raw('(ecosystem text, name text, arch text)');

async function upsertCatalogue(db: Db, json: string): Promise<void> {
  // Only rows not yet in the catalogue reach the insert: `on conflict do nothing` alone would burn
  // a sequence value per package per upload. The conflict clause stays for concurrent uploads.
  await db.execute(sql`
    insert into software (ecosystem, name, version, arch, source, source_version)
    select distinct x.ecosystem, x.name, x.version, x.arch, x.source, x.source_version
    from jsonb_to_recordset(${json}::jsonb) as x${RECORDSET}
    where not exists (
      select 1 from software s
      where s.ecosystem = x.ecosystem and s.name = x.name and s.version = x.version
        and s.arch = x.arch and s.source = x.source and s.source_version = x.source_version
    )
    order by 1, 2, 3, 4, 5, 6
    on conflict do nothing`);
}

function factsColumns(facts: HostFacts | undefined) {
  if (!facts) return {};
  return {
    hostname: facts.hostname,
    osPlatform: facts.os.platform,
    osDistro: facts.os.distro,
    osRelease: facts.os.release,
    osCodename: facts.os.codename ?? null,
    osKernel: facts.os.kernel ?? null,
    osArch: facts.os.arch ?? null,
    facts,
  };
}

async function countLinks(db: Db, hostId: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from host_software where host_id = ${hostId}`);
  return row?.n ?? 0;
}

export async function readPackages(db: Db, hostId: string): Promise<PackageEntry[]> {
  const rows = await queryRows<Row>(
    db,
    sql`select s.ecosystem, s.name, s.version, s.arch, s.source, s.source_version
        from host_software hs join software s on s.id = hs.software_id
        where hs.host_id = ${hostId}`,
  );
  return rows.map((r) => ({
    ecosystem: r.ecosystem as PackageEntry['ecosystem'],
    name: r.name,
    version: r.version,
    arch: r.arch,
    ...(r.source ? { source: r.source } : {}),
    ...(r.source_version ? { sourceVersion: r.source_version } : {}),
  }));
}

export function createInventoryStore(db: Db): InventoryStore {
  return {
    async replace(hostId, packages, hash, facts, at) {
      const json = toRows(packages);
      return db.transaction(async (tx) => {
        await upsertCatalogue(tx, json);
        const [counts] = await queryRows<{ added: number; removed: number }>(
          tx,
          sql`
          with wanted as (
            select s.id from jsonb_to_recordset(${json}::jsonb) as x${RECORDSET}
            join software s on s.ecosystem = x.ecosystem and s.name = x.name and s.version = x.version
              and s.arch = x.arch and s.source = x.source and s.source_version = x.source_version
          ),
          removed as (
            delete from host_software hs where hs.host_id = ${hostId} and hs.software_id not in (select id from wanted)
            returning 1
          ),
          added as (
            insert into host_software (host_id, software_id) select ${hostId}::uuid, id from wanted
            on conflict do nothing returning 1
          )
          select (select count(*) from added)::int as added, (select count(*) from removed)::int as removed`,
        );
        const packageCount = await countLinks(tx, hostId);
        await tx
          .update(hosts)
          .set({ inventoryHash: hash, inventoryAt: at, packageCount, ...factsColumns(facts) })
          .where(eq(hosts.id, hostId));
        return { added: counts?.added ?? 0, removed: counts?.removed ?? 0, changed: 0 };
      });
    },

    async applyDelta(hostId, delta, verify, at) {
      const MISMATCH = Symbol('mismatch');
      try {
        return await db.transaction(async (tx) => {
          const [current] = await tx.select({ hash: hosts.inventoryHash }).from(hosts).where(eq(hosts.id, hostId)).for('update');
          if (!current || current.hash !== delta.baseHash) throw MISMATCH;
          const upsertJson = toRows(delta.upsert);
          const removeKeys = JSON.stringify(delta.remove);
          const replacedKeys = JSON.stringify(delta.upsert.map((p) => ({ ecosystem: p.ecosystem, name: p.name, arch: p.arch })));
          const unlink = async (keysJson: string) => {
            const [row] = await queryRows<{ n: number }>(
              tx,
              sql`
              with gone as (
                delete from host_software hs using software s, jsonb_to_recordset(${keysJson}::jsonb) as k${KEYSET}
                where hs.host_id = ${hostId} and s.id = hs.software_id
                  and s.ecosystem = k.ecosystem and s.name = k.name and s.arch = k.arch
                returning 1
              ) select count(*)::int as n from gone`,
            );
            return row?.n ?? 0;
          };
          const removed = await unlink(removeKeys);
          // Links dropped for keys that are being upserted are version changes, not removals.
          const changed = await unlink(replacedKeys);
          await upsertCatalogue(tx, upsertJson);
          const [added] = await queryRows<{ n: number }>(
            tx,
            sql`
            with ins as (
              insert into host_software (host_id, software_id)
              select ${hostId}::uuid, s.id from jsonb_to_recordset(${upsertJson}::jsonb) as x${RECORDSET}
              join software s on s.ecosystem = x.ecosystem and s.name = x.name and s.version = x.version
                and s.arch = x.arch and s.source = x.source and s.source_version = x.source_version
              on conflict do nothing returning 1
            ) select count(*)::int as n from ins`,
          );
          const after = await readPackages(tx, hostId);
          if (verify(after) !== delta.hash) throw MISMATCH;
          await tx
            .update(hosts)
            .set({ inventoryHash: delta.hash, inventoryAt: at, packageCount: after.length, ...factsColumns(delta.facts) })
            .where(eq(hosts.id, hostId));
          return { added: (added?.n ?? 0) - changed, removed, changed };
        });
      } catch (err) {
        if (err === MISMATCH) return 'mismatch';
        throw err;
      }
    },

    packagesOf(hostId) {
      return readPackages(db, hostId);
    },
  };
}
