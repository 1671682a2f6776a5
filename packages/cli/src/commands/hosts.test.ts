import { describe, expect, it } from 'vitest';
import { HOSTS, problem, rawControls, useFakeApi } from '../__fixtures__/fake-api.js';

const HOST_DETAIL = {
  ...HOSTS[0],
  facts: {
    hardware: { cpuModel: 'Xeon', memoryBytes: 8589934592 },
    network: [{ name: 'eth0', mac: '52:54:00:12:34:56', ipv4: ['10.0.0.5'], ipv6: ['fe80::1'] }],
    agentVersion: '0.1.0',
  },
};

const { api, cli } = useFakeApi({
  'GET /api/v1/hosts': { body: { items: HOSTS, total: 57 } },
  'GET /api/v1/hosts/h-1': { body: HOST_DETAIL },
  'POST /api/v1/hosts/h-2/approve': { body: { ...HOSTS[1], status: 'approved' } },
  'POST /api/v1/hosts/h-1/revoke': { body: { ...HOSTS[0], status: 'revoked' } },
  'DELETE /api/v1/hosts/h-1': { status: 204 },
});

describe('brier hosts list', () => {
  it("prints JSON that parses to exactly the server's items", async () => {
    const { code, stdout } = await cli(['hosts', 'list', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(HOSTS);
    expect(api.requests[0]?.headers.authorization).toBe('Bearer tok');
  });

  it('prints an aligned table with a count footer', async () => {
    const { code, stdout } = await cli(['hosts', 'list']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +HOSTNAME +STATUS +ONLINE +OS +PACKAGES +LAST SEEN$/);
    expect(lines[1]).toMatch(/^h-1 +web-01 +approved +yes +debian 12 +612 +2024-05-01T12:00:00Z$/);
    expect(lines[2]).toMatch(/^h-2 +evil\\x1b\[31m\\u202e +pending +no +ubuntu 22\.04 +0 +never$/);
    expect(lines[3]).toBe('2 of 57');
    // Every column starts at the same offset on every row.
    const statusAt = lines[0]!.indexOf('STATUS');
    expect(lines[1]!.indexOf('approved')).toBe(statusAt);
    expect(lines[2]!.indexOf('pending')).toBe(statusAt);
  });

  it('escapes control and bidi characters from an agent-supplied hostname', async () => {
    const { stdout } = await cli(['hosts', 'list']);
    expect(stdout).toContain('evil\\x1b[31m\\u202e');
    expect(rawControls(stdout)).toEqual([]);
  });

  it('keeps the JSON output free of raw C1 and bidi characters while preserving the values', async () => {
    const odd = [{ ...HOSTS[0], hostname: 'a\u009bb\u2066c\u0007' }];
    api.routes.set('GET /api/v1/hosts', { body: { items: odd, total: 1 } });
    const { stdout } = await cli(['hosts', 'list', '--json']);
    expect(rawControls(stdout)).toEqual([]);
    expect(JSON.parse(stdout)).toEqual(odd);
  });

  it('sends SQL metacharacters in --q verbatim, URL-encoded', async () => {
    const { code } = await cli([
      'hosts',
      'list',
      '--q',
      "' OR 1=1 --",
      '--status',
      'pending',
      '--offline',
      '--limit',
      '10',
      '--offset',
      '20',
    ]);
    expect(code).toBe(0);
    const req = api.requests[0]!;
    expect(req.query.get('q')).toBe("' OR 1=1 --");
    expect(Object.fromEntries(req.query)).toEqual({ q: "' OR 1=1 --", status: 'pending', online: 'false', limit: '10', offset: '20' });
    expect(req.rawUrl).toBe('/api/v1/hosts?q=%27+OR+1%3D1+--&status=pending&online=false&limit=10&offset=20');
  });

  it('keeps & and = inside --q from starting new parameters', async () => {
    await cli(['hosts', 'list', '--q', 'a&status=revoked#x']);
    expect([...api.requests[0]!.query.keys()]).toEqual(['q']);
    expect(api.requests[0]?.query.get('q')).toBe('a&status=revoked#x');
  });

  it('sends online=true for --online and no filters when none are given', async () => {
    await cli(['hosts', 'list', '--online']);
    await cli(['hosts', 'list']);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/hosts?online=true');
    expect(api.requests[1]?.rawUrl).toBe('/api/v1/hosts');
  });

  it('rejects bad filters with exit 2 before contacting the server', async () => {
    for (const args of [
      ['--online', '--offline'],
      ['--status', 'deleted'],
      ['--limit', 'ten'],
      ['--limit', '0'],
      ['--offset', '-1'],
      ['extra'],
    ]) {
      const { code, stderr } = await cli(['hosts', 'list', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier hosts list');
    }
    expect(api.requests).toHaveLength(0);
  });

  it('fails with exit 1 when the answer is not a listing', async () => {
    api.routes.set('GET /api/v1/hosts', { body: { hosts: [] } });
    const { code, stderr } = await cli(['hosts', 'list']);
    expect(code).toBe(1);
    expect(stderr).toContain('Unexpected response from server');
  });
});

describe('brier hosts show', () => {
  it('prints the host with its facts', async () => {
    const { code, stdout } = await cli(['hosts', 'show', 'h-1']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Hostname +web-01$/m);
    expect(stdout).toMatch(/^OS +debian 12 \(bookworm\)$/m);
    expect(stdout).toMatch(/^Agent version +0\.1\.0$/m);
    expect(stdout).toMatch(/^Hardware cpuModel +Xeon$/m);
    expect(stdout).toMatch(/^Network eth0 +52:54:00:12:34:56 {2}10\.0\.0\.5, fe80::1$/m);
  });

  it('says when no facts have been reported yet', async () => {
    api.routes.set('GET /api/v1/hosts/h-1', { body: { ...HOSTS[0], facts: null } });
    const { stdout } = await cli(['hosts', 'show', 'h-1']);
    expect(stdout).toMatch(/^Facts +not reported yet$/m);
  });

  it('prints the server object as JSON', async () => {
    const { stdout } = await cli(['hosts', 'show', 'h-1', '--json']);
    expect(JSON.parse(stdout)).toEqual(HOST_DETAIL);
  });

  it('encodes the id as one path segment', async () => {
    const { code, stderr } = await cli(['hosts', 'show', 'a/b?c#d']);
    expect(code).toBe(1);
    expect(stderr).toContain('Not found (code not_found, HTTP 404)');
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/hosts/a%2Fb%3Fc%23d');
  });

  it('refuses ids that URL parsing would turn into another path', async () => {
    for (const id of ['..', '.', '']) {
      const { code } = await cli(['hosts', 'show', id]);
      expect(code, id).toBe(2);
    }
    expect(api.requests).toHaveLength(0);
  });

  it('needs exactly one id', async () => {
    expect((await cli(['hosts', 'show'])).code).toBe(2);
    expect((await cli(['hosts', 'show', 'h-1', 'h-2'])).code).toBe(2);
  });
});

describe('brier hosts approve, revoke and delete', () => {
  it('approves a host and reports its new status', async () => {
    const { code, stdout } = await cli(['hosts', 'approve', 'h-2']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', rawUrl: '/api/v1/hosts/h-2/approve' });
    expect(stdout).toBe('Host h-2 (evil\\x1b[31m\\u202e) is now approved.\n');
  });

  it('revokes a host', async () => {
    const { code, stdout } = await cli(['hosts', 'revoke', 'h-1']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', rawUrl: '/api/v1/hosts/h-1/revoke' });
    expect(stdout).toContain('is now revoked');
  });

  it('deletes a host', async () => {
    const { code, stdout } = await cli(['hosts', 'delete', 'h-1']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'DELETE', rawUrl: '/api/v1/hosts/h-1' });
    expect(stdout).toBe('Host h-1 deleted.\n');
  });

  it('exits 1 with the problem when the server refuses', async () => {
    api.routes.set('POST /api/v1/hosts/h-1/approve', problem(409, 'Conflict', 'conflict', 'host is revoked'));
    const { code, stderr } = await cli(['hosts', 'approve', 'h-1']);
    expect(code).toBe(1);
    expect(stderr).toBe('brier: Conflict: host is revoked (code conflict, HTTP 409)\n');
  });
});
