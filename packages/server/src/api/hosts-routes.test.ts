import { type HostFacts, inventoryHash, type PackageEntry } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sql } from '../store/db.js';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

interface HostItem {
  id: string;
  hostname: string;
  status: 'pending' | 'approved' | 'revoked';
  online: boolean;
  lastSeenAt: string | null;
  os: { platform: string; distro: string; release: string; codename: string | null; kernel: string | null; arch: string | null };
  packageCount: number;
}
interface HostPage {
  items: HostItem[];
  total: number;
}
interface SoftwareItem {
  name: string;
  version: string;
  arch: string;
  ecosystem: string;
  source?: string;
  sourceVersion?: string;
}

const HOST_KEYS = [
  'approvedAt',
  'enrolledAt',
  'groups',
  'hostname',
  'id',
  'inventoryAt',
  'lastSeenAt',
  'online',
  'openFindings',
  'os',
  'packageCount',
  'revokedAt',
  'site',
  'status',
  'tier',
];
const OS_KEYS = ['arch', 'codename', 'distro', 'kernel', 'platform', 'release'];

/** Hostnames full of LIKE and SQL metacharacters: a search must treat each one as plain text. */
const TRICKY = ['a_b', 'axb', '100%-load', 'back\\slash', "it's-mine", "'; drop table hosts; --", "' OR 1=1 --"];

function facts(hostname: string): HostFacts {
  return {
    hostname,
    os: { platform: 'linux', distro: 'debian', release: '12', codename: 'bookworm', kernel: '6.1.0-18-amd64', arch: 'x86_64' },
    hardware: { vendor: 'QEMU', cores: 4, memoryBytes: 8 * 1024 ** 3 },
    network: [{ name: 'eth0', mac: '52:54:00:12:34:56', ipv4: ['10.0.0.5'], ipv6: [] }],
    agentVersion: '0.1.0',
  };
}

