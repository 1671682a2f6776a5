import { inventoryHash, type PackageEntry } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { debianFacts as facts, dpkgPackage as pkg } from '../testing/fixtures.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

/**
 * The console's vulnerability screens: one record with its affected hosts, the list's tier and text
 * filters, and the full response schemas of metrics and imports (fastify serialises only what a
 * schema names, so these tests compare the route's JSON with the service's whole result).
 */

const PASSWORD = 'a-long-enough-password';
const HOUR = 3_600_000;

const VULNERABLE_SSL = pkg('libssl3', '3.0.11-1~deb12u2', 'openssl');
const FIXED_SSL = pkg('libssl3', '3.0.13-1~deb12u1', 'openssl');
const OLD_CURL = pkg('curl', '7.88.1-10+deb12u4');

function record(id: string, name: string, fixed: string, extra: Record<string, unknown> = {}) {
  return {
    schema_version: '1.6.0',
    id,
    modified: '2026-11-01T00:00:00Z',
    published: '2026-10-30T12:00:00Z',
    aliases: [id.replace(/^DEBIAN-/, '')],
    summary: 'a <b>bold</b> summary',
    affected: [{ package: { ecosystem: 'Debian:12', name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    ...extra,
  };
}

interface FindingItem {
  id: string;
  hostId: string;
  hostname: string;
  package: string;
  riskTier: number;
  dueAt: string;
  overdue: boolean;
  closedAt: string | null;
  closedReason: string | null;
}

describe('vulnerability records for the console', () => {
  let s: TestServer;
  let clock = new Date('2026-11-10T00:00:00Z');
  const tokens = {} as Record<'admin' | 'operator' | 'viewer', string>;
  const hosts: Record<string, string> = {};

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, token: string = tokens.viewer, payload?: unknown) =>
    s.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const get = async <T>(url: string, token: string = tokens.viewer): Promise<T> => {
    const res = await call('GET', url, token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<T>();
  };

  async function inventory(hostname: string, packages: PackageEntry[]) {
    await s.app.services.inventory.ingestFull(hosts[hostname] ?? '', packages, facts(hostname), inventoryHash(packages));
    await s.app.services.vulns.idle();
  }

  beforeAll(async () => {
    s = await createTestServer({
      config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000, sessionTtlMs: 30 * 86_400_000 },
      now: () => clock,
    });
    tokens.admin = await s.login();
    for (const role of ['operator', 'viewer'] as const) {
      const res = await call('POST', '/api/v1/users', tokens.admin, { username: role, password: PASSWORD, role });
      expect(res.statusCode, res.body).toBe(201);
      tokens[role] = await s.login(role, PASSWORD);
    }
    // Tiers: alpha 5 (critical due in 24 h), bravo the default 3 (72 h), charlie 1 (336 h), delta 3.
    for (const [hostname, tier] of [
      ['rec-alpha', 5],
      ['rec-bravo', null],
      ['rec-charlie', 1],
      ['rec-delta', null],
    ] as const) {
      const { hostId } = await s.enrollAgent(await s.createJoinToken({ autoApprove: true, maxUses: 1 }), hostname);
      hosts[hostname] = hostId;
      if (tier !== null)
        expect((await call('PUT', `/api/v1/hosts/${hostId}/risk`, tokens.operator, { riskTier: tier })).statusCode).toBe(200);
    }
    await inventory('rec-alpha', [VULNERABLE_SSL, OLD_CURL]);
    await inventory('rec-bravo', [VULNERABLE_SSL]);
    await inventory('rec-charlie', [VULNERABLE_SSL, OLD_CURL]);
    await inventory('rec-delta', [VULNERABLE_SSL]);
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/vulnerabilities/imports?name=console.json',
      headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/octet-stream' },
      payload: JSON.stringify([
        record('DEBIAN-CVE-2024-0001', 'openssl', '3.0.13-1~deb12u1'),
        record('DEBIAN-CVE-2024-0002', 'curl', '7.88.1-10+deb12u5', { severity: [] }),
      ]),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ stored: 2, findings: { opened: 6 } });
    // A day and an hour later delta is patched: its finding closes; alpha's (due after 24 h) is overdue.
    clock = new Date(clock.getTime() + 25 * HOUR);
    await inventory('rec-delta', [FIXED_SSL]);
  });
  afterAll(async () => {
    await s.close();
  });

  describe('GET /vulnerabilities/{record}/hosts', () => {
    it('lists the findings with their hosts, open before closed, then by due date', async () => {
      const page = await get<{ items: FindingItem[]; total: number }>('/api/v1/vulnerabilities/CVE-2024-0001/hosts');
      expect(page.total).toBe(4);
      expect(page.items.map((f) => [f.hostname, f.riskTier, f.overdue, f.closedReason])).toEqual([
        ['rec-alpha', 5, true, null],
        ['rec-bravo', 3, false, null],
        ['rec-charlie', 1, false, null],
        ['rec-delta', 3, false, 'remediated'],
      ]);
      const [first] = page.items;
      // The same item shape as /vulnerabilities/overdue.
      const overdue = await get<{ items: FindingItem[] }>('/api/v1/vulnerabilities/overdue');
      expect(overdue.items).toEqual([first]);
      expect(first).toMatchObject({
        id: 'DEBIAN-CVE-2024-0001',
        hostId: hosts['rec-alpha'],
        package: 'libssl3',
        installedVersion: '3.0.11-1~deb12u2',
        fixedVersion: '3.0.13-1~deb12u1',
        severity: 'critical',
        aliases: ['CVE-2024-0001'],
        explanation: { package: 'openssl', matchedBy: 'source' },
        closedAt: null,
      });
      expect(page.items[3]?.closedAt).toBe(clock.toISOString());
    });

    it('finds the record by its id as well as by an alias', async () => {
      const byId = await get<{ items: FindingItem[] }>('/api/v1/vulnerabilities/DEBIAN-CVE-2024-0001/hosts');
      const byAlias = await get<{ items: FindingItem[] }>('/api/v1/vulnerabilities/CVE-2024-0001/hosts');
      expect(byId).toEqual(byAlias);
    });

    it('filters open or closed findings and pages with a stable total', async () => {
      const open = await get<{ items: FindingItem[]; total: number }>('/api/v1/vulnerabilities/CVE-2024-0001/hosts?status=open');
      expect(open.items.map((f) => f.hostname)).toEqual(['rec-alpha', 'rec-bravo', 'rec-charlie']);
      expect(open.total).toBe(3);
      const closed = await get<{ items: FindingItem[]; total: number }>('/api/v1/vulnerabilities/CVE-2024-0001/hosts?status=closed');
      expect(closed).toMatchObject({ total: 1, items: [{ hostname: 'rec-delta', closedReason: 'remediated' }] });
      const second = await get<{ items: FindingItem[]; total: number }>('/api/v1/vulnerabilities/CVE-2024-0001/hosts?limit=2&offset=2');
      expect(second.items.map((f) => f.hostname)).toEqual(['rec-charlie', 'rec-delta']);
      expect(second.total).toBe(4);
      expect(await get('/api/v1/vulnerabilities/CVE-2024-0001/hosts?offset=100')).toEqual({ items: [], total: 4 });
    });

    it('answers 404 for an unknown record, 400 for bad input and 401 without a token', async () => {
      expectProblem(await call('GET', '/api/v1/vulnerabilities/CVE-1999-0001/hosts'), 404, 'not_found');
      expectProblem(await call('GET', '/api/v1/vulnerabilities/CVE%27%3B%20drop/hosts'), 400, 'bad_request');
      expectProblem(await call('GET', '/api/v1/vulnerabilities/CVE-2024-0001%00/hosts'), 400, 'bad_request');
      // Longer than the router's parameter limit (100): no such route.
      expectProblem(await call('GET', `/api/v1/vulnerabilities/${'C'.repeat(129)}/hosts`), 404, 'not_found');
      expectProblem(await call('GET', '/api/v1/vulnerabilities/CVE-2024-0001/hosts?status=fixed'), 400, 'bad_request');
      expectProblem(await call('GET', '/api/v1/vulnerabilities/CVE-2024-0001/hosts?limit=0'), 400, 'bad_request');
      expectProblem(await call('GET', '/api/v1/vulnerabilities/CVE-2024-0001/hosts?limit=1001'), 400, 'bad_request');
      expectProblem(await call('GET', '/api/v1/vulnerabilities/CVE-2024-0001/hosts?offset=-1'), 400, 'bad_request');
      expectProblem(await call('GET', '/api/v1/vulnerabilities/CVE-2024-0001/hosts?host=x'), 400, 'bad_request');
      expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/vulnerabilities/CVE-2024-0001/hosts' }), 401, 'unauthenticated');
    });
  });

  describe('GET /vulnerabilities/{record}', () => {
    it('gives the record with its severity, dates, affected ranges and finding counts', async () => {
      const detail = await get<Record<string, unknown>>('/api/v1/vulnerabilities/CVE-2024-0001');
      expect(detail).toEqual({
        source: 'osv',
        id: 'DEBIAN-CVE-2024-0001',
        aliases: ['CVE-2024-0001'],
        summary: 'a <b>bold</b> summary',
        severity: 'critical',
        severityScore: 9.8,
        severitySource: expect.any(String),
        severityDetail: expect.any(String),
        published: '2026-10-30T12:00:00.000Z',
        modified: '2026-11-01T00:00:00.000Z',
        withdrawn: null,
        importedAt: '2026-11-10T00:00:00.000Z',
        affected: [
          {
            ecosystem: 'Debian:12',
            name: 'openssl',
            keyedBy: expect.stringMatching(/^(source|binary)$/),
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' }] }],
            versions: [],
            endOfLife: false,
          },
        ],
        related: [],
        findings: { open: 3, closed: 1, overdue: 1 },
        hosts: { open: 3, overdue: 1 },
      });
      expect(await get('/api/v1/vulnerabilities/DEBIAN-CVE-2024-0001')).toEqual(detail);
    });

    it('puts the record named by its own id first and the others it is an alias of in related', async () => {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/vulnerabilities/imports',
        headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/octet-stream' },
        payload: JSON.stringify([record('CVE-2024-0002', 'curl', '7.88.1-10+deb12u5', { aliases: [] })]),
      });
      expect(res.statusCode, res.body).toBe(200);
      const detail = await get<{ id: string; related: { id: string }[]; findings: { open: number } }>(
        '/api/v1/vulnerabilities/CVE-2024-0002',
      );
      expect(detail.id).toBe('CVE-2024-0002');
      expect(detail.related.map((r) => r.id)).toEqual(['DEBIAN-CVE-2024-0002']);
      // Both records' findings: curl on alpha and charlie, once per record.
      expect(detail.findings.open).toBe(4);
      const hostsPage = await get<{ items: FindingItem[]; total: number }>('/api/v1/vulnerabilities/CVE-2024-0002/hosts');
      expect(hostsPage.total).toBe(4);
      expect(new Set(hostsPage.items.map((f) => f.id))).toEqual(new Set(['CVE-2024-0002', 'DEBIAN-CVE-2024-0002']));
    });

    it('answers 404 for an unknown record and 400 for a malformed one', async () => {
      expectProblem(await call('GET', '/api/v1/vulnerabilities/CVE-1999-0001'), 404, 'not_found');
      expectProblem(await call('GET', '/api/v1/vulnerabilities/%3Cscript%3E'), 400, 'bad_request');
      expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/vulnerabilities/CVE-2024-0001' }), 401, 'unauthenticated');
    });

    it('keeps the fixed routes under /vulnerabilities/ (sla, feeds, imports, overdue, metrics)', async () => {
      for (const path of ['sla', 'feeds', 'imports', 'overdue', 'metrics']) {
        const res = await call('GET', `/api/v1/vulnerabilities/${path}`);
        expect(res.statusCode, `${path}: ${res.body}`).toBe(200);
        expect(res.json()).not.toHaveProperty('affected');
      }
    });
  });

  describe('GET /vulnerabilities filters', () => {
    const ids = async (query: string) =>
      (await get<{ items: { id: string; hostCount: number }[]; total: number }>(`/api/v1/vulnerabilities${query}`)).items.map(
        (i) => `${i.id}:${i.hostCount}`,
      );

    it.each([
      ['?tier=5', ['DEBIAN-CVE-2024-0001:1', 'CVE-2024-0002:1', 'DEBIAN-CVE-2024-0002:1']],
      ['?tier=3', ['DEBIAN-CVE-2024-0001:1']],
      ['?tier=1', ['DEBIAN-CVE-2024-0001:1', 'CVE-2024-0002:1', 'DEBIAN-CVE-2024-0002:1']],
      ['?tier=2', []],
      ['?q=curl', ['CVE-2024-0002:2', 'DEBIAN-CVE-2024-0002:2']],
      ['?q=CURL', ['CVE-2024-0002:2', 'DEBIAN-CVE-2024-0002:2']],
      ['?q=libssl', ['DEBIAN-CVE-2024-0001:3']],
      // A hostname matches the records with an open finding on it; the counts stay the whole record's.
      ['?q=rec-bravo', ['DEBIAN-CVE-2024-0001:3']],
      ['?q=rec-delta', []],
      ['?q=0001', ['DEBIAN-CVE-2024-0001:3']],
      ['?q=debian-cve-2024-0002', ['DEBIAN-CVE-2024-0002:2']],
      ['?q=tier=5', []],
      // LIKE wildcards and quotes are literal text.
      ['?q=%25', []],
      ['?q=_', []],
      ['?q=%27%20or%20%271%27%3D%271', []],
      ['?q=curl&tier=3', []],
      ['?q=curl&tier=1', ['CVE-2024-0002:1', 'DEBIAN-CVE-2024-0002:1']],
      ['?q=libssl&severity=critical', ['DEBIAN-CVE-2024-0001:3']],
      ['?q=libssl&severity=low', []],
      ['?q=libssl&overdue=true', ['DEBIAN-CVE-2024-0001:3']],
    ])('%s', async (query, expected) => {
      const got = await ids(query);
      expect([...got].sort()).toEqual([...expected].sort());
    });

    it('counts the filtered total', async () => {
      expect((await get<{ total: number }>('/api/v1/vulnerabilities?q=curl&limit=1')).total).toBe(2);
      expect((await get<{ total: number }>('/api/v1/vulnerabilities?tier=5&limit=1')).total).toBe(3);
    });

    it('refuses bad filters with 400', async () => {
      for (const query of ['tier=0', 'tier=6', 'tier=2.5', 'tier=high', 'q=a%00b', 'q=a%0Ab', `q=${'x'.repeat(201)}`]) {
        expectProblem(await call('GET', `/api/v1/vulnerabilities?${query}`), 400, 'bad_request');
      }
    });
  });

  describe('metrics and imports have full response schemas', () => {
    const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
    // An hour on, so delta's remediation (at the old `now`) falls inside the last day.
    beforeAll(() => {
      clock = new Date(clock.getTime() + HOUR);
    });

    it.each(['severity', 'site', 'tier'] as const)('GET /vulnerabilities/metrics?by=%s drops no field', async (by) => {
      const body = await get<{ series: { days: { mttrHours?: number }[] }[] }>(`/api/v1/vulnerabilities/metrics?by=${by}&days=3`);
      const to = clock;
      const expected = await s.app.services.vulns.metrics({ by, from: new Date(to.getTime() - 3 * 86_400_000), to });
      expect(body).toEqual(roundTrip(expected));
      // delta's remediation gives one day a mean time to remediate, the others none.
      const days = body.series.flatMap((x) => x.days);
      expect(days.some((d) => typeof d.mttrHours === 'number')).toBe(true);
      expect(days.some((d) => !('mttrHours' in d))).toBe(true);
    });

    it('GET /vulnerabilities/metrics defaults to 30 days by severity', async () => {
      const body = await get<{ by: string; from: string; to: string; series: { key: string; days: unknown[] }[] }>(
        '/api/v1/vulnerabilities/metrics',
      );
      expect(body.by).toBe('severity');
      expect(Date.parse(body.to) - Date.parse(body.from)).toBe(30 * 86_400_000);
      expect(body.series.map((x) => x.key)).toEqual(['critical', 'low']);
      expectProblem(await call('GET', '/api/v1/vulnerabilities/metrics?by=host'), 400, 'bad_request');
      expectProblem(await call('GET', '/api/v1/vulnerabilities/metrics?days=367'), 400, 'bad_request');
    });

    it('GET /vulnerabilities/imports drops no field', async () => {
      const body = await get<{ items: Record<string, unknown>[] }>('/api/v1/vulnerabilities/imports');
      expect(body).toEqual(roundTrip({ items: await s.app.services.vulns.imports(50) }));
      expect(body.items.length).toBeGreaterThanOrEqual(2);
      expect(body.items.at(-1)).toEqual({
        id: expect.any(String),
        kind: 'osv',
        location: 'console.json',
        actor: 'operator',
        startedAt: '2026-11-10T00:00:00.000Z',
        finishedAt: '2026-11-10T00:00:00.000Z',
        counts: { read: 2, stored: 2, unchanged: 0, rejected: 0, withdrawn: 0, open: 6, opened: 6, closed: 0 },
        error: null,
      });
      expect((await get<{ items: unknown[] }>('/api/v1/vulnerabilities/imports?limit=1')).items).toHaveLength(1);
      expectProblem(await call('GET', '/api/v1/vulnerabilities/imports?limit=0'), 400, 'bad_request');
    });
  });
});
