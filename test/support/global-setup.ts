// Vitest global setup: one PostgreSQL for the whole run, shared by every project through `inject('postgresAdminUrl')`.
// Tests create their own databases on it (createDatabase), so sharing the server does not share state.
import type { TestProject } from 'vitest/node';
import { findPostgresBinaries, startPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test PostgreSQL, or null when there is none and tests needing it should skip. */
    postgresAdminUrl: string | null;
  }
}

export const POSTGRES_MISSING =
  'PostgreSQL is not available: no server binaries (initdb, postgres) were found and DATABASE_URL is unset. ' +
  'Install them (Debian: apt-get install postgresql) or set DATABASE_URL to a server where the user may CREATE DATABASE.';

/** CI must exercise every test, so there a missing PostgreSQL is an error, not a skip. */
function inCi(): boolean {
  const value = process.env.CI?.toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.DATABASE_URL) {
    project.provide('postgresAdminUrl', process.env.DATABASE_URL);
    return undefined;
  }
  // Only start a server when we can; the look-up is cheap, initdb is not.
  if (!findPostgresBinaries()) {
    if (inCi()) throw new Error(`${POSTGRES_MISSING} CI=${process.env.CI}, so refusing to skip the tests that need it.`);
    console.warn(`\n[brier tests] ${POSTGRES_MISSING} Tests that need it will be skipped.\n`);
    project.provide('postgresAdminUrl', null);
    return undefined;
  }
  const server = await startPostgres();
  project.provide('postgresAdminUrl', server.url);
  return () => server.stop();
}
