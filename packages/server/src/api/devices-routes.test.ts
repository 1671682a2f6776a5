import {
  type ErrorCode,
  type HostFacts,
  inventoryHash,
  MAX_FRAME_BYTES,
  MAX_NEIGHBORS,
  type Neighbor,
  wsCloseCodeOf,
} from '@brier/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, RawAgentSocket, type TestServer } from '../testing/test-server.js';

const PASSWORD = 'a-long-enough-password';
type Agent = Awaited<ReturnType<TestServer['enrollAgent']>>;

interface Device {
  mac: string;
  ip: string;
  firstSeenAt: string;
  lastSeenAt: string;
  seenBy: Array<{ hostId: string; hostname: string }>;
  mark?: { state: string; note: string | null; markedBy: string };
}

let s: TestServer;
let url: string;
let joinToken: string;
const tokens: Record<string, string> = {};
const sockets: RawAgentSocket[] = [];
let n = 0;

beforeAll(async () => {
  s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000 } });
  url = await s.listen();
  tokens.admin = await s.login();
  for (const role of ['operator', 'viewer'] as const) {
    const res = await call('POST', '/api/v1/users', 'admin', { username: role, password: PASSWORD, role });
    expect(res.statusCode, res.body).toBe(201);
    tokens[role] = await s.login(role, PASSWORD);
  }
  joinToken = await s.createJoinToken({ autoApprove: true, maxUses: 1000 });
});
afterEach(() => {
  for (const sock of sockets.splice(0)) sock.close();
});
afterAll(async () => {
  await s.close();
});

