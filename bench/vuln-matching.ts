/**
 * Vulnerability matching benchmark: a simulated fleet (10,000 hosts × ~1,500 dpkg packages by default)
 * against a synthetic OSV feed (50,000 Debian CVE records by default). We print the seconds Brier's
 * vulnerability service takes to a full re-match and to incremental ones (feed side and inventory
 * side), next to anchors: the pure in-memory matcher over the same inputs, and a plain SQL count of the
 * host_software rows joined to the matches. See bench/README.md.
 *
 *   node --import tsx bench/vuln-matching.ts [--hosts N] [--packages N] [--records N] [--seed N] [--pglite]
 *
 * Loading the fleet (COPY) and the feed (the store's bulk upsert) is set-up: it is timed and printed,
 * but is part of no matching figure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { inventoryHash, type PackageEntry } from '@brier/protocol';
import { createInventoryService } from '../packages/server/src/inventory/inventory-service.js';
import { type Database, queryRows, sql } from '../packages/server/src/store/db.js';
import { createStores, openDatabase } from '../packages/server/src/store/index.js';
import {
  type AffectedEntry,
  AffectedIndex,
  type MatchStats,
  matchSoftware,
  type SoftwareEntry,
} from '../packages/server/src/vulns/matcher.js';
import type { Advisory } from '../packages/server/src/vulns/model.js';
import type { AdvisoryKey, HostEcosystem, VulnsStore } from '../packages/server/src/vulns/vulns-repository.js';
import { createVulnsService, type RematchResult, toRow } from '../packages/server/src/vulns/vulns-service.js';
import { createDatabase, dropDatabase, startPostgres } from '../test/support/postgres.js';
import { copyField } from './inventory-ingest.js';
import { positiveInt } from './support/args.js';
import { CatalogueRows } from './support/catalogue-rows.js';
import { type CopyTarget, copyRows } from './support/copy-rows.js';
import { type FixPlacement, generateFeed, reviseFixedVersions, versionsAround } from './support/synthetic-feed.js';
import { fleetPool, seededRandom, streamFleet } from './support/synthetic-fleet.js';
import { timed } from './support/timed.js';

export interface VulnBenchOptions {
  hosts: number;
  packages: number;
  records: number;
  seed: number;
  /** Embedded PGlite (data directory in a temp dir) instead of PostgreSQL. */
  pglite: boolean;
}

/** How many records the feed-side incremental changes, and how many hosts the inventory side upgrades. */
const INCREMENTAL = 100;
/** Records per upsertAdvisories call, as importFeed batches them. */
const IMPORT_BATCH = 500;
const OS_ECOSYSTEM = 'Debian:12';

export function parseVulnArgs(argv: readonly string[]): VulnBenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      hosts: { type: 'string', default: '10000' },
      packages: { type: 'string', default: '1500' },
      records: { type: 'string', default: '50000' },
      seed: { type: 'string', default: '20240601' },
      pglite: { type: 'boolean', default: false },
    },
    strict: true,
  });
  return {
    hosts: positiveInt('hosts', values.hosts),
    packages: positiveInt('packages', values.packages),
    records: positiveInt('records', values.records),
    seed: positiveInt('seed', values.seed),
    pglite: values.pglite,
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

const n = (x: number) => x.toLocaleString('en-US');
const s = (x: number) => (x < 0.01 ? x.toFixed(4) : x < 10 ? x.toFixed(3) : x.toFixed(2));

function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
}

/** Host ids are derived from the host's index, so a run is reproducible down to its ids. */
function hostUuid(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

async function one<T>(database: Database, query: ReturnType<typeof sql>): Promise<T> {
  const [row] = await queryRows<T>(database.db, query);
  if (row === undefined) throw new Error('query returned no row');
  return row;
}

/** The current transaction id (low 32 bits, as xmin stores it): rows with a newer xmin were written after it. */
async function currentXid(database: Database): Promise<number> {
  return Number((await one<{ xid: string }>(database, sql`select (txid_current() % 4294967296)::text as xid`)).xid);
}

/** Findings rows inserted or updated since `xid` (a fresh cluster never wraps around in a benchmark). */
async function findingsWrittenSince(database: Database, xid: number): Promise<number> {
  const row = await one<{ n: number }>(database, sql`select count(*)::int as n from vuln_findings where xmin::text::bigint > ${xid}`);
  return row.n;
}

async function findingCounts(database: Database): Promise<{ open: number; closed: number }> {
  return one(
    database,
    sql`select count(*) filter (where closed_at is null)::int as open, count(*) filter (where closed_at is not null)::int as closed
        from vuln_findings`,
  );
}

/**
 * The store with every call timed, so each figure can say where its seconds went. Calls that run
 * concurrently (rematchAll loads entries and software at once) are each counted in full.
 */
function timedStore(store: VulnsStore): { store: VulnsStore; take(): Map<string, { calls: number; seconds: number }> } {
  let times = new Map<string, { calls: number; seconds: number }>();
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const name = String(property);
      return async (...args: unknown[]) => {
        const start = process.hrtime.bigint();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          const t = times.get(name) ?? { calls: 0, seconds: 0 };
          t.calls += 1;
          t.seconds += Number(process.hrtime.bigint() - start) / 1e9;
          times.set(name, t);
        }
      };
    },
  });
  return {
    store: wrapped,
    take() {
      const out = times;
      times = new Map();
      return out;
    },
  };
}

