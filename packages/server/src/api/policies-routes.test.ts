import { randomUUID } from 'node:crypto';
import { type PolicyBundle, type RuleKind, type RuleResult, verifyPolicyBundle } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, RawAgentSocket, type TestServer } from '../testing/test-server.js';

const PASSWORD = 'a-long-enough-password';

type Agent = Awaited<ReturnType<TestServer['enrollAgent']>>;

interface PolicyDetail {
  id: string;
  name: string;
  mode: string;
  version: number;
  rules: Array<Record<string, unknown>>;
  targets: { hostIds: string[]; groups: string[] };
  intervalMinutes: number;
  quarantineAfterMinutes: number | null;
  createdBy: string;
  compliance: { hosts: Record<string, number>; rules: Array<Record<string, unknown>> };
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
  for (const role of ['approver', 'operator', 'viewer'] as const) {
    const res = await call('POST', '/api/v1/users', 'admin', { username: role, password: PASSWORD, role });
    expect(res.statusCode, res.body).toBe(201);
    tokens[role] = await s.login(role, PASSWORD);
  }
  joinToken = await s.createJoinToken({ autoApprove: true, maxUses: 1000 });
});
afterAll(async () => {
  for (const sock of sockets) sock.close();
  await s.close();
});

function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, who: string, payload?: unknown) {
  return s.app.inject({
    method,
    url: path,
    headers: { authorization: `Bearer ${tokens[who]}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

async function enrol(groups: string[] = []): Promise<Agent> {
  const agent = await s.enrollAgent(joinToken, `pr-${++n}`);
  if (groups.length > 0) {
    const res = await call('PUT', `/api/v1/hosts/${agent.hostId}/groups`, 'admin', { groups });
    expect(res.statusCode, res.body).toBe(200);
  }
  return agent;
}

function body(targets: { hostIds?: string[]; groups?: string[] }, extra: Record<string, unknown> = {}) {
  return {
    name: `policy ${++n}`,
    mode: 'enforce',
    rules: [
      { kind: 'antivirus', provider: 'clamav', maxSignatureAgeHours: 24 },
      { kind: 'service-running', name: 'clamav-daemon' },
    ],
    targets,
    ...extra,
  };
}

async function create(targets: { hostIds?: string[]; groups?: string[] }, extra: Record<string, unknown> = {}): Promise<PolicyDetail> {
  const res = await call('POST', '/api/v1/policies', 'operator', body(targets, extra));
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PolicyDetail>();
}

async function bundleOf(hostId: string) {
  return (await s.app.services.policies.onSync(hostId, { bundleSequence: 0, quarantineSequence: 0, isolated: false }))?.document;
}

describe('policies', () => {
  it('are created in the documented shape, with a compliance summary, and audited', async () => {
    const agent = await enrol();
    const p = await create({ hostIds: [agent.hostId] }, { intervalMinutes: 30, quarantineAfterMinutes: 60 });
    expect(p).toMatchObject({
      mode: 'enforce',
      version: 1,
      intervalMinutes: 30,
      quarantineAfterMinutes: 60,
      createdBy: 'operator',
      targets: { hostIds: [agent.hostId], groups: [] },
      compliance: {
        hosts: { compliant: 0, noncompliant: 0, remediated: 0, error: 0, unknown: 1, total: 1 },
        rules: [
          { index: 0, kind: 'antivirus', unknown: 1 },
          { index: 1, kind: 'service-running', unknown: 1 },
        ],
      },
    });
    expect(p.rules[0]).toEqual({ kind: 'antivirus', provider: 'clamav', maxSignatureAgeHours: 24 });
    const got = await call('GET', `/api/v1/policies/${p.id}`, 'viewer');
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(p);
    const list = await call('GET', '/api/v1/policies', 'viewer');
    expect(list.json<{ items: PolicyDetail[] }>().items.map((x) => x.id)).toContain(p.id);
    const audit = await call('GET', '/api/v1/audit?limit=20', 'admin');
    expect(audit.json<{ items: Array<{ action: string; target: string }> }>().items).toContainEqual(
      expect.objectContaining({ action: 'policy.create', target: p.id }),
    );
  });

  it('are replaced with a new version and deleted, re-bundling their hosts each time', async () => {
    const agent = await enrol(['pr-web']);
    const p = await create({ groups: ['pr-web'] });
    expect((await bundleOf(agent.hostId))?.policies.map((x) => [x.id, x.version])).toEqual([[p.id, 1]]);
    const put = await call('PUT', `/api/v1/policies/${p.id}`, 'operator', body({ groups: ['pr-web'] }, { name: p.name, mode: 'audit' }));
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json<PolicyDetail>()).toMatchObject({ id: p.id, version: 2, mode: 'audit' });
    expect((await bundleOf(agent.hostId))?.policies.map((x) => [x.id, x.version, x.mode])).toEqual([[p.id, 2, 'audit']]);
    const del = await call('DELETE', `/api/v1/policies/${p.id}`, 'operator');
    expect(del.statusCode, del.body).toBe(204);
    expect((await bundleOf(agent.hostId))?.policies).toEqual([]);
    expectProblem(await call('GET', `/api/v1/policies/${p.id}`, 'viewer'), 404, 'not_found');
    expectProblem(await call('DELETE', `/api/v1/policies/${p.id}`, 'operator'), 404, 'not_found');
  });

  it('follow a host into a group set through PUT /hosts/{id}/groups', async () => {
    const group = `pr-joined-${n}`;
    const agent = await enrol();
    const p = await create({ groups: [group] });
    expect((await bundleOf(agent.hostId))?.policies ?? []).toEqual([]);
    const res = await call('PUT', `/api/v1/hosts/${agent.hostId}/groups`, 'operator', { groups: [group] });
    expect(res.statusCode, res.body).toBe(200);
    expect((await bundleOf(agent.hostId))?.policies.map((x) => x.id)).toEqual([p.id]);
  });

  it.each([
    ['a package name with a shell command', [{ kind: 'package-installed', name: 'openssl; rm -rf /' }]],
    ['a package name that is an option', [{ kind: 'package-absent', name: '-oDir::Etc=/tmp' }]],
    ['a service name with backticks', [{ kind: 'service-running', name: '`reboot`' }]],
    ['a service name with a newline', [{ kind: 'service-running', name: 'ssh\nreboot' }]],
    ['a relative file path', [{ kind: 'file-present', path: 'etc/passwd', sha256: 'a'.repeat(64) }]],
    ['an unknown rule kind', [{ kind: 'shell', command: 'id' }]],
    ['no rules at all', []],
  ])('refuse %s with 400 and store nothing', async (_what, rules) => {
    const name = `refused ${++n}`;
    const res = await call('POST', '/api/v1/policies', 'operator', { name, mode: 'enforce', rules, targets: {} });
    expectProblem(res, 400, 'bad_request');
    const list = await call('GET', '/api/v1/policies', 'viewer');
    expect(list.json<{ items: PolicyDetail[] }>().items.map((x) => x.name)).not.toContain(name);
  });

  it('refuse unknown host ids, bad modes, extra fields and a name with control characters', async () => {
    const unknown = randomUUID();
    const res = await call('POST', '/api/v1/policies', 'operator', body({ hostIds: [unknown] }));
    expect(expectProblem(res, 400, 'bad_request').detail).toContain(unknown);
    expectProblem(await call('POST', '/api/v1/policies', 'operator', body({}, { mode: 'remediate' })), 400, 'bad_request');
    expectProblem(await call('POST', '/api/v1/policies', 'operator', body({}, { owner: 'me' })), 400, 'bad_request');
    expectProblem(await call('POST', '/api/v1/policies', 'operator', body({}, { name: 'a\u0007b' })), 400, 'bad_request');
    expectProblem(await call('POST', '/api/v1/policies', 'operator', body({}, { intervalMinutes: 0 })), 400, 'bad_request');
    const noAv = body({}, { rules: [{ kind: 'firewall-enabled' }], quarantineAfterMinutes: 60 });
    expectProblem(await call('POST', '/api/v1/policies', 'operator', noAv), 400, 'bad_request');
    const p = await create({});
    expectProblem(await call('POST', '/api/v1/policies', 'operator', body({}, { name: p.name })), 409, 'conflict');
  });

  it('are managed by admins and operators only', async () => {
    expectProblem(await call('POST', '/api/v1/policies', 'viewer', body({})), 403, 'forbidden');
    expectProblem(await call('POST', '/api/v1/policies', 'approver', body({})), 403, 'forbidden');
    const p = await create({});
    expectProblem(await call('DELETE', `/api/v1/policies/${p.id}`, 'viewer'), 403, 'forbidden');
    expectProblem(await call('PUT', `/api/v1/policies/${p.id}`, 'viewer', body({})), 403, 'forbidden');
    expect((await call('GET', '/api/v1/policies', 'viewer')).statusCode).toBe(200);
    const anonymous = await s.app.inject({ method: 'GET', url: '/api/v1/policies' });
    expectProblem(anonymous, 401, 'unauthenticated');
  });
});

describe('compliance over the agent channel', () => {
  async function connect(agent: Agent): Promise<RawAgentSocket> {
    const sock = new RawAgentSocket(url);
    sockets.push(sock);
    await sock.opened();
    await sock.authenticate(agent.hostId, agent.keys.privateKeyPem, s.identity.fingerprint);
    await sock.next('auth.ok');
    return sock;
  }

  /** Sends a frame, then one the server answers, so the first is known to be handled. */
  async function settle(sock: RawAgentSocket) {
    sock.sendRaw(
      sock.codec.encode('updates.report', { updates: [], sources: [], collectedAt: new Date().toISOString(), truncated: false }),
    );
    await sock.next('updates.ack');
  }

  // The protocol types RuleResult's `kind` as `never` (a union built from a mapped array); the schema
  // accepts every rule kind, so results are built with RuleKind and cast.
  const result = (p: { id: string; version: number }, rule: number, kind: RuleKind, status: RuleResult['status']) =>
    ({
      policyId: p.id,
      policyVersion: p.version,
      rule,
      kind,
      status,
      detail: `${kind} is ${status}`,
      checkedAt: new Date().toISOString(),
    }) as RuleResult;

  it('delivers the signed bundle at sync and lists what the agent reports, in the documented shape', async () => {
    const agent = await enrol();
    const other = await enrol();
    const p = await create({ hostIds: [agent.hostId] });
    const foreign = await create({ hostIds: [other.hostId] });
    const sock = await connect(agent);
    sock.sendRaw(sock.codec.encode('desired-state.sync', { bundleSequence: 0, quarantineSequence: 0, isolated: false }));
    const { signed } = (await sock.next('policy.bundle')) as { signed: unknown };
    const verdict = verifyPolicyBundle(signed, { pinnedServerPublicKey: s.identity.publicKey, hostId: agent.hostId, now: new Date() });
    expect(verdict.ok).toBe(true);
    const bundle = (verdict as { document: PolicyBundle }).document;
    expect(bundle.policies.map((x) => x.id)).toEqual([p.id]);

    sock.sendRaw(
      sock.codec.encode('compliance.report', {
        bundleSequence: bundle.sequence,
        results: [
          result(p, 0, 'antivirus', 'noncompliant'),
          result(p, 1, 'service-running', 'remediated'),
          // A report naming a policy this host does not have: ignored.
          result(foreign, 0, 'antivirus', 'compliant'),
        ],
      }),
    );
    sock.sendRaw(
      sock.codec.encode('remediation.events', {
        events: [
          {
            policyId: p.id,
            policyVersion: 1,
            rule: 1,
            action: 'start clamav-daemon',
            ok: true,
            before: 'stopped',
            after: 'running',
            at: new Date().toISOString(),
          },
        ],
      }),
    );
    await settle(sock);

    const compliance = await call('GET', `/api/v1/hosts/${agent.hostId}/compliance`, 'viewer');
    expect(compliance.statusCode, compliance.body).toBe(200);
    const items = compliance.json<{ items: Array<Record<string, unknown>> }>().items;
    expect(items).toHaveLength(2);
    expect(Object.keys(items[0] ?? {}).sort()).toEqual(['checkedAt', 'detail', 'policy', 'rule', 'sinceAt', 'status']);
    expect(items[0]).toMatchObject({
      policy: { id: p.id, name: p.name, version: 1 },
      rule: { index: 0, kind: 'antivirus' },
      status: 'noncompliant',
      detail: 'antivirus is noncompliant',
    });
    expect(items[1]).toMatchObject({ rule: { index: 1, kind: 'service-running' }, status: 'remediated' });
    const otherCompliance = await call('GET', `/api/v1/hosts/${other.hostId}/compliance`, 'viewer');
    expect(otherCompliance.json()).toEqual({ items: [] });

    const fleet = await call('GET', '/api/v1/compliance', 'viewer');
    const rows = fleet.json<{ items: Array<{ policy: { id: string }; hosts: Record<string, number> }> }>().items;
    expect(rows.find((r) => r.policy.id === p.id)?.hosts).toEqual({
      compliant: 0,
      noncompliant: 1,
      remediated: 0,
      error: 0,
      unknown: 0,
      total: 1,
    });
    expect(rows.find((r) => r.policy.id === foreign.id)?.hosts).toMatchObject({ unknown: 1, compliant: 0 });

    const events = await call('GET', `/api/v1/hosts/${agent.hostId}/remediations?limit=10`, 'viewer');
    expect(events.json()).toMatchObject({
      total: 1,
      items: [{ policyId: p.id, action: 'start clamav-daemon', ok: true, before: 'stopped', after: 'running' }],
    });

    // Current agents get nothing more at their next sync.
    sock.sendRaw(sock.codec.encode('desired-state.sync', { bundleSequence: bundle.sequence, quarantineSequence: 0, isolated: false }));
    await settle(sock);
    expect(sock.received.some((m) => m.type === 'policy.bundle')).toBe(false);
  });

  it('pushes a new bundle to a connected agent when its policies change', async () => {
    const agent = await enrol();
    const sock = await connect(agent);
    const p = await create({ hostIds: [agent.hostId] });
    const { signed } = (await sock.next('policy.bundle')) as { signed: { document: PolicyBundle } };
    expect(signed.document.policies.map((x) => x.id)).toEqual([p.id]);
  });

  it('answers 404 for the compliance and remediations of an unknown host', async () => {
    expectProblem(await call('GET', `/api/v1/hosts/${randomUUID()}/compliance`, 'viewer'), 404, 'not_found');
    expectProblem(await call('GET', `/api/v1/hosts/${randomUUID()}/remediations`, 'viewer'), 404, 'not_found');
  });
});
