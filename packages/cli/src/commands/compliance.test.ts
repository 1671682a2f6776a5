import { describe, expect, it } from 'vitest';
import { rawControls, useFakeApi } from '../__fixtures__/fake-api.js';

const FLEET = [
  {
    policy: { id: 'p-1', name: 'Antivirus healthy', version: 3, mode: 'enforce' },
    hosts: { compliant: 40, noncompliant: 2, remediated: 5, error: 1, unknown: 3, total: 51 },
  },
  { policy: { id: 'p-2', name: 'No telnet', version: 1, mode: 'audit' }, hosts: { compliant: 0, noncompliant: 0, total: 0 } },
];

const HOST = [
  {
    policy: { id: 'p-1', name: 'Antivirus healthy', version: 3 },
    rule: { index: 0, kind: 'antivirus' },
    status: 'remediated',
    detail: 'clamd was stopped; started it',
    checkedAt: '2026-11-27T10:00:00.000Z',
    sinceAt: '2026-11-27T09:45:00.000Z',
  },
  {
    policy: { id: 'p-1', name: 'Antivirus healthy', version: 3 },
    rule: { index: 1, kind: 'service-running' },
    status: 'noncompliant',
    detail: `ssh is not running\u001b[2K${'x'.repeat(200)}`,
    checkedAt: '2026-11-27T10:00:00.000Z',
  },
];

const { api, cli } = useFakeApi({
  'GET /api/v1/compliance': { body: { items: FLEET } },
  'GET /api/v1/hosts/h-1/compliance': { body: { items: HOST } },
  'GET /api/v1/hosts/h-2/compliance': { body: { items: [] } },
});

describe('brier compliance', () => {
  it('prints the fleet summary per policy without a host', async () => {
    const { code, stdout } = await cli(['compliance']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'GET', rawUrl: '/api/v1/compliance' });
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^POLICY +ID +MODE +VERSION +HOSTS +COMPLIANT +NONCOMPLIANT +REMEDIATED +ERROR +UNKNOWN$/);
    expect(lines[1]).toMatch(/^Antivirus healthy +p-1 +enforce +3 +51 +40 +2 +5 +1 +3$/);
    expect(lines[2]).toMatch(/^No telnet +p-2 +audit +1 +0 +0 +0 +0 +0 +0$/);
  });

  it('prints one host rule by rule, with the detail escaped and shortened', async () => {
    const { code, stdout } = await cli(['compliance', 'h-1']);
    expect(code).toBe(0);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/hosts/h-1/compliance');
    expect(stdout).toMatch(/^POLICY +VERSION +RULE +STATUS +CHECKED +DETAIL$/m);
    expect(stdout).toMatch(/^Antivirus healthy +3 +0 antivirus +remediated +2026-11-27T10:00:00Z +clamd was stopped; started it$/m);
    expect(stdout).toContain('ssh is not running\\x1b[2K');
    expect(stdout).toContain('…');
    expect(rawControls(stdout)).toEqual([]);
  });

  it('says so when a host has no results yet', async () => {
    const { stdout } = await cli(['compliance', 'h-2']);
    expect(stdout).toContain('No compliance results for this host yet');
  });

  it("prints exactly the server's items under --json, with the flag before or after the host", async () => {
    expect(JSON.parse((await cli(['compliance', '--json'])).stdout)).toEqual(FLEET);
    expect(JSON.parse((await cli(['compliance', '--json', 'h-1'])).stdout)).toEqual(HOST);
    expect(JSON.parse((await cli(['compliance', 'h-1', '--json'])).stdout)).toEqual(HOST);
  });

  it('refuses a second operand, unknown flags and unusable ids with exit 2 before contacting the server', async () => {
    for (const args of [['h-1', 'h-2'], ['--bogus'], ['..'], ['.'], ['--server']]) {
      const { code, stderr } = await cli(['compliance', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier compliance');
    }
    expect(api.requests).toHaveLength(0);
  });

  it('encodes the host id as one path segment', async () => {
    await cli(['compliance', 'a/b?c']);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/hosts/a%2Fb%3Fc/compliance');
  });
});
