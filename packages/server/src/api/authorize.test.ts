import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../auth/roles.js';
import { queryRows, sql } from '../store/db.js';
import { expectProblem } from '../testing/expect-problem.js';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../testing/test-server.js';

/** light-my-request addresses every request to Host: localhost:80, so the server's own origin is this. */
const OWN = 'http://localhost';

describe('cross-site request refusal', () => {
  let s: TestServer;
  let session: string;

  const tokens = async () =>
    (await queryRows<{ n: number }>(s.database.db, sql`select count(*)::int as n from access_tokens where kind = 'api'`))[0]?.n;
  /** Creates an API token: a change, made with the session cookie and these headers. */
  const change = (headers: Record<string, string>, method: 'POST' | 'PUT' | 'DELETE' = 'POST') =>
    s.app.inject({
      method,
      url: {
        POST: '/api/v1/api-tokens',
        PUT: '/api/v1/hosts/00000000-0000-4000-8000-000000000000/groups',
        DELETE: '/api/v1/api-tokens/00000000-0000-4000-8000-000000000000',
      }[method],
      cookies: { brier_session: session },
      headers,
      ...(method === 'POST' ? { payload: { name: 'from the browser' } } : method === 'PUT' ? { payload: { groups: ['x'] } } : {}),
    });

  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000, publicUrl: 'https://brier.example.org/console/' } });
    session = await s.login();
  });
  afterAll(async () => {
    await s.close();
  });

  it.each<[string, Record<string, string>]>([
    ['no Origin and no Referer', {}],
    ['another site’s Origin', { origin: 'https://evil.example' }],
    ['the opaque Origin null', { origin: 'null' }],
    ['a look-alike host', { origin: 'http://localhost.evil.example' }],
    ['another port', { origin: 'http://localhost:8080' }],
    ['another scheme', { origin: 'https://localhost' }],
    ['the public host over plain http', { origin: 'http://brier.example.org' }],
    ['a malformed Origin', { origin: 'http//localhost' }],
    ['another site’s Referer', { referer: 'https://evil.example/page' }],
    ['a malformed Referer', { referer: 'not a url' }],
    ['a javascript: Referer', { referer: 'javascript:alert(1)' }],
    ['a good Referer but a bad Origin', { origin: 'https://evil.example', referer: `${OWN}/hosts` }],
  ])('refuses a cookie-authenticated change with %s, changing nothing', async (_what, headers) => {
    const before = await tokens();
    const res = await change(headers);
    const problem = expectProblem(res, 403, 'forbidden');
    expect(problem.detail).toBe('cross-site request refused');
    expect(await tokens()).toBe(before);
  });

  it.each(['PUT', 'DELETE'] as const)('refuses a cookie-authenticated %s without an Origin', async (method) => {
    expect((await change({}, method)).statusCode).toBe(403);
  });

  it.each<[string, Record<string, string>]>([
    ['the server’s own Origin', { origin: OWN }],
    ['the server’s own Origin with its default port', { origin: 'http://localhost:80' }],
    ['the public URL’s origin', { origin: 'https://brier.example.org' }],
    ['a Referer of the server’s own page', { referer: `${OWN}/deployments/new?x=1` }],
    ['a Referer of the public URL', { referer: 'https://brier.example.org/console/hosts' }],
  ])('accepts a cookie-authenticated change with %s', async (_what, headers) => {
    const res = await change(headers);
    expect(res.statusCode, res.body).toBe(201);
  });

  it('accepts reads with the cookie from anywhere (the browser’s same-origin policy guards their answers)', async () => {
    const res = await s.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      cookies: { brier_session: session },
      headers: { origin: 'https://evil.example' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('leaves bearer-token clients (the CLI) alone, whatever Origin they send', async () => {
    for (const headers of [{}, { origin: 'https://evil.example' }, { origin: 'null' }]) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: { authorization: `Bearer ${session}`, ...headers },
        payload: { name: 'from the cli' },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
  });

  it('believes X-Forwarded-Host only behind a trusted proxy', async () => {
    const forged = await change({ origin: 'https://evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
    expect(forged.statusCode).toBe(403);
    const proxied = await createTestServer({ config: { trustProxy: true } });
    try {
      const token = await proxied.login();
      const res = await proxied.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        cookies: { brier_session: token },
        headers: { origin: 'https://brier.internal', 'x-forwarded-host': 'brier.internal', 'x-forwarded-proto': 'https' },
        payload: { name: 'behind nginx' },
      });
      expect(res.statusCode, res.body).toBe(201);
    } finally {
      await proxied.close();
    }
  });

  describe('POST /auth/login', () => {
    const login = (headers: Record<string, string>, password = ADMIN_PASSWORD) =>
      s.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers, payload: { username: 'admin', password } });
    const sessions = async () =>
      (await queryRows<{ n: number }>(s.database.db, sql`select count(*)::int as n from access_tokens where kind = 'session'`))[0]?.n;

    it.each<[string, Record<string, string>]>([
      ['no Origin (the CLI)', {}],
      ['the server’s own Origin', { origin: OWN }],
      ['the public URL’s origin', { origin: 'https://brier.example.org' }],
      ['only a foreign Referer (Origin decides here)', { referer: 'https://evil.example/' }],
    ])('logs in with %s', async (_what, headers) => {
      expect((await login(headers)).statusCode).toBe(200);
    });

    it.each<[string, Record<string, string>]>([
      ['another site’s Origin', { origin: 'https://evil.example' }],
      ['the opaque Origin null', { origin: 'null' }],
    ])('refuses a login from %s before checking the password, creating no session', async (_what, headers) => {
      const before = await sessions();
      expectProblem(await login(headers), 403, 'forbidden');
      expectProblem(await login(headers, 'wrong'), 403, 'forbidden');
      expect(await sessions()).toBe(before);
    });
  });
});

describe('GET /auth/me permissions', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000 } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('lists every permission of the caller’s role, in catalogue order', async () => {
    const admin = await s.login();
    const me = async (token: string) =>
      (await s.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } })).json<{
        username: string;
        permissions: string[];
      }>();
    expect((await me(admin)).permissions).toEqual(Object.keys(PERMISSIONS));
    for (const role of ['viewer', 'operator', 'approver'] as const) {
      const created = await s.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${admin}` },
        payload: { username: `${role}-1`, password: 'a password for tests', role },
      });
      expect(created.statusCode).toBe(201);
      const body = await me(await s.login(`${role}-1`, 'a password for tests'));
      expect(body.permissions).toEqual(
        Object.entries(PERMISSIONS)
          .filter(([, roles]) => (roles as readonly string[]).includes(role))
          .map(([p]) => p),
      );
    }
    const viewer = await me(await s.login('viewer-1', 'a password for tests'));
    expect(viewer.permissions).toEqual(['hosts:read', 'deployments:read', 'vulns:read', 'policies:read']);
  });
});
