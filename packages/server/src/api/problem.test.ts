import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

describe('problem+json errors', () => {
  let s: TestServer;
  let token: string;
  beforeAll(async () => {
    s = await createTestServer();
    token = await s.login();
  });
  afterAll(async () => {
    await s.close();
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/api/v1/no-such-thing?x=1' });
    const body = expectProblem(res, 404, 'not_found');
    expect(body.detail).toBe('no route for GET /api/v1/no-such-thing');
  });

  it('answers a body that is not JSON with a 400 problem', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "admin", "password": ',
    });
    expectProblem(res, 400, 'bad_request');
  });

  it('refuses a JSON body that tries to set __proto__ with a 400 problem', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "admin", "password": "x", "__proto__": {"role": "admin"}}',
    });
    expectProblem(res, 400, 'bad_request');
  });

  it('answers an empty JSON body with a 400 problem', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: '',
    });
    expectProblem(res, 400, 'bad_request');
  });

  it('answers a body over 1 MiB with a 413 problem', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'admin', password: 'x'.repeat(1024 * 1024) }),
    });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('answers an unsupported content type with a problem, not a crash', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/xml' },
      payload: '<login/>',
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers a malformed Authorization header with a 401 problem', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expectProblem(res, 401, 'unauthenticated');
  });
});
