import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AGENT_WS_PATH,
  type AgentMessageBodies,
  AgentMessages,
  type AgentMessageType,
  Codec,
  compileSchema,
  fingerprint,
  generateKeyPair,
  HostFacts,
  importPrivateKey,
  inventoryHash,
  type KeyPair,
  PackageEntry,
  PURPOSE,
  randomToken,
  ServerMessages,
  signFields,
  verifyFields,
} from '@brier/protocol';
import Type from 'typebox';
import { afterAll, describe, it, vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { AgentState, type Identity } from './state/agent-state.js';

/**
 * The agent binary as a process: `node --import tsx packages/agent/src/main.ts`, so no build is
 * needed. TSX_TSCONFIG_PATH makes `@brier/protocol` resolve to its sources (as in vitest), not to a
 * possibly stale dist/.
 */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = 'packages/agent/src/main.ts';
/** Generous: only a guard against a hung child, never a measure of speed. */
const WAIT_MS = 25_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Agent {
  child: ChildProcess;
  exited: Promise<Exit>;
}

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'brier-agent-main-'));
  tempDirs.push(dir);
  return dir;
}

function startAgent(args: string[]): Agent {
  // BRIER_AGENT_REBOOT=off: no agent started by a test may ever restart this machine.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TSX_TSCONFIG_PATH: 'tsconfig.test.json',
    BRIER_AGENT_LOG_LEVEL: 'debug',
    BRIER_AGENT_REBOOT: 'off',
  };
  delete env.BRIER_AGENT_STATE_DIR;
  delete env.BRIER_AGENT_INVENTORY_CRON;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exited };
}

function runAgent(args: string[]): Promise<Exit> {
  return startAgent(args).exited;
}

