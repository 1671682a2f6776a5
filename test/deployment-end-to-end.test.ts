import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AptExecutor } from '../packages/agent/src/executors/apt.linux.js';
import { runCommand } from '../packages/agent/src/run-command.js';
import { runCli } from '../packages/cli/src/run-cli.js';
import { createTestServer, type TestServer } from '../packages/server/src/testing/test-server.js';
import { type AptSandbox, aptAvailable, createAptSandbox } from './support/apt-sandbox.js';
import { apiClient, databases, eventually, startRealAgent, tempDir } from './support/system.js';

/**
 * A patch rollout end to end: two real agents, each with a real apt and dpkg in a private root
 * (the machine itself is untouched) holding the old version of a package that a local repository
 * upgrades; a deployment in two waves created through the CLI; signed work over the real socket;
 * the agents' ledgers and executors; and the server's verification of what was installed.
 */
const hasApt = process.env.CI === 'true' || (await aptAvailable());

interface DeploymentView {
  id: string;
  state: string;
  waves: Array<{ index: number; state: string; hostCount: number }>;
  hosts: Array<{
    hostId: string;
    wave: number;
    state: string;
    verified: boolean;
    installed: Array<{ name: string; version: string }> | null;
  }>;
  summary: Record<string, number>;
}

describe.runIf(hasApt).each(databases())('a two-wave apt rollout on $name', (db) => {
  let server: TestServer;
  let baseUrl: string;
  let url: string | undefined;
  const sandboxes: AptSandbox[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    url = await db.open();
    server = await createTestServer({ databaseUrl: url });
    baseUrl = await server.listen();
    for (let i = 0; i < 2; i++) {
      const sandbox = await createAptSandbox({
        packages: [
          { name: 'brier-hello', version: '1.0-1' },
          { name: 'brier-hello', version: '1.0-2', suite: 'bookworm-security' },
        ],
        installed: [{ name: 'brier-hello', version: '1.0-1' }],
      });
      sandboxes.push(sandbox);
      cleanups.push(() => sandbox.cleanup());
    }
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await server?.close();
    await db.drop(url);
  });

  it('upgrades pilot then the rest, verifies the new version on every host, and completes', async () => {
    const joinToken = await server.createJoinToken({ autoApprove: true });
    const hostIds: string[] = [];
    for (const sandbox of sandboxes) {
      const state = await tempDir('brier-agent-');
      cleanups.push(state.cleanup);
      const { agent, identity } = await startRealAgent({
        baseUrl,
        stateDir: state.dir,
        joinToken,
        dpkgAdmindir: sandbox.dpkgAdmindir,
        apt: { aptOptions: sandbox.aptOptions, env: sandbox.env },
        executors: {
          dpkg: new AptExecutor({
            run: runCommand,
            root: sandbox.root,
            aptOptions: sandbox.aptOptions,
            dpkgOptions: sandbox.dpkgOptions,
            env: sandbox.env,
          }),
        },
      });
      cleanups.push(() => agent.stop());
      hostIds.push(identity.hostId);
    }
    const token = await server.login();
    const api = apiClient(baseUrl, token);
    await eventually(
      async () => {
        const res = await api<{ items: Array<{ hostCount: number }> }>('GET', '/api/v1/patches?q=brier-hello');
        return res.body.items[0]?.hostCount === 2 ? true : undefined;
      },
      30_000,
      'both hosts to report the pending update',
    );

    let out = '';
    const code = await runCli(
      [
        'deploy',
        'create',
        '--name',
        'brier-hello security fix',
        '--packages',
        'brier-hello=1.0-2',
        '--hosts',
        hostIds.join(','),
        '--waves',
        '50,100',
        '--bake-minutes',
        '0',
        '--json',
      ],
      {
        stdout: (s) => {
          out += s;
        },
        stderr: (s) => {
          out += s;
        },
        env: { BRIER_SERVER: baseUrl, BRIER_TOKEN: token },
        fetch: globalThis.fetch,
        readStdin: async () => '',
        configDir: sandboxes[0]?.dir ?? '/nonexistent',
      },
    );
    expect(code, out).toBe(0);
    const created = JSON.parse(out) as DeploymentView;
    expect(created.state).toBe('approved');

    const done = await eventually(
      async () => {
        await server.app.services.deployments.tick();
        const res = await api<DeploymentView>('GET', `/api/v1/deployments/${created.id}`);
        return res.body.state === 'completed' ? res.body : undefined;
      },
      60_000,
      'the deployment to complete',
    );

    expect(done.waves.map((w) => [w.index, w.hostCount, w.state])).toEqual([
      [0, 1, 'passed'],
      [1, 1, 'passed'],
    ]);
    expect(done.hosts.map((h) => [h.state, h.verified])).toEqual([
      ['succeeded', true],
      ['succeeded', true],
    ]);
    for (const sandbox of sandboxes) expect((await sandbox.installedVersions()).get('brier-hello')).toBe('1.0-2');
    expect(done.summary).toMatchObject({ succeeded: 2, failed: 0, verified: 2 });

    // The agents' next inventory reports the new version, and the update leaves the catalogue.
    await eventually(
      async () => {
        const res = await api<{ items: unknown[] }>('GET', '/api/v1/patches?q=brier-hello');
        return res.body.items.length === 0 ? true : undefined;
      },
      30_000,
      'the catalogue to drop the installed update',
    );
  });
});
