import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresTest, requirePostgres } from './support/pg-available.js';
import { createDatabase, dropDatabase } from './support/postgres.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('the PostgreSQL test harness', () => {
  it('creates a database that answers queries and drops it again', async () => {
    const adminUrl = requirePostgres();
    const url = await createDatabase(adminUrl);
    const name = new URL(url).pathname.slice(1);
    try {
      const [row] = await query<{ version: string; db: string }>(url, 'select version() as version, current_database() as db');
      expect(row?.version).toMatch(/^PostgreSQL \d+/);
      expect(row?.db).toBe(name);
    } finally {
      await dropDatabase(adminUrl, url);
    }
    const remaining = await query(adminUrl, 'select 1 from pg_database where datname = $1', [name]);
    expect(remaining).toHaveLength(0);
  });

  it('drops a database even while a client is still connected to it', async () => {
    const adminUrl = requirePostgres();
    const url = await createDatabase(adminUrl);
    const leaked = new pg.Client({ connectionString: url });
    // The forced drop ends this session; swallow the resulting error so it does not surface as unhandled.
    leaked.on('error', () => {});
    await leaked.connect();
    try {
      await dropDatabase(adminUrl, url);
    } finally {
      await leaked.end().catch(() => {});
    }
    const remaining = await query(adminUrl, 'select 1 from pg_database where datname = $1', [new URL(url).pathname.slice(1)]);
    expect(remaining).toHaveLength(0);
  });

  it('refuses a database name that could escape its quotes before connecting anywhere', async () => {
    // Port 1 has no server: reaching it would fail differently, so the name check must come first.
    const nowhere = 'postgres://postgres@127.0.0.1:1/postgres';
    await expect(createDatabase(nowhere, 'x"; drop database postgres; --')).rejects.toThrow(/invalid test database name/);
    await expect(dropDatabase(nowhere, 'Upper')).rejects.toThrow(/invalid test database name/);
  });

  postgresTest('gives each test that asks for one its own empty database', async ({ databaseUrl }) => {
    await query(databaseUrl, 'create table probe (id int primary key)');
    const tables = await query<{ tablename: string }>(databaseUrl, "select tablename from pg_tables where schemaname = 'public'");
    expect(tables.map((t) => t.tablename)).toEqual(['probe']);
  });
});