afterAll(() => {
  // A failed test must not leave an agent running: end only the children this file started. (Not in
  // afterEach: the tests run concurrently, so that would end the agents of tests still running.)
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('brier-agent commands', () => {
  it('prints its usage for --help and exits 0', async ({ expect }) => {
    const { code, stdout } = await runAgent(['--help']);
    expect(code).toBe(0);
    for (const command of ['enroll', 'run', 'scan', 'status']) expect(stdout).toContain(`brier-agent ${command}`);
  });

  it('exits 2 naming an unknown command', async ({ expect }) => {
    const { code, stderr } = await runAgent(['frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "frobnicate"');
    expect(stderr).toContain('--help');
  });

  it('scan --json prints facts and packages that pass the protocol schema, with dpkg packages on Debian', async ({ expect }) => {
    const { code, stdout, stderr } = await runAgent(['scan', '--json']);
    expect(code, stderr).toBe(0);
    const inventory = JSON.parse(stdout) as { facts: unknown; packages: unknown };
    const packages = compileSchema(Type.Array(PackageEntry))(inventory.packages, 'packages');
    compileSchema(HostFacts)(inventory.facts, 'facts');
    if (existsSync('/var/lib/dpkg/status')) {
      expect(packages.filter((p) => p.ecosystem === 'dpkg').length).toBeGreaterThan(10);
      expect(packages).toContainEqual(expect.objectContaining({ ecosystem: 'dpkg', name: 'dpkg' }));
    }
  });

  it('run exits 2 with a clear message when not enrolled', async ({ expect }) => {
    const dir = tempDir();
    const { code, stderr } = await runAgent(['run', '--state-dir', dir]);
    expect(code).toBe(2);
    expect(stderr).toContain(`not enrolled: no identity in ${dir}`);
    expect(stderr).toContain('brier-agent enroll');
  });

  it('run exits 2 naming a reboot switch that is neither on nor off, before anything else', async ({ expect }) => {
    const dir = tempDir();
    const { code, stderr } = await runAgent(['run', '--state-dir', dir, '--reboot', 'maybe']);
    expect(code).toBe(2);
    expect(stderr).toContain(`reboot must be 'on' or 'off', not "maybe"`);
  });

  it('status exits 1 on an empty state directory', async ({ expect }) => {
    const dir = tempDir();
    const { code, stdout } = await runAgent(['status', '--state-dir', dir]);
    expect(code).toBe(1);
    expect(stdout).toContain(`Not enrolled (no identity in ${dir})`);
  });

  it('exits 1 with a one-line message naming a damaged identity.json', async ({ expect }) => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'identity.json'), '{"hostId": ');
    const { code, stderr } = await runAgent(['run', '--state-dir', dir]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${path.join(dir, 'identity.json')} is damaged`);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('enroll exits 1 naming the code token_invalid for a malformed token', async ({ expect }) => {
    const dir = tempDir();
    const bad = await runAgent(['enroll', '--state-dir', dir, '--server', 'http://127.0.0.1:1', '--token', 'brier1.nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[token_invalid]');
    expect(existsSync(path.join(dir, 'identity.json'))).toBe(false);
  });
});

const HOST_ID = '3d9a6c1e-5b2f-4a8d-9e7c-1f2a3b4c5d6e';

function makeIdentity(serverUrl: string, serverKeys: KeyPair): Identity {
  const agentKeys = generateKeyPair();
  return {
    hostId: HOST_ID,
    privateKeyPem: agentKeys.privateKeyPem,
    publicKey: agentKeys.publicKey,
    serverUrl,
    serverPublicKey: serverKeys.publicKey,
    serverFingerprint: fingerprint(serverKeys.publicKey),
    enrolledAt: '2024-06-01T08:00:00.000Z',
  };
}

type Received = { [K in AgentMessageType]: { type: K; body: AgentMessageBodies[K] } }[AgentMessageType];

/** One agent connection as the fake server sees it. */
interface Connection {
  ws: WebSocket;
  challengeNonce: string;
  frames: Received[];
  closeCode: number | undefined;
}

/**
 * A scripted stand-in for the server's agent gateway: sends a valid challenge on every connection
 * and records what the agent sends and how it closes. Tests decide what to answer.
 */
class FakeGateway {
  readonly keys = generateKeyPair();
  readonly codec = new Codec(AgentMessages, ServerMessages);
  readonly connections: Connection[] = [];
  private readonly wss: WebSocketServer;
  readonly listening: Promise<void>;

  constructor() {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: AGENT_WS_PATH });
    this.listening = new Promise((resolve) => this.wss.once('listening', () => resolve()));
    this.wss.on('connection', (ws) => {
      const conn: Connection = { ws, challengeNonce: randomToken(), frames: [], closeCode: undefined };
      this.connections.push(conn);
      ws.on('message', (data) => conn.frames.push(this.codec.decode(data as Buffer) as Received));
      ws.on('close', (code) => {
        conn.closeCode = code;
      });
      ws.send(this.codec.encode('challenge', { nonce: conn.challengeNonce, heartbeatIntervalMs: 30_000 }));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** Waits for the agent's `auth` answer on the first connection. */
  async authenticated(): Promise<{ conn: Connection; auth: AgentMessageBodies['auth'] }> {
    return vi.waitFor(
      () => {
        const conn = this.connections[0];
        const auth = conn?.frames.find((f) => f.type === 'auth');
        if (!conn || auth?.type !== 'auth') throw new Error('no auth frame yet');
        return { conn, auth: auth.body };
      },
      { timeout: WAIT_MS, interval: 20 },
    );
  }

  /** Proves the server's identity the way the real gateway does: signs [agentNonce, hostId]. */
  authOk(conn: Connection, agentNonce: string, signer: KeyPair = this.keys): void {
    const signature = signFields(importPrivateKey(signer.privateKeyPem), PURPOSE.authAck, [agentNonce, HOST_ID]);
    conn.ws.send(this.codec.encode('auth.ok', { hostId: HOST_ID, signature, inventoryHash: null }));
  }

  closeCodeOf(conn: Connection): Promise<number> {
    return vi.waitFor(
      () => {
        if (conn.closeCode === undefined) throw new Error('not closed yet');
        return conn.closeCode;
      },
      { timeout: WAIT_MS, interval: 20 },
    );
  }

  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

const gateways: FakeGateway[] = [];

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
});

async function runningAgent(): Promise<{ gateway: FakeGateway; agent: Agent; identity: Identity; dir: string }> {
  const gateway = new FakeGateway();
  gateways.push(gateway);
  await gateway.listening;
  const dir = tempDir();
  const identity = makeIdentity(gateway.url, gateway.keys);
  new AgentState(dir).writeIdentity(identity);
  const agent = startAgent(['run', '--state-dir', dir]);
  return { gateway, agent, identity, dir };
}

describe.concurrent('brier-agent run', () => {
  it('answers the challenge, and on SIGTERM closes the connection with 1000 and exits 0', async ({ expect }) => {
    const { gateway, agent, identity } = await runningAgent();
    const { conn, auth } = await gateway.authenticated();
    expect(auth.hostId).toBe(identity.hostId);
    expect(
      verifyFields(
        identity.publicKey,
        PURPOSE.authAnswer,
        [conn.challengeNonce, identity.hostId, identity.serverFingerprint],
        auth.signature,
      ),
    ).toBe(true);

    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.signal).toBeNull();
    expect(await gateway.closeCodeOf(conn)).toBe(1000);
    expect(gateway.connections).toHaveLength(1);
  });

  it('reports a full inventory once the server proves its key, and stores it when acknowledged', async ({ expect }) => {
    const { gateway, agent, dir } = await runningAgent();
    const { conn, auth } = await gateway.authenticated();
    gateway.authOk(conn, auth.nonce);

    const parts = await vi.waitFor(
      () => {
        const fulls = conn.frames.flatMap((f) => (f.type === 'inventory.full' ? [f.body] : []));
        if (fulls.length === 0 || fulls.length < fulls[0]!.parts) throw new Error('snapshot incomplete');
        return fulls;
      },
      { timeout: WAIT_MS, interval: 50 },
    );
    const packages = parts.flatMap((p) => p.packages);
    expect(parts.map((p) => p.part)).toEqual(parts.map((_, i) => i));
    expect(parts[0]!.facts?.hostname).toBeTruthy();
    expect(parts[0]!.hash).toBe(inventoryHash(packages));
    if (existsSync('/var/lib/dpkg/status')) expect(packages.some((p) => p.ecosystem === 'dpkg')).toBe(true);

    conn.ws.send(
      gateway.codec.encode('inventory.ack', { hash: parts[0]!.hash, mode: 'full', added: packages.length, removed: 0, changed: 0 }),
    );
    await vi.waitFor(
      () => {
        if (new AgentState(dir).readSentInventory()?.hash !== parts[0]!.hash) throw new Error('not stored yet');
      },
      { timeout: WAIT_MS, interval: 50 },
    );

    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    expect(await gateway.closeCodeOf(conn)).toBe(1000);
  });

  it('hangs up with 4401 on a server that cannot prove the pinned key, and sends no inventory', async ({ expect }) => {
    const { gateway, agent } = await runningAgent();
    const { conn, auth } = await gateway.authenticated();
    gateway.authOk(conn, auth.nonce, generateKeyPair());

    expect(await gateway.closeCodeOf(conn)).toBe(4401);
    expect(conn.frames.map((f) => f.type)).toEqual(['auth']);
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  });

  it('exits 3 when the server says the host is revoked', async ({ expect }) => {
    const { gateway, agent } = await runningAgent();
    const { conn } = await gateway.authenticated();
    conn.ws.close(4410, 'host revoked');

    const exit = await agent.exited;
    expect(exit.code).toBe(3);
    expect(exit.stdout).toContain('server refused this identity');
    expect(gateway.connections).toHaveLength(1);
  });
});