function describeStoreTimes(times: Map<string, { calls: number; seconds: number }>, total: number): string {
  const list = [...times.entries()].sort((a, b) => b[1].seconds - a[1].seconds);
  const inStore = list.reduce((sum, [, t]) => sum + t.seconds, 0);
  const parts = list.map(([name, t]) => `${name}${t.calls > 1 ? ` ×${t.calls}` : ''} ${s(t.seconds)}s`);
  return `store: ${parts.join(', ')}; outside the store (matcher, JSON, maps) ${s(Math.max(0, total - inStore))}s`;
}

// ---------------------------------------------------------------------------------------------
// Set-up: the fleet by COPY, the feed through the store.

interface LoadedFleet {
  hostIds: string[];
  links: number;
  catalogue: number;
  minPerHost: number;
  maxPerHost: number;
  /** Hosts whose inventory the inventory-side scenario changes: their packages and hash, kept from the stream. */
  upgrade: Array<{ hostId: string; packages: PackageEntry[]; hash: string }>;
}

const CATALOGUE_COLUMNS = 'id, ecosystem, name, version, arch, source, source_version';
const HOST_COLUMNS =
  'id, public_key, hostname, status, approved_at, os_platform, os_distro, os_release, os_codename, os_kernel, os_arch, package_count, inventory_hash, inventory_at';

async function loadFleet(database: Database, target: CopyTarget, options: VulnBenchOptions): Promise<LoadedFleet> {
  const chosen = new Set<number>();
  const picks = Math.min(INCREMENTAL, options.hosts);
  for (let k = 0; k < picks; k++) chosen.add(Math.floor((k * options.hosts) / picks));

  // One pass over the generated fleet: catalogue ids assigned on first sight, links kept as ids.
  const generate = await timed(() => {
    const catalogue = new CatalogueRows();
    const catalogueLines = catalogue.lines;
    const hostLines: string[] = [];
    const links: Uint32Array[] = [];
    const upgrade: LoadedFleet['upgrade'] = [];
    const at = new Date().toISOString();
    let total = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    let i = 0;
    for (const host of streamFleet({ hosts: options.hosts, packagesPerHost: options.packages, seed: options.seed })) {
      const ids = catalogue.idsOf(host.packages);
      links.push(ids);
      total += ids.length;
      min = Math.min(min, ids.length);
      max = Math.max(max, ids.length);
      const hostId = hostUuid(i);
      let hash = '\\N';
      if (chosen.has(i)) {
        // Only these hosts get a delta later; the delta is checked against their stored hash.
        hash = inventoryHash(host.packages);
        upgrade.push({ hostId, packages: host.packages, hash });
      }
      hostLines.push(
        `${[hostId, `bench-public-key-${i}`, host.hostname, 'approved', at, 'linux', 'Debian GNU/Linux', '12', 'bookworm', '6.1.0-21-amd64', host.arch, String(ids.length)].map(copyField).join('\t')}\t${hash}\t${hash === '\\N' ? '\\N' : at}\n`,
      );
      i++;
    }
    return { catalogueLines, hostLines, links, upgrade, total, min, max };
  });
  const { catalogueLines, hostLines, links, upgrade, total, min, max } = generate.value;
  const hostIds = links.map((_, i) => hostUuid(i));

  const copyHosts = await timed(() => copyRows(target, `copy hosts (${HOST_COLUMNS}) from stdin`, hostLines));
  const copyCatalogue = await timed(async () => {
    await copyRows(target, `copy software (${CATALOGUE_COLUMNS}) from stdin`, catalogueLines);
    // Ids were given explicitly: move the sequence past them so later inserts (the delta) get fresh ones.
    await queryRows(database.db, sql`select setval(pg_get_serial_sequence('software', 'id'), (select max(id) from software))`);
  });
  function* linkLines(): Generator<string> {
    for (const [i, ids] of links.entries()) {
      const hostId = hostIds[i] as string;
      let chunk = '';
      for (const id of ids) chunk += `${hostId}\t${id}\n`;
      yield chunk;
    }
  }
  const copyLinks = await timed(() => copyRows(target, 'copy host_software (host_id, software_id) from stdin', linkLines()));
  // Autovacuum would analyse the new tables within a minute; a server that just loaded them has statistics.
  const analyze = await timed(() => queryRows(database.db, sql`analyze`));
  console.log(
    `load:     ${n(hostIds.length)} hosts, ${n(total)} links (${min}-${max} per host, mean ${Math.round(total / hostIds.length)}), ` +
      `${n(catalogueLines.length)} catalogue rows: generated in ${s(generate.seconds)}s; COPY hosts ${s(copyHosts.seconds)}s, ` +
      `catalogue ${s(copyCatalogue.seconds)}s, links ${s(copyLinks.seconds)}s (${n(Math.round(total / copyLinks.seconds))} rows/s); ` +
      `analyze ${s(analyze.seconds)}s (untimed set-up)`,
  );
  return { hostIds, links: total, catalogue: catalogueLines.length, minPerHost: min, maxPerHost: max, upgrade };
}

