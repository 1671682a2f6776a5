import { deflateRawSync } from 'node:zlib';
import { inventoryHash, type PackageEntry } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { debianFacts as facts, dpkgPackage as pkg } from '../testing/fixtures.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

const PASSWORD = 'a-long-enough-password';

function record(id: string, name: string, fixed: string, extra: Record<string, unknown> = {}) {
  return {
    schema_version: '1.6.0',
    id,
    modified: '2026-11-01T00:00:00Z',
    aliases: [id.replace(/^DEBIAN-/, '')],
    summary: 'a <b>bold</b> summary',
    affected: [{ package: { ecosystem: 'Debian:12', name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    ...extra,
  };
}

/** A minimal zip (deflate) of the given entries, as osv.dev's all.zip files are. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const data = Buffer.from(text);
    const packed = deflateRawSync(data);
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function crc32(data: Buffer): number {
  let crc = ~0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

describe('vulnerability routes', () => {
  let s: TestServer;
  const tokens = {} as Record<'admin' | 'operator' | 'viewer' | 'approver', string>;
  const hosts: Record<string, string> = {};

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string, payload?: unknown) =>
    s.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const upload = (body: Buffer | string, token = tokens.operator, type = 'application/octet-stream', query = '') =>
    s.app.inject({
      method: 'POST',
      url: `/api/v1/vulnerabilities/imports${query}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      payload: body,
    });

  async function enrol(hostname: string, packages: PackageEntry[]) {
    const { hostId } = await s.enrollAgent(await s.createJoinToken({ autoApprove: true, maxUses: 1 }), hostname);
    await s.app.services.inventory.ingestFull(hostId, packages, facts(hostname), inventoryHash(packages));
    hosts[hostname] = hostId;
  }

  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000 } });
    tokens.admin = await s.login();
    for (const role of ['operator', 'viewer', 'approver'] as const) {
      const res = await call('POST', '/api/v1/users', tokens.admin, { username: role, password: PASSWORD, role });
      expect(res.statusCode, res.body).toBe(201);
      tokens[role] = await s.login(role, PASSWORD);
    }
    await enrol('web-01', [pkg('libssl3', '3.0.11-1~deb12u2', 'openssl'), pkg('curl', '7.88.1-10+deb12u4')]);
    await enrol('web-02', [pkg('libssl3', '3.0.13-1~deb12u1', 'openssl'), pkg('curl', '7.88.1-10+deb12u4')]);
    await s.app.services.vulns.idle();
  });
  afterAll(async () => {
    await s.close();
  });

  it('imports an uploaded zip of OSV records and lists the vulnerabilities in the contract shape', async () => {
    const body = zip({
      'DEBIAN-CVE-2024-0001.json': JSON.stringify(record('DEBIAN-CVE-2024-0001', 'openssl', '3.0.13-1~deb12u1')),
      'DEBIAN-CVE-2024-0002.json': JSON.stringify(record('DEBIAN-CVE-2024-0002', 'curl', '7.88.1-10+deb12u5', { severity: [] })),
    });
    const res = await upload(body, tokens.operator, 'application/zip', '?name=debian.zip');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'osv', read: 2, stored: 2, rejected: 0, findings: { opened: 3 } });

    const list = await call('GET', '/api/v1/vulnerabilities', tokens.viewer);
    expect(list.statusCode, list.body).toBe(200);
    const items = list.json<{ items: Record<string, unknown>[] }>().items;
    expect(items.map((i) => [i.id, i.severity, i.hostCount])).toEqual([
      ['DEBIAN-CVE-2024-0001', 'critical', 1],
      ['DEBIAN-CVE-2024-0002', 'low', 2],
    ]);
    for (const item of items) {
      expect(item).toMatchObject({ aliases: [expect.stringMatching(/^CVE-/)], dueAt: expect.any(String) });
    }
    const critical = await call('GET', '/api/v1/vulnerabilities?severity=critical', tokens.viewer);
    expect(critical.json<{ items: unknown[] }>().items).toHaveLength(1);
    const overdue = await call('GET', '/api/v1/vulnerabilities?overdue=true', tokens.viewer);
    expect(overdue.json<{ items: unknown[] }>().items).toEqual([]);
  });

  it('shows a host its findings with explanations, and explains a record by alias', async () => {
    const res = await call('GET', `/api/v1/hosts/${hosts['web-01']}/vulnerabilities`, tokens.viewer);
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json<{ items: Record<string, unknown>[] }>().items;
    expect(items[0]).toMatchObject({
      id: 'DEBIAN-CVE-2024-0001',
      package: 'libssl3',
      installedVersion: '3.0.11-1~deb12u2',
      fixedVersion: '3.0.13-1~deb12u1',
      severity: 'critical',
      dueAt: expect.any(String),
      explanation: { decision: 'introduced 0; dpkg: 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1 (fixed)', package: 'openssl', matchedBy: 'source' },
    });
    const explained = await call('GET', `/api/v1/hosts/${hosts['web-02']}/vulnerabilities/CVE-2024-0001`, tokens.viewer);
    expect(explained.statusCode, explained.body).toBe(200);
    expect(explained.json()).toMatchObject({
      findings: [],
      notAffected: [
        { package: 'libssl3', installedVersion: '3.0.13-1~deb12u1', reason: expect.stringContaining('outside the affected range') },
      ],
    });
  });

  it('creates a remediation deployment targeting exactly the affected hosts', async () => {
    const res = await call('POST', '/api/v1/vulnerabilities/CVE-2024-0001/remediate', tokens.operator, {});
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<{ deployment: { id: string }; plan: { hostIds: string[]; packages: unknown[] } }>();
    expect(body.plan).toMatchObject({ hostIds: [hosts['web-01']], packages: [{ name: 'libssl3', fixedVersion: '3.0.13-1~deb12u1' }] });
    const d = await call('GET', `/api/v1/deployments/${body.deployment.id}`, tokens.viewer);
    expect(d.json()).toMatchObject({ packages: [{ name: 'libssl3', version: null, minVersion: '3.0.13-1~deb12u1' }] });
    expectProblem(await call('POST', '/api/v1/vulnerabilities/CVE-1999-0001/remediate', tokens.operator, {}), 404, 'not_found');
    expectProblem(await call('POST', '/api/v1/vulnerabilities/CVE-2024-0001/remediate', tokens.viewer, {}), 403, 'forbidden');
  });

  it('sets risk tiers and the SLA matrix, refusing bad values and changing nothing', async () => {
    const tier = await call('PUT', `/api/v1/hosts/${hosts['web-01']}/risk`, tokens.operator, { riskTier: 5, site: 'berlin' });
    expect(tier.statusCode, tier.body).toBe(200);
    expect(tier.json()).toEqual({ riskTier: 5, site: 'berlin', effectiveTier: 5 });
    const [finding] = (await call('GET', `/api/v1/hosts/${hosts['web-01']}/vulnerabilities`, tokens.viewer)).json<{
      items: { dueAt: string; firstSeenAt: string }[];
    }>().items;
    expect(Date.parse(finding!.dueAt) - Date.parse(finding!.firstSeenAt)).toBe(24 * 3_600_000);

    expectProblem(await call('PUT', `/api/v1/hosts/${hosts['web-01']}/risk`, tokens.operator, { riskTier: 6 }), 400, 'bad_request');
    expectProblem(await call('PUT', `/api/v1/hosts/${hosts['web-01']}/risk`, tokens.operator, { site: 'a\u0000b' }), 400, 'bad_request');
    expectProblem(await call('PUT', `/api/v1/hosts/${hosts['web-01']}/risk`, tokens.viewer, { riskTier: 1 }), 403, 'forbidden');
    const group = await call('PUT', '/api/v1/groups/pilot/tier', tokens.operator, { riskTier: 4 });
    expect(group.json()).toEqual({ items: [{ group: 'pilot', riskTier: 4 }] });

    const sla = (await call('GET', '/api/v1/vulnerabilities/sla', tokens.viewer)).json<Record<string, Record<string, number>>>();
    expect(sla.critical?.['5']).toBe(24);
    expectProblem(
      await call('PUT', '/api/v1/vulnerabilities/sla', tokens.admin, { ...sla, critical: { ...sla.critical, '5': 0 } }),
      400,
      'bad_request',
    );
    expectProblem(
      await call('PUT', '/api/v1/vulnerabilities/sla', tokens.admin, { ...sla, critical: { ...sla.critical, '9': 1 } }),
      400,
      'bad_request',
    );
    expectProblem(await call('PUT', '/api/v1/vulnerabilities/sla', tokens.operator, sla), 403, 'forbidden');
    expect((await call('GET', '/api/v1/vulnerabilities/sla', tokens.viewer)).json()).toEqual(sla);
  });

  it('refuses bad uploads and bad parameters with a clear error, storing nothing', async () => {
    const before = (await call('GET', '/api/v1/vulnerabilities?limit=1000', tokens.viewer)).json<{ total: number }>().total;
    expectProblem(await upload('[]', tokens.viewer), 403, 'forbidden');
    expectProblem(
      await s.app.inject({
        method: 'POST',
        url: '/api/v1/vulnerabilities/imports',
        headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/json' },
        payload: '[]',
      }),
      400,
      'bad_request',
    );
    // Not JSON: counted as one rejected file, named by the upload's name, not a temporary path.
    const garbage = await upload(Buffer.from('\u0000\u0001 not a feed'), tokens.operator, 'application/octet-stream', '?name=junk.json');
    expect(garbage.json()).toMatchObject({ read: 1, stored: 0, rejected: 1, rejections: [{ where: 'junk.json' }] });
    // A zip whose entry climbs out of the extraction directory: refused whole.
    const evil = await upload(
      zip({ '../evil.json': JSON.stringify(record('DEBIAN-CVE-2024-0099', 'curl', '9')) }),
      tokens.operator,
      'application/zip',
    );
    expectProblem(evil, 400, 'bad_request');
    // A zip bomb: 64 MiB of spaces in a few KiB.
    const bomb = await upload(zip({ 'bomb.json': `[${' '.repeat(64 * 1024 * 1024)}]` }), tokens.operator, 'application/zip');
    expect([400, 413], bomb.body).toContain(bomb.statusCode);
    // Not a zip at all, although it says it is.
    expectProblem(await upload(Buffer.from('PK but not really'), tokens.operator, 'application/zip'), 400, 'bad_request');
    // Records that fail the schema are skipped and counted, the rest imported.
    const mixed = await upload(JSON.stringify([{ id: 'nope' }, { ...record('DEBIAN-CVE-2024-0003', 'zlib', '1'), modified: 'soon' }]));
    expect(mixed.json()).toMatchObject({ read: 2, stored: 0, rejected: 2 });
    expect((await call('GET', '/api/v1/vulnerabilities?limit=1000', tokens.viewer)).json<{ total: number }>().total).toBe(before);

    expectProblem(await call('GET', '/api/v1/vulnerabilities?severity=catastrophic', tokens.viewer), 400, 'bad_request');
    expectProblem(
      await call('GET', `/api/v1/hosts/${hosts['web-01']}/vulnerabilities/CVE%27%3B%20drop`, tokens.viewer),
      400,
      'bad_request',
    );
    expectProblem(await call('GET', '/api/v1/hosts/00000000-0000-4000-8000-000000000000/vulnerabilities', tokens.viewer), 404, 'not_found');
    expectProblem(
      await call('POST', '/api/v1/vulnerabilities/feeds', tokens.admin, { kind: 'osv', location: 'relative/path', cron: '0 3 * * *' }),
      400,
      'bad_request',
    );
    expectProblem(
      await call('POST', '/api/v1/vulnerabilities/feeds', tokens.admin, { kind: 'osv', location: '/srv/osv', cron: 'every day' }),
      400,
      'bad_request',
    );
    expectProblem(
      await call('POST', '/api/v1/vulnerabilities/feeds', tokens.operator, { kind: 'osv', location: '/srv/osv', cron: '0 3 * * *' }),
      403,
      'forbidden',
    );
  });

  it('streams progress lines, then the result, as NDJSON when asked to', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/vulnerabilities/imports?kind=osv',
      headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/octet-stream', accept: 'application/x-ndjson' },
      payload: JSON.stringify([record('DEBIAN-CVE-2024-0004', 'zlib', '1:1.3')]),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ result: { stored: 1 } });
    expect(lines.slice(0, -1).every((l) => 'progress' in l)).toBe(true);
  });

  it('schedules feeds for admins, lists and removes them', async () => {
    const added = await call('POST', '/api/v1/vulnerabilities/feeds', tokens.admin, {
      kind: 'debian-tracker',
      location: 'https://security-tracker.debian.org/tracker/data/json',
      cron: '0 3 * * *',
    });
    expect(added.statusCode, added.body).toBe(201);
    const id = added.json<{ id: string }>().id;
    expect(
      (await call('GET', '/api/v1/vulnerabilities/feeds', tokens.viewer)).json<{ items: { id: string }[] }>().items.map((f) => f.id),
    ).toContain(id);
    expect((await call('DELETE', `/api/v1/vulnerabilities/feeds/${id}`, tokens.admin)).statusCode).toBe(204);
    expectProblem(await call('DELETE', `/api/v1/vulnerabilities/feeds/${id}`, tokens.admin), 404, 'not_found');
  });
});
