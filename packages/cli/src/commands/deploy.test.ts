import { describe, expect, it } from 'vitest';
import { problem, rawControls, useFakeApi } from '../__fixtures__/fake-api.js';

const ID = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';

/** A deployment as the server returns it, with agent- and user-supplied text full of controls. */
const DEPLOYMENT = {
  id: ID,
  name: 'openssl\u001b[31m fix\u202e',
  state: 'running',
  stateReason: 'started',
  critical: true,
  emergency: false,
  createdBy: { id: 'u-1', username: 'operator' },
  approvedBy: { id: 'u-2', username: 'approver' },
  startAt: '2026-03-02T10:04:00.000Z',
  createdAt: '2026-03-02T10:00:00.123Z',
  startedAt: '2026-03-02T10:05:00.000Z',
  finishedAt: null,
  packages: [
    { name: 'openssl', version: '3.0.13-1~deb12u1' },
    { name: 'curl', version: null },
    { name: 'libexpat1', version: null, minVersion: '2.5.0-1+deb12u1' },
  ],
  waves: [
    { index: 0, name: 'pilot', state: 'passed', hostCount: 1, counts: { succeeded: 1, failed: 0 } },
    { index: 1, name: '100%', state: 'running', hostCount: 2, counts: { offered: 1, unreached: 1, failed: 0 } },
  ],
  hosts: [
    { hostId: 'h-1', hostname: 'pilot-01', wave: 0, state: 'succeeded', reason: 'succeeded; installed versions verified', verified: true },
    { hostId: 'h-2', hostname: 'evil\u001b]0;pwned\u0007\u2066', wave: 1, state: 'offered', reason: 'bad\nreason\u009b', verified: false },
  ],
  summary: { total: 3, succeeded: 1, failed: 0 },
};

const { api, cli } = useFakeApi({
  'POST /api/v1/deployments': { status: 201, body: { ...DEPLOYMENT, state: 'awaiting_approval' } },
  'GET /api/v1/deployments': { body: { items: [DEPLOYMENT], total: 12 } },
  [`GET /api/v1/deployments/${ID}`]: { body: DEPLOYMENT },
  [`POST /api/v1/deployments/${ID}/approve`]: { body: { ...DEPLOYMENT, state: 'approved' } },
  [`POST /api/v1/deployments/${ID}/pause`]: { body: { ...DEPLOYMENT, state: 'paused' } },
  [`POST /api/v1/deployments/${ID}/resume`]: { body: DEPLOYMENT },
  [`POST /api/v1/deployments/${ID}/abort`]: { body: { ...DEPLOYMENT, state: 'aborted' } },
  'PUT /api/v1/hosts/h-1/groups': (req) => ({ body: { groups: [...((req.body as { groups: string[] }).groups ?? [])].sort() } }),
});

const CREATE = ['deploy', 'create', '--name', 'openssl fix', '--packages', 'openssl=3.0.13-1~deb12u1', '--hosts', 'h1'];

