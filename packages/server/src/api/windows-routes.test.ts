import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

const PASSWORD = 'a-long-enough-password-1';
const WINDOW_KEYS = ['createdAt', 'cron', 'durationMinutes', 'group', 'id', 'nextOpeningAt', 'timeZone'];

describe('maintenance window routes', () => {
  let s: TestServer;
  let admin: string;
  let viewer: string;

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: Record<string, unknown>) =>
    s.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) });

  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000 } });
    admin = await s.login();
    const res = await call('POST', '/api/v1/users', admin, { username: 'mw-viewer', password: PASSWORD, role: 'viewer' });
    expect(res.statusCode, res.body).toBe(201);
    viewer = await s.login('mw-viewer', PASSWORD);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('creates, lists and deletes windows, answering with exactly the allowed fields', async () => {
    const created = await call('POST', '/api/v1/maintenance-windows', admin, {
      group: 'night',
      cron: '0 2 * * *',
      durationMinutes: 120,
      timeZone: 'europe/berlin',
    });
    expect(created.statusCode, created.body).toBe(201);
    const w = created.json<Record<string, unknown>>();
    expect(Object.keys(w).sort()).toEqual(WINDOW_KEYS);
    expect(w).toMatchObject({ group: 'night', cron: '0 2 * * *', durationMinutes: 120, timeZone: 'Europe/Berlin' });

    const listed = await call('GET', '/api/v1/maintenance-windows', viewer);
    expect(listed.statusCode, listed.body).toBe(200);
    const items = listed.json<{ items: Record<string, unknown>[] }>().items;
    expect(items.map((i) => i.id)).toContain(w.id);
    expect(items.every((i) => Object.keys(i).sort().join() === WINDOW_KEYS.join())).toBe(true);

    expectProblem(await call('DELETE', `/api/v1/maintenance-windows/${String(w.id)}`, viewer), 403, 'forbidden');
    const deleted = await call('DELETE', `/api/v1/maintenance-windows/${String(w.id)}`, admin);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expectProblem(await call('DELETE', `/api/v1/maintenance-windows/${String(w.id)}`, admin), 404, 'not_found');
  });

  it('refuses invalid windows and writers without groups:manage', async () => {
    const good = { group: 'night', cron: '0 2 * * *', durationMinutes: 60, timeZone: 'UTC' };
    for (const bad of [
      { cron: 'every night' },
      { timeZone: 'Mars/Olympus' },
      { durationMinutes: 0 },
      { durationMinutes: 1.5 },
      { group: '' },
      { extra: true },
    ]) {
      expectProblem(await call('POST', '/api/v1/maintenance-windows', admin, { ...good, ...bad }), 400, 'bad_request');
    }
    expectProblem(await call('POST', '/api/v1/maintenance-windows', viewer, good), 403, 'forbidden');
    expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/maintenance-windows' }), 401, 'unauthenticated');
    expectProblem(await call('DELETE', '/api/v1/maintenance-windows/not-a-uuid', admin), 400, 'bad_request');
  });
});
