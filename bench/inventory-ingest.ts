/**
 * Inventory ingest benchmark: simulated agents upload full dpkg inventories (~1,500 packages each)
 * and we print link rows per second written by Brier's real ingest path, next to a plain COPY of the
 * same rows into the same tables on the same kind of database. See bench/README.md.
 *
 *   node --import tsx bench/inventory-ingest.ts [--hosts N] [--packages N] [--agents K]
 *        [--skip-postgres] [--skip-pglite] [--skip-websocket] [--pglite-memory] [--seed N]
 *
 * Every scenario starts from a freshly migrated, empty database, so each one writes the whole
 * catalogue and every link, and the figures compare like with like.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PACKAGES_PER_PART } from '@brier/protocol';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createInventoryService } from '../packages/server/src/inventory/inventory-service.js';
import { type Database, queryRows, sql } from '../packages/server/src/store/db.js';
import { createStores, openDatabase } from '../packages/server/src/store/index.js';
import { createTestServer, RawAgentSocket } from '../packages/server/src/testing/test-server.js';
import { createDatabase, dropDatabase, startPostgres } from '../test/support/postgres.js';
import { positiveInt } from './support/args.js';
import { catalogueKey, fleetStats, generateFleet, type SyntheticHost } from './support/synthetic-fleet.js';
import { timed } from './support/timed.js';

export interface IngestBenchOptions {
  hosts: number;
  packages: number;
  /** Concurrent simulated agents in the PostgreSQL concurrency scenarios. */
  agents: number;
  seed: number;
  postgres: boolean;
  pglite: boolean;
  websocket: boolean;
  pgliteInMemory: boolean;
}

type Kind = 'PGlite' | 'PostgreSQL';

interface Result {
  database: Kind;
  scenario: string;
  hosts: number;
  links: number;
  catalogue: number;
  seconds: number;
  /** Which COPY row this one is compared with. */
  anchor: boolean;
  note?: string;
}

const CATALOGUE_COLUMNS = 'ecosystem, name, version, arch, source, source_version';

export function parseIngestArgs(argv: readonly string[]): IngestBenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      hosts: { type: 'string', default: '200' },
      packages: { type: 'string', default: '1500' },
      agents: { type: 'string', default: '8' },
      seed: { type: 'string', default: '20240601' },
      'skip-postgres': { type: 'boolean', default: false },
      'skip-pglite': { type: 'boolean', default: false },
      'skip-websocket': { type: 'boolean', default: false },
      'pglite-memory': { type: 'boolean', default: false },
    },
    strict: true,
  });
  return {
    hosts: positiveInt('hosts', values.hosts),
    packages: positiveInt('packages', values.packages),
    agents: positiveInt('agents', values.agents),
    seed: positiveInt('seed', values.seed),
    postgres: !values['skip-postgres'],
    pglite: !values['skip-pglite'],
    websocket: !values['skip-websocket'],
    pgliteInMemory: values['pglite-memory'],
  };
}

// ---------------------------------------------------------------------------------------------
// Databases: every scenario gets a fresh one.

interface FreshDatabase {
  database: Database;
  url: string | undefined;
  dispose(): Promise<void>;
}

type DatabaseFactory = () => Promise<FreshDatabase>;

