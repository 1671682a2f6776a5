import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

const PASSWORD = 'a-long-enough-password';
const MINUTE = 60_000;

interface Item {
  hostId: string;
  hostname: string;
  online: boolean;
  action: string;
  state: string;
  sequence: number;
  reason: string;
  detail: string | null;
  requestedBy: string;
  requestedAt: string;
  updatedAt: string;
  notAfter: string;
  allow: string[];
  ports: number[];
}

describe('GET /quarantine: hosts in quarantine for the console', () => {
  let s: TestServer;
  let clock = new Date('2026-11-10T08:00:00Z');
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const at: Record<string, Date> = {};

  const call = (method: 'GET' | 'POST', url: string, who = 'viewer', payload?: unknown) =>
    s.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[who]}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const page = async (query = '') => {
    const res = await call('GET', `/api/v1/quarantine${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: Item[]; total: number }>();
  };
  const names = (p: { items: Item[] }) => p.items.map((i) => i.hostname);

  /** Orders `action` for host `name` a minute after the last step; returns the order's sequence. */
  async function order(name: string, action: 'quarantine' | 'release', reason: string): Promise<number> {
    clock = new Date(clock.getTime() + MINUTE);
    at[`${name}:${action}`] = clock;
    const res = await call('POST', `/api/v1/hosts/${ids[name]}/${action}`, 'operator', { reason });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ sequence: number }>().sequence;
  }
  const report = (name: string, sequence: number, state: 'isolated' | 'released' | 'failed' | 'refused', detail?: string) =>
    s.app.services.quarantine.onStatus(ids[name] ?? '', {
      sequence,
      state,
      ...(detail === undefined ? {} : { code: 'nft', detail }),
    });

  beforeAll(async () => {
    s = await createTestServer({
      config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000, quarantineAllow: ['192.0.2.1'] },
      now: () => clock,
    });
    tokens.admin = await s.login();
    for (const role of ['operator', 'viewer'] as const) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${tokens.admin}` },
        payload: { username: role, password: PASSWORD, role },
      });
      expect(res.statusCode, res.body).toBe(201);
      tokens[role] = await s.login(role, PASSWORD);
    }
    const join = await s.createJoinToken({ autoApprove: true, maxUses: 10 });
    for (const name of ['isolating', 'isolated', 'releasing', 'released', 'failing', 'untouched']) {
      ids[name] = (await s.enrollAgent(join, `q-${name}`)).hostId;
    }
    await order('isolating', 'quarantine', 'suspicious beaconing');
    const isolated = await order('isolated', 'quarantine', 'ransomware note found');
    await report('isolated', isolated, 'isolated');
    const releasing = await order('releasing', 'quarantine', 'lost laptop');
    await report('releasing', releasing, 'isolated');
    const released = await order('released', 'quarantine', 'drill');
    await report('released', released, 'isolated');
    const failing = await order('failing', 'quarantine', 'worm');
    await report('failing', failing, 'failed', 'nft is not installed');
    await order('releasing', 'release', 'laptop found');
    const done = await order('released', 'release', 'drill over');
    await report('released', done, 'released');
  });
  afterAll(async () => {
    await s.close();
  });

  it('lists every host whose quarantine is not a completed release, newest order first', async () => {
    const all = await page();
    expect(names(all)).toEqual(['q-releasing', 'q-failing', 'q-isolated', 'q-isolating']);
    expect(all.total).toBe(4);
    const byName = new Map(all.items.map((i) => [i.hostname, i]));
    expect(byName.get('q-isolating')).toEqual({
      hostId: ids.isolating,
      hostname: 'q-isolating',
      online: false,
      action: 'isolate',
      state: 'pending',
      sequence: expect.any(Number),
      reason: 'suspicious beaconing',
      detail: null,
      requestedBy: 'operator',
      requestedAt: at['isolating:quarantine']?.toISOString(),
      updatedAt: at['isolating:quarantine']?.toISOString(),
      notAfter: new Date((at['isolating:quarantine']?.getTime() ?? 0) + 24 * 60 * MINUTE).toISOString(),
      allow: ['192.0.2.1'],
      ports: [],
    });
    expect(byName.get('q-isolated')).toMatchObject({ action: 'isolate', state: 'isolated' });
    expect(byName.get('q-releasing')).toMatchObject({ action: 'release', state: 'pending', reason: 'laptop found' });
    expect(byName.get('q-failing')).toMatchObject({ action: 'isolate', state: 'failed', detail: 'nft: nft is not installed' });
  });

  it.each([
    ['?state=isolated', ['q-isolated']],
    ['?state=pending', ['q-releasing', 'q-isolating']],
    ['?state=failed', ['q-failing']],
    ['?state=refused', []],
    ['?state=released', ['q-released']],
    ['?action=release', ['q-released', 'q-releasing']],
    ['?action=isolate', ['q-failing', 'q-isolated', 'q-isolating']],
    ['?action=isolate&state=pending', ['q-isolating']],
    ['?action=release&state=released', ['q-released']],
  ])('filters %s', async (query, expected) => {
    const got = await page(query);
    expect(names(got)).toEqual(expected);
    expect(got.total).toBe(expected.length);
  });

  it('pages with a stable total', async () => {
    const second = await page('?limit=2&offset=1');
    expect(names(second)).toEqual(['q-failing', 'q-isolated']);
    expect(second.total).toBe(4);
    expect(await page('?offset=50')).toEqual({ items: [], total: 4 });
  });

  it('is open to every role that reads policies, and to no one anonymous', async () => {
    for (const who of ['admin', 'operator', 'viewer']) expect((await call('GET', '/api/v1/quarantine', who)).statusCode).toBe(200);
    expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/quarantine' }), 401, 'unauthenticated');
  });

  it('refuses bad filters with 400', async () => {
    for (const query of [
      'state=none',
      'state=isolated%00',
      'state=ISOLATED',
      'action=isolate%27--',
      'limit=0',
      'limit=1001',
      'offset=-1',
      'host=q-isolated',
    ]) {
      expectProblem(await call('GET', `/api/v1/quarantine?${query}`), 400, 'bad_request');
    }
  });
});
