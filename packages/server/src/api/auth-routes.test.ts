import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../testing/test-server.js';

type Method = 'GET' | 'POST' | 'DELETE';

function sessionCookieOf(res: LightMyRequestResponse): string {
  const header = res.headers['set-cookie'];
  const cookies = Array.isArray(header) ? header : header ? [header] : [];
  const cookie = cookies.find((c) => c.startsWith('brier_session='));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(header)}`);
  return cookie;
}

const PASSWORD = 'correct horse battery staple';

/** A clock the test moves by hand. */
function manualClock(start = new Date('2030-01-01T00:00:00Z')) {
  let t = start.getTime();
  return { now: () => new Date(t), advanceMs: (ms: number) => (t += ms) };
}

describe('auth routes', () => {
  const clock = manualClock();
  let s: TestServer;
  let adminToken: string;

  async function call(method: Method, url: string, token?: string, payload?: object) {
    return s.app.inject({
      method,
      url,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      ...(payload ? { payload } : {}),
    });
  }

  async function createUser(username: string, role: 'admin' | 'approver' | 'operator' | 'viewer') {
    const res = await call('POST', '/api/v1/users', adminToken, { username, password: PASSWORD, role });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; username: string; role: string }>();
  }

  beforeAll(async () => {
    // Generous limits: these tests log in often; the rate limit has its own server below.
    s = await createTestServer({ now: clock.now, config: { loginAttemptsPerMinute: 10_000 } });
    adminToken = await s.login();
  });
  afterAll(async () => {
    await s.close();
  });

  describe('login', () => {
    it('returns a session token, its expiry and the user, and sets an HttpOnly SameSite=Strict cookie', async () => {
      const res = await call('POST', '/api/v1/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ token: string; expiresAt: string; user: Record<string, unknown> }>();
      expect(body.token).toMatch(/^brs_[A-Za-z0-9_-]{43}$/);
      expect(new Date(body.expiresAt).getTime() - clock.now().getTime()).toBe(12 * 3_600_000);
      expect(body.user).toMatchObject({ username: 'admin', role: 'admin', disabled: false });
      expect(body.user).not.toHaveProperty('passwordHash');
      const cookie = sessionCookieOf(res);
      expect(cookie).toContain(`brier_session=${body.token}`);
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*SameSite=Strict/i);
      expect(cookie).toMatch(/;\s*Path=\//);
    });

    it('refuses a wrong password and an unknown user with the same 401 problem', async () => {
      const wrong = await call('POST', '/api/v1/auth/login', undefined, { username: 'admin', password: 'not the password' });
      const unknown = await call('POST', '/api/v1/auth/login', undefined, { username: 'nobody', password: 'not the password' });
      expectProblem(wrong, 401, 'invalid_credentials');
      expectProblem(unknown, 401, 'invalid_credentials');
      expect(unknown.json()).toEqual(wrong.json());
      expect(wrong.headers['set-cookie']).toBeUndefined();
    });

    it('answers a username no account can have, such as one with a NUL byte, like any unknown user', async () => {
      const res = await call('POST', '/api/v1/auth/login', undefined, { username: 'ad\u0000min', password: ADMIN_PASSWORD });
      expectProblem(res, 401, 'invalid_credentials');
    });

    it('treats usernames as case-sensitive', async () => {
      const res = await call('POST', '/api/v1/auth/login', undefined, { username: 'ADMIN', password: ADMIN_PASSWORD });
      expectProblem(res, 401, 'invalid_credentials');
    });

    it('refuses a login body with missing or extra fields with 400', async () => {
      expectProblem(await call('POST', '/api/v1/auth/login', undefined, { username: 'admin' }), 400, 'bad_request');
      expectProblem(
        await call('POST', '/api/v1/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD, role: 'admin' }),
        400,
        'bad_request',
      );
    });

    it('accepts the session cookie alone on GET /auth/me', async () => {
      const login = await call('POST', '/api/v1/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
      const token = login.json<{ token: string }>().token;
      const res = await s.app.inject({ method: 'GET', url: '/api/v1/auth/me', cookies: { brier_session: token } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ username: 'admin', role: 'admin' });
    });

    it('accepts the token as a bearer token on GET /auth/me', async () => {
      const res = await call('GET', '/api/v1/auth/me', adminToken);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ username: 'admin', role: 'admin' });
      expect(res.json()).not.toHaveProperty('passwordHash');
    });

    it('refuses a request without a token, or with an unknown one, with 401', async () => {
      expectProblem(await call('GET', '/api/v1/auth/me'), 401, 'unauthenticated');
      expectProblem(await call('GET', '/api/v1/auth/me', `brs_${'A'.repeat(43)}`), 401, 'unauthenticated');
      expectProblem(await call('GET', '/api/v1/auth/me', 'not-a-brier-token'), 401, 'unauthenticated');
    });

    it('revokes the token on logout and clears the cookie', async () => {
      const token = await s.login();
      const out = await call('POST', '/api/v1/auth/logout', token);
      expect(out.statusCode).toBe(204);
      expect(sessionCookieOf(out)).toMatch(/^brier_session=;/);
      expectProblem(await call('GET', '/api/v1/auth/me', token), 401, 'unauthenticated');
      expectProblem(
        await s.app.inject({ method: 'GET', url: '/api/v1/auth/me', cookies: { brier_session: token } }),
        401,
        'unauthenticated',
      );
      // Other sessions of the same user live on.
      expect((await call('GET', '/api/v1/auth/me', adminToken)).statusCode).toBe(200);
    });

    it('records each login in the audit log', async () => {
      await s.login();
      const res = await call('GET', '/api/v1/audit?limit=5', adminToken);
      expect(res.statusCode).toBe(200);
      const entries = res.json<{ items: Array<{ actor: string; action: string }> }>().items;
      expect(entries[0]).toMatchObject({ actor: 'admin', action: 'auth.login' });
    });
  });

  describe('users and roles', () => {
    it('lets an admin create a user of each role, who can then log in with that role', async () => {
      for (const role of ['admin', 'approver', 'operator', 'viewer'] as const) {
        const created = await createUser(`${role}-1`, role);
        expect(created).toMatchObject({ username: `${role}-1`, role });
        expect(created).not.toHaveProperty('passwordHash');
        const token = await s.login(`${role}-1`, PASSWORD);
        expect((await call('GET', '/api/v1/auth/me', token)).json()).toMatchObject({ id: created.id, role });
      }
      const list = await call('GET', '/api/v1/users', adminToken);
      expect(list.statusCode).toBe(200);
      const names = list.json<{ items: Array<{ username: string }> }>().items.map((u) => u.username);
      expect(names).toEqual(expect.arrayContaining(['admin', 'admin-1', 'approver-1', 'operator-1', 'viewer-1']));
      expect(list.body).not.toContain('scrypt$');
    });

    it('lets a viewer list hosts but forbids it to create join tokens, users or approve hosts', async () => {
      await createUser('viewer-2', 'viewer');
      const viewer = await s.login('viewer-2', PASSWORD);
      const joinToken = await s.createJoinToken({ autoApprove: false });
      const { hostId } = await s.enrollAgent(joinToken, 'pending-host');

      expect((await call('GET', '/api/v1/hosts', viewer)).statusCode).toBe(200);
      expectProblem(await call('POST', '/api/v1/enrollment-tokens', viewer, {}), 403, 'forbidden');
      expectProblem(
        await call('POST', '/api/v1/users', viewer, { username: 'sneaky', password: PASSWORD, role: 'admin' }),
        403,
        'forbidden',
      );
      expectProblem(await call('POST', `/api/v1/hosts/${hostId}/approve`, viewer), 403, 'forbidden');

      // Refused means nothing changed.
      expect((await call('GET', `/api/v1/hosts/${hostId}`, adminToken)).json()).toMatchObject({ status: 'pending' });
      expectProblem(
        await call('POST', '/api/v1/auth/login', undefined, { username: 'sneaky', password: PASSWORD }),
        401,
        'invalid_credentials',
      );
    });

    it('forbids operators and approvers to manage users', async () => {
      await createUser('operator-2', 'operator');
      await createUser('approver-2', 'approver');
      for (const name of ['operator-2', 'approver-2']) {
        const token = await s.login(name, PASSWORD);
        expectProblem(await call('GET', '/api/v1/users', token), 403, 'forbidden');
        expectProblem(
          await call('POST', '/api/v1/users', token, { username: `${name}-x`, password: PASSWORD, role: 'viewer' }),
          403,
          'forbidden',
        );
      }
    });

    it('checks the caller before the body: 401 and 403 come ahead of any validation error', async () => {
      expectProblem(await call('POST', '/api/v1/users', undefined, { username: 'Not Valid' }), 401, 'unauthenticated');
      expectProblem(await call('POST', '/api/v1/enrollment-tokens', undefined, { maxUses: 0 }), 401, 'unauthenticated');
      expectProblem(await call('GET', '/api/v1/hosts?limit=0'), 401, 'unauthenticated');
      await createUser('viewer-3', 'viewer');
      const viewer = await s.login('viewer-3', PASSWORD);
      expectProblem(await call('POST', '/api/v1/users', viewer, { username: 'Not Valid' }), 403, 'forbidden');
      expectProblem(await call('POST', '/api/v1/enrollment-tokens', viewer, { maxUses: 0 }), 403, 'forbidden');
      expectProblem(await call('POST', '/api/v1/hosts/not-a-uuid/approve', viewer), 403, 'forbidden');
    });

    it('refuses a large body from an unauthenticated caller before reading it', async () => {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ username: 'x'.repeat(2 * 1024 * 1024) }),
      });
      expectProblem(res, 401, 'unauthenticated');
    });

    it('refuses to create users without authentication', async () => {
      expectProblem(
        await call('POST', '/api/v1/users', undefined, { username: 'anon', password: PASSWORD, role: 'admin' }),
        401,
        'unauthenticated',
      );
    });

    it.each([
      ['an upper-case username', { username: 'Alice', password: PASSWORD, role: 'viewer' }],
      ['a username starting with a dash', { username: '-alice', password: PASSWORD, role: 'viewer' }],
      ['a username with a space', { username: 'al ice', password: PASSWORD, role: 'viewer' }],
      ['a username with a slash', { username: 'al/ice', password: PASSWORD, role: 'viewer' }],
      ['a username with a NUL byte', { username: 'al\u0000ice', password: PASSWORD, role: 'viewer' }],
      ['an empty username', { username: '', password: PASSWORD, role: 'viewer' }],
      ['a 65-character username', { username: 'a'.repeat(65), password: PASSWORD, role: 'viewer' }],
      ['a password of 11 characters', { username: 'shortpass', password: 'a'.repeat(11), role: 'viewer' }],
      ['an empty password', { username: 'nopass', password: '', role: 'viewer' }],
      ['an unknown role', { username: 'rooted', password: PASSWORD, role: 'root' }],
      ['an extra field', { username: 'extra', password: PASSWORD, role: 'viewer', disabled: false }],
      ['a missing role', { username: 'norole', password: PASSWORD }],
    ])('refuses %s with 400 and creates nobody', async (_name, payload) => {
      const before = (await call('GET', '/api/v1/users', adminToken)).json<{ items: unknown[] }>().items.length;
      expectProblem(await call('POST', '/api/v1/users', adminToken, payload), 400, 'bad_request');
      const after = (await call('GET', '/api/v1/users', adminToken)).json<{ items: unknown[] }>().items.length;
      expect(after).toBe(before);
    });

    it('accepts a username at the 64-character limit', async () => {
      await createUser(`b${'0'.repeat(63)}`, 'viewer');
    });

    it('refuses concurrent creations of one username with 409 for all but one', async () => {
      const create = () => call('POST', '/api/v1/users', adminToken, { username: 'racer', password: PASSWORD, role: 'viewer' });
      const results = await Promise.all([create(), create(), create()]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
      for (const res of results.filter((r) => r.statusCode === 409)) expectProblem(res, 409, 'conflict');
    });

    it('refuses a duplicate username with 409', async () => {
      await createUser('dup', 'viewer');
      expectProblem(
        await call('POST', '/api/v1/users', adminToken, { username: 'dup', password: PASSWORD, role: 'admin' }),
        409,
        'conflict',
      );
      // The original account is untouched: still a viewer with its first password.
      const token = await s.login('dup', PASSWORD);
      expect((await call('GET', '/api/v1/auth/me', token)).json()).toMatchObject({ role: 'viewer' });
    });
  });

  describe('API tokens', () => {
    it('creates a brp_ token shown once, usable as a bearer token, and listed without its secret', async () => {
      const created = await call('POST', '/api/v1/api-tokens', adminToken, { name: 'ci pipeline', expiresInDays: 30 });
      expect(created.statusCode).toBe(201);
      const body = created.json<{ id: string; token: string; name: string; expiresAt: string }>();
      expect(body.token).toMatch(/^brp_[A-Za-z0-9_-]{43}$/);
      expect(body.name).toBe('ci pipeline');
      expect(new Date(body.expiresAt).getTime() - clock.now().getTime()).toBe(30 * 86_400_000);

      const me = await call('GET', '/api/v1/auth/me', body.token);
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ username: 'admin' });

      const list = await call('GET', '/api/v1/api-tokens', adminToken);
      expect(list.statusCode).toBe(200);
      const items = list.json<{ items: Array<Record<string, unknown>> }>().items;
      const listed = items.find((t) => t.id === body.id);
      expect(listed).toBeDefined();
      expect(Object.keys(listed ?? {}).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name']);
      expect(listed?.lastUsedAt).not.toBeNull();
      expect(list.body).not.toContain(body.token);
      expect(list.body).not.toContain(body.token.slice(4));
      // Session tokens are not API tokens and are not listed.
      expect(items.every((t) => typeof t.name === 'string' && t.name !== '')).toBe(true);
    });

    it('refuses the token after it is revoked', async () => {
      const { id, token } = (await call('POST', '/api/v1/api-tokens', adminToken, { name: 'short-lived' })).json<{
        id: string;
        token: string;
      }>();
      expect((await call('GET', '/api/v1/auth/me', token)).statusCode).toBe(200);
      expect((await call('DELETE', `/api/v1/api-tokens/${id}`, adminToken)).statusCode).toBe(204);
      expectProblem(await call('GET', '/api/v1/auth/me', token), 401, 'unauthenticated');
      const list = (await call('GET', '/api/v1/api-tokens', adminToken)).json<{ items: Array<{ id: string }> }>().items;
      expect(list.map((t) => t.id)).not.toContain(id);
      // Revoking twice finds nothing live to revoke.
      expectProblem(await call('DELETE', `/api/v1/api-tokens/${id}`, adminToken), 404, 'not_found');
    });

    it("cannot revoke another user's token, which keeps working", async () => {
      const { id, token } = (await call('POST', '/api/v1/api-tokens', adminToken, { name: 'admin only' })).json<{
        id: string;
        token: string;
      }>();
      await createUser('mallory', 'admin');
      const mallory = await s.login('mallory', PASSWORD);
      expectProblem(await call('DELETE', `/api/v1/api-tokens/${id}`, mallory), 404, 'not_found');
      expect((await call('GET', '/api/v1/auth/me', token)).statusCode).toBe(200);
      const malloryList = (await call('GET', '/api/v1/api-tokens', mallory)).json<{ items: Array<{ id: string }> }>().items;
      expect(malloryList.map((t) => t.id)).not.toContain(id);
    });

    it('refuses token names that are empty, too long or contain control characters, and malformed ids', async () => {
      expectProblem(await call('POST', '/api/v1/api-tokens', adminToken, { name: '' }), 400, 'bad_request');
      expectProblem(await call('POST', '/api/v1/api-tokens', adminToken, { name: 'x'.repeat(101) }), 400, 'bad_request');
      expectProblem(await call('POST', '/api/v1/api-tokens', adminToken, { name: 'a\u0000b' }), 400, 'bad_request');
      expectProblem(await call('POST', '/api/v1/api-tokens', adminToken, { name: 'ok', expiresInDays: 0 }), 400, 'bad_request');
      expectProblem(await call('DELETE', '/api/v1/api-tokens/not-a-uuid', adminToken), 400, 'bad_request');
    });

    it('refuses to create API tokens without authentication', async () => {
      expectProblem(await call('POST', '/api/v1/api-tokens', undefined, { name: 'anon' }), 401, 'unauthenticated');
    });
  });
});

describe('token expiry', () => {
  const clock = manualClock();
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer({ now: clock.now });
  });
  afterAll(async () => {
    await s.close();
  });

  const me = (token: string) => s.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });

  it('refuses a session token once its 12 hours have passed', async () => {
    const token = await s.login();
    clock.advanceMs(12 * 3_600_000 - 1);
    expect((await me(token)).statusCode).toBe(200);
    clock.advanceMs(1);
    expectProblem(await me(token), 401, 'unauthenticated');
  });

  it('refuses an API token once its days have passed', async () => {
    const session = await s.login();
    const created = await s.app.inject({
      method: 'POST',
      url: '/api/v1/api-tokens',
      headers: { authorization: `Bearer ${session}` },
      payload: { name: 'one day', expiresInDays: 1 },
    });
    const { token } = created.json<{ token: string }>();
    clock.advanceMs(86_400_000 - 1);
    expect((await me(token)).statusCode).toBe(200);
    clock.advanceMs(1);
    expectProblem(await me(token), 401, 'unauthenticated');
  });
});

describe('login rate limit', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 3 } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('refuses the fourth attempt in a minute with 429 rate_limited, even with the right password', async () => {
    const attempt = (password: string) =>
      s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password } });
    expect((await attempt('wrong password 1')).statusCode).toBe(401);
    expect((await attempt('wrong password 2')).statusCode).toBe(401);
    expect((await attempt(ADMIN_PASSWORD)).statusCode).toBe(200);
    const fourth = await attempt(ADMIN_PASSWORD);
    expectProblem(fourth, 429, 'rate_limited');
    expect(fourth.headers['set-cookie']).toBeUndefined();
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('cannot be dodged with a forged X-Forwarded-For when no proxy is trusted', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'x-forwarded-for': '203.0.113.9' },
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expectProblem(res, 429, 'rate_limited');
  });
});
