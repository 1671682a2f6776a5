import { randomUUID } from 'node:crypto';
import { inventoryHash, type PackageEntry, type PendingUpdate } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sql } from '../store/db.js';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

interface PreviewHost {
  hostId: string;
  hostname: string;
  packages: Array<{ name: string; from: string | null; to: string | null }>;
  skipped?: string;
}
interface Preview {
  previewId: string;
  approval: { required: boolean; why: string[] };
  waves: Array<{ index: number; name: string; hosts: PreviewHost[] }>;
  totals: { targeted: number; hosts: number; skipped: number; packages: number };
  warnings: string[];
}

const dpkg = (name: string, version: string, arch = 'amd64'): PackageEntry => ({ ecosystem: 'dpkg', name, version, arch });
const update = (name: string, installedVersion: string, candidateVersion: string, arch = 'amd64'): PendingUpdate => ({
  ecosystem: 'dpkg',
  manager: 'apt',
  kind: 'package',
  name,
  arch,
  installedVersion,
  candidateVersion,
  security: true,
});

describe('POST /api/v1/deployments/preview', () => {
  let s: TestServer;
  let admin: string;
  let viewer: string;
  const ids = new Map<string, string>();
  const id = (name: string) => ids.get(name) ?? '';

  const call = (method: 'POST', url: string, payload: unknown, token = admin) =>
    s.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload: payload as object });
  const preview = async (body: Record<string, unknown>) => {
    const res = await call('POST', '/api/v1/deployments/preview', body);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Preview>();
  };
  const hostOf = (p: Preview, name: string) => p.waves.flatMap((w) => w.hosts).find((h) => h.hostname === name);
  const counts = async () =>
    (
      await queryRows<{ deployments: number; audit: number }>(
        s.database.db,
        sql`select (select count(*)::int from deployments) as deployments, (select count(*)::int from audit_log) as audit`,
      )
    )[0];

  beforeAll(async () => {
    s = await createTestServer({ config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000 } });
    admin = await s.login();
    const created = await call('POST', '/api/v1/users', { username: 'looker', password: 'viewer password!', role: 'viewer' });
    expect(created.statusCode).toBe(201);
    viewer = await s.login('looker', 'viewer password!');
    // alpha: openssl 3.0.11 with 3.0.13 offered (two architectures), curl 7.88 with 8.0 offered; in group canary.
    // bravo: openssl 3.0.11, never reported its updates. charlie: openssl 3.0.13, reported nothing to update.
    // delta: no openssl at all. echo: pending approval.
    const fleet: Array<[string, PackageEntry[], PendingUpdate[] | null]> = [
      [
        'alpha',
        [dpkg('openssl', '3.0.11'), dpkg('openssl', '3.0.11', 'i386'), dpkg('curl', '7.88')],
        [update('openssl', '3.0.11', '3.0.13'), update('openssl', '3.0.11', '3.0.13', 'i386'), update('curl', '7.88', '8.0')],
      ],
      ['bravo', [dpkg('openssl', '3.0.11')], null],
      ['charlie', [dpkg('openssl', '3.0.13'), dpkg('curl', '8.0')], []],
      ['delta', [dpkg('bash', '5.2')], []],
    ];
    for (const [name, packages, updates] of fleet) {
      const { hostId } = await s.enrollAgent(undefined, name);
      ids.set(name, hostId);
      await s.app.services.inventory.ingestFull(hostId, packages, undefined, inventoryHash(packages));
      if (updates !== null) await s.app.services.patches.recordReport(hostId, updates);
    }
    const pending = await s.enrollAgent(await s.createJoinToken({ autoApprove: false }), 'echo');
    ids.set('echo', pending.hostId);
    const groups = await s.app.inject({
      method: 'PUT',
      url: `/api/v1/hosts/${id('alpha')}/groups`,
      headers: { authorization: `Bearer ${admin}` },
      payload: { groups: ['canary'] },
    });
    expect(groups.statusCode).toBe(200);
  });
  afterAll(async () => {
    await s.close();
  });

  const everyone = () => ({ hostIds: ['alpha', 'bravo', 'charlie', 'delta', 'echo'].map(id) });

  it('shows per wave which hosts get which versions, and why others get nothing, creating nothing', async () => {
    const before = await counts();
    const p = await preview({
      name: 'openssl everywhere',
      packages: [{ name: 'openssl' }],
      targets: everyone(),
      waves: [
        { name: 'pilot', group: 'canary', bakeMinutes: 0 },
        { name: 'rest', percent: 100 },
      ],
    });
    expect(await counts()).toEqual(before);
    expect(p.previewId).toMatch(/^[0-9a-f-]{36}$/);
    expect(p.waves.map((w) => [w.index, w.name, w.hosts.map((h) => h.hostname).sort()])).toEqual([
      [0, 'pilot', ['alpha']],
      [1, 'rest', ['bravo', 'charlie', 'delta']],
    ]);
    expect(hostOf(p, 'alpha')).toEqual({
      hostId: id('alpha'),
      hostname: 'alpha',
      packages: [{ name: 'openssl', from: '3.0.11', to: '3.0.13' }],
    });
    expect(hostOf(p, 'bravo')).toEqual({
      hostId: id('bravo'),
      hostname: 'bravo',
      packages: [],
      skipped: 'nothing to install: openssl: no pending updates reported yet',
    });
    expect(hostOf(p, 'charlie')?.skipped).toBe('nothing to install: openssl has no pending update');
    expect(hostOf(p, 'delta')?.skipped).toMatch(/^not installed: openssl \(an upgrade never installs/);
    expect(hostOf(p, 'echo')).toBeUndefined();
    expect(p.totals).toEqual({ targeted: 4, hosts: 1, skipped: 3, packages: 1 });
    expect(p.approval).toEqual({ required: false, why: [expect.stringContaining('not critical')] });
    expect(p.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^1 targeted host\(s\) are pending approval or revoked and get nothing: echo$/),
        '1 host(s) lack a requested package: their assignments will fail',
        expect.stringMatching(/^1 host\(s\) have not reported their pending updates/),
        '3 of 4 host(s) have nothing to install',
      ]),
    );
  });

  it('uses a pinned version as the target and skips hosts already at it', async () => {
    const p = await preview({
      name: 'pinned',
      packages: [{ name: 'openssl', version: '3.0.13' }, { name: 'curl' }],
      targets: { hostIds: ['alpha', 'bravo', 'charlie'].map(id) },
      critical: true,
    });
    expect(p.waves).toHaveLength(1);
    expect(hostOf(p, 'alpha')?.packages).toEqual([
      { name: 'openssl', from: '3.0.11', to: '3.0.13' },
      { name: 'curl', from: '7.88', to: '8.0' },
    ]);
    // bravo has openssl 3.0.11 but no curl: an upgrade never installs, so it gets nothing.
    expect(hostOf(p, 'bravo')?.skipped).toMatch(/^not installed: curl/);
    expect(hostOf(p, 'charlie')?.skipped).toBe('nothing to install: openssl is already 3.0.13; curl has no pending update');
    expect(p.totals).toEqual({ targeted: 3, hosts: 1, skipped: 2, packages: 2 });
    expect(p.approval.required).toBe(true);
    expect(p.warnings).toContain("needs a second person's approval: marked critical");
  });

  it('plans percentage waves as the deployment created with its previewId will', async () => {
    const body = {
      name: 'half and half',
      packages: [{ name: 'openssl' }],
      targets: { hostIds: ['alpha', 'bravo', 'charlie', 'delta'].map(id) },
      waves: [
        { name: 'first half', percent: 50, bakeMinutes: 0 },
        { name: 'second half', percent: 100, bakeMinutes: 0 },
      ],
    };
    const p = await preview(body);
    expect(p.waves.map((w) => w.hosts.length)).toEqual([2, 2]);
    // Previewing again with the same id gives the same plan.
    expect((await preview({ ...body, previewId: p.previewId })).waves).toEqual(p.waves);
    const created = await call('POST', '/api/v1/deployments', { ...body, previewId: p.previewId });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json<{ id: string }>().id).toBe(p.previewId);
    await s.app.services.deployments.tick();
    const started = (
      await s.app.inject({
        method: 'GET',
        url: `/api/v1/deployments/${p.previewId}`,
        headers: { authorization: `Bearer ${admin}` },
      })
    ).json<{ hosts: Array<{ hostId: string; wave: number }> }>();
    const planned = p.waves.flatMap((w) => w.hosts.map((h) => ({ hostId: h.hostId, wave: w.index })));
    expect(started.hosts.map((h) => ({ hostId: h.hostId, wave: h.wave })).sort((a, b) => a.hostId.localeCompare(b.hostId))).toEqual(
      planned.sort((a, b) => a.hostId.localeCompare(b.hostId)),
    );
    // A preview id is used once.
    const again = await call('POST', '/api/v1/deployments', { ...body, previewId: p.previewId });
    expectProblem(again, 409, 'conflict');
    expectProblem(await call('POST', '/api/v1/deployments/preview', { ...body, previewId: p.previewId }), 409, 'conflict');
  });

  const UNKNOWN_HOST = randomUUID();
  const valid = () => ({ name: 'bad input', packages: [{ name: 'openssl' }], targets: { hostIds: [id('alpha')] } });
  it.each<[string, () => Record<string, unknown>]>([
    ['an unknown host id', () => ({ ...valid(), targets: { hostIds: [UNKNOWN_HOST] } })],
    ['targets with no approved host', () => ({ ...valid(), targets: { hostIds: [id('echo')] } })],
    ['no targets', () => ({ ...valid(), targets: {} })],
    ['a package name with a shell metacharacter', () => ({ ...valid(), packages: [{ name: 'openssl;rm' }] })],
    ['a package listed twice', () => ({ ...valid(), packages: [{ name: 'openssl' }, { name: 'openssl' }] })],
    ['both version and minVersion', () => ({ ...valid(), packages: [{ name: 'openssl', version: '1', minVersion: '1' }] })],
    ['a wave group no target is in', () => ({ ...valid(), waves: [{ group: 'nobody' }, { percent: 100 }] })],
    ['a last percentage wave under 100', () => ({ ...valid(), waves: [{ percent: 50 }] })],
    ['a start in the past', () => ({ ...valid(), startAt: '2001-01-01T00:00:00Z' })],
    ['an unknown field', () => ({ ...valid(), extra: true })],
    ['a previewId that is no UUID', () => ({ ...valid(), previewId: 'not-a-uuid' })],
    ['a NUL byte in the name', () => ({ ...valid(), name: 'bad\u0000name' })],
    ['a name given as a number', () => ({ ...valid(), name: 42 })],
  ])('refuses %s exactly as creation does, creating nothing', async (_what, body) => {
    const before = await counts();
    const previewed = await call('POST', '/api/v1/deployments/preview', body());
    const created = await call('POST', '/api/v1/deployments', body());
    expectProblem(previewed, 400, 'bad_request');
    expect(previewed.json()).toEqual(created.json());
    expect(await counts()).toEqual(before);
  });

  it('refuses a malformed JSON body and a huge one', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/deployments/preview',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: '{"name": "x", ',
    });
    expectProblem(res, 400, 'bad_request');
    const huge = await call('POST', '/api/v1/deployments/preview', { ...valid(), name: 'x'.repeat(5 * 1024 * 1024) });
    expect([400, 413]).toContain(huge.statusCode);
  });

  it('needs deployments:manage', async () => {
    expectProblem(await call('POST', '/api/v1/deployments/preview', valid(), viewer), 403, 'forbidden');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/v1/deployments/preview', payload: valid() }), 401, 'unauthenticated');
  });
});
