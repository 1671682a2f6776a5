import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/cli/src/run-cli.js';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../packages/server/src/testing/test-server.js';
import { tempDir } from './support/system.js';

/** The real `brier` CLI, in-process, against a real server over a real socket. */
describe('the brier CLI against a real server', () => {
  let server: TestServer;
  let baseUrl: string;
  let config: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    server = await createTestServer();
    baseUrl = await server.listen();
    config = await tempDir('brier-cli-');
  });
  afterAll(async () => {
    await server?.close();
    await config?.cleanup();
  });

  async function brier(args: string[], stdin = '', env: Record<string, string> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      env,
      fetch: globalThis.fetch,
      readStdin: async () => stdin,
      configDir: config.dir,
    });
    return { code, stdout, stderr };
  }

  it('logs in, lists hosts and software, and manages join tokens', async () => {
    expect((await brier(['login', '--server', baseUrl, '--username', 'admin', '--password-stdin'], `${ADMIN_PASSWORD}\n`)).code).toBe(0);
    expect((await brier(['whoami', '--json'])).stdout).toContain('"admin"');

    const created = await brier(['tokens', 'create', '--auto-approve', '--max-uses', '3', '--json']);
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as { id: string; token: string; maxUses: number };
    expect(token.token).toMatch(/^brier1\./);
    expect(token.maxUses).toBe(3);

    const { hostId } = await server.enrollAgent(token.token, 'cli-host');
    await server.app.services.inventory.ingestFull(
      hostId,
      [
        {
          ecosystem: 'dpkg',
          name: 'openssl',
          version: '3.0.15-1~deb12u1',
          arch: 'amd64',
          source: 'openssl',
          sourceVersion: '3.0.15-1~deb12u1',
        },
      ],
      undefined,
      (await import('@brier/protocol')).inventoryHash([
        {
          ecosystem: 'dpkg',
          name: 'openssl',
          version: '3.0.15-1~deb12u1',
          arch: 'amd64',
          source: 'openssl',
          sourceVersion: '3.0.15-1~deb12u1',
        },
      ]),
    );

    const hosts = await brier(['hosts', 'list', '--json']);
    expect(hosts.code).toBe(0);
    expect((JSON.parse(hosts.stdout) as Array<{ id: string; hostname: string }>).map((h) => h.hostname)).toContain('cli-host');
    const table = await brier(['hosts', 'list']);
    expect(table.stdout).toContain('cli-host');

    const software = await brier(['software', hostId, '--q', 'openssl', '--json']);
    expect(JSON.parse(software.stdout)).toEqual([
      {
        name: 'openssl',
        version: '3.0.15-1~deb12u1',
        arch: 'amd64',
        ecosystem: 'dpkg',
        source: 'openssl',
        sourceVersion: '3.0.15-1~deb12u1',
      },
    ]);
    expect(JSON.parse((await brier(['software', hostId, '--q', "' OR 1=1 --", '--json'])).stdout)).toEqual([]);

    const listed = JSON.parse((await brier(['tokens', 'list', '--json'])).stdout) as Array<{ id: string; uses: number }>;
    expect(listed.find((t) => t.id === token.id)?.uses).toBe(1);
    expect((await brier(['tokens', 'revoke', token.id])).code).toBe(0);
    await expect(server.enrollAgent(token.token)).rejects.toThrow(/401/);
  });

  it('imports a directory of OSV records, lists, explains and remediates what it found', async () => {
    expect((await brier(['login', '--server', baseUrl, '--username', 'admin', '--password-stdin'], `${ADMIN_PASSWORD}\n`)).code).toBe(0);
    const { hostId } = await server.enrollAgent(undefined, 'vuln-host');
    const packages = [
      { ecosystem: 'dpkg' as const, name: 'libexpat1', version: '2.5.0-1', arch: 'amd64', source: 'expat', sourceVersion: '2.5.0-1' },
    ];
    const { inventoryHash } = await import('@brier/protocol');
    await server.app.services.inventory.ingestFull(
      hostId,
      packages,
      {
        hostname: 'vuln-host',
        os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12' },
        hardware: {},
        network: [],
        agentVersion: 't',
      },
      inventoryHash(packages),
    );
    await server.app.services.vulns.idle();
    const feed = await tempDir('brier-osv-');
    const osv = (id: string, fixed: string) => ({
      schema_version: '1.6.0',
      id,
      modified: '2026-11-01T00:00:00Z',
      aliases: [id.replace('DEBIAN-', '')],
      affected: [
        { package: { ecosystem: 'Debian:12', name: 'expat' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] },
      ],
    });
    await writeFile(path.join(feed.dir, 'a.json'), JSON.stringify(osv('DEBIAN-CVE-2024-45490', '2.5.0-1+deb12u1')));
    await writeFile(path.join(feed.dir, 'b.json'), JSON.stringify(osv('DEBIAN-CVE-2022-00001', '2.4.0-1')));
    await writeFile(path.join(feed.dir, 'broken.json'), '{ not json');
    try {
      const imported = await brier(['vulns', 'import', feed.dir]);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stderr).toContain('broken.json');

      const list = await brier(['vulns', 'list', '--json']);
      expect((JSON.parse(list.stdout) as { id: string; hostCount: number }[]).map((v) => [v.id, v.hostCount])).toEqual([
        ['DEBIAN-CVE-2024-45490', 1],
      ]);
      const explained = await brier(['vulns', 'explain', hostId, 'CVE-2024-45490']);
      expect(explained.code).toBe(0);
      expect(explained.stdout).toContain('dpkg: 2.5.0-1 < 2.5.0-1+deb12u1 (fixed)');
      const cleared = await brier(['vulns', 'explain', hostId, 'CVE-2022-00001']);
      expect(cleared.stdout).toContain('outside the affected range');

      const remediated = await brier(['vulns', 'remediate', 'CVE-2024-45490', '--json']);
      expect(remediated.code, remediated.stderr).toBe(0);
      expect(JSON.parse(remediated.stdout)).toMatchObject({ plan: { hostIds: [hostId], packages: [{ name: 'libexpat1' }] } });
    } finally {
      await feed.cleanup();
    }
  });

  it('approves, revokes and deletes hosts', async () => {
    const pending = await server.createJoinToken({ autoApprove: false });
    const { hostId } = await server.enrollAgent(pending, 'pending-host');
    expect(JSON.parse((await brier(['hosts', 'show', hostId, '--json'])).stdout)).toMatchObject({ status: 'pending' });
    expect((await brier(['hosts', 'approve', hostId])).code).toBe(0);
    expect(JSON.parse((await brier(['hosts', 'show', hostId, '--json'])).stdout)).toMatchObject({ status: 'approved' });
    expect((await brier(['hosts', 'revoke', hostId])).code).toBe(0);
    expect((await brier(['hosts', 'delete', hostId])).code).toBe(0);
    const gone = await brier(['hosts', 'show', hostId]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('not_found');
  });

  it('creates an API token that works as BRIER_TOKEN and stops working once revoked', async () => {
    const created = JSON.parse((await brier(['api-tokens', 'create', '--name', 'ci', '--json'])).stdout) as { id: string; token: string };
    const env = { BRIER_SERVER: baseUrl, BRIER_TOKEN: created.token };
    expect((await brier(['whoami'], '', env)).code).toBe(0);
    expect((await brier(['api-tokens', 'revoke', created.id])).code).toBe(0);
    const refused = await brier(['whoami'], '', env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('unauthenticated');
  });
});