async function importAdvisories(store: VulnsStore, advisories: readonly Advisory[]): Promise<{ seconds: number; prepare: number }> {
  const prepared = await timed(() => advisories.map(toRow));
  const at = new Date();
  const { seconds } = await timed(async () => {
    for (let i = 0; i < prepared.value.length; i += IMPORT_BATCH)
      await store.upsertAdvisories(prepared.value.slice(i, i + IMPORT_BATCH), at);
  });
  return { seconds, prepare: prepared.seconds };
}

// ---------------------------------------------------------------------------------------------
// Anchors.

/** Best of three: the in-memory matcher has no I/O, so the best run is the one without GC or JIT noise. */
async function matcherAnchor(
  software: readonly SoftwareEntry[],
  entries: readonly AffectedEntry[],
): Promise<{ seconds: number; stats: MatchStats }> {
  let best = Number.POSITIVE_INFINITY;
  let stats: MatchStats = { evaluated: 0, matches: 0, invalidVersions: 0 };
  for (let run = 0; run < 3; run++) {
    const runStats: MatchStats = { evaluated: 0, matches: 0, invalidVersions: 0 };
    const { seconds } = await timed(() => matchSoftware(software, new AffectedIndex(entries), [OS_ECOSYSTEM], runStats));
    if (seconds < best) {
      best = seconds;
      stats = runStats;
    }
  }
  return { seconds: best, stats };
}

/** The plainest statement that reads what findings are derived from: host links joined to matches. Best of two. */
async function joinAnchor(database: Database, where: ReturnType<typeof sql>): Promise<{ seconds: number; rows: number }> {
  let best = Number.POSITIVE_INFINITY;
  let rows = 0;
  for (let run = 0; run < 2; run++) {
    const { value, seconds } = await timed(() =>
      one<{ n: number }>(
        database,
        sql`select count(*)::int as n from host_software hs join vuln_matches m on m.software_id = hs.software_id where true ${where}`,
      ),
    );
    best = Math.min(best, seconds);
    rows = value.n;
  }
  return { seconds: best, rows };
}

const keysWhere = (keys: readonly AdvisoryKey[]) =>
  sql`and (m.source, m.advisory_id) in (select k.source, k.id from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k(source text, id text))`;
const hostsWhere = (hostIds: readonly string[]) =>
  sql`and hs.host_id in (select value::uuid from jsonb_array_elements_text(${JSON.stringify(hostIds)}::jsonb))`;

// ---------------------------------------------------------------------------------------------
// Report.

interface Row {
  scenario: string;
  seconds: number;
  /** Name of the anchor this row is compared with, and its seconds; absent for anchors themselves. */
  anchor?: { name: string; seconds: number };
}