function pgliteFactory(inMemory: boolean): DatabaseFactory {
  return async () => {
    if (inMemory) {
      const database = await openDatabase({});
      return { database, url: undefined, dispose: () => database.close() };
    }
    // A data directory on disk, like the server's default (BRIER_DATA_DIR) rather than the tests' in-memory one.
    const dir = mkdtempSync(join(tmpdir(), 'brier-bench-pglite-'));
    const database = await openDatabase({ dataDir: dir });
    return {
      database,
      url: undefined,
      async dispose() {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

function postgresFactory(adminUrl: string): DatabaseFactory {
  return async () => {
    const url = await createDatabase(adminUrl, `brier_bench_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`);
    const database = await openDatabase({ databaseUrl: url });
    return {
      database,
      url,
      async dispose() {
        await database.close();
        await dropDatabase(adminUrl, url);
      },
    };
  };
}

/** The driver client under drizzle: PGlite for the embedded database (COPY needs its blob option). */
function pgliteClient(database: Database): PGlite {
  return (database.db as unknown as { $client: PGlite }).$client;
}

async function tableCounts(database: Database): Promise<{ links: number; catalogue: number }> {
  const [row] = await queryRows<{ links: number; catalogue: number }>(
    database.db,
    sql`select (select count(*) from host_software)::int as links, (select count(*) from software)::int as catalogue`,
  );
  return { links: row?.links ?? 0, catalogue: row?.catalogue ?? 0 };
}

/** How far the catalogue's id sequence has advanced: above the row count when inserts burn ids. */
async function maxCatalogueId(database: Database): Promise<number> {
  const [row] = await queryRows<{ max: string | null }>(database.db, sql`select max(id)::text as max from software`);
  return Number(row?.max ?? 0);
}

/** Host rows are set-up, not ingest: created through the real hosts store before the clock starts. */
async function createHosts(database: Database, fleet: readonly SyntheticHost[]): Promise<string[]> {
  const stores = createStores(database.db);
  const ids: string[] = [];
  const at = new Date();
  for (const [i, host] of fleet.entries()) {
    const created = await stores.hosts.create({
      hostname: host.hostname,
      publicKey: `bench-public-key-${i}`,
      status: 'approved',
      enrollmentTokenId: null,
      at,
    });
    ids.push(created.id);
  }
  return ids;
}

/** Refuses to print a rate for rows that were not all written. */
function checkCounts(label: string, got: { links: number; catalogue: number }, want: { links: number; catalogue: number }): void {
  if (got.links !== want.links || got.catalogue !== want.catalogue) {
    throw new Error(`${label}: wrote ${got.links} links / ${got.catalogue} catalogue rows, expected ${want.links} / ${want.catalogue}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario A: Brier's ingest path (the inventory service over the real stores).

async function brierIngest(
  kind: Kind,
  fresh: DatabaseFactory,
  fleet: readonly SyntheticHost[],
  want: { links: number; catalogue: number },
  concurrency: number,
): Promise<Result> {
  const { database, dispose } = await fresh();
  try {
    const ids = await createHosts(database, fleet);
    const service = createInventoryService({ inventory: createStores(database.db).inventory, now: () => new Date() });
    let next = 0;
    const agent = async () => {
      for (let i = next++; i < fleet.length; i = next++) {
        const host = fleet[i] as SyntheticHost;
        await service.ingestFull(ids[i] as string, host.packages, host.facts, host.hash);
      }
    };
    const { seconds } = await timed(() => Promise.all(Array.from({ length: concurrency }, agent)));
    const counts = await tableCounts(database);
    checkCounts(`${kind} Brier ingest`, counts, want);
    const scenario = concurrency === 1 ? 'Brier ingest, 1 agent at a time' : `Brier ingest, ${concurrency} agents at once`;
    const note = `catalogue ids used up to ${(await maxCatalogueId(database)).toLocaleString('en-US')}`;
    return { database: kind, scenario, hosts: fleet.length, ...counts, seconds, anchor: false, note };
  } finally {
    await dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario A over the wire: agents enrol over HTTP, then upload over real WebSockets.

async function websocketIngest(
  databaseUrl: string | undefined,
  kind: Kind,
  fleet: readonly SyntheticHost[],
  want: { links: number; catalogue: number },
  concurrency: number,
): Promise<Result> {
  const server = await createTestServer({
    databaseUrl,
    config: { enrollmentsPerMinute: 1_000_000, handshakesPerSecond: 100_000, handshakeBurst: 1_000_000, authTimeoutMs: 120_000 },
  });
  try {
    const baseUrl = await server.listen();
    const joinToken = await server.createJoinToken({ autoApprove: true, maxUses: fleet.length });
    const agents: Array<{ hostId: string; privateKeyPem: string }> = [];
    for (const host of fleet) {
      const { hostId, keys } = await server.enrollAgent(joinToken, host.hostname);
      agents.push({ hostId, privateKeyPem: keys.privateKeyPem });
    }
    const upload = async (i: number) => {
      const host = fleet[i] as SyntheticHost;
      const agent = agents[i] as { hostId: string; privateKeyPem: string };
      const socket = new RawAgentSocket(baseUrl);
      try {
        await socket.opened();
        await socket.authenticate(agent.hostId, agent.privateKeyPem, server.identity.fingerprint);
        await waitFor(socket, 'auth.ok');
        const parts = Math.max(1, Math.ceil(host.packages.length / PACKAGES_PER_PART));
        const snapshotId = `bench-${i}`;
        for (let part = 0; part < parts; part++) {
          const packages = host.packages.slice(part * PACKAGES_PER_PART, (part + 1) * PACKAGES_PER_PART);
          const body = { snapshotId, part, parts, hash: host.hash, packages, ...(part === 0 ? { facts: host.facts } : {}) };
          socket.sendRaw(socket.codec.encode('inventory.full', body));
        }
        await waitFor(socket, 'inventory.ack');
      } finally {
        socket.close();
      }
    };
    let next = 0;
    const agent = async () => {
      for (let i = next++; i < fleet.length; i = next++) await upload(i);
    };
    const { seconds } = await timed(() => Promise.all(Array.from({ length: concurrency }, agent)));
    const counts = await tableCounts(server.database);
    checkCounts(`${kind} WebSocket ingest`, counts, want);
    return {
      database: kind,
      scenario: `Brier ingest, ${concurrency} WebSocket agents`,
      hosts: fleet.length,
      ...counts,
      seconds,
      anchor: false,
      note: 'includes connect, challenge/answer and JSON frames',
    };
  } finally {
    await server.close();
  }
}

/** Waits for `type`, failing fast on an `error` frame instead of timing out. */
async function waitFor(socket: RawAgentSocket, type: string): Promise<void> {
  const wanted = socket.next(type, 300_000);
  const refused = socket.next('error', 300_000).then((body) => {
    throw new Error(`server answered error instead of ${type}: ${JSON.stringify(body)}`);
  });
  // Whichever loses keeps waiting until the socket closes; its rejection then is expected, not a crash.
  wanted.catch(() => {});
  refused.catch(() => {});
  await Promise.race([wanted, refused]);
}

// ---------------------------------------------------------------------------------------------
// Scenario B: the anchor, a plain COPY of the same rows into the same tables.

/** COPY text format: backslash, tab, newline and carriage return must be escaped. */
export function copyField(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

interface CatalogueRow {
  id: string | number;
  ecosystem: string;
  name: string;
  version: string;
  arch: string;
  source: string;
  source_version: string;
}

/**
 * The simplest honest bulk load: de-duplicate the catalogue in memory, COPY it, read the ids back
 * into a Map, then COPY the links. All of it is inside the timing, as it would be for a real loader.
 */
async function copyLoad(
  kind: Kind,
  fresh: DatabaseFactory,
  fleet: readonly SyntheticHost[],
  want: { links: number; catalogue: number },
): Promise<Result> {
  const { database, url, dispose } = await fresh();
  try {
    const ids = await createHosts(database, fleet);
    const copy = kind === 'PostgreSQL' ? await postgresCopier(url as string) : pgliteCopier(pgliteClient(database));
    try {
      const phases: Record<string, number> = {};
      const { seconds } = await timed(async () => {
        let t = performance.now();
        const lines: string[] = [];
        const seen = new Set<string>();
        for (const host of fleet) {
          for (const p of host.packages) {
            const key = catalogueKey(p);
            if (seen.has(key)) continue;
            seen.add(key);
            lines.push(`${[p.ecosystem, p.name, p.version, p.arch, p.source ?? '', p.sourceVersion ?? ''].map(copyField).join('\t')}\n`);
          }
        }
        await copy.load(`copy software (${CATALOGUE_COLUMNS}) from stdin`, lines);
        phases.catalogue = performance.now() - t;
        t = performance.now();
        const rows = await copy.rows<CatalogueRow>(`select id, ${CATALOGUE_COLUMNS} from software`);
        const idOf = new Map<string, string>();
        for (const r of rows)
          idOf.set(`${r.ecosystem}\t${r.name}\t${r.version}\t${r.arch}\t${r.source}\t${r.source_version}`, String(r.id));
        phases.ids = performance.now() - t;
        t = performance.now();
        const links: string[] = [];
        for (const [i, host] of fleet.entries()) {
          const hostId = ids[i] as string;
          let chunk = '';
          for (const p of host.packages) chunk += `${hostId}\t${idOf.get(catalogueKey(p))}\n`;
          links.push(chunk);
        }
        await copy.load('copy host_software (host_id, software_id) from stdin', links);
        phases.links = performance.now() - t;
      });
      const counts = await tableCounts(database);
      checkCounts(`${kind} COPY`, counts, want);
      const ms = (n: number | undefined) => `${((n ?? 0) / 1000).toFixed(2)}s`;
      return {
        database: kind,
        scenario: 'plain COPY (anchor)',
        hosts: fleet.length,
        ...counts,
        seconds,
        anchor: true,
        note: `catalogue COPY ${ms(phases.catalogue)}, id read-back ${ms(phases.ids)}, link COPY ${ms(phases.links)}`,
      };
    } finally {
      await copy.close();
    }
  } finally {
    await dispose();
  }
}

interface Copier {
  /** Runs `COPY … FROM STDIN` with the given text-format chunks. */
  load(statement: string, chunks: readonly string[]): Promise<void>;
  rows<T>(query: string): Promise<T[]>;
  close(): Promise<void>;
}

async function postgresCopier(url: string): Promise<Copier> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async load(statement, chunks) {
      await pipeline(Readable.from(chunks), client.query(copyFrom(statement)));
    },
    async rows<T>(query: string) {
      return (await client.query(query)).rows as T[];
    },
    close: () => client.end(),
  };
}

function pgliteCopier(client: PGlite): Copier {
  return {
    async load(statement, chunks) {
      // PGlite has no client/server stream: COPY … FROM '/dev/blob' reads the file passed as `blob`.
      await client.query(statement.replace(/from stdin$/, "from '/dev/blob'"), [], { blob: new Blob(chunks as string[]) });
    },
    async rows<T>(query: string) {
      return (await client.query<T>(query)).rows;
    },
    close: async () => {},
  };
}

// ---------------------------------------------------------------------------------------------
// Report.

function formatTable(results: readonly Result[]): string {
  const anchorOf = new Map(results.filter((r) => r.anchor).map((r) => [r.database, r.links / r.seconds]));
  const header = ['database', 'scenario', 'hosts', 'link rows', 'catalogue rows', 'seconds', 'rows/s', 'ratio to COPY'];
  const body = results.map((r) => {
    const rate = r.links / r.seconds;
    const anchor = anchorOf.get(r.database);
    return [
      r.database,
      r.scenario,
      String(r.hosts),
      r.links.toLocaleString('en-US'),
      r.catalogue.toLocaleString('en-US'),
      r.seconds.toFixed(2),
      Math.round(rate).toLocaleString('en-US'),
      anchor ? `${(rate / anchor).toFixed(2)}x` : 'n/a',
    ];
  });
  const numeric = new Set([2, 3, 4, 5, 6, 7]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

function loadAverage(): string {
  return loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
}

function pgliteVersion(): string {
  try {
    const url = new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function runInventoryIngest(options: IngestBenchOptions, command: string): Promise<void> {
  const cpu = cpus();
  console.log('# Inventory ingest: full uploads from simulated agents vs a plain COPY of the same rows');
  console.log(`command:  ${command}`);
  console.log(`date:     ${new Date().toISOString()}`);
  console.log(
    `machine:  node ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, ` +
      `load average ${loadAverage()} at start`,
  );

  const t = performance.now();
  const fleet = generateFleet({ hosts: options.hosts, packagesPerHost: options.packages, seed: options.seed });
  const stats = fleetStats(fleet);
  const want = { links: stats.links, catalogue: stats.catalogue };
  console.log(
    `fleet:    ${fleet.length} hosts, ${stats.minPerHost}-${stats.maxPerHost} packages each (mean ${Math.round(stats.links / fleet.length)}), ` +
      `${stats.names.toLocaleString('en-US')} distinct names, ${stats.catalogue.toLocaleString('en-US')} catalogue rows, ` +
      `seed ${options.seed} (generated in ${((performance.now() - t) / 1000).toFixed(1)}s)`,
  );

  const results: Result[] = [];
  const report = (r: Result) => {
    results.push(r);
    const rate = Math.round(r.links / r.seconds).toLocaleString('en-US');
    console.log(`  ${r.database}: ${r.scenario}: ${r.seconds.toFixed(2)}s, ${rate} rows/s${r.note ? ` (${r.note})` : ''}`);
  };

  if (options.pglite) {
    const where = options.pgliteInMemory ? 'in memory' : 'data directory in a temp dir (the server default)';
    console.log(`PGlite:   ${pgliteVersion()}, ${where}`);
    const fresh = pgliteFactory(options.pgliteInMemory);
    report(await brierIngest('PGlite', fresh, fleet, want, 1));
    report(await copyLoad('PGlite', fresh, fleet, want));
  }

  if (options.postgres) {
    const server = await startPostgres();
    try {
      const [version] = await queryRowsOnce(server.url, 'show server_version');
      const source = process.env.DATABASE_URL ? 'DATABASE_URL' : 'throwaway cluster (fsync=off, synchronous_commit=off)';
      console.log(`Postgres: ${version?.server_version ?? 'unknown'}, ${source}, pool of 10`);
      const fresh = postgresFactory(server.url);
      report(await brierIngest('PostgreSQL', fresh, fleet, want, 1));
      if (options.agents > 1) report(await brierIngest('PostgreSQL', fresh, fleet, want, options.agents));
      if (options.websocket) {
        const { url, dispose } = await freshUrl(server.url);
        try {
          report(await websocketIngest(url, 'PostgreSQL', fleet, want, options.agents));
        } finally {
          await dispose();
        }
      }
      report(await copyLoad('PostgreSQL', fresh, fleet, want));
    } finally {
      await server.stop();
    }
  }

  console.log(`load average ${loadAverage()} at end (figures from a busy machine vary; compare rows within one run)`);
  console.log('');
  console.log(formatTable(results));
  console.log('');
  console.log("rows/s = host_software links written per second of wall time; ratio = rows/s divided by the same database's COPY rows/s.");
}

/** An empty database for the WebSocket scenario, which opens (and migrates) it itself through createTestServer. */
async function freshUrl(adminUrl: string): Promise<{ url: string; dispose(): Promise<void> }> {
  const url = await createDatabase(adminUrl, `brier_bench_ws_${Date.now().toString(36)}`);
  return { url, dispose: () => dropDatabase(adminUrl, url) };
}

async function queryRowsOnce(url: string, query: string): Promise<Array<{ server_version: string }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>(query)).rows;
  } finally {
    await client.end();
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  await runInventoryIngest(parseIngestArgs(argv), ['node --import tsx bench/inventory-ingest.ts', ...argv].join(' '));
}
