import { randomUUID } from 'node:crypto';
import { type QuarantineOrder, type RuleKind, type RuleResult, verifyQuarantineOrder } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, RawAgentSocket, type TestServer } from '../testing/test-server.js';

const PASSWORD = 'a-long-enough-password';
type Agent = Awaited<ReturnType<TestServer['enrollAgent']>>;

interface Fixture {
  s: TestServer;
  url: string;
  joinToken: string;
  tokens: Record<string, string>;
}

/** The protocol types RuleResult's `kind` as `never` (a union built from a mapped array); the schema accepts every kind. */
const ruleResult = (r: Omit<RuleResult, 'kind'> & { kind: RuleKind }) => r as RuleResult;

const sockets: RawAgentSocket[] = [];
const servers: TestServer[] = [];
let n = 0;

async function fixture(options: Parameters<typeof createTestServer>[0] = {}): Promise<Fixture> {
  const s = await createTestServer({
    ...options,
    config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000, ...options.config },
  });
  servers.push(s);
  const url = await s.listen();
  const tokens: Record<string, string> = { admin: await s.login() };
  for (const role of ['approver', 'operator', 'viewer'] as const) {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${tokens.admin}` },
      payload: { username: role, password: PASSWORD, role },
    });
    expect(res.statusCode, res.body).toBe(201);
    tokens[role] = await s.login(role, PASSWORD);
  }
  return { s, url, tokens, joinToken: await s.createJoinToken({ autoApprove: true, maxUses: 1000 }) };
}

afterAll(async () => {
  for (const sock of sockets) sock.close();
  for (const s of servers) await s.close();
});

function api(f: Fixture) {
  return (method: 'GET' | 'POST' | 'PUT', path: string, who: string, payload?: unknown) =>
    f.s.app.inject({
      method,
      url: path,
      headers: { authorization: `Bearer ${f.tokens[who]}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
}

async function connect(f: Fixture, agent: Agent): Promise<RawAgentSocket> {
  const sock = new RawAgentSocket(f.url);
  sockets.push(sock);
  await sock.opened();
  await sock.authenticate(agent.hostId, agent.keys.privateKeyPem, f.s.identity.fingerprint);
  await sock.next('auth.ok');
  return sock;
}

async function settle(sock: RawAgentSocket) {
  sock.sendRaw(sock.codec.encode('updates.report', { updates: [], sources: [], collectedAt: new Date().toISOString(), truncated: false }));
  await sock.next('updates.ack');
}

function verified(f: Fixture, signed: unknown, hostId: string, now = new Date()): QuarantineOrder {
  const verdict = verifyQuarantineOrder(signed, { pinnedServerPublicKey: f.s.identity.publicKey, hostId, now });
  if (!verdict.ok) throw new Error(`order does not verify: ${verdict.reason}`);
  return verdict.document;
}