function call(method: 'GET' | 'POST' | 'PUT', path: string, who: string, payload?: unknown) {
  return s.app.inject({
    method,
    url: path,
    headers: { authorization: `Bearer ${tokens[who]}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

/** An enrolled agent whose inventory facts name one interface with this MAC and IP. */
async function enrol(mac: string, ip: string): Promise<Agent> {
  const agent = await s.enrollAgent(joinToken, `dr-${++n}`);
  const facts: HostFacts = {
    hostname: `dr-${n}`,
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12' },
    hardware: {},
    network: [{ name: 'eth0', mac, ipv4: [ip], ipv6: [] }],
    agentVersion: 'test',
  };
  await s.app.services.inventory.ingestFull(agent.hostId, [], facts, inventoryHash([]));
  return agent;
}

async function connect(agent: Agent): Promise<RawAgentSocket> {
  const sock = new RawAgentSocket(url);
  sockets.push(sock);
  await sock.opened();
  await sock.authenticate(agent.hostId, agent.keys.privateKeyPem, s.identity.fingerprint);
  await sock.next('auth.ok');
  return sock;
}

async function report(sock: RawAgentSocket, neighbors: Neighbor[]) {
  sock.sendRaw(sock.codec.encode('neighbors.report', { neighbors }));
  sock.sendRaw(sock.codec.encode('updates.report', { updates: [], sources: [], collectedAt: new Date().toISOString(), truncated: false }));
  await sock.next('updates.ack');
}

function raw(type: string, body: unknown): string {
  return JSON.stringify({ v: 1, type, id: 'm1', body });
}

async function expectRefused(sock: RawAgentSocket, code: ErrorCode) {
  const error = await sock.next('error');
  expect(error.code).toBe(code);
  expect((await sock.closed).code).toBe(wsCloseCodeOf(code));
}

async function unmanaged(query = ''): Promise<Device[]> {
  const res = await call('GET', `/api/v1/devices/unmanaged${query}`, 'viewer');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: Device[] }>().items;
}

const neighbor = (mac: string, ip: string): Neighbor => ({ mac, ip, interface: 'eth0', state: 'REACHABLE' });
/** A MAC (locally administered) and an IP per index, unique to this file. */
const mac = (i: number) => `0a:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const ip = (i: number) => `10.77.${(i >> 8) & 255}.${i & 255}`;

describe('unmanaged devices', () => {
  it('lists what agents saw in the documented shape, without enrolled hosts, and marks take devices off', async () => {
    const agent = await enrol('0A:00:00:00:FF:01', '10.77.255.1');
    const sock = await connect(agent);
    await report(sock, [neighbor(mac(1), ip(1)), neighbor('0a:00:00:00:ff:01', '10.77.255.1'), neighbor('ff:ff:ff:ff:ff:ff', ip(2))]);
    const items = (await unmanaged()).filter((d) => d.ip.startsWith('10.77.'));
    expect(items).toHaveLength(1);
    expect(Object.keys(items[0] ?? {}).sort()).toEqual(['firstSeenAt', 'ip', 'lastSeenAt', 'mac', 'seenBy']);
    expect(items[0]).toMatchObject({ mac: mac(1), ip: ip(1), seenBy: [{ hostId: agent.hostId, hostname: `dr-${n}` }] });

    const marked = await call('PUT', `/api/v1/devices/${mac(1).toUpperCase().replaceAll(':', '-')}/mark`, 'operator', {
      state: 'known',
      note: 'the lab printer',
    });
    expect(marked.statusCode, marked.body).toBe(200);
    expect(marked.json()).toMatchObject({ mac: mac(1), state: 'known', note: 'the lab printer', markedBy: 'operator' });
    expect((await unmanaged()).filter((d) => d.mac === mac(1))).toEqual([]);
    expect((await unmanaged('?include=ignored')).filter((d) => d.mac === mac(1))).toEqual([]);
    const withKnown = (await unmanaged('?include=known,ignored')).filter((d) => d.mac === mac(1));
    expect(withKnown[0]?.mark).toMatchObject({ state: 'known', note: 'the lab printer', markedBy: 'operator' });

    const cleared = await call('PUT', `/api/v1/devices/${mac(1)}/mark`, 'operator', { state: null });
    expect(cleared.json()).toEqual({ mac: mac(1), state: null, note: null, markedBy: null, markedAt: null });
    expect((await unmanaged()).filter((d) => d.mac === mac(1))).toHaveLength(1);
    const audit = await call('GET', '/api/v1/audit?limit=10', 'admin');
    expect(audit.json<{ items: Array<{ action: string; target: string }> }>().items).toContainEqual(
      expect.objectContaining({ action: 'device.mark', target: mac(1) }),
    );
  });

  it('pages the list with a total that stays the same on every page', async () => {
    const agent = await enrol(mac(400), ip(400));
    const sock = await connect(agent);
    await report(sock, [neighbor(mac(401), ip(401)), neighbor(mac(402), ip(402)), neighbor(mac(403), ip(403))]);
    const page = async (query: string) => {
      const res = await call('GET', `/api/v1/devices/unmanaged${query}`, 'viewer');
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ items: Device[]; total: number }>();
    };
    const all = await page('?limit=10000');
    expect(all.total).toBe(all.items.length);
    expect(all.total).toBeGreaterThanOrEqual(3);
    const second = await page('?limit=2&offset=1');
    expect(second.total).toBe(all.total);
    expect(second.items.map((d) => d.ip)).toEqual(all.items.slice(1, 3).map((d) => d.ip));
    expect(await page(`?offset=${all.total + 10}`)).toEqual({ items: [], total: all.total });
    expect((await page('?include=known,ignored&limit=10000')).total).toBeGreaterThanOrEqual(all.total);
    expectProblem(await call('GET', '/api/v1/devices/unmanaged?limit=0', 'viewer'), 400, 'bad_request');
    expectProblem(await call('GET', '/api/v1/devices/unmanaged?offset=-1', 'viewer'), 400, 'bad_request');
  });

  it('refuses bad marks and lets only admins and operators mark', async () => {
    expectProblem(await call('PUT', `/api/v1/devices/${mac(3)}/mark`, 'viewer', { state: 'ignored' }), 403, 'forbidden');
    expectProblem(await call('PUT', '/api/v1/devices/not-a-mac/mark', 'operator', { state: 'ignored' }), 400, 'bad_request');
    expectProblem(await call('PUT', `/api/v1/devices/${mac(3)}/mark`, 'operator', { state: 'trusted' }), 400, 'bad_request');
    expectProblem(await call('PUT', `/api/v1/devices/${mac(3)}/mark`, 'operator', {}), 400, 'bad_request');
    expectProblem(
      await call('PUT', `/api/v1/devices/${mac(3)}/mark`, 'operator', { state: 'known', note: 'a\u0000b' }),
      400,
      'bad_request',
    );
    expectProblem(await call('GET', '/api/v1/devices/unmanaged?include=everything', 'viewer'), 400, 'bad_request');
    expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/devices/unmanaged' }), 401, 'unauthenticated');
  });
});

describe('neighbour reports the wire refuses', () => {
  it('refuses a report with garbage MACs whole: an error, the connection closed, nothing stored', async () => {
    const agent = await enrol(mac(100), ip(100));
    const sock = await connect(agent);
    const garbage = [
      neighbor(mac(101), ip(101)),
      { mac: 'ZZ:ZZ:ZZ:ZZ:ZZ:ZZ', ip: ip(102), interface: 'eth0' },
      { mac: '0a:00:00:00:00:66; rm -rf /', ip: ip(103), interface: 'eth0' },
      { mac: '0A:00:00:00:00:67', ip: ip(104), interface: 'eth0' },
    ];
    sock.sendRaw(raw('neighbors.report', { neighbors: garbage }));
    await expectRefused(sock, 'invalid_message');
    expect((await unmanaged()).filter((d) => d.ip === ip(101))).toEqual([]);
  });

  it('refuses a report with garbage IPs or an extra field', async () => {
    const agent = await enrol(mac(110), ip(110));
    for (const bad of [
      { mac: mac(111), ip: '10.0.0.1; reboot', interface: 'eth0' },
      { mac: mac(111), ip: ip(111), interface: 'eth0', hostId: agent.hostId },
    ]) {
      const sock = await connect(agent);
      sock.sendRaw(raw('neighbors.report', { neighbors: [neighbor(mac(112), ip(112)), bad] }));
      await expectRefused(sock, 'invalid_message');
    }
    expect((await unmanaged()).filter((d) => d.ip === ip(112))).toEqual([]);
  });

  it(`refuses ${MAX_NEIGHBORS + 1} entries (over MAX_NEIGHBORS, under the frame limit) whole`, async () => {
    const agent = await enrol(mac(200), ip(200));
    const sock = await connect(agent);
    const many = Array.from({ length: MAX_NEIGHBORS + 1 }, (_, i) => ({ mac: mac(i), ip: ip(i), interface: 'e' }));
    const frame = raw('neighbors.report', { neighbors: many });
    expect(Buffer.byteLength(frame)).toBeLessThan(MAX_FRAME_BYTES);
    sock.sendRaw(frame);
    await expectRefused(sock, 'invalid_message');
    expect((await unmanaged('?limit=10000')).filter((d) => d.seenBy.some((b) => b.hostId === agent.hostId))).toEqual([]);
  });

  it('refuses 100,000 entries (over the 1 MiB frame) with 1009, storing nothing', async () => {
    const agent = await enrol(mac(300), ip(300));
    const sock = await connect(agent);
    const flood = Array.from({ length: 100_000 }, (_, i) => ({
      mac: mac(i % 65_536),
      ip: `10.78.${(i >> 8) & 255}.${i & 255}`,
      interface: 'eth0',
    }));
    sock.sendRaw(raw('neighbors.report', { neighbors: flood }));
    expect((await sock.closed).code).toBe(1009);
    expect((await unmanaged('?limit=10000')).filter((d) => d.seenBy.some((b) => b.hostId === agent.hostId))).toEqual([]);
    // The server goes on serving the same agent.
    const again = await connect(agent);
    await report(again, [neighbor(mac(301), ip(301))]);
    expect((await unmanaged()).filter((d) => d.ip === ip(301))).toHaveLength(1);
  });
});
