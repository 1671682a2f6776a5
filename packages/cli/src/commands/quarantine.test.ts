import { describe, expect, it } from 'vitest';
import { problem, rawControls, useFakeApi } from '../__fixtures__/fake-api.js';

const HOST_ID = '5d1e9c2a-7b3f-4e60-8a91-0c2d3e4f5a6b';

const ISOLATING = {
  hostId: HOST_ID,
  action: 'isolate',
  state: 'pending',
  sequence: 7,
  reason: 'ransomware beacon seen',
  detail: null,
  requestedBy: 'alice',
  requestedAt: '2026-11-27T10:00:00.000Z',
  updatedAt: '2026-11-27T10:00:00.000Z',
  notAfter: '2026-11-28T10:00:00.000Z',
  allow: ['192.0.2.10', '2001:db8::10'],
  ports: [443],
};

const ISOLATED = { ...ISOLATING, state: 'isolated', detail: 'nftables table brier_quarantine loaded\u001b[1A' };
const RELEASING = { ...ISOLATING, action: 'release', state: 'pending', sequence: 8, reason: 'cleaned' };

const REQUESTS = [
  {
    id: 'r-1',
    hostId: HOST_ID,
    hostname: 'laptop-7',
    policy: { id: 'p-1', name: 'Antivirus healthy' },
    reason: 'antivirus unhealthy for 60 minutes',
    state: 'pending',
    requestedAt: '2026-11-27T09:00:00.000Z',
    decidedBy: null,
    decidedAt: null,
  },
  {
    id: 'r-2',
    hostId: 'h-2',
    hostname: 'h-2\u001b[1m',
    policy: { id: 'p-1', name: null },
    reason: 'x',
    state: 'rejected',
    requestedAt: '2026-11-26T09:00:00.000Z',
    decidedBy: 'bob',
    decidedAt: '2026-11-26T09:10:00.000Z',
  },
];

const { api, cli } = useFakeApi({
  [`POST /api/v1/hosts/${HOST_ID}/quarantine`]: { body: ISOLATING },
  [`GET /api/v1/hosts/${HOST_ID}/quarantine`]: { body: ISOLATED },
  [`POST /api/v1/hosts/${HOST_ID}/release`]: { body: RELEASING },
  'GET /api/v1/quarantine/requests': { body: { items: REQUESTS } },
  'POST /api/v1/quarantine/requests/r-1/approve': { body: { request: { ...REQUESTS[0], state: 'approved' }, quarantine: ISOLATING } },
  'POST /api/v1/quarantine/requests/r-1/reject': (req) => ({ body: { ...REQUESTS[0], state: 'rejected', echo: req.body } }),
});

