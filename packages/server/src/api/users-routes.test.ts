import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, permissionsOf } from '../auth/roles.js';
import { ROLES } from '../auth/types.js';
import { expectProblem } from '../testing/expect-problem.js';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../testing/test-server.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new long password';

type Method = 'GET' | 'POST' | 'PATCH';

interface UserJson {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  createdAt: string;
}

describe('users for the console: PATCH /users/{id} and GET /roles', () => {
  let s: TestServer;
  let admin: string;
  let adminId: string;

  const call = (method: Method, url: string, token?: string, payload?: unknown) =>
    s.app.inject({
      method,
      url,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const patch = (id: string, body: unknown, token = admin) => call('PATCH', `/api/v1/users/${id}`, token, body);

  async function createUser(username: string, role: 'admin' | 'approver' | 'operator' | 'viewer'): Promise<UserJson> {
    const res = await call('POST', '/api/v1/users', admin, { username, password: PASSWORD, role });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<UserJson>();
  }
  const me = (token: string) => call('GET', '/api/v1/auth/me', token);
  const users = async () => (await call('GET', '/api/v1/users', admin)).json<{ items: UserJson[] }>().items;
  const apiToken = async (token: string) => {
    const res = await call('POST', '/api/v1/api-tokens', token, { name: 'script' });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ token: string }>().token;
  };
  const auditOf = async (target: string) =>
    (await call('GET', `/api/v1/audit?target=${target}&action=user.update`, admin)).json<{
      items: { actor: string; action: string; detail: Record<string, unknown> }[];
    }>().items;

  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000 } });
    admin = await s.login();
    adminId = (await me(admin)).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await s.close();
  });

  describe('PATCH /users/{id}', () => {
    it('changes a role, answers the user without its hash, and audits the change', async () => {
      const u = await createUser('patch-role', 'operator');
      const token = await s.login('patch-role', PASSWORD);
      const res = await patch(u.id, { role: 'approver' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ id: u.id, username: 'patch-role', role: 'approver', disabled: false, createdAt: u.createdAt });
      // The session stays, with the new role's rights at once.
      expect((await me(token)).json()).toMatchObject({ role: 'approver', permissions: permissionsOf('approver') });
      const [entry] = await auditOf(u.id);
      expect(entry).toMatchObject({
        actor: 'admin',
        action: 'user.update',
        detail: { username: 'patch-role', role: { from: 'operator', to: 'approver' }, revokedTokens: 0 },
      });
    });

    it('disables a user, revoking its sessions and API tokens for good, and enables it again', async () => {
      const u = await createUser('patch-disable', 'viewer');
      const session = await s.login('patch-disable', PASSWORD);
      const script = await apiToken(session);
      const res = await patch(u.id, { disabled: true });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ disabled: true, role: 'viewer' });
      expectProblem(await me(session), 401, 'unauthenticated');
      expectProblem(await me(script), 401, 'unauthenticated');
      expectProblem(
        await call('POST', '/api/v1/auth/login', undefined, { username: 'patch-disable', password: PASSWORD }),
        401,
        'invalid_credentials',
      );
      expect((await auditOf(u.id))[0]?.detail).toMatchObject({ disabled: { from: false, to: true }, revokedTokens: 2 });

      expect((await patch(u.id, { disabled: false })).json()).toMatchObject({ disabled: false });
      // Enabling brings no old token back; a new login works.
      expectProblem(await me(session), 401, 'unauthenticated');
      expectProblem(await me(script), 401, 'unauthenticated');
      expect((await me(await s.login('patch-disable', PASSWORD))).statusCode).toBe(200);
    });

    it('sets a password: the old one stops working and the user’s sessions end, its API tokens stay', async () => {
      const u = await createUser('patch-password', 'operator');
      const session = await s.login('patch-password', PASSWORD);
      const script = await apiToken(session);
      const res = await patch(u.id, { password: NEW_PASSWORD });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).not.toHaveProperty('passwordHash');
      expectProblem(
        await call('POST', '/api/v1/auth/login', undefined, { username: 'patch-password', password: PASSWORD }),
        401,
        'invalid_credentials',
      );
      expect((await me(await s.login('patch-password', NEW_PASSWORD))).statusCode).toBe(200);
      expectProblem(await me(session), 401, 'unauthenticated');
      expect((await me(script)).statusCode).toBe(200);
      const [entry] = await auditOf(u.id);
      expect(entry?.detail).toMatchObject({ password: 'changed', revokedTokens: 1 });
      expect(JSON.stringify(entry)).not.toContain(NEW_PASSWORD);
    });

    it('keeps the caller’s own session when an admin changes its own password', async () => {
      const other = await s.login();
      const res = await patch(adminId, { password: NEW_PASSWORD });
      expect(res.statusCode, res.body).toBe(200);
      expect((await me(admin)).statusCode).toBe(200);
      expectProblem(await me(other), 401, 'unauthenticated');
      expect((await patch(adminId, { password: ADMIN_PASSWORD })).statusCode).toBe(200);
    });

    it('refuses to disable yourself, and to demote or disable the last enabled admin, changing nothing', async () => {
      const before = await users();
      expect(expectProblem(await patch(adminId, { disabled: true }), 409, 'conflict').detail).toContain('your own');
      expect(expectProblem(await patch(adminId, { role: 'operator' }), 409, 'conflict').detail).toContain('last enabled admin');
      expect(expectProblem(await patch(adminId, { role: 'viewer', password: NEW_PASSWORD }), 409, 'conflict').detail).toContain(
        'last enabled admin',
      );
      expect(await users()).toEqual(before);
      // The password of the refused change was not set either.
      expect((await me(await s.login('admin', ADMIN_PASSWORD))).statusCode).toBe(200);

      // A second admin may disable the first; then it is the last one and cannot step down.
      const second = await createUser('second-admin', 'admin');
      const secondToken = await s.login('second-admin', PASSWORD);
      expect((await patch(adminId, { disabled: true }, secondToken)).json()).toMatchObject({ disabled: true });
      // A disabled admin does not count.
      expectProblem(await patch(second.id, { role: 'approver' }, secondToken), 409, 'conflict');
      // Re-enabling the first makes the second free to step down.
      expect((await patch(adminId, { disabled: false }, secondToken)).json()).toMatchObject({ disabled: false });
      admin = await s.login();
      expect((await patch(second.id, { role: 'approver' }, secondToken)).json()).toMatchObject({ role: 'approver' });
      // Promotion and changes to admins that leave another enabled admin are fine.
      expect((await patch(second.id, { role: 'admin' })).json()).toMatchObject({ role: 'admin' });
      expect((await patch(second.id, { disabled: true })).json()).toMatchObject({ disabled: true });
    });

    it('lets only one of two admins demoting each other at once succeed', async () => {
      const a = await createUser('race-a', 'admin');
      const b = await createUser('race-b', 'admin');
      const ta = await s.login('race-a', PASSWORD);
      const tb = await s.login('race-b', PASSWORD);
      // With admin, race-a and race-b enabled, first take admin out of the picture (disabled by race-a).
      expect((await patch(adminId, { disabled: true }, ta)).statusCode).toBe(200);
      const results = await Promise.all([patch(b.id, { role: 'viewer' }, ta), patch(a.id, { role: 'viewer' }, tb)]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      const enabledAdmins = (await call('GET', '/api/v1/users', results[0]?.statusCode === 200 ? ta : tb))
        .json<{ items: UserJson[] }>()
        .items.filter((u) => u.role === 'admin' && !u.disabled);
      expect(enabledAdmins).toHaveLength(1);
      const survivor = results[0]?.statusCode === 200 ? ta : tb;
      expect((await patch(adminId, { disabled: false }, survivor)).statusCode).toBe(200);
      admin = await s.login();
    });

    it('refuses bad input with 400, an unknown user with 404, and non-admins with 403, changing nothing', async () => {
      const u = await createUser('patch-bad', 'viewer');
      const before = await users();
      for (const body of [
        {},
        { role: 'root' },
        { role: null },
        { disabled: 'yes' },
        { password: 'short' },
        { password: '' },
        { password: 'x'.repeat(1025) },
        { username: 'renamed' },
        { role: 'viewer', passwordHash: 'x' },
      ]) {
        expectProblem(await patch(u.id, body), 400, 'bad_request');
      }
      expectProblem(await call('PATCH', `/api/v1/users/${u.id}`, admin), 400, 'bad_request');
      expectProblem(await patch('not-a-uuid', { role: 'viewer' }), 400, 'bad_request');
      expectProblem(await patch(`${u.id}%00`, { role: 'viewer' }), 400, 'bad_request');
      expectProblem(await patch(randomUUID(), { role: 'viewer' }), 404, 'not_found');
      const operator = await createUser('patch-operator', 'operator');
      const operatorToken = await s.login('patch-operator', PASSWORD);
      expectProblem(await patch(u.id, { role: 'admin' }, operatorToken), 403, 'forbidden');
      expectProblem(await patch(operator.id, { role: 'admin' }, operatorToken), 403, 'forbidden');
      expectProblem(await call('PATCH', `/api/v1/users/${u.id}`, undefined, { role: 'admin' }), 401, 'unauthenticated');
      expect((await users()).filter((x) => x.id !== operator.id)).toEqual(before);
    });
  });

  describe('GET /roles', () => {
    it('gives every role with its permissions, straight from the server’s table, to any user', async () => {
      await createUser('roles-viewer', 'viewer');
      const viewer = await s.login('roles-viewer', PASSWORD);
      const res = await call('GET', '/api/v1/roles', viewer);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<{ items: { role: string; permissions: string[] }[] }>();
      expect(body).toEqual({ items: ROLES.map((role) => ({ role, permissions: permissionsOf(role) })) });
      expect(body.items.map((r) => r.role)).toEqual(['admin', 'approver', 'operator', 'viewer']);
      // Every permission is held by some role, and admin holds users:manage alone.
      expect(new Set(body.items.flatMap((r) => r.permissions))).toEqual(new Set(Object.keys(PERMISSIONS)));
      expect(body.items.filter((r) => r.permissions.includes('users:manage')).map((r) => r.role)).toEqual(['admin']);
    });

    it('refuses anonymous and forged tokens', async () => {
      expectProblem(await call('GET', '/api/v1/roles'), 401, 'unauthenticated');
      expectProblem(await call('GET', '/api/v1/roles', 'brs_forged'), 401, 'unauthenticated');
    });
  });
});
