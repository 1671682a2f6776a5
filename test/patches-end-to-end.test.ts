import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/cli/src/run-cli.js';
import { createTestServer, type TestServer } from '../packages/server/src/testing/test-server.js';
import { type AptSandbox, aptAvailable, createAptSandbox } from './support/apt-sandbox.js';
import { apiClient, databases, eventually, startRealAgent, tempDir } from './support/system.js';

/**
 * Patch availability end to end: a real apt (in a private root, so the machine is untouched) with a
 * local repository holding a normal and a `-security` suite, the real agent reporting what apt would
 * upgrade, and the server's fleet patch catalogue and CLI showing it.
 */
const hasApt = process.env.CI === 'true' || (await aptAvailable());

interface CatalogueItem {
  name: string;
  candidateVersion: string;
  security: boolean;
  hostCount: number;
  suites: string[];
}

describe.runIf(hasApt).each(databases())('the fleet patch catalogue on $name', (db) => {
  let server: TestServer;
  let baseUrl: string;
  let url: string | undefined;
  let sandbox: AptSandbox;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    url = await db.open();
    server = await createTestServer({ databaseUrl: url });
    baseUrl = await server.listen();
    sandbox = await createAptSandbox({
      packages: [
        { name: 'brier-hello', version: '1.0-1' },
        { name: 'brier-hello', version: '1.0-2', suite: 'bookworm-security' },
        { name: 'brier-tool', version: '2.0-1' },
        { name: 'brier-tool', version: '2.1-1' },
      ],
      installed: [
        { name: 'brier-hello', version: '1.0-1' },
        { name: 'brier-tool', version: '2.0-1' },
      ],
    });
    cleanups.push(() => sandbox.cleanup());
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await server?.close();
    await db.drop(url);
  });

  it('lists what apt would upgrade, flags security fixes, and counts the hosts that need each', async () => {
    const state = await tempDir('brier-agent-');
    cleanups.push(state.cleanup);
    const joinToken = await server.createJoinToken({ autoApprove: true });
    const { agent, identity } = await startRealAgent({
      baseUrl,
      stateDir: state.dir,
      joinToken,
      dpkgAdmindir: sandbox.dpkgAdmindir,
      apt: { aptOptions: sandbox.aptOptions, env: sandbox.env },
    });
    cleanups.push(() => agent.stop());
    const api = apiClient(baseUrl, await server.login());

    const catalogue = await eventually(
      async () => {
        const res = await api<{ items: CatalogueItem[]; total: number }>('GET', '/api/v1/patches');
        return res.body.total === 2 ? res.body.items : undefined;
      },
      30_000,
      'patch catalogue',
    );
    expect(catalogue).toEqual([
      expect.objectContaining({
        name: 'brier-hello',
        candidateVersion: '1.0-2',
        security: true,
        hostCount: 1,
        suites: ['bookworm-security'],
      }),
      expect.objectContaining({ name: 'brier-tool', candidateVersion: '2.1-1', security: false, hostCount: 1, suites: ['bookworm'] }),
    ]);
    const securityOnly = await api<{ items: CatalogueItem[] }>('GET', '/api/v1/patches?security=true');
    expect(securityOnly.body.items.map((p) => p.name)).toEqual(['brier-hello']);

    const hostUpdates = await api<{ items: Array<{ name: string; installedVersion: string; candidateVersion: string; manager: string }> }>(
      'GET',
      `/api/v1/hosts/${identity.hostId}/updates`,
    );
    expect(hostUpdates.body.items.map((u) => [u.manager, u.name, u.installedVersion, u.candidateVersion])).toEqual([
      ['apt', 'brier-hello', '1.0-1', '1.0-2'],
      ['apt', 'brier-tool', '2.0-1', '2.1-1'],
    ]);

    // Installing the security fix in the sandbox takes it off the list at the next check.
    await sandbox.install([{ name: 'brier-hello', version: '1.0-2' }]);
    await agent.scanNow();
    await eventually(
      async () => {
        const res = await api<{ items: CatalogueItem[] }>('GET', '/api/v1/patches');
        return res.body.items.length === 1 ? true : undefined;
      },
      20_000,
      'fixed update to disappear',
    );

    let out = '';
    const code = await runCli(['patches', 'list', '--json'], {
      stdout: (s) => {
        out += s;
      },
      stderr: () => {},
      env: { BRIER_SERVER: baseUrl, BRIER_TOKEN: await server.login() },
      fetch: globalThis.fetch,
      readStdin: async () => '',
      configDir: state.dir,
    });
    expect(code).toBe(0);
    expect((JSON.parse(out) as CatalogueItem[]).map((p) => `${p.name} ${p.candidateVersion}`)).toEqual(['brier-tool 2.1-1']);
  });
});