describe('brier quarantine HOST_ID', () => {
  it('orders the isolation with the reason and shows what the server holds', async () => {
    const { code, stdout } = await cli(['quarantine', HOST_ID, '--reason', 'ransomware beacon seen']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({
      method: 'POST',
      rawUrl: `/api/v1/hosts/${HOST_ID}/quarantine`,
      body: { reason: 'ransomware beacon seen' },
    });
    expect(stdout).toContain(`Quarantine of host ${HOST_ID} ordered; the agent reports back (state now: pending).`);
    expect(stdout).toMatch(/^Last order +isolate \(sequence 7\)$/m);
    expect(stdout).toMatch(/^Still reachable +192\.0\.2\.10, 2001:db8::10 \(TCP 443\)$/m);
  });

  it('needs a reason, and refuses an empty or control-laden one, before contacting the server', async () => {
    for (const args of [
      [HOST_ID],
      [HOST_ID, '--reason', ''],
      [HOST_ID, '--reason', '  '],
      [HOST_ID, '--reason', 'x\u001b[31m'],
      [HOST_ID, '--reason', 'x'.repeat(501)],
      [HOST_ID, '--reason', 'x', '--status'],
      ['..', '--reason', 'x'],
      [],
      [HOST_ID, 'extra', '--reason', 'x'],
    ]) {
      const { code, stderr } = await cli(['quarantine', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier quarantine HOST_ID --reason TEXT');
    }
    expect(api.requests).toHaveLength(0);
  });

  it('shows the status with --status, escaping what the agent said', async () => {
    const { code, stdout } = await cli(['quarantine', HOST_ID, '--status']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'GET', rawUrl: `/api/v1/hosts/${HOST_ID}/quarantine` });
    expect(stdout).toMatch(/^State +isolated$/m);
    expect(stdout).toContain('Agent says');
    expect(stdout).toContain('loaded\\x1b[1A');
    expect(rawControls(stdout)).toEqual([]);
  });

  it("prints the server's object under --json", async () => {
    const { stdout } = await cli(['quarantine', HOST_ID, '--status', '--json']);
    expect(JSON.parse(stdout)).toEqual(ISOLATED);
  });

  it('exits 1 with the problem when the server refuses', async () => {
    api.routes.set(`POST /api/v1/hosts/${HOST_ID}/quarantine`, problem(409, 'Conflict', 'conflict', 'host is revoked'));
    const { code, stderr } = await cli(['quarantine', HOST_ID, '--reason', 'x']);
    expect(code).toBe(1);
    expect(stderr).toBe('brier: Conflict: host is revoked (code conflict, HTTP 409)\n');
  });
});

describe('brier release', () => {
  it('orders the release, with or without a reason', async () => {
    const { code, stdout } = await cli(['release', HOST_ID, '--reason', 'cleaned']);
    expect(code).toBe(0);
    expect(await cli(['release', HOST_ID])).toMatchObject({ code: 0 });
    expect(api.requests.map((r) => [r.method, r.rawUrl, r.body])).toEqual([
      ['POST', `/api/v1/hosts/${HOST_ID}/release`, { reason: 'cleaned' }],
      ['POST', `/api/v1/hosts/${HOST_ID}/release`, {}],
    ]);
    expect(stdout).toContain(`Release of host ${HOST_ID} ordered`);
    expect(stdout).toMatch(/^Last order +release \(sequence 8\)$/m);
  });

  it('refuses a bad reason or id before contacting the server', async () => {
    for (const args of [[HOST_ID, '--reason', '\u202e'], ['.'], []]) {
      expect((await cli(['release', ...args])).code, args.join(' ')).toBe(2);
    }
    expect(api.requests).toHaveLength(0);
  });
});

describe('brier quarantine requests', () => {
  it('lists the requests, naming hosts and policies where the server does', async () => {
    const { code, stdout } = await cli(['quarantine', 'requests']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +HOST +POLICY +STATE +REQUESTED +DECIDED BY +REASON$/);
    expect(lines[1]).toMatch(/^r-1 +laptop-7 +Antivirus healthy +pending +2026-11-27T09:00:00Z +- +antivirus unhealthy for 60 minutes$/);
    expect(lines[2]).toMatch(/^r-2 +h-2\\x1b\[1m +p-1 +rejected/);
    expect(rawControls(stdout)).toEqual([]);
    expect(JSON.parse((await cli(['quarantine', 'requests', '--json'])).stdout)).toEqual(REQUESTS);
  });

  it('filters by state, and refuses an unknown state before contacting the server', async () => {
    expect((await cli(['quarantine', 'requests', '--state', 'sideways'])).code).toBe(2);
    expect(api.requests).toHaveLength(0);
    expect((await cli(['quarantine', 'requests', '--state', 'pending'])).code).toBe(0);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/quarantine/requests?state=pending');
  });

  it('approves a request', async () => {
    const { code, stdout } = await cli(['quarantine', 'requests', 'approve', 'r-1']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', rawUrl: '/api/v1/quarantine/requests/r-1/approve' });
    expect(stdout).toContain('Request r-1 approved; the host is being isolated.');
    expect(stdout).toMatch(/^State +pending$/m);
  });

  it('rejects a request, with an optional reason', async () => {
    const { code, stdout } = await cli(['quarantine', 'requests', 'reject', 'r-1', '--reason', 'false positive']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ rawUrl: '/api/v1/quarantine/requests/r-1/reject', body: { reason: 'false positive' } });
    expect(stdout).toBe('Request r-1 rejected (state rejected).\n');
  });

  it('refuses unknown words, missing ids and unusable ids with exit 2', async () => {
    for (const args of [['delete', 'r-1'], ['approve'], ['approve', '..'], ['reject', 'r-1', '--reason', '\u0007']]) {
      const { code } = await cli(['quarantine', 'requests', ...args]);
      expect(code, args.join(' ')).toBe(2);
    }
    expect(api.requests).toHaveLength(0);
  });
});
