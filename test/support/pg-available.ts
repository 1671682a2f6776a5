// Test-side access to the PostgreSQL started by global-setup.ts: get its URL, or skip visibly when there is none.
import { inject, type TestContext, TestRunner, test } from 'vitest';
import { createDatabase, dropDatabase } from './postgres.js';

export const POSTGRES_SKIP_REASON = 'PostgreSQL not available (install the postgresql package or set DATABASE_URL)';

/** The admin URL, or null when this run has no PostgreSQL. For `describe.skipIf(!hasPostgres())` and similar. */
export function postgresAdminUrl(): string | null {
  return inject('postgresAdminUrl') ?? null;
}

export function hasPostgres(): boolean {
  return postgresAdminUrl() !== null;
}

/**
 * Returns the admin URL of the test PostgreSQL, or skips the calling test with POSTGRES_SKIP_REASON.
 * Call it inside a test or a beforeEach hook; pass the test context if you have it, otherwise the running
 * test is found by itself. Outside a test (module scope, describe, beforeAll) nothing can be skipped, so it
 * throws: there use `describe.skipIf(!hasPostgres())`.
 */
export function requirePostgres(context?: Pick<TestContext, 'skip'>): string {
  const url = postgresAdminUrl();
  if (url !== null) return url;
  const skipper = context ?? TestRunner.getCurrentTest()?.context;
  if (skipper) return skipper.skip(POSTGRES_SKIP_REASON);
  throw new Error(`requirePostgres() was called outside a test, so it cannot skip: ${POSTGRES_SKIP_REASON}`);
}

/**
 * `test` with a `databaseUrl` fixture: a fresh, empty database per test that asks for it, dropped afterwards.
 * Tests using it skip with POSTGRES_SKIP_REASON when the run has no PostgreSQL.
 */
export const postgresTest = test.extend<{ databaseUrl: string }>({
  databaseUrl: async ({ skip }, use) => {
    const adminUrl = requirePostgres({ skip });
    const url = await createDatabase(adminUrl);
    try {
      await use(url);
    } finally {
      await dropDatabase(adminUrl, url);
    }
  },
});

/** The databases every storage and whole-system suite runs on: PGlite always, PostgreSQL when present (always in CI). */
export function databases(): Array<{
  name: string;
  open: () => Promise<string | undefined>;
  drop: (url: string | undefined) => Promise<void>;
}> {
  const list: Array<{ name: string; open: () => Promise<string | undefined>; drop: (url: string | undefined) => Promise<void> }> = [
    { name: 'PGlite', open: async () => undefined, drop: async () => {} },
  ];
  if (hasPostgres() || process.env.CI === 'true') {
    list.push({
      name: 'PostgreSQL',
      open: async () => {
        const admin = postgresAdminUrl();
        if (!admin) throw new Error('CI=true but no PostgreSQL is available to the tests');
        return createDatabase(admin);
      },
      drop: async (url) => {
        const admin = postgresAdminUrl();
        if (admin && url) await dropDatabase(admin, url);
      },
    });
  }
  return list;
}
