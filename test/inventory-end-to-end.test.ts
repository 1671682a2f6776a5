import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../packages/server/src/testing/test-server.js';
import { apiClient, databases, dpkgInstalled, eventually, exec, metric, startRealAgent, tempDir } from './support/system.js';

/**
 * The spine end to end: a real server (PGlite and PostgreSQL), the real agent code over a real
 * socket, the machine's real dpkg. A private dpkg database (dpkg --root) stands in for "install a
 * package" so the test never changes the machine it runs on, yet dpkg itself does the installing.
 */
// Off Debian-family machines there is no dpkg to compare with; CI runs on Debian and must not skip.
const hasDpkg =
  process.env.CI === 'true' ||
  (await exec('dpkg-query', ['--version']).then(
    () => true,
    () => false,
  ));

interface SoftwareItem {
  name: string;
  version: string;
  arch: string;
  ecosystem: string;
  source?: string;
}

describe.each(databases())('an enrolled machine on $name', (db) => {
  let server: TestServer;
  let baseUrl: string;
  let api: ReturnType<typeof apiClient>;
  let url: string | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    url = await db.open();
    server = await createTestServer({ databaseUrl: url });
    baseUrl = await server.listen();
    api = apiClient(baseUrl, await server.login());
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await server?.close();
    await db.drop(url);
  });

  async function allSoftware(hostId: string): Promise<SoftwareItem[]> {
    const items: SoftwareItem[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await api<{ items: SoftwareItem[]; total: number }>(
        'GET',
        `/api/v1/hosts/${hostId}/software?limit=1000&offset=${offset}`,
      );
      items.push(...page.body.items);
      if (items.length >= page.body.total || page.body.items.length === 0) return items;
    }
  }

  async function packageCount(hostId: string): Promise<number | undefined> {
    const res = await api<{ packageCount: number; inventoryAt: string | null }>('GET', `/api/v1/hosts/${hostId}`);
    return res.body.inventoryAt ? res.body.packageCount : undefined;
  }

  it.runIf(hasDpkg)('shows the host with exactly the packages and versions dpkg reports', async () => {
    const state = await tempDir('brier-agent-');
    const joinToken = await server.createJoinToken({ autoApprove: true });
    const { agent, identity } = await startRealAgent({ baseUrl, stateDir: state.dir, joinToken });
    cleanups.push(() => agent.stop(), state.cleanup);

    await eventually(() => packageCount(identity.hostId), 30_000, 'first inventory');
    const hosts = await api<{
      items: Array<{ id: string; hostname: string; online: boolean; os: { platform: string; distro: string; release: string } }>;
      total: number;
    }>('GET', '/api/v1/hosts');
    const host = hosts.body.items.find((h) => h.id === identity.hostId);
    expect(host?.online).toBe(true);
    expect(host?.os.platform).toBe('linux');
    expect(host?.os.distro).not.toBe('');

    const reported = (await allSoftware(identity.hostId)).map((s) => `${s.name} ${s.version} ${s.arch}`).sort();
    expect(reported).toEqual(await dpkgInstalled());
    const withSource = (await allSoftware(identity.hostId)).filter((s) => s.ecosystem === 'dpkg' && s.source);
    expect(withSource.length).toBeGreaterThan(0);
  });

  it.runIf(hasDpkg)('reflects installing and removing a package as deltas, not full uploads', async () => {
    const work = await tempDir('brier-dpkg-');
    cleanups.push(work.cleanup);
    const root = path.join(work.dir, 'root');
    const admindir = path.join(root, 'var/lib/dpkg');
    await mkdir(path.join(admindir, 'info'), { recursive: true });
    await mkdir(path.join(admindir, 'updates'), { recursive: true });
    await writeFile(path.join(admindir, 'status'), '');
    const dpkg = (...args: string[]) => exec('dpkg', [`--root=${root}`, '--force-not-root', '--force-script-chrootless', ...args]);
    const debs: Record<string, string> = {};
    for (const [name, version] of [
      ['brier-base', '1.0-1'],
      ['brier-dummy', '2.0-1'],
    ] as const) {
      const dir = path.join(work.dir, `${name}-${version}`);
      await mkdir(path.join(dir, 'DEBIAN'), { recursive: true });
      await mkdir(path.join(dir, 'usr/share/doc', name), { recursive: true });
      await writeFile(path.join(dir, 'usr/share/doc', name, 'README'), `${name}\n`);
      await writeFile(
        path.join(dir, 'DEBIAN/control'),
        `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: Brier tests <tests@example.invalid>\nDescription: test package\n`,
      );
      debs[name] = path.join(work.dir, `${name}.deb`);
      await exec('dpkg-deb', ['--root-owner-group', '--build', dir, debs[name] as string]);
    }
    await dpkg('-i', debs['brier-base'] as string);

    const state = await tempDir('brier-agent-');
    cleanups.push(state.cleanup);
    const joinToken = await server.createJoinToken({ autoApprove: true });
    const { agent, identity } = await startRealAgent({ baseUrl, stateDir: state.dir, joinToken, dpkgAdmindir: admindir });
    cleanups.push(() => agent.stop());
    await eventually(async () => ((await packageCount(identity.hostId)) === 1 ? true : undefined), 30_000, 'first inventory');
    const fullBefore = await metric(baseUrl, 'brier_inventory_packages_ingested_total', { mode: 'full' });
    const deltaBefore = await metric(baseUrl, 'brier_inventory_packages_ingested_total', { mode: 'delta' });

    await dpkg('-i', debs['brier-dummy'] as string);
    await agent.scanNow();
    await eventually(async () => ((await packageCount(identity.hostId)) === 2 ? true : undefined), 20_000, 'install reported');
    expect((await allSoftware(identity.hostId)).map((s) => `${s.name} ${s.version}`).sort()).toEqual([
      'brier-base 1.0-1',
      'brier-dummy 2.0-1',
    ]);

    await dpkg('-r', 'brier-dummy');
    await agent.scanNow();
    await eventually(async () => ((await packageCount(identity.hostId)) === 1 ? true : undefined), 20_000, 'removal reported');
    expect((await allSoftware(identity.hostId)).map((s) => s.name)).toEqual(['brier-base']);

    // Each change travelled as a one-entry delta; no further full snapshot was uploaded.
    expect(await metric(baseUrl, 'brier_inventory_packages_ingested_total', { mode: 'delta' })).toBe(deltaBefore + 2);
    expect(await metric(baseUrl, 'brier_inventory_packages_ingested_total', { mode: 'full' })).toBe(fullBefore);

    // A restarted agent whose inventory did not change uploads nothing on reconnect: the next
    // change after it still travels as a delta (frames of one connection are handled in order, so
    // any full upload on reconnect would have been counted before this delta was).
    await agent.stop();
    const again = await startRealAgent({ baseUrl, stateDir: state.dir, joinToken, dpkgAdmindir: admindir });
    cleanups.push(() => again.agent.stop());
    await eventually(async () =>
      (await api<{ online: boolean }>('GET', `/api/v1/hosts/${identity.hostId}`)).body.online ? true : undefined,
    );
    await dpkg('-i', debs['brier-dummy'] as string);
    await again.agent.scanNow();
    await eventually(
      async () => ((await packageCount(identity.hostId)) === 2 ? true : undefined),
      20_000,
      'install after restart reported',
    );
    expect(await metric(baseUrl, 'brier_inventory_packages_ingested_total', { mode: 'full' })).toBe(fullBefore);
    expect(await metric(baseUrl, 'brier_inventory_packages_ingested_total', { mode: 'delta' })).toBe(deltaBefore + 3);
  });

  it('stops an agent for good when its host is revoked, and refuses it afterwards', async () => {
    const state = await tempDir('brier-agent-');
    cleanups.push(state.cleanup);
    const work = await tempDir('brier-empty-dpkg-');
    cleanups.push(work.cleanup);
    const admindir = path.join(work.dir, 'dpkg');
    await mkdir(admindir, { recursive: true });
    await writeFile(path.join(admindir, 'status'), '');
    const joinToken = await server.createJoinToken({ autoApprove: true });
    const { agent, identity } = await startRealAgent({ baseUrl, stateDir: state.dir, joinToken, dpkgAdmindir: admindir });
    cleanups.push(() => agent.stop());
    await eventually(async () =>
      (await api<{ online: boolean }>('GET', `/api/v1/hosts/${identity.hostId}`)).body.online ? true : undefined,
    );
    expect((await api('POST', `/api/v1/hosts/${identity.hostId}/revoke`)).status).toBe(200);
    await expect(agent.fatal).rejects.toMatchObject({ code: 'host_revoked' });
    const host = await api<{ online: boolean; status: string }>('GET', `/api/v1/hosts/${identity.hostId}`);
    expect(host.body).toMatchObject({ online: false, status: 'revoked' });
  });
});
