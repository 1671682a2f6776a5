import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildServer } from '../app.js';
import { parseConfig } from '../config.js';
import { sql } from '../store/db.js';
import { openDatabase } from '../store/index.js';
import { testKeys } from '../testing/test-keys.js';

/** A server on a fresh database with no users yet: what main.ts sees on first start. */
async function freshServer() {
  const database = await openDatabase({});
  const app = await buildServer({ config: parseConfig({}), database, ...testKeys() });
  return {
    app,
    /** Back to a first start: no users (and so no sessions) at all. */
    async reset() {
      await database.db.execute(sql`delete from users`);
    },
    async close() {
      await app.close();
      await database.close();
    },
    login: (username: string, password: string) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } }),
  };
}

describe('ensureAdmin', () => {
  // One database for the block (PGlite takes seconds to start); each test begins with no users.
  let server: Awaited<ReturnType<typeof freshServer>>;
  beforeAll(async () => {
    server = await freshServer();
  });
  beforeEach(async () => {
    await server.reset();
  });
  afterAll(async () => {
    await server.close();
  });

  it('creates user admin with the given password on first start and returns no password', async () => {
    expect(await server.app.services.auth.ensureAdmin('given admin password')).toEqual({});
    const res = await server.login('admin', 'given admin password');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ user: { username: 'admin', role: 'admin' } });
  });

  it('generates a password when none is given and returns it exactly once', async () => {
    const first = await server.app.services.auth.ensureAdmin(undefined);
    const generated = first?.generatedPassword;
    expect(generated).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await server.login('admin', generated ?? '')).statusCode).toBe(200);
    expect(await server.app.services.auth.ensureAdmin(undefined)).toBeUndefined();
  });

  it('does nothing on a second start, even with a different password', async () => {
    await server.app.services.auth.ensureAdmin('the first admin password');
    expect(await server.app.services.auth.ensureAdmin('another admin password')).toBeUndefined();
    expect((await server.login('admin', 'the first admin password')).statusCode).toBe(200);
    expect((await server.login('admin', 'another admin password')).statusCode).toBe(401);
    expect(await server.app.services.auth.listUsers()).toHaveLength(1);
  });

  it('creates exactly one admin when two replicas start at the same moment', async () => {
    const results = await Promise.all([
      server.app.services.auth.ensureAdmin('first replica password'),
      server.app.services.auth.ensureAdmin('second replica password'),
    ]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    expect(await server.app.services.auth.listUsers()).toHaveLength(1);
  });

  it('refuses an admin password shorter than 12 characters and creates nobody', async () => {
    await expect(server.app.services.auth.ensureAdmin('short')).rejects.toMatchObject({ code: 'bad_request' });
    expect(await server.app.services.auth.listUsers()).toHaveLength(0);
  });
});