function formatTable(rows: readonly Row[]): string {
  const header = ['scenario', 'seconds', 'anchor', 'anchor s', 'ratio'];
  const body = rows.map((r) => [
    r.scenario,
    s(r.seconds),
    r.anchor?.name ?? '(anchor)',
    r.anchor ? s(r.anchor.seconds) : '',
    r.anchor ? `${(r.seconds / r.anchor.seconds).toFixed(1)}x` : '',
  ]);
  const numeric = new Set([1, 3, 4]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

function describeRematch(r: RematchResult): string {
  return (
    `${n(r.hosts)} hosts, ${n(r.software)} catalogue entries, ${n(r.entries)} affected entries; ${n(r.evaluated)} evaluated, ` +
    `${n(r.matches)} matches${r.invalidVersions > 0 ? `, ${n(r.invalidVersions)} invalid versions` : ''}; ` +
    `findings open ${n(r.findings.open)}, opened ${n(r.findings.opened)}, closed ${n(r.findings.closed)}`
  );
}

// ---------------------------------------------------------------------------------------------
// The run.

interface Opened {
  database: Database;
  target: CopyTarget;
  describe: string;
  dispose(): Promise<void>;
}

async function openFresh(options: VulnBenchOptions): Promise<Opened> {
  if (options.pglite) {
    const dir = mkdtempSync(join(tmpdir(), 'brier-bench-vulns-'));
    const database = await openDatabase({ dataDir: dir });
    const [version] = await queryRows<{ v: string }>(database.db, sql`select current_setting('server_version') as v`);
    return {
      database,
      target: { kind: 'pglite', database },
      describe: `PGlite (PostgreSQL ${version?.v ?? '?'}), data directory in a temp dir (the server default)`,
      async dispose() {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const server = await startPostgres();
  try {
    const url = await createDatabase(server.url, `brier_bench_vulns_${Date.now().toString(36)}`);
    const database = await openDatabase({ databaseUrl: url });
    const [version] = await queryRows<{ v: string }>(database.db, sql`select current_setting('server_version') as v`);
    const source = process.env.DATABASE_URL
      ? 'DATABASE_URL'
      : 'throwaway cluster (fsync=off, synchronous_commit=off, default memory settings)';
    return {
      database,
      target: { kind: 'postgres', url },
      describe: `PostgreSQL ${version?.v ?? '?'}, ${source}, pool of 10`,
      async dispose() {
        await database.close();
        await dropDatabase(server.url, url);
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

export async function runVulnMatching(options: VulnBenchOptions, command: string): Promise<void> {
  const cpu = cpus();
  console.log('# Vulnerability matching: full and incremental re-match of a fleet against a feed, next to the bare matcher and join');
  console.log(`command:  ${command}`);
  console.log(`date:     ${new Date().toISOString()}`);
  console.log(
    `machine:  node ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, ` +
      `load average ${loadAverage()} at start`,
  );
  const opened = await openFresh(options);
  const { database, target } = opened;
  try {
    console.log(`database: ${opened.describe}`);
    const fleet = await loadFleet(database, target, options);
    const stores = createStores(database.db);
    const timing = timedStore(stores.vulns);

    // The feed, aimed at the fleet's own pool of packages and versions.
    const pool = fleetPool({ hosts: options.hosts, packagesPerHost: options.packages, seed: options.seed });
    const made = await timed(() => generateFeed({ records: options.records, seed: options.seed, pool }));
    const feed = made.value;
    const entriesInFeed = feed.advisories.reduce((sum, a) => sum + a.affected.length, 0);
    const placements = new Map<FixPlacement, number>();
    for (const a of feed.aimed) placements.set(a.placement, (placements.get(a.placement) ?? 0) + 1);
    console.log(
      `feed:     ${n(feed.advisories.length)} records, ${n(entriesInFeed)} affected entries; ${n(feed.aimed.length)} name a fleet source package ` +
        `(${n(new Set(feed.aimed.map((a) => a.source.name)).size)} distinct; Debian:12 fix ${[...placements.entries()]
          .sort((a, b) => b[1] - a[1])
          .map(([p, c]) => `${p} ${n(c)}`)
          .join(', ')}), generated in ${s(made.seconds)}s`,
    );
    const imported = await importAdvisories(stores.vulns, feed.advisories);
    // As after the fleet load: autovacuum would have analysed 50,000 new records before anyone re-matches.
    const analyzed = await timed(() => queryRows(database.db, sql`analyze vuln_advisories, vuln_affected`));
    console.log(
      `import:   upsertAdvisories in batches of ${IMPORT_BATCH}: ${s(imported.seconds)}s, ${n(Math.round(feed.advisories.length / imported.seconds))} records/s ` +
        `(content hash and severity scoring before it: ${s(imported.prepare)}s); analyze ${s(analyzed.seconds)}s (untimed set-up)`,
    );

    const service = createVulnsService({
      store: timing.store,
      audit: stores.audit,
      now: () => new Date(),
      readFeed: () => {
        throw new Error('the benchmark stores its feed through the store directly');
      },
      detectFeedKind: async () => {
        throw new Error('the benchmark stores its feed through the store directly');
      },
    });
    const rows: Row[] = [];
    const scenario = async (label: string, work: () => Promise<RematchResult>) => {
      const xid = await currentXid(database);
      timing.take();
      const { value, seconds } = await timed(work);
      const storeTimes = timing.take();
      const written = await findingsWrittenSince(database, xid);
      console.log(`  ${label}: ${s(seconds)}s`);
      console.log(`    ${describeRematch(value)}; findings rows written ${n(written)}`);
      console.log(`    ${describeStoreTimes(storeTimes, seconds)}`);
      return { result: value, seconds, written };
    };

    // 1. Full re-match, then again with nothing changed.
    console.log('scenarios:');
    const first = await scenario('full re-match (rematchAll), first', () => service.rematchAll());
    const again = await scenario('full re-match (rematchAll), nothing changed', () => service.rematchAll());
    if (again.written !== 0 || again.result.findings.opened !== 0 || again.result.findings.closed !== 0)
      console.log(`    NOTE: the unchanged re-match wrote ${n(again.written)} findings rows (expected none)`);

    const allSoftware = await stores.vulns.software({});
    const allEntries = await stores.vulns.affectedEntries();
    const matcherAll = await matcherAnchor(allSoftware, allEntries);
    const joinAll = await joinAnchor(database, sql``);
    const counts = await findingCounts(database);
    console.log(
      `  anchor (a) matchSoftware over ${n(allSoftware.length)} catalogue entries and ${n(allEntries.length)} affected entries: ` +
        `${s(matcherAll.seconds)}s (${n(matcherAll.stats.evaluated)} evaluated, ${n(matcherAll.stats.matches)} matches; best of 3)`,
    );
    console.log(
      `  anchor (b) count(*) host_software ⋈ vuln_matches: ${s(joinAll.seconds)}s, ${n(joinAll.rows)} rows ` +
        `(open findings: ${n(counts.open)}${joinAll.rows === counts.open ? ', the same' : ', DIFFERENT'}; best of 2)`,
    );
    const fullAnchor = { name: '(a) + (b)', seconds: matcherAll.seconds + joinAll.seconds };
    rows.push({ scenario: 'full re-match, first', seconds: first.seconds, anchor: fullAnchor });
    rows.push({ scenario: 'full re-match, nothing changed', seconds: again.seconds, anchor: fullAnchor });

    // 2. Feed side: 100 records get new fixed versions.
    const revised = reviseFixedVersions(feed, INCREMENTAL);
    const keys = revised.map((a) => ({ source: a.source, id: a.id }));
    const upsert = await timed(() => stores.vulns.upsertAdvisories(revised.map(toRow), new Date()));
    console.log(`  feed update: upsertAdvisories of ${revised.length} changed records ${s(upsert.seconds)}s (untimed set-up)`);
    const feedSide = await scenario(`incremental, ${revised.length} records changed (rematchAdvisories)`, () =>
      service.rematchAdvisories(keys),
    );
    const feedEntries = await stores.vulns.affectedEntries(keys);
    const feedSoftware = await stores.vulns.software({ names: [...new Set(feedEntries.map((e) => e.name))] });
    const matcherFeed = await matcherAnchor(feedSoftware, feedEntries);
    const joinFeed = await joinAnchor(database, keysWhere(keys));
    console.log(
      `  anchor (a') matchSoftware over those ${n(feedSoftware.length)} catalogue entries and ${n(feedEntries.length)} affected entries: ${s(matcherFeed.seconds)}s; ` +
        `(b') the count for those records: ${s(joinFeed.seconds)}s, ${n(joinFeed.rows)} rows`,
    );
    rows.push({
      scenario: `incremental, ${revised.length} records changed`,
      seconds: feedSide.seconds,
      anchor: { name: "(a') + (b')", seconds: matcherFeed.seconds + joinFeed.seconds },
    });
    rows.push({
      scenario: `  same, with the upsert of the ${revised.length} records`,
      seconds: feedSide.seconds + upsert.seconds,
      anchor: { name: "(a') + (b')", seconds: matcherFeed.seconds + joinFeed.seconds },
    });

    // 3. Inventory side: 100 hosts upgrade one package each to a version nobody had (a new catalogue row).
    const inventory = createInventoryService({ inventory: stores.inventory, now: () => new Date() });
    const aimedSources = new Set(feed.aimed.map((a) => a.source.name));
    const sourceByName = new Map(feed.aimed.map((a) => [a.source.name, a.source]));
    const rand = seededRandom(options.seed + 1);
    const delta = await timed(async () => {
      for (const host of fleet.upgrade) {
        const candidates = host.packages.filter((p) => p.source !== undefined && aimedSources.has(p.source));
        const list = candidates.length > 0 ? candidates : host.packages;
        const old = list[Math.floor(rand() * list.length)] as PackageEntry;
        const source = sourceByName.get(old.source ?? '');
        const next = source ? versionsAround(source).next : `${old.version}+bench1`;
        const upgraded: PackageEntry = { ...old, version: next, ...(source ? { sourceVersion: next } : {}) };
        const after = host.packages.map((p) => (p === old ? upgraded : p));
        await inventory.ingestDelta(host.hostId, { baseHash: host.hash, hash: inventoryHash(after), upsert: [upgraded], remove: [] });
      }
    });
    const upgradedIds = fleet.upgrade.map((h) => h.hostId);
    const hostEcosystems: HostEcosystem[] = upgradedIds.map((hostId) => ({ hostId, osEcosystem: OS_ECOSYSTEM }));
    const fresh = await stores.vulns.unmatchedSoftware(hostEcosystems);
    console.log(
      `  inventory update: ${upgradedIds.length} hosts upgrade one package each through ingestDelta, ${n(fresh.length)} new catalogue entries: ` +
        `${s(delta.seconds)}s (untimed set-up)`,
    );
    const hostSide = await scenario(`incremental, ${upgradedIds.length} hosts changed (rematchHosts)`, () =>
      service.rematchHosts(upgradedIds),
    );
    const wanted = new Set(fresh.flatMap((e) => [e.name, e.source]));
    const hostEntries = (await stores.vulns.affectedEntries()).filter((e) => wanted.has(e.name));
    const matcherHosts = await matcherAnchor(fresh, hostEntries);
    const joinHosts = await joinAnchor(database, hostsWhere(upgradedIds));
    console.log(
      `  anchor (a'') matchSoftware over the ${n(fresh.length)} new entries and ${n(hostEntries.length)} affected entries naming them: ` +
        `${s(matcherHosts.seconds)}s; (b'') the count for those hosts: ${s(joinHosts.seconds)}s, ${n(joinHosts.rows)} rows`,
    );
    rows.push({
      scenario: `incremental, ${upgradedIds.length} hosts changed`,
      seconds: hostSide.seconds,
      anchor: { name: "(a'') + (b'')", seconds: matcherHosts.seconds + joinHosts.seconds },
    });

    rows.push({ scenario: '(a) matchSoftware, whole catalogue', seconds: matcherAll.seconds });
    rows.push({ scenario: '(b) count(*) host_software ⋈ vuln_matches', seconds: joinAll.seconds });

    const end = await findingCounts(database);
    const sizes = await queryRows<{ relname: string; bytes: string }>(
      database.db,
      sql`select relname, pg_total_relation_size(c.oid)::text as bytes from pg_class c
          where relname in ('host_software', 'vuln_matches', 'vuln_findings') order by relname`,
    );
    const mib = (bytes: string) => `${n(Math.round(Number(bytes) / 1024 ** 2))} MiB`;
    console.log(
      `findings at the end: ${n(end.open)} open, ${n(end.closed)} closed; sizes with indexes: ${sizes.map((r) => `${r.relname} ${mib(r.bytes)}`).join(', ')}`,
    );
    console.log(`load average ${loadAverage()} at end (figures from a busy machine vary; compare rows within one run)`);
    console.log('');
    console.log(formatTable(rows));
    console.log('');
    console.log(
      'ratio = seconds / anchor seconds. (a) is the pure matcher over the same inputs (no I/O); (b) reads the rows findings are derived from.',
    );
  } finally {
    await opened.dispose();
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  await runVulnMatching(parseVulnArgs(argv), ['node --import tsx bench/vuln-matching.ts', ...argv].join(' '));
}
