import { type HostFacts, inventoryHash, type PackageEntry } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sql } from '../store/db.js';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

interface HostItem {
  id: string;
  hostname: string;
  lastSeenAt: string | null;
  os: { distro: string; release: string };
  site: string | null;
  groups: string[];
  tier: number;
  openFindings: number;
}
interface HostPage {
  items: HostItem[];
  total: number;
}
interface HistoryItem {
  at: string;
  kind: 'audit' | 'deployment' | 'remediation' | 'quarantine';
  summary: string;
  actor: string | null;
  ref: string | null;
}

function facts(hostname: string, distro: string, release: string): HostFacts {
  return {
    hostname,
    os: { platform: 'linux', distro, release, kernel: '6.1.0', arch: 'x86_64' },
    hardware: {},
    network: [],
    agentVersion: '0.1.0',
  };
}

const PACKAGES: PackageEntry[] = [{ ecosystem: 'dpkg', name: 'openssl', version: '3.0.11-1~deb12u2', arch: 'amd64' }];

/**
 * The fleet: name -> site, groups, own tier, OS. Effective tiers: alpha 5 (own), bravo 4 (group
 * "db" has tier 4), charlie 3 (default), delta 2 (own, over its group's 4), echo 3 (default).
 */
const FLEET = {
  alpha: { site: 'Berlin', groups: ['web'], tier: 5, os: ['debian', '12'] },
  bravo: { site: 'Berlin', groups: ['db', 'web'], tier: null, os: ['debian', '11'] },
  charlie: { site: 'Paris', groups: [], tier: null, os: ['ubuntu', '24.04'] },
  delta: { site: null, groups: ['db'], tier: 2, os: ['Debian', '12'] },
  echo: { site: "O'Hare %_", groups: ['odd'], tier: null, os: ['rocky', '9'] },
} as const;
type Name = keyof typeof FLEET;

