import { describe, expect, it } from 'vitest';
import { postgresTest } from '../../../../test/support/pg-available.js';
import { openDatabase, queryRows, SERVER_CONNECTION_OPTIONS, sql, withServerOptions } from './db.js';

describe('the connection options of a real PostgreSQL', () => {
  const options = (url: string) => new URL(url).searchParams.get('options');

  it('adds jit=off to a URL without options, keeping everything else', () => {
    const url = withServerOptions('postgresql://brier:s%40cret@db.internal:5433/brier?sslmode=require&application_name=brier', {});
    const parsed = new URL(url);
    expect(options(url)).toBe(SERVER_CONNECTION_OPTIONS);
    expect(SERVER_CONNECTION_OPTIONS).toBe('-c jit=off');
    expect([parsed.username, parsed.password, parsed.hostname, parsed.port, parsed.pathname]).toEqual([
      'brier',
      's%40cret',
      'db.internal',
      '5433',
      '/brier',
    ]);
    expect(parsed.searchParams.get('sslmode')).toBe('require');
    expect(parsed.searchParams.get('application_name')).toBe('brier');
  });

  it("puts the operator's options (the URL's, else PGOPTIONS) after ours, so theirs win", () => {
    const given = 'postgres://u@h/d?options=-c%20statement_timeout%3D5s%20-c%20jit%3Don';
    expect(options(withServerOptions(given, { PGOPTIONS: '-c work_mem=64MB' }))).toBe('-c jit=off -c statement_timeout=5s -c jit=on');
    expect(options(withServerOptions('postgres://u@h/d', { PGOPTIONS: ' -c work_mem=64MB ' }))).toBe('-c jit=off -c work_mem=64MB');
    expect(options(withServerOptions('postgres://u@h/d?options=', { PGOPTIONS: '' }))).toBe('-c jit=off');
  });

  postgresTest('connects with JIT off on every pooled connection', async ({ databaseUrl }) => {
    const database = await openDatabase({ databaseUrl, poolSize: 3 });
    try {
      // Three at once: the pool opens a connection for each.
      const found = await Promise.all(
        [0, 1, 2].map(() =>
          queryRows<{ jit: string; pid: number }>(database.db, sql`select current_setting('jit') as jit, pg_backend_pid() as pid`),
        ),
      );
      expect(found.map((r) => r[0]?.jit)).toEqual(['off', 'off', 'off']);
      expect(new Set(found.map((r) => r[0]?.pid)).size).toBe(3);
    } finally {
      await database.close();
    }
  });

  postgresTest('keeps the options a DATABASE_URL already carries', async ({ databaseUrl }) => {
    const url = new URL(databaseUrl);
    url.searchParams.set('options', '-c statement_timeout=4321 -c application_name=brier-options-test');
    const database = await openDatabase({ databaseUrl: url.toString() });
    try {
      const [row] = await queryRows<{ jit: string; timeout: string; app: string }>(
        database.db,
        sql`select current_setting('jit') as jit, current_setting('statement_timeout') as timeout,
              current_setting('application_name') as app`,
      );
      expect(row).toEqual({ jit: 'off', timeout: '4321ms', app: 'brier-options-test' });
    } finally {
      await database.close();
    }
  });
});