describe('quarantine without configured addresses', () => {
  let f: Fixture;
  let call: ReturnType<typeof api>;
  beforeAll(async () => {
    f = await fixture();
    call = api(f);
  });

  it('isolates a connected host, allowing the address and port its agent reached, and records what the agent did', async () => {
    const agent = await f.s.enrollAgent(f.joinToken, `qr-${++n}`);
    const sock = await connect(f, agent);
    const res = await call('POST', `/api/v1/hosts/${agent.hostId}/quarantine`, 'operator', { reason: 'beaconing to a C2 server' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ hostId: agent.hostId, action: 'isolate', state: 'pending', requestedBy: 'operator' });
    const { signed } = (await sock.next('quarantine.order')) as { signed: unknown };
    const order = verified(f, signed, agent.hostId);
    const port = Number(new URL(f.url).port);
    expect(order).toMatchObject({ action: 'isolate', allow: ['127.0.0.1'], ports: [port], reason: 'beaconing to a C2 server' });

    sock.sendRaw(sock.codec.encode('quarantine.status', { sequence: order.sequence, state: 'isolated' }));
    await settle(sock);
    const view = await call('GET', `/api/v1/hosts/${agent.hostId}/quarantine`, 'viewer');
    expect(view.json()).toMatchObject({ action: 'isolate', state: 'isolated', sequence: order.sequence, allow: ['127.0.0.1'] });

    expectProblem(await call('POST', `/api/v1/hosts/${agent.hostId}/quarantine`, 'operator', { reason: 'again' }), 409, 'conflict');
    // A release with no body at all.
    const released = await call('POST', `/api/v1/hosts/${agent.hostId}/release`, 'operator');
    expect(released.statusCode, released.body).toBe(200);
    const release = verified(f, ((await sock.next('quarantine.order')) as { signed: unknown }).signed, agent.hostId);
    expect(release).toMatchObject({ action: 'release', reason: 'released by operator' });
    expect(release.sequence).toBeGreaterThan(order.sequence);
    const audit = await call('GET', '/api/v1/audit?limit=20', 'admin');
    const actions = audit
      .json<{ items: Array<{ action: string; target: string }> }>()
      .items.filter((e) => e.target === agent.hostId)
      .map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['host.quarantine', 'host.release']));
  });

  it('refuses a viewer or an approver, whatever the request says', async () => {
    const agent = await f.s.enrollAgent(f.joinToken, `qr-${++n}`);
    expectProblem(await call('POST', `/api/v1/hosts/${agent.hostId}/release`, 'viewer', { reason: 'let me out' }), 403, 'forbidden');
    expectProblem(await call('POST', `/api/v1/hosts/${agent.hostId}/quarantine`, 'viewer', { reason: 'x' }), 403, 'forbidden');
    expectProblem(await call('POST', `/api/v1/hosts/${agent.hostId}/quarantine`, 'approver', { reason: 'x' }), 403, 'forbidden');
    expect((await call('GET', `/api/v1/hosts/${agent.hostId}/quarantine`, 'viewer')).json()).toMatchObject({ action: null, state: 'none' });
  });

  it('cannot isolate an offline host when it cannot tell the server address, and says how to fix it', async () => {
    const agent = await f.s.enrollAgent(f.joinToken, `qr-${++n}`);
    const res = await call('POST', `/api/v1/hosts/${agent.hostId}/quarantine`, 'operator', { reason: 'x' });
    expect(expectProblem(res, 409, 'conflict').detail).toContain('BRIER_QUARANTINE_ALLOW');
  });

  it('refuses bad input: no reason, control characters, unknown hosts, extra fields', async () => {
    const agent = await f.s.enrollAgent(f.joinToken, `qr-${++n}`);
    const path = `/api/v1/hosts/${agent.hostId}/quarantine`;
    expectProblem(await call('POST', path, 'operator', {}), 400, 'bad_request');
    expectProblem(await call('POST', path, 'operator', { reason: 'a\nb' }), 400, 'bad_request');
    expectProblem(await call('POST', path, 'operator', { reason: 'x', allow: ['0.0.0.0'] }), 400, 'bad_request');
    expectProblem(await call('POST', `/api/v1/hosts/${randomUUID()}/quarantine`, 'operator', { reason: 'x' }), 404, 'not_found');
    expectProblem(await call('POST', `/api/v1/hosts/${randomUUID()}/release`, 'operator', {}), 404, 'not_found');
  });
});