describe('hosts routes', () => {
  let s: TestServer;
  let admin: string;
  const ids = new Map<string, string>();
  const publicKeys: string[] = [];

  const get = (url: string, token = admin) => s.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const post = (url: string, token = admin) => s.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` } });
  const del = (url: string, token = admin) => s.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${token}` } });
  const list = async (query: string) => {
    const res = await get(`/api/v1/hosts${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<HostPage>();
  };
  const names = (page: HostPage) => page.items.map((h) => h.hostname);

  async function enrol(hostname: string, autoApprove = true): Promise<string> {
    const token = await s.createJoinToken({ autoApprove, maxUses: 1 });
    const { hostId, keys } = await s.enrollAgent(token, hostname);
    ids.set(hostname, hostId);
    publicKeys.push(keys.publicKey);
    return hostId;
  }

  async function auditFor(target: string) {
    const res = await get('/api/v1/audit?limit=1000');
    expect(res.statusCode).toBe(200);
    return res.json<{ items: Array<{ actor: string; action: string; target: string | null }> }>().items.filter((e) => e.target === target);
  }

  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000 } });
    admin = await s.login();
    for (const name of ['db-01', 'db-02', ...TRICKY]) await enrol(name);
    await enrol('web-01', false);
    const revoked = await enrol('web-02');
    expect((await post(`/api/v1/hosts/${revoked}/revoke`)).statusCode).toBe(200);
    // Presence is written by the agent gateway; set it directly so the filter has something to find.
    await s.database.db.execute(sql`update hosts set online = true, last_seen_at = now() where id = ${ids.get('db-01')}`);
  });
  afterAll(async () => {
    await s.close();
  });

  describe('GET /hosts', () => {
    it('lists hosts in the documented shape, ordered by hostname, with the total', async () => {
      const page = await list('');
      expect(page.total).toBe(ids.size);
      expect(page.items).toHaveLength(ids.size);
      // Only plain names: where punctuation sorts depends on the database's collation.
      expect(names(page).filter((n) => /^(db|web)-/.test(n))).toEqual(['db-01', 'db-02', 'web-01', 'web-02']);
      for (const item of page.items) {
        expect(Object.keys(item).sort()).toEqual(HOST_KEYS);
        expect(Object.keys(item.os).sort()).toEqual(OS_KEYS);
      }
      const db01 = page.items.find((h) => h.hostname === 'db-01');
      expect(db01).toMatchObject({ id: ids.get('db-01'), status: 'approved', online: true, packageCount: 0 });
      expect(db01?.lastSeenAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(page.items.find((h) => h.hostname === 'web-01')).toMatchObject({ status: 'pending', online: false, lastSeenAt: null });
    });

    it('never includes a host’s public key in any host response', async () => {
      const id = ids.get('db-02') ?? '';
      for (const res of [await get('/api/v1/hosts'), await get(`/api/v1/hosts/${id}`), await post(`/api/v1/hosts/${id}/approve`)]) {
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toContain('publicKey');
        for (const key of publicKeys) expect(res.body).not.toContain(key);
      }
    });

    it('pages with limit and offset without overlap, keeping the total', async () => {
      const all = names(await list(''));
      const first = await list('?limit=3&offset=0');
      const second = await list('?limit=3&offset=3');
      const beyond = await list(`?limit=3&offset=${all.length}`);
      expect(first.total).toBe(all.length);
      expect(second.total).toBe(all.length);
      expect(names(first)).toEqual(all.slice(0, 3));
      expect(names(second)).toEqual(all.slice(3, 6));
      expect(beyond).toEqual({ items: [], total: all.length });
    });

    it('returns 50 hosts per page by default', async () => {
      expect((await list('')).items.length).toBeLessThanOrEqual(50);
    });

    it.each(['pending', 'approved', 'revoked'] as const)('filters by status=%s', async (status) => {
      const all = await list('');
      const filtered = await list(`?status=${status}`);
      expect(filtered.items.length).toBeGreaterThan(0);
      expect(filtered.items.every((h) => h.status === status)).toBe(true);
      expect(filtered.total).toBe(all.items.filter((h) => h.status === status).length);
    });

    it('filters by online', async () => {
      expect(names(await list('?online=true'))).toEqual(['db-01']);
      const offline = await list('?online=false');
      expect(offline.total).toBe(ids.size - 1);
      expect(names(offline)).not.toContain('db-01');
    });

    it('combines filters with paging', async () => {
      const page = await list('?status=approved&online=false&q=db&limit=1');
      expect(page).toMatchObject({ total: 1, items: [{ hostname: 'db-02' }] });
    });

    it('searches hostnames case-insensitively by substring', async () => {
      expect(names(await list('?q=DB-0'))).toEqual(['db-01', 'db-02']);
      expect(names(await list('?q=eb-0'))).toEqual(['web-01', 'web-02']);
    });

    it.each([
      ['%', ['100%-load']],
      ['_', ['a_b']],
      ['a_b', ['a_b']],
      ['\\', ['back\\slash']],
      ["'", ["' OR 1=1 --", "'; drop table hosts; --", "it's-mine"]],
      ["' OR 1=1 --", ["' OR 1=1 --"]],
      ["'; drop table hosts; --", ["'; drop table hosts; --"]],
      ['" OR ""="', []],
      ['$1', []],
      ['nothing-like-this', []],
    ])('matches q=%j literally', async (q, expected) => {
      const page = await list(`?q=${encodeURIComponent(q)}`);
      expect(names(page).sort()).toEqual(expected.sort());
      expect(page.total).toBe(expected.length);
    });

    it('still has every host after searches laced with SQL', async () => {
      await list(`?q=${encodeURIComponent("'; drop table hosts; --")}`);
      await list(`?q=${encodeURIComponent("x'); delete from hosts; --")}`);
      const rows = await queryRows<{ present: boolean; n: number }>(
        s.database.db,
        sql`select to_regclass('public.hosts') is not null as present, count(*)::int as n from hosts`,
      );
      const [row] = rows;
      expect(row).toEqual({ present: true, n: ids.size });
      expect((await list('')).total).toBe(ids.size);
    });

    it.each([
      ['a NUL byte in q', `?q=${encodeURIComponent('db\u0000')}`],
      ['a control character in q', `?q=${encodeURIComponent('db\u0007')}`],
      ['q over 200 characters', `?q=${'q'.repeat(201)}`],
      ['limit 0', '?limit=0'],
      ['limit 5000', '?limit=5000'],
      ['a negative offset', '?offset=-1'],
      ['a fractional limit', '?limit=1.5'],
      ['a non-numeric limit', '?limit=ten'],
      ['an unknown status', '?status=deleted'],
      ['online=maybe', '?online=maybe'],
      ['an unknown parameter', '?sortBy=hostname'],
      ['an unknown sort', '?sort=publicKey'],
      ['an unknown order', '?order=up'],
      ['tier 0', '?tier=0'],
      ['tier 6', '?tier=6'],
      ['a fractional tier', '?tier=2.5'],
      ['a NUL byte in site', `?site=${encodeURIComponent('x\u0000')}`],
      ['an empty group', '?group='],
      ['a group over 100 characters', `?group=${'g'.repeat(101)}`],
      ['a control character in os', `?os=${encodeURIComponent('debian\u001b12')}`],
    ])('refuses %s with 400', async (_name, query) => {
      expectProblem(await get(`/api/v1/hosts${query}`), 400, 'bad_request');
    });

    it('requires authentication', async () => {
      expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/hosts' }), 401, 'unauthenticated');
    });
  });

  describe('GET /hosts/{id}', () => {
    it('answers an unknown id with a 404 problem and a malformed one with a 400 problem', async () => {
      expectProblem(await get('/api/v1/hosts/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
      expectProblem(await get('/api/v1/hosts/not-a-uuid'), 400, 'bad_request');
      expectProblem(await get(`/api/v1/hosts/${encodeURIComponent("1' OR '1'='1")}`), 400, 'bad_request');
    });
  });

  describe('host lifecycle', () => {
    it('approves a pending host and records it in the audit log', async () => {
      const id = await enrol('life-pending', false);
      const res = await post(`/api/v1/hosts/${id}/approve`);
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.json()).sort()).toEqual(HOST_KEYS);
      expect(res.json()).toMatchObject({ id, status: 'approved' });
      expect(await auditFor(id)).toEqual(expect.arrayContaining([expect.objectContaining({ actor: 'admin', action: 'host.approve' })]));
    });

    it('approving an approved host changes nothing and records nothing', async () => {
      const id = await enrol('life-approved');
      const before = await auditFor(id);
      const res = await post(`/api/v1/hosts/${id}/approve`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'approved' });
      expect(await auditFor(id)).toEqual(before);
    });

    it('revokes a host once, audits it, and refuses a second revoke or an approve with 409', async () => {
      const id = await enrol('life-revoked');
      const res = await post(`/api/v1/hosts/${id}/revoke`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id, status: 'revoked', online: false });
      expect(res.json<{ revokedAt: string | null }>().revokedAt).not.toBeNull();
      expect((await auditFor(id)).filter((e) => e.action === 'host.revoke')).toHaveLength(1);
      expectProblem(await post(`/api/v1/hosts/${id}/revoke`), 409, 'conflict');
      expectProblem(await post(`/api/v1/hosts/${id}/approve`), 409, 'conflict');
      expect((await auditFor(id)).filter((e) => e.action === 'host.revoke')).toHaveLength(1);
      expect((await get(`/api/v1/hosts/${id}`)).json()).toMatchObject({ status: 'revoked' });
    });

    it('deletes a host with its inventory, audits it, and then answers 404 for it', async () => {
      const id = await enrol('life-deleted');
      const pkgs: PackageEntry[] = [{ ecosystem: 'dpkg', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64' }];
      await s.app.services.inventory.ingestFull(id, pkgs, undefined, inventoryHash(pkgs));
      expect((await del(`/api/v1/hosts/${id}`)).statusCode).toBe(204);
      expectProblem(await get(`/api/v1/hosts/${id}`), 404, 'not_found');
      expectProblem(await get(`/api/v1/hosts/${id}/software`), 404, 'not_found');
      expectProblem(await del(`/api/v1/hosts/${id}`), 404, 'not_found');
      expect(await auditFor(id)).toEqual(expect.arrayContaining([expect.objectContaining({ actor: 'admin', action: 'host.delete' })]));
      expect(await s.app.services.inventory.packagesOf(id)).toEqual([]);
    });

    it.each(['approve', 'revoke'])('answers %s of an unknown host with 404 and of a malformed id with 400', async (action) => {
      expectProblem(await post(`/api/v1/hosts/00000000-0000-4000-8000-000000000000/${action}`), 404, 'not_found');
      expectProblem(await post(`/api/v1/hosts/xyz/${action}`), 400, 'bad_request');
    });

    it('answers delete of a malformed id with 400', async () => {
      expectProblem(await del('/api/v1/hosts/xyz'), 400, 'bad_request');
    });

    it('forbids anyone but an admin to approve, revoke or delete', async () => {
      const id = await enrol('life-guarded', false);
      const created = await s.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${admin}` },
        payload: { username: 'ops', password: 'operator password', role: 'operator' },
      });
      expect(created.statusCode).toBe(201);
      const operator = await s.login('ops', 'operator password');
      expectProblem(await post(`/api/v1/hosts/${id}/approve`, operator), 403, 'forbidden');
      expectProblem(await post(`/api/v1/hosts/${id}/revoke`, operator), 403, 'forbidden');
      expectProblem(await del(`/api/v1/hosts/${id}`, operator), 403, 'forbidden');
      expect((await get(`/api/v1/hosts/${id}`)).json()).toMatchObject({ status: 'pending' });
      expect(await auditFor(id)).toEqual([expect.objectContaining({ action: 'host.enroll' })]);
    });
  });

  describe('GET /hosts/{id}/software', () => {
    const packages: PackageEntry[] = [
      {
        ecosystem: 'dpkg',
        name: 'openssl',
        version: '3.0.11-1~deb12u2',
        arch: 'amd64',
        source: 'openssl',
        sourceVersion: '3.0.11-1~deb12u2',
      },
      {
        ecosystem: 'dpkg',
        name: 'libssl3',
        version: '3.0.11-1~deb12u2',
        arch: 'amd64',
        source: 'openssl',
        sourceVersion: '3.0.11-1~deb12u2',
      },
      { ecosystem: 'dpkg', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64' },
      { ecosystem: 'dpkg', name: 'libc6', version: '2.36-9+deb12u4', arch: 'amd64', source: 'glibc' },
      { ecosystem: 'dpkg', name: 'libc6', version: '2.36-9+deb12u4', arch: 'i386', source: 'glibc' },
      { ecosystem: 'dpkg', name: 'lib_under', version: '1.0', arch: 'all' },
      { ecosystem: 'dpkg', name: 'libxunder', version: '1.0', arch: 'all' },
      { ecosystem: 'dpkg', name: '100%-pkg', version: '1.0', arch: 'all' },
      { ecosystem: 'dpkg', name: 'back\\slash', version: '1.0', arch: 'all' },
      { ecosystem: 'dpkg', name: "o'reilly", version: '1.0', arch: 'all' },
    ];
    let hostId: string;
    const software = async (query: string) => {
      const res = await get(`/api/v1/hosts/${hostId}/software${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ items: SoftwareItem[]; total: number }>();
    };
    const pkgNames = (page: { items: SoftwareItem[] }) => page.items.map((p) => `${p.name}:${p.arch}`);

    beforeAll(async () => {
      hostId = await enrol('inventoried');
      await s.app.services.inventory.ingestFull(hostId, packages, facts('inventoried.example.org'), inventoryHash(packages));
    });

    it('lists installed packages in the documented shape, sorted by name and arch', async () => {
      const page = await software('');
      expect(page.total).toBe(packages.length);
      expect(pkgNames(page).sort()).toEqual(packages.map((p) => `${p.name}:${p.arch}`).sort());
      // Only plain names: where punctuation sorts depends on the database's collation.
      expect(pkgNames(page).filter((n) => /^[a-z0-9]+:/.test(n))).toEqual([
        'bash:amd64',
        'libc6:amd64',
        'libc6:i386',
        'libssl3:amd64',
        'libxunder:all',
        'openssl:amd64',
      ]);
      expect(page.items.find((p) => p.name === 'libssl3')).toEqual({
        name: 'libssl3',
        version: '3.0.11-1~deb12u2',
        arch: 'amd64',
        ecosystem: 'dpkg',
        source: 'openssl',
        sourceVersion: '3.0.11-1~deb12u2',
      });
      // No source package: the field is absent, not empty.
      expect(page.items.find((p) => p.name === 'bash')).toEqual({ name: 'bash', version: '5.2.15-2+b2', arch: 'amd64', ecosystem: 'dpkg' });
      expect(page.items.find((p) => p.name === 'libc6')).toEqual({
        name: 'libc6',
        version: '2.36-9+deb12u4',
        arch: 'amd64',
        ecosystem: 'dpkg',
        source: 'glibc',
      });
    });

    it('shows the facts the inventory brought on the host', async () => {
      const host = (await get(`/api/v1/hosts/${hostId}`)).json<HostItem & { facts: { agentVersion: string } | null }>();
      expect(host).toMatchObject({
        hostname: 'inventoried.example.org',
        packageCount: packages.length,
        os: { platform: 'linux', distro: 'debian', release: '12', codename: 'bookworm', kernel: '6.1.0-18-amd64', arch: 'x86_64' },
        facts: { agentVersion: '0.1.0', hardware: { vendor: 'QEMU', cores: 4 } },
      });
      const listed = (await list('?q=inventoried')).items[0];
      expect(listed).toMatchObject({ packageCount: packages.length, os: { platform: 'linux', distro: 'debian', release: '12' } });
    });

    it('pages with limit and offset', async () => {
      const all = pkgNames(await software(''));
      const page = await software('?limit=4&offset=4');
      expect(page.total).toBe(packages.length);
      expect(pkgNames(page)).toEqual(all.slice(4, 8));
    });

    it('finds packages by name and by source package', async () => {
      expect(pkgNames(await software('?q=LIBC'))).toEqual(['libc6:amd64', 'libc6:i386']);
      expect(pkgNames(await software('?q=glibc'))).toEqual(['libc6:amd64', 'libc6:i386']);
      const openssl = await software('?q=openssl');
      expect(pkgNames(openssl)).toEqual(['libssl3:amd64', 'openssl:amd64']);
      expect(openssl.total).toBe(2);
    });

    it.each([
      ['%', ['100%-pkg:all']],
      ['_', ['lib_under:all']],
      ['lib_under', ['lib_under:all']],
      ['\\', ['back\\slash:all']],
      ["'", ["o'reilly:all"]],
      ["' OR 1=1 --", []],
      ["'; drop table hosts; --", []],
    ])('matches q=%j literally', async (q, expected) => {
      const page = await software(`?q=${encodeURIComponent(q)}`);
      expect(pkgNames(page).sort()).toEqual(expected.sort());
      expect(page.total).toBe(expected.length);
    });

    it('answers an empty inventory with no items', async () => {
      const id = await enrol('never-reported');
      const res = await get(`/api/v1/hosts/${id}/software`);
      expect(res.json()).toEqual({ items: [], total: 0 });
    });

    it.each([
      ['a NUL byte in q', `?q=${encodeURIComponent('lib\u0000')}`],
      ['limit 0', '?limit=0'],
      ['limit 5000', '?limit=5000'],
      ['an unknown parameter', '?ecosystem=dpkg'],
    ])('refuses %s with 400', async (_name, query) => {
      expectProblem(await get(`/api/v1/hosts/${hostId}/software${query}`), 400, 'bad_request');
    });

    it('answers an unknown host with 404 and a malformed id with 400', async () => {
      expectProblem(await get('/api/v1/hosts/00000000-0000-4000-8000-000000000000/software'), 404, 'not_found');
      expectProblem(await get('/api/v1/hosts/nope/software'), 400, 'bad_request');
    });
  });

  describe('GET /audit', () => {
    it('lists entries newest first, paged, only for admins and approvers', async () => {
      const page = await get('/api/v1/audit?limit=2');
      expect(page.statusCode).toBe(200);
      const body = page.json<{ items: Array<{ id: number; at: string }>; total: number }>();
      expect(body.items).toHaveLength(2);
      expect(body.total).toBeGreaterThan(2);
      expect(body.items[0]?.id).toBeGreaterThan(body.items[1]?.id ?? Number.POSITIVE_INFINITY);
      expectProblem(await get('/api/v1/audit?limit=0'), 400, 'bad_request');
      const viewer = await s.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${admin}` },
        payload: { username: 'auditless', password: 'viewer password', role: 'viewer' },
      });
      expect(viewer.statusCode).toBe(201);
      expectProblem(await get('/api/v1/audit', await s.login('auditless', 'viewer password')), 403, 'forbidden');
    });
  });
});
