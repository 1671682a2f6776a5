// Quarantine for real: the agent binary runs inside its own network namespace and isolates it with
// nftables on a signed order from the real server, keeps it isolated across an agent restart (and
// across the "reboot" that clears the kernel rules), refuses a forged release, and lets go on a
// signed one. Needs root, `ip` and `nft` (skipped with the reason otherwise; a failure under CI=true).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signQuarantineOrder } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKeys } from '../packages/server/src/testing/test-keys.js';
import { createTestServer, type TestServer } from '../packages/server/src/testing/test-server.js';
import {
  canConnect,
  createQuarantineTopology,
  execIn,
  failInCi,
  netnsRuns,
  netnsSkipReason,
  type QuarantineTopology,
} from './support/netns.js';
import { eventually, tempDir } from './support/system.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = 'packages/agent/src/main.ts';
const OTHER_PORT = 7070;
/** Generous: only a guard against a hung step, never a measure of speed. */
// Generous: the agent is a fresh tsx process, and on 2 busy cores (the whole suite running) its start and
// reconnect have taken over 30 s. A deadline, not a timing assertion.
const WAIT_MS = 60_000;

interface Child {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

/** Starts `args` inside namespace `ns` (ip netns exec replaces itself with the command, so the pid is the command's). */
function startIn(ns: string, args: string[]): Child {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TSX_TSCONFIG_PATH: 'tsconfig.test.json',
    BRIER_AGENT_REBOOT: 'off',
    BRIER_AGENT_LOG_LEVEL: 'debug',
  };
  delete env.BRIER_AGENT_STATE_DIR;
  delete env.BRIER_AGENT_INVENTORY_CRON;
  const child = spawn('ip', ['netns', 'exec', ns, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  return { child, output: () => output, exited };
}

function agent(ns: string, args: string[]): Child {
  return startIn(ns, [process.execPath, '--import', 'tsx', MAIN, ...args]);
}

async function stop(c: Child): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 10_000);
  await c.exited;
  clearTimeout(timer);
}

async function tableExists(ns: string): Promise<boolean> {
  return (await execIn(ns, 'nft', ['list', 'table', 'inet', 'brier_quarantine'])).code === 0;
}