describe('quarantine with BRIER_QUARANTINE_ALLOW and policy requests', () => {
  let f: Fixture;
  let call: ReturnType<typeof api>;
  let clock = new Date();
  beforeAll(async () => {
    f = await fixture({ config: { quarantineAllow: ['192.0.2.1'], publicUrl: 'https://brier.example.org:8443' }, now: () => clock });
    call = api(f);
  });

  it('isolates an offline host and delivers the order when its agent syncs', async () => {
    const agent = await f.s.enrollAgent(f.joinToken, `qr-${++n}`);
    const res = await call('POST', `/api/v1/hosts/${agent.hostId}/quarantine`, 'admin', { reason: 'stolen laptop' });
    expect(res.json()).toMatchObject({ state: 'pending', allow: ['192.0.2.1'], ports: [8443] });
    const sock = await connect(f, agent);
    sock.sendRaw(sock.codec.encode('desired-state.sync', { bundleSequence: 0, quarantineSequence: 0, isolated: false }));
    const order = verified(f, ((await sock.next('quarantine.order')) as { signed: unknown }).signed, agent.hostId, clock);
    expect(order).toMatchObject({ action: 'isolate', allow: ['192.0.2.1'], ports: [8443] });
  });

  it('asks an approver when antivirus stays unhealthy, and the approval isolates the host', async () => {
    const agent = await f.s.enrollAgent(f.joinToken, `qr-${++n}`);
    const created = await call('POST', '/api/v1/policies', 'operator', {
      name: `av ${++n}`,
      mode: 'enforce',
      rules: [{ kind: 'antivirus', provider: 'auto' }],
      targets: { hostIds: [agent.hostId] },
      quarantineAfterMinutes: 60,
    });
    expect(created.statusCode, created.body).toBe(201);
    const policy = created.json<{ id: string; version: number }>();
    const sock = await connect(f, agent);
    sock.sendRaw(sock.codec.encode('desired-state.sync', { bundleSequence: 0, quarantineSequence: 0, isolated: false }));
    const bundle = ((await sock.next('policy.bundle')) as { signed: { document: { sequence: number } } }).signed.document;
    const report = () =>
      sock.codec.encode('compliance.report', {
        bundleSequence: bundle.sequence,
        results: [
          ruleResult({
            policyId: policy.id,
            policyVersion: 1,
            rule: 0,
            kind: 'antivirus',
            status: 'noncompliant',
            detail: 'clamd is not running',
            checkedAt: clock.toISOString(),
          }),
        ],
      });
    sock.sendRaw(report());
    await settle(sock);
    const pending = async () =>
      (await call('GET', '/api/v1/quarantine/requests?state=pending', 'viewer'))
        .json<{ items: Array<{ id: string; hostId: string; policy: { id: string }; state: string }> }>()
        .items.filter((r) => r.hostId === agent.hostId);
    expect(await pending()).toEqual([]);

    clock = new Date(clock.getTime() + 61 * 60_000);
    sock.sendRaw(report());
    sock.sendRaw(report());
    await settle(sock);
    const requests = await pending();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ policy: { id: policy.id }, state: 'pending' });
    const id = requests[0]?.id ?? '';

    expectProblem(await call('POST', `/api/v1/quarantine/requests/${id}/approve`, 'operator'), 403, 'forbidden');
    expectProblem(await call('POST', `/api/v1/quarantine/requests/${id}/approve`, 'viewer'), 403, 'forbidden');
    const approved = await call('POST', `/api/v1/quarantine/requests/${id}/approve`, 'approver');
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({
      request: { id, state: 'approved', decidedBy: 'approver' },
      quarantine: { action: 'isolate', state: 'pending', requestedBy: 'approver' },
    });
    const order = verified(f, ((await sock.next('quarantine.order')) as { signed: unknown }).signed, agent.hostId, clock);
    expect(order.action).toBe('isolate');
    expectProblem(await call('POST', `/api/v1/quarantine/requests/${id}/reject`, 'approver'), 409, 'conflict');
    expectProblem(await call('POST', `/api/v1/quarantine/requests/${randomUUID()}/approve`, 'approver'), 404, 'not_found');
  });

  it('lets an approver reject a request, isolating nothing', async () => {
    const agent = await f.s.enrollAgent(f.joinToken, `qr-${++n}`);
    const policy = await f.s.app.services.policies.create(
      { id: randomUUID(), username: 'operator', role: 'operator' },
      {
        name: `av ${++n}`,
        mode: 'audit',
        rules: [{ kind: 'antivirus', provider: 'auto' }],
        targets: { hostIds: [agent.hostId] },
        quarantineAfterMinutes: 1,
      },
    );
    const sequence = (await f.s.app.services.policies.onSync(agent.hostId, { bundleSequence: 0, quarantineSequence: 0, isolated: false }))
      ?.document.sequence;
    const noncompliant = ruleResult({
      policyId: policy.id,
      policyVersion: 1,
      rule: 0,
      kind: 'antivirus',
      status: 'noncompliant',
      detail: 'no antivirus',
      checkedAt: clock.toISOString(),
    });
    await f.s.app.services.policies.onCompliance(agent.hostId, { bundleSequence: sequence ?? 0, results: [noncompliant] });
    clock = new Date(clock.getTime() + 2 * 60_000);
    await f.s.app.services.policies.onCompliance(agent.hostId, {
      bundleSequence: sequence ?? 0,
      results: [{ ...noncompliant, checkedAt: clock.toISOString() }],
    });
    const list = await call('GET', '/api/v1/quarantine/requests', 'viewer');
    const request = list.json<{ items: Array<{ id: string; hostId: string }> }>().items.find((r) => r.hostId === agent.hostId);
    const rejected = await call('POST', `/api/v1/quarantine/requests/${request?.id}/reject`, 'admin', { reason: 'scanner replaced' });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json()).toMatchObject({ state: 'rejected', decidedBy: 'admin' });
    expect((await call('GET', `/api/v1/hosts/${agent.hostId}/quarantine`, 'viewer')).json()).toMatchObject({ state: 'none' });
  });
});
