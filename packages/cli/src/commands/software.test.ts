import { describe, expect, it } from 'vitest';
import { rawControls, useFakeApi } from '../__fixtures__/fake-api.js';

const SOFTWARE = [
  { name: 'openssl', version: '3.0.11-1~deb12u2', arch: 'amd64', ecosystem: 'dpkg', source: 'openssl', sourceVersion: '3.0.11-1~deb12u2' },
  { name: 'libssl3', version: '3.0.11-1~deb12u2', arch: 'amd64', ecosystem: 'dpkg', source: 'openssl', sourceVersion: '3.0.11-1~deb12u2' },
  { name: 'pkg\u001b[2J\u2067', version: '1', arch: 'all', ecosystem: 'dpkg' },
];

const { api, cli } = useFakeApi({ 'GET /api/v1/hosts/h-1/software': { body: { items: SOFTWARE, total: 3 } } });

describe('brier software', () => {
  it("prints JSON that parses to exactly the server's items", async () => {
    const { code, stdout } = await cli(['software', 'h-1', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(SOFTWARE);
  });

  it('prints a table that names the source package only when it differs and escapes names', async () => {
    const { stdout } = await cli(['software', 'h-1']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +VERSION +ARCH +ECOSYSTEM +SOURCE$/);
    expect(lines[1]).toMatch(/^openssl +3\.0\.11-1~deb12u2 +amd64 +dpkg +-$/);
    expect(lines[2]).toMatch(/^libssl3 +3\.0\.11-1~deb12u2 +amd64 +dpkg +openssl 3\.0\.11-1~deb12u2$/);
    expect(lines[3]).toMatch(/^pkg\\x1b\[2J\\u2067 +1 +all +dpkg +-$/);
    expect(lines[4]).toBe('3 of 3');
    expect(rawControls(stdout)).toEqual([]);
  });

  it('sends the search text verbatim and the paging as numbers', async () => {
    await cli(['software', 'h-1', '--q', "' OR 1=1 --", '--limit', '5', '--offset', '0']);
    const req = api.requests[0]!;
    expect(req.pathname).toBe('/api/v1/hosts/h-1/software');
    expect(Object.fromEntries(req.query)).toEqual({ q: "' OR 1=1 --", limit: '5', offset: '0' });
  });

  it('encodes the host id as one path segment', async () => {
    await cli(['software', '../../users']);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/hosts/..%2F..%2Fusers/software');
  });

  it('needs a host id', async () => {
    const { code, stderr } = await cli(['software']);
    expect(code).toBe(2);
    expect(stderr).toContain('missing HOST_ID');
  });
});