describe.skipIf(!netnsRuns())(`quarantine end to end (${netnsSkipReason() ?? 'root, ip and nft present'})`, () => {
  let topology: QuarantineTopology | undefined;
  let server: TestServer | undefined;
  let other: Child | undefined;
  let state: Awaited<ReturnType<typeof tempDir>> | undefined;

  beforeAll(async () => {
    failInCi();
    topology = await createQuarantineTopology();
    state = await tempDir('brier-quarantine-e2e-');
    // A tiny TCP service on another machine: what a quarantined host must no longer reach.
    other = startIn(topology.otherNs, [
      process.execPath,
      '-e',
      "require('net').createServer((s) => { s.on('error', () => {}); s.end('hello\\n'); }).listen(Number(process.argv[2]), process.argv[1], () => console.log('listening'))",
      topology.otherIp,
      String(OTHER_PORT),
    ]);
    await eventually(async () => (other?.output().includes('listening') ? true : undefined), WAIT_MS, 'the other listener');
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await server?.close();
    await topology?.remove();
    await state?.cleanup();
  });

  it('isolates the host on a signed order, keeps it isolated across a restart, refuses a forged release, releases on a signed one', async () => {
    if (!topology || !state) throw new Error('setup failed');
    const { hostNs, serverIp, otherIp } = topology;
    server = await createTestServer();
    await server.app.listen({ host: serverIp, port: 0 });
    const address = server.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no server address');
    const serverPort = address.port;
    const baseUrl = `http://${serverIp}:${serverPort}`;
    const admin = await server.login();
    const gateway = server.app.services.gateway;
    const api = async <T>(method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const res = await server?.app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { authorization: `Bearer ${admin}` },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      if (!res) throw new Error('no server');
      return { status: res.statusCode, body: res.json<T>() };
    };
    type View = { state: string; sequence: number | null; allow: string[]; ports: number[]; detail: string | null };

    // Enrol and run the real agent binary inside the host namespace.
    const stateDir = path.join(state.dir, 'agent');
    const token = await server.createJoinToken();
    const enrol = agent(hostNs, ['enroll', '--server', baseUrl, '--token', token, '--state-dir', stateDir, '--hostname', 'quarantined']);
    expect(await enrol.exited, enrol.output()).toBe(0);
    const { hostId } = JSON.parse(readFileSync(path.join(stateDir, 'identity.json'), 'utf8')) as { hostId: string };
    let running = agent(hostNs, ['run', '--state-dir', stateDir]);
    await eventually(async () => (gateway.connectedCount() === 1 ? true : undefined), WAIT_MS, 'the agent to connect');

    // Before: both reachable.
    expect(await canConnect(hostNs, serverIp, serverPort)).toBe(true);
    expect(await canConnect(hostNs, otherIp, OTHER_PORT)).toBe(true);

    // Isolate through the API: the server signs an order allowing its own address and port.
    const isolated = await api<View>('POST', `/hosts/${hostId}/quarantine`, { reason: 'end-to-end test' });
    expect(isolated.status, JSON.stringify(isolated.body)).toBe(200);
    expect(isolated.body).toMatchObject({ allow: [serverIp], ports: [serverPort] });
    const afterIsolate = await eventually(
      async () => {
        const view = (await api<View>('GET', `/hosts/${hostId}/quarantine`)).body;
        return view.state === 'isolated' || view.state === 'failed' ? view : undefined;
      },
      WAIT_MS,
      'the agent to report the isolation',
    );
    expect(afterIsolate.state, `${afterIsolate.detail}\n${running.output()}`).toBe('isolated');
    expect(await tableExists(hostNs)).toBe(true);
    expect(await canConnect(hostNs, otherIp, OTHER_PORT)).toBe(false);
    expect(await canConnect(hostNs, serverIp, serverPort)).toBe(true);
    // The Brier channel survived: the same agent is still connected.
    expect(gateway.connectedCount()).toBe(1);

    // Restart the agent, after a "reboot" that cleared the kernel rules: the agent puts them back.
    await stop(running);
    await eventually(async () => (gateway.connectedCount() === 0 ? true : undefined), WAIT_MS, 'the old connection to close');
    const deleted = await execIn(hostNs, 'nft', ['delete', 'table', 'inet', 'brier_quarantine']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(await canConnect(hostNs, otherIp, OTHER_PORT)).toBe(true);
    running = agent(hostNs, ['run', '--state-dir', stateDir]);
    await eventually(async () => ((await tableExists(hostNs)) ? true : undefined), WAIT_MS, 'the isolation to come back at agent start');
    await eventually(
      async () => (gateway.connectedCount() === 1 ? true : undefined),
      WAIT_MS,
      'the agent to reconnect while isolated',
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${running.output()}`);
    });
    expect(await canConnect(hostNs, otherIp, OTHER_PORT)).toBe(false);
    expect(await canConnect(hostNs, serverIp, serverPort)).toBe(true);

    // A release signed by a key the agent never pinned (another server identity) changes nothing.
    const current = (await api<View>('GET', `/hosts/${hostId}/quarantine`)).body;
    const forger = testKeys().workKey;
    const now = new Date();
    const forged = signQuarantineOrder(
      { privateKey: forger.privateKey, certificate: forger.certificate },
      {
        kind: 'quarantine-order',
        hostId,
        action: 'release',
        sequence: (current.sequence ?? 0) + 1_000,
        issuedAt: now.toISOString(),
        notAfter: new Date(now.getTime() + 3_600_000).toISOString(),
        allow: [],
        ports: [],
        reason: 'forged',
      },
    );
    expect(gateway.sendQuarantineOrder(hostId, forged)).toBe(true);
    const refusedForged = () =>
      running
        .output()
        .split('\n')
        .some((line) => line.includes('"msg":"quarantine order refused"') && line.includes('"code":"bad_certificate"'));
    await eventually(async () => (refusedForged() ? true : undefined), WAIT_MS, 'the agent to refuse the forged release');
    expect(await tableExists(hostNs)).toBe(true);
    expect(await canConnect(hostNs, otherIp, OTHER_PORT)).toBe(false);
    expect((await api<View>('GET', `/hosts/${hostId}/quarantine`)).body.state).toBe('isolated');

    // A signed release through the API lets the host back onto the network.
    const released = await api<View>('POST', `/hosts/${hostId}/release`, { reason: 'cleaned' });
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    const afterRelease = await eventually(
      async () => {
        const view = (await api<View>('GET', `/hosts/${hostId}/quarantine`)).body;
        return view.state === 'released' || view.state === 'failed' ? view : undefined;
      },
      WAIT_MS,
      'the agent to report the release',
    );
    expect(afterRelease.state, `${afterRelease.detail}\n${running.output()}`).toBe('released');
    expect(await tableExists(hostNs)).toBe(false);
    expect(await canConnect(hostNs, otherIp, OTHER_PORT)).toBe(true);
    expect(await canConnect(hostNs, serverIp, serverPort)).toBe(true);

    await stop(running);
  }, 240_000);
});
