import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import * as schema from './schema.js';

/** The one database type the repositories take: PGlite and node-postgres both satisfy it. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Throws when the database cannot answer a trivial query (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://… for a real server; absent means the embedded database. */
  databaseUrl?: string | undefined;
  /** Where the embedded database lives; absent (with no URL) means in memory, for tests. */
  dataDir?: string | undefined;
  /** Connection pool size for a real server. */
  poolSize?: number;
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));
/** Arbitrary but fixed: serialises migrations when several replicas boot against one database. */
const MIGRATION_LOCK_ID = 0x6272_6965;

/** Opens the database and applies committed migrations before returning it. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  return openPglite(options.dataDir);
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  let dir: string | undefined;
  if (dataDir) {
    dir = path.join(dataDir, 'pgdata');
    mkdirSync(dir, { recursive: true });
  }
  const client = await PGlite.create(dir);
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    async ping() {
      await client.query('select 1');
    },
    async close() {
      await client.close();
    },
  };
}

/**
 * Settings sent with every connection to a real PostgreSQL. jit=off: our statements are short
 * OLTP-style reads and writes and aggregates over indexed tables, answered in milliseconds; but a
 * set-returning function or a jsonb expansion easily lifts the planner's estimate over
 * jit_above_cost, and PostgreSQL then spends far longer compiling than executing (290 of 323 ms of
 * the dashboard's compliance counts on 10,000 hosts, see bench/README.md "Console load").
 */
export const SERVER_CONNECTION_OPTIONS = '-c jit=off';

/**
 * The connection string with our settings in its `options`, ahead of any the operator gave (the URL's
 * own `options`, else PGOPTIONS, which node-postgres would otherwise read): a later `-c` wins, so an
 * operator can still turn JIT back on. The rest of the URL (host, credentials, sslmode...) is kept.
 */
export function withServerOptions(url: string, env: NodeJS.ProcessEnv = process.env): string {
  const parsed = new URL(url);
  const given = parsed.searchParams.get('options') ?? env.PGOPTIONS ?? '';
  parsed.searchParams.set('options', given.trim() ? `${SERVER_CONNECTION_OPTIONS} ${given.trim()}` : SERVER_CONNECTION_OPTIONS);
  return parsed.toString();
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: withServerOptions(url), max: poolSize });
  // An idle client dropping (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await migratePg(drizzlePg(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    client.release();
  }
  const db = drizzlePg(pool, { schema });
  return {
    db: db as unknown as Db,
    kind: 'postgres',
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
  };
}

/** Runs raw SQL and returns its rows, the same way on both drivers. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** Escapes LIKE wildcards so user text matches literally (backslash is PostgreSQL's default escape). */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export { sql };