describe('brier deploy create', () => {
  it('builds the documented body from every option', async () => {
    const { code, stdout, stderr } = await cli([
      'deploy',
      'create',
      '--name',
      'openssl fix',
      '--packages',
      'a=1,b',
      '--hosts',
      'h1,h2',
      '--waves',
      'group:pilot,10,100',
      '--bake-minutes',
      '30',
      '--threshold',
      '0.9',
      '--critical',
      '--reboot',
      'if-required',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(api.requests).toHaveLength(1);
    const req = api.requests[0]!;
    expect(req).toMatchObject({ method: 'POST', rawUrl: '/api/v1/deployments' });
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.body).toEqual({
      name: 'openssl fix',
      packages: [{ name: 'a', version: '1' }, { name: 'b' }],
      targets: { hostIds: ['h1', 'h2'] },
      waves: [
        { name: 'pilot', group: 'pilot', bakeMinutes: 30, successThreshold: 0.9 },
        { name: '10%', percent: 10, bakeMinutes: 30, successThreshold: 0.9 },
        { name: '100%', percent: 100, bakeMinutes: 30, successThreshold: 0.9 },
      ],
      critical: true,
      rebootPolicy: 'if-required',
    });
    expect(stdout).toMatch(/^State +awaiting_approval \(started\)$/m);
  });

  it('sends only what was given: groups, emergency, ecosystem and a deadline', async () => {
    const { code } = await cli([
      'deploy',
      'create',
      '--name',
      'x',
      '--packages',
      'curl,libexpat1>=2.5.0-1+deb12u1',
      '--groups',
      'web,db',
      '--emergency',
      '--ecosystem',
      'rpm',
      '--deadline-hours',
      '4',
      '--start-at',
      '2026-12-01T22:00:00+01:00',
    ]);
    expect(code).toBe(0);
    expect(api.requests[0]?.body).toEqual({
      name: 'x',
      packages: [{ name: 'curl' }, { name: 'libexpat1', minVersion: '2.5.0-1+deb12u1' }],
      targets: { groups: ['web', 'db'] },
      emergency: true,
      ecosystem: 'rpm',
      deadlineHours: 4,
      startAt: '2026-12-01T22:00:00+01:00',
    });
  });

  it('passes package names through verbatim for the server to judge', async () => {
    // A value that starts with '-' needs the --opt=value form (parseArgs refuses it otherwise).
    expect((await cli(['deploy', 'create', '--name', 'x', '--packages', '-oAPT::X=1', '--hosts', 'h1'])).code).toBe(2);
    expect(api.requests).toHaveLength(0);
    expect((await cli(['deploy', 'create', '--name', 'x', '--packages=-oAPT::X=1', '--hosts', 'h1'])).code).toBe(0);
    // The CLI splits at the first '=' and leaves judging the name to the server, which refuses it.
    expect(api.requests[0]?.body).toMatchObject({ packages: [{ name: '-oAPT::X', version: '1' }] });
  });

  it('rejects usage errors with exit 2 before contacting the server', async () => {
    const without = (flag: string) => {
      const i = CREATE.indexOf(flag);
      return [...CREATE.slice(0, i), ...CREATE.slice(i + 2)];
    };
    for (const args of [
      without('--name'),
      [...without('--name'), '--name', '   '],
      without('--packages'),
      without('--hosts'),
      [...CREATE, '--waves', 'fast'],
      [...CREATE, '--waves', '0'],
      [...CREATE, '--waves', '101'],
      [...CREATE, '--waves', 'group:'],
      [...CREATE, '--waves', '10,NaN'],
      [...CREATE, '--threshold', '1.5'],
      [...CREATE, '--threshold', '-0.1'],
      [...CREATE, '--threshold', 'high'],
      [...CREATE, '--threshold', '0x1'],
      [...CREATE, '--bake-minutes', 'soon'],
      [...CREATE, '--bake-minutes', '-1'],
      [...CREATE, '--reboot', 'sometimes'],
      [...CREATE, '--ecosystem', 'pip'],
      [...CREATE, '--deadline-hours', '0'],
      [...CREATE, '--start-at', 'tomorrow'],
      [...CREATE, '--start-at', '2026-12-01 22:00'],
      [...CREATE, '--start-at', '2026-13-45T99:00:00Z'],
      [...CREATE, 'extra'],
    ]) {
      const { code, stderr } = await cli(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier deploy create');
    }
    expect(api.requests).toHaveLength(0);
  });

  it('exits 1 with the problem when the server refuses the body', async () => {
    api.routes.set('POST /api/v1/deployments', problem(400, 'Bad request', 'bad_request', 'packages[0].name "-o" is not valid'));
    const { code, stderr } = await cli(CREATE);
    expect(code).toBe(1);
    expect(stderr).toContain('(code bad_request, HTTP 400)');
  });
});

describe('brier deploy approve, pause, resume and abort', () => {
  it('POSTs approve to /deployments/ID/approve', async () => {
    const { code, stdout } = await cli(['deploy', 'approve', ID]);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', rawUrl: `/api/v1/deployments/${ID}/approve` });
    expect(stdout).toMatch(/^State +approved/m);
  });

  it('POSTs pause and resume', async () => {
    expect((await cli(['deploy', 'pause', ID])).code).toBe(0);
    expect((await cli(['deploy', 'resume', ID])).code).toBe(0);
    expect(api.requests.map((r) => `${r.method} ${r.rawUrl}`)).toEqual([
      `POST /api/v1/deployments/${ID}/pause`,
      `POST /api/v1/deployments/${ID}/resume`,
    ]);
  });

  it('sends the abort reason, and an empty body without one', async () => {
    expect((await cli(['deploy', 'abort', ID, '--reason', 'x'])).code).toBe(0);
    expect((await cli(['deploy', 'abort', ID])).code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', rawUrl: `/api/v1/deployments/${ID}/abort`, body: { reason: 'x' } });
    expect(api.requests[1]?.body).toEqual({});
  });

  it('reports a refused approval with exit 1', async () => {
    api.routes.set(
      `POST /api/v1/deployments/${ID}/approve`,
      problem(403, 'Forbidden', 'forbidden', 'nobody approves their own deployment'),
    );
    const { code, stderr } = await cli(['deploy', 'approve', ID]);
    expect(code).toBe(1);
    expect(stderr).toContain('(code forbidden, HTTP 403)');
  });

  it('encodes the id as one path segment and refuses ids that would change the path', async () => {
    await cli(['deploy', 'approve', 'a/b?c']);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/deployments/a%2Fb%3Fc/approve');
    for (const id of ['..', '.', '']) expect((await cli(['deploy', 'approve', id])).code, id).toBe(2);
    expect((await cli(['deploy', 'approve'])).code).toBe(2);
    expect(api.requests).toHaveLength(1);
  });
});

describe('brier deploy show and list', () => {
  it('shows waves, hosts and the summary, escaping control characters', async () => {
    const { code, stdout } = await cli(['deploy', 'show', ID]);
    expect(code).toBe(0);
    expect(rawControls(stdout)).toEqual([]);
    expect(stdout).toContain('openssl\\x1b[31m fix\\u202e');
    expect(stdout).toMatch(/^Created +2026-03-02T10:00:00Z by operator$/m);
    expect(stdout).toMatch(/^Approved by +approver$/m);
    expect(stdout).toMatch(/^Starts at +2026-03-02T10:04:00Z$/m);
    expect(stdout).toMatch(/^Packages +openssl=3\.0\.13-1~deb12u1, curl, libexpat1>=2\.5\.0-1\+deb12u1$/m);
    expect(stdout).toMatch(/^WAVE +NAME +STATE +HOSTS +COUNTS$/m);
    expect(stdout).toMatch(/^0 +pilot +passed +1 +succeeded 1$/m);
    expect(stdout).toMatch(/^1 +100% +running +2 +offered 1, unreached 1$/m);
    expect(stdout).toMatch(/^HOST +WAVE +STATE +VERIFIED +REASON$/m);
    expect(stdout).toMatch(/^pilot-01 +0 +succeeded +yes +succeeded; installed versions verified$/m);
    expect(stdout).toContain('evil\\x1b]0;pwned\\x07\\u2066');
    expect(stdout).toContain('bad\\nreason\\x9b');
  });

  it('prints the server object as JSON without raw controls', async () => {
    const { stdout } = await cli(['deploy', 'show', ID, '--json']);
    expect(rawControls(stdout)).toEqual([]);
    expect(JSON.parse(stdout)).toEqual(DEPLOYMENT);
  });

  it('lists deployments in a table with the total, escaping names', async () => {
    const { code, stdout } = await cli(['deploy', 'list', '--state', 'running', '--limit', '5', '--offset', '10']);
    expect(code).toBe(0);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/deployments?state=running&limit=5&offset=10');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +NAME +STATE +CREATED +BY +APPROVED BY$/);
    expect(lines[1]).toMatch(new RegExp(`^${ID} +openssl\\\\x1b\\[31m fix\\\\u202e +running +2026-03-02T10:00:00Z +operator +approver$`));
    expect(lines[2]).toBe('1 of 12');
    expect(rawControls(stdout)).toEqual([]);
  });

  it('rejects bad list options with exit 2 before contacting the server', async () => {
    for (const args of [
      ['--limit', '0'],
      ['--limit', 'x'],
      ['--offset', '-1'],
    ]) {
      expect((await cli(['deploy', 'list', ...args])).code, args.join(' ')).toBe(2);
    }
    expect(api.requests).toHaveLength(0);
  });
});

describe('brier hosts groups', () => {
  it('PUTs the groups and prints what the server kept', async () => {
    const { code, stdout } = await cli(['hosts', 'groups', 'h-1', '--set', 'b,a']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'PUT', rawUrl: '/api/v1/hosts/h-1/groups', body: { groups: ['b', 'a'] } });
    expect(stdout).toBe('Host h-1 is in: a, b\n');
  });

  it('sends {groups: ["a", "b"]} for --set a,b, trimming and dropping duplicates and empties', async () => {
    await cli(['hosts', 'groups', 'h-1', '--set', 'a,b']);
    await cli(['hosts', 'groups', 'h-1', '--set', ' a , b,,a ']);
    expect(api.requests[0]?.body).toEqual({ groups: ['a', 'b'] });
    expect(api.requests[1]?.body).toEqual({ groups: ['a', 'b'] });
  });

  it("clears every group with --set ''", async () => {
    const { code, stdout } = await cli(['hosts', 'groups', 'h-1', '--set', '']);
    expect(code).toBe(0);
    expect(api.requests[0]?.body).toEqual({ groups: [] });
    expect(stdout).toBe('Host h-1 is in: no groups\n');
  });

  it('prints JSON with --json and escapes odd group names in the text output', async () => {
    const json = await cli(['hosts', 'groups', 'h-1', '--set', 'a', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ groups: ['a'] });
    const odd = await cli(['hosts', 'groups', 'h-1', '--set', 'x\u001b[2J']);
    expect(rawControls(odd.stdout)).toEqual([]);
    expect(odd.stdout).toContain('x\\x1b[2J');
  });

  it('needs --set and exactly one id', async () => {
    for (const args of [['h-1'], [], ['h-1', 'h-2', '--set', 'a'], ['..', '--set', 'a']]) {
      const { code, stderr } = await cli(['hosts', 'groups', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier hosts groups');
    }
    expect(api.requests).toHaveLength(0);
  });

  it('exits 1 when the host is unknown', async () => {
    const { code, stderr } = await cli(['hosts', 'groups', 'nope', '--set', 'a']);
    expect(code).toBe(1);
    expect(stderr).toContain('(code not_found, HTTP 404)');
  });
});