describe('hosts for the console', () => {
  let s: TestServer;
  let admin: string;
  let viewer: string;
  const ids = new Map<string, string>();
  const id = (name: Name) => ids.get(name) ?? '';

  const get = (url: string, token = admin) => s.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const put = (url: string, payload: unknown) =>
    s.app.inject({ method: 'PUT', url, headers: { authorization: `Bearer ${admin}` }, payload: payload as object });
  const list = async (query: string) => {
    const res = await get(`/api/v1/hosts${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<HostPage>();
  };
  const names = (page: HostPage) => page.items.map((h) => h.hostname);

  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000 } });
    admin = await s.login();
    const created = await s.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${admin}` },
      payload: { username: 'watcher', password: 'viewer password!', role: 'viewer' },
    });
    expect(created.statusCode).toBe(201);
    viewer = await s.login('watcher', 'viewer password!');
    for (const [name, h] of Object.entries(FLEET)) {
      const { hostId } = await s.enrollAgent(undefined, name);
      ids.set(name, hostId);
      await s.app.services.inventory.ingestFull(hostId, PACKAGES, facts(name, h.os[0], h.os[1]), inventoryHash(PACKAGES));
      if (h.groups.length > 0) expect((await put(`/api/v1/hosts/${hostId}/groups`, { groups: h.groups })).statusCode).toBe(200);
      const risk = { ...(h.site === null ? {} : { site: h.site }), ...(h.tier === null ? {} : { riskTier: h.tier }) };
      if (Object.keys(risk).length > 0) expect((await put(`/api/v1/hosts/${hostId}/risk`, risk)).statusCode).toBe(200);
    }
    expect((await put('/api/v1/groups/db/tier', { riskTier: 4 })).statusCode).toBe(200);
    expect((await put('/api/v1/groups/empty-but-tiered/tier', { riskTier: 1 })).statusCode).toBe(200);
    // Last seen: alpha long ago, bravo recently, the others never.
    await s.database.db.execute(sql`update hosts set last_seen_at = now() - interval '3 days' where id = ${id('alpha')}`);
    await s.database.db.execute(sql`update hosts set last_seen_at = now() - interval '1 minute' where id = ${id('bravo')}`);
    // Findings: two open and one closed on bravo, one open on charlie.
    for (const [host, advisory, closed] of [
      ['bravo', 'CVE-2024-0001', false],
      ['bravo', 'CVE-2024-0002', false],
      ['bravo', 'CVE-2024-0003', true],
      ['charlie', 'CVE-2024-0001', false],
    ] as const) {
      await s.database.db.execute(sql`
        insert into vuln_findings (host_id, source, advisory_id, package_name, installed_version, fixed_version, severity, risk_tier,
          first_seen_at, due_at, last_matched_at, closed_at, closed_reason, explanation)
        values (${id(host)}, 'osv', ${advisory}, 'openssl', '3.0.11-1~deb12u2', null, 'high', 3, now(), now() + interval '1 day', now(),
          ${closed ? sql`now()` : sql`null`}, ${closed ? 'remediated' : null}, '{}'::jsonb)`);
    }
  });
  afterAll(async () => {
    await s.close();
  });

  describe('GET /hosts', () => {
    it('gives every host its site, sorted groups, effective tier and open findings', async () => {
      const page = await list('');
      const byName = new Map(page.items.map((h) => [h.hostname, h]));
      expect(byName.get('alpha')).toMatchObject({ site: 'Berlin', groups: ['web'], tier: 5, openFindings: 0 });
      expect(byName.get('bravo')).toMatchObject({ site: 'Berlin', groups: ['db', 'web'], tier: 4, openFindings: 2 });
      expect(byName.get('charlie')).toMatchObject({ site: 'Paris', groups: [], tier: 3, openFindings: 1 });
      expect(byName.get('delta')).toMatchObject({ site: null, groups: ['db'], tier: 2, openFindings: 0 });
      expect(byName.get('echo')).toMatchObject({ site: "O'Hare %_", groups: ['odd'], tier: 3, openFindings: 0 });
    });

    it('gives the same placement on GET /hosts/{id}', async () => {
      const res = await get(`/api/v1/hosts/${id('bravo')}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ hostname: 'bravo', site: 'Berlin', groups: ['db', 'web'], tier: 4, openFindings: 2 });
    });

    it('gives GET /hosts/{id} the host’s own risk tier beside the effective one (null when inherited)', async () => {
      // bravo inherits 4 from its group, charlie the default 3, delta has its own 2 over its group's 4.
      expect((await get(`/api/v1/hosts/${id('bravo')}`)).json()).toMatchObject({ tier: 4, riskTier: null });
      expect((await get(`/api/v1/hosts/${id('charlie')}`)).json()).toMatchObject({ tier: 3, riskTier: null });
      expect((await get(`/api/v1/hosts/${id('delta')}`)).json()).toMatchObject({ tier: 2, riskTier: 2 });
      expect((await get(`/api/v1/hosts/${id('alpha')}`)).json()).toMatchObject({ tier: 5, riskTier: 5 });
      // The list keeps its shape: the effective tier only.
      for (const h of (await list('')).items) expect(h).not.toHaveProperty('riskTier');
    });

    it.each([
      ['site=Berlin', ['alpha', 'bravo']],
      ['site=berlin', []],
      ['site=Ber', []],
      [`site=${encodeURIComponent("O'Hare %_")}`, ['echo']],
      [`site=${encodeURIComponent('%')}`, []],
      ['group=db', ['bravo', 'delta']],
      ['group=web', ['alpha', 'bravo']],
      ['group=we', []],
      ['group=empty-but-tiered', []],
      ['os=debian', ['alpha', 'bravo', 'delta']],
      ['os=DEBIAN', ['alpha', 'bravo', 'delta']],
      [`os=${encodeURIComponent('debian 12')}`, ['alpha', 'delta']],
      [`os=${encodeURIComponent(' Debian   12 ')}`, ['alpha', 'delta']],
      [`os=${encodeURIComponent('debian 1')}`, []],
      [`os=${encodeURIComponent('ubuntu 24.04')}`, ['charlie']],
      [`os=${encodeURIComponent("debian' or '1'='1")}`, []],
      ['tier=5', ['alpha']],
      ['tier=4', ['bravo']],
      ['tier=3', ['charlie', 'echo']],
      ['tier=2', ['delta']],
      ['tier=1', []],
      ['site=Berlin&group=db', ['bravo']],
      ['os=debian&tier=2', ['delta']],
      ['group=db&q=del', ['delta']],
    ])('filters by %s', async (query, expected) => {
      const page = await list(`?${query}`);
      expect(names(page).sort()).toEqual([...expected].sort());
      expect(page.total).toBe(expected.length);
    });

    it('sorts by hostname, last seen (never seen last) and tier, both ways, with stable ties', async () => {
      expect(names(await list(''))).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
      expect(names(await list('?sort=hostname&order=desc'))).toEqual(['echo', 'delta', 'charlie', 'bravo', 'alpha']);
      expect(names(await list('?sort=lastSeenAt'))).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
      expect(names(await list('?sort=lastSeenAt&order=desc'))).toEqual(['bravo', 'alpha', 'charlie', 'delta', 'echo']);
      expect(names(await list('?sort=tier'))).toEqual(['delta', 'charlie', 'echo', 'bravo', 'alpha']);
      expect(names(await list('?sort=tier&order=desc'))).toEqual(['alpha', 'bravo', 'charlie', 'echo', 'delta']);
    });

    it('pages a sorted, filtered list without overlap', async () => {
      const first = await list('?sort=tier&order=desc&limit=2');
      const second = await list('?sort=tier&order=desc&limit=2&offset=2');
      expect(names(first)).toEqual(['alpha', 'bravo']);
      expect(names(second)).toEqual(['charlie', 'echo']);
      expect(first.total).toBe(5);
      expect(await list('?group=db&limit=1&offset=1')).toMatchObject({ total: 2, items: [{ hostname: 'delta' }] });
    });

    it('follows a group tier change in the effective tier', async () => {
      expect((await put('/api/v1/groups/web/tier', { riskTier: 1 })).statusCode).toBe(200);
      // alpha has its own tier 5; bravo takes the highest of db (4) and web (1).
      expect(names(await list('?tier=1'))).toEqual([]);
      expect(names(await list('?tier=4'))).toEqual(['bravo']);
      expect((await put('/api/v1/groups/web/tier', { riskTier: null })).statusCode).toBe(200);
    });
  });

  describe('GET /hosts/facets', () => {
    it('counts hosts per site, group and OS release', async () => {
      const res = await get('/api/v1/hosts/facets', viewer);
      expect(res.statusCode, res.body).toBe(200);
      const facets = res.json<Record<string, Array<{ name: string; count: number }>>>();
      expect(facets.sites).toEqual(
        expect.arrayContaining([
          { name: 'Berlin', count: 2 },
          { name: 'Paris', count: 1 },
          { name: "O'Hare %_", count: 1 },
        ]),
      );
      expect(facets.sites).toHaveLength(3);
      expect(facets.groups).toEqual(
        expect.arrayContaining([
          { name: 'db', count: 2 },
          { name: 'web', count: 2 },
          { name: 'odd', count: 1 },
        ]),
      );
      expect(facets.groups).toHaveLength(3);
      expect(facets.os).toEqual(
        expect.arrayContaining([
          { name: 'debian 12', count: 1 },
          { name: 'Debian 12', count: 1 },
          { name: 'debian 11', count: 1 },
          { name: 'ubuntu 24.04', count: 1 },
          { name: 'rocky 9', count: 1 },
        ]),
      );
      expect(Object.keys(facets).sort()).toEqual(['groups', 'os', 'sites']);
    });

    it('requires authentication', async () => {
      expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/hosts/facets' }), 401, 'unauthenticated');
    });
  });

  describe('GET /groups', () => {
    it('lists every group named by hosts, tiers or windows with its host count and tier', async () => {
      const window = await s.app.inject({
        method: 'POST',
        url: '/api/v1/maintenance-windows',
        headers: { authorization: `Bearer ${admin}` },
        payload: { group: 'window-only', cron: '0 2 * * *', durationMinutes: 60, timeZone: 'UTC' },
      });
      expect(window.statusCode, window.body).toBe(201);
      const res = await get('/api/v1/groups', viewer);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        items: [
          { name: 'db', hostCount: 2, tier: 4 },
          { name: 'empty-but-tiered', hostCount: 0, tier: 1 },
          { name: 'odd', hostCount: 1, tier: null },
          { name: 'web', hostCount: 2, tier: null },
          { name: 'window-only', hostCount: 0, tier: null },
        ],
      });
    });

    it('refuses anonymous callers', async () => {
      expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/groups' }), 401, 'unauthenticated');
    });
  });

  describe('GET /hosts/{id}/history', () => {
    let deploymentId = '';

    beforeAll(async () => {
      const created = await s.app.inject({
        method: 'POST',
        url: '/api/v1/deployments',
        headers: { authorization: `Bearer ${admin}` },
        payload: {
          name: 'openssl for echo',
          packages: [{ name: 'openssl', version: '3.0.13-1~deb12u1' }],
          targets: { hostIds: [id('echo')] },
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      deploymentId = created.json<{ id: string }>().id;
      await s.app.services.deployments.tick();
      const policy = '00000000-0000-4000-8000-000000000001';
      await s.database.db.execute(sql`
        insert into remediation_events (host_id, policy_id, policy_version, rule, action, ok, before, after, at, received_at)
        values (${id('echo')}, ${policy}, 1, 0, 'start-service', true, 'clamav stopped', 'clamav running',
          now() + interval '1 hour', now())`);
      await s.database.db.execute(sql`
        insert into quarantines (host_id, action, sequence, signed, state, detail, reason, requested_by, requested_at, updated_at)
        values (${id('echo')}, 'isolate', 1, '{}'::jsonb, 'isolated', 'rules applied', 'infected', 'admin', now() + interval '2 hours',
          now() + interval '2 hours')`);
    });

    const history = async (hostId: string, query = '') => {
      const res = await get(`/api/v1/hosts/${hostId}/history${query}`, viewer);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ items: HistoryItem[]; total: number }>();
    };

    it('merges audit entries, deployments, remediations and quarantine, newest first', async () => {
      const page = await history(id('echo'));
      expect(page.items.map((i) => i.kind)).toEqual(['quarantine', 'remediation', ...page.items.slice(2).map((i) => i.kind)]);
      expect(page.items[0]).toMatchObject({
        kind: 'quarantine',
        summary: 'isolated (isolate order 1, as the agent reported): rules applied',
        actor: null,
        ref: null,
      });
      expect(page.items[1]).toMatchObject({
        kind: 'remediation',
        summary: 'policy "(deleted)" rule 0: start-service succeeded (before: clamav stopped; after: clamav running)',
        actor: null,
        ref: '00000000-0000-4000-8000-000000000001',
      });
      const deployment = page.items.find((i) => i.kind === 'deployment');
      expect(deployment).toMatchObject({ actor: 'admin', ref: deploymentId });
      expect(deployment?.summary).toMatch(/^deployment "openssl for echo" \(wave 1\): unreached: host offline/);
      const audits = page.items.filter((i) => i.kind === 'audit').map((i) => i.summary);
      expect(audits).toEqual(expect.arrayContaining(['groups set to odd', "site O'Hare %_ set", 'enrolled']));
      const times = page.items.map((i) => Date.parse(i.at));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(page.total).toBe(page.items.length);
      for (const item of page.items) expect(Object.keys(item).sort()).toEqual(['actor', 'at', 'kind', 'ref', 'summary']);
    });

    it('shows quarantine orders from the audit log as quarantine', async () => {
      await s.app.services.audit.record({
        actor: 'admin',
        action: 'host.quarantine',
        target: id('echo'),
        detail: { reason: 'ransomware' },
        at: new Date(Date.now() + 3 * 3_600_000),
      });
      const [first] = (await history(id('echo'), '?limit=1')).items;
      expect(first).toMatchObject({ kind: 'quarantine', summary: 'quarantine ordered: ransomware', actor: 'admin' });
    });

    it('pages with limit and offset, keeping the total', async () => {
      const all = await history(id('echo'), '?limit=1000');
      const first = await history(id('echo'), '?limit=2');
      const second = await history(id('echo'), '?limit=2&offset=2');
      expect(first.total).toBe(all.total);
      expect([...first.items, ...second.items]).toEqual(all.items.slice(0, 4));
      expect(await history(id('echo'), `?offset=${all.total}`)).toEqual({ items: [], total: all.total });
    });

    it('shows only the host’s own history', async () => {
      const page = await history(id('charlie'));
      expect(page.items.every((i) => i.kind === 'audit')).toBe(true);
      expect(page.items.map((i) => i.summary)).not.toContain('groups set to odd');
    });

    it('answers an unknown host with 404 and bad input with 400, changing nothing', async () => {
      const before = await queryRows<{ n: number }>(s.database.db, sql`select count(*)::int as n from audit_log`);
      expectProblem(await get('/api/v1/hosts/00000000-0000-4000-8000-000000000000/history'), 404, 'not_found');
      expectProblem(await get('/api/v1/hosts/not-a-uuid/history'), 400, 'bad_request');
      expectProblem(await get(`/api/v1/hosts/${id('echo')}/history?limit=0`), 400, 'bad_request');
      expectProblem(await get(`/api/v1/hosts/${id('echo')}/history?limit=1001`), 400, 'bad_request');
      expectProblem(await get(`/api/v1/hosts/${id('echo')}/history?kind=audit`), 400, 'bad_request');
      expectProblem(await s.app.inject({ method: 'GET', url: `/api/v1/hosts/${id('echo')}/history` }), 401, 'unauthenticated');
      const after = await queryRows<{ n: number }>(s.database.db, sql`select count(*)::int as n from audit_log`);
      expect(after).toEqual(before);
    });
  });
});
