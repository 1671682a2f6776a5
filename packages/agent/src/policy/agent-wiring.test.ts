import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AGENT_WS_PATH,
  type AgentMessageBodies,
  AgentMessages,
  type AgentMessageType,
  Codec,
  certifyWorkKey,
  fingerprint,
  generateKeyPair,
  importPrivateKey,
  PURPOSE,
  randomToken,
  ServerMessages,
  signFields,
} from '@brier/protocol';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Agent, buildAgent } from '../agent.js';
import { AgentState, type Identity } from '../state/agent-state.js';
import { policy, signBundle } from './__fixtures__/signed-bundles.js';
import { BUNDLE_FILE } from './bundle-store.js';
import type { PackageControl } from './ports.js';

/**
 * The policy engine inside a real agent, over a real socket: a scripted gateway authenticates the
 * agent, sends a signed bundle and reads what comes back.
 */

type Received = { [K in AgentMessageType]: { type: K; body: AgentMessageBodies[K] } }[AgentMessageType];
const WAIT = { timeout: 10_000, interval: 20 };
const HOST_ID = '3d9a6c1e-5b2f-4a8d-9e7c-1f2a3b4c5d6e';

class Gateway {
  readonly identityKeys = generateKeyPair();
  readonly codec = new Codec(AgentMessages, ServerMessages);
  readonly frames: Received[] = [];
  sockets: WebSocket[] = [];
  private readonly wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: AGENT_WS_PATH });
  readonly listening = new Promise<void>((resolve) => this.wss.once('listening', () => resolve()));

  constructor() {
    this.wss.on('connection', (ws) => {
      this.sockets.push(ws);
      ws.on('message', (data) => {
        const frame = this.codec.decode(data as Buffer) as Received;
        this.frames.push(frame);
        if (frame.type === 'auth') {
          const signature = signFields(importPrivateKey(this.identityKeys.privateKeyPem), PURPOSE.authAck, [frame.body.nonce, HOST_ID]);
          ws.send(this.codec.encode('auth.ok', { hostId: HOST_ID, signature, inventoryHash: null }));
        }
      });
      ws.send(this.codec.encode('challenge', { nonce: randomToken(), heartbeatIntervalMs: 30_000 }));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  of<K extends AgentMessageType>(type: K): AgentMessageBodies[K][] {
    return this.frames.flatMap((f) => (f.type === type ? [f.body as AgentMessageBodies[K]] : []));
  }

  send(frame: string): void {
    for (const ws of this.sockets) ws.send(frame);
  }

  close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(packages: PackageControl) {
  const gateway = new Gateway();
  cleanups.push(() => gateway.close());
  await gateway.listening;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'brier-agent-policy-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const agentKeys = generateKeyPair();
  const identity: Identity = {
    hostId: HOST_ID,
    privateKeyPem: agentKeys.privateKeyPem,
    publicKey: agentKeys.publicKey,
    serverUrl: gateway.url,
    serverPublicKey: gateway.identityKeys.publicKey,
    serverFingerprint: fingerprint(gateway.identityKeys.publicKey),
    enrolledAt: '2026-01-01T00:00:00.000Z',
  };
  const build = (): Agent => {
    const agent = buildAgent({
      state: new AgentState(dir),
      identity,
      collect: () => Promise.reject(new Error('no inventory in this test')),
      collectUpdates: async () => ({ updates: [], sources: [] }),
      logger: pino({ level: 'silent' }),
      scheduler: { schedule: () => () => {} },
      inventoryCron: '0 0 1 1 *',
      policyPorts: { packages },
      policyEvery: () => () => {},
      backoffBaseMs: 10,
      backoffCapMs: 50,
    });
    cleanups.push(() => agent.stop());
    return agent;
  };
  // The server's work key, certified by the identity the agent pins.
  const work = generateKeyPair();
  const signer = {
    privateKey: importPrivateKey(work.privateKeyPem),
    certificate: certifyWorkKey(
      importPrivateKey(gateway.identityKeys.privateKeyPem),
      work.publicKey,
      new Date(Date.now() - 3_600_000),
      new Date(Date.now() + 3_600_000),
    ),
  };
  return { gateway, dir, build, signer };
}

const installedPackages = (versions: Record<string, string>): PackageControl => ({
  installedVersion: async (name) => versions[name] ?? null,
  install: async () => ({ ok: false, code: 'invalid-request', detail: 'not in this test' }),
  remove: async () => ({ ok: false, code: 'invalid-request', detail: 'not in this test' }),
  atLeast: () => true,
});

describe('the agent with policies', () => {
  it('says which bundle it holds after authenticating, takes a signed bundle, reports compliance and keeps the bundle', async () => {
    const { gateway, dir, build, signer } = await setup(installedPackages({ clamav: '1.0.7' }));
    const agent = build();
    agent.start();
    await vi.waitFor(
      () => expect(gateway.of('desired-state.sync')).toEqual([{ bundleSequence: 0, quarantineSequence: 0, isolated: false }]),
      WAIT,
    );

    const p = policy({ mode: 'audit', rules: [{ kind: 'package-installed', name: 'clamav' }] });
    const signed = signBundle(signer, HOST_ID, 3, [p], new Date());
    gateway.send(gateway.codec.encode('policy.bundle', { signed }));
    const report = await vi.waitFor(() => {
      const r = gateway.of('compliance.report').at(-1);
      if (!r) throw new Error('no report yet');
      return r;
    }, WAIT);
    expect(report).toMatchObject({
      bundleSequence: 3,
      results: [{ policyId: p.id, status: 'compliant', detail: 'clamav 1.0.7 is installed' }],
    });
    expect(existsSync(path.join(dir, BUNDLE_FILE))).toBe(true);

    // After a reconnect the agent names the bundle it enforces.
    for (const ws of gateway.sockets) ws.terminate();
    await vi.waitFor(() => expect(gateway.of('desired-state.sync').at(-1)).toMatchObject({ bundleSequence: 3 }), WAIT);
  });

  it('ignores a bundle for another host and takes the genuine one after it', async () => {
    const { gateway, dir, build, signer } = await setup(installedPackages({}));
    const agent = build();
    agent.start();
    await vi.waitFor(() => expect(gateway.of('desired-state.sync')).toHaveLength(1), WAIT);
    const signed = signBundle(signer, '00000000-0000-4000-8000-000000000000', 3, [policy()], new Date());
    gateway.send(gateway.codec.encode('policy.bundle', { signed }));
    // A genuine message after it shows the bundle was processed first.
    const p = policy({ mode: 'audit' });
    gateway.send(gateway.codec.encode('policy.bundle', { signed: signBundle(signer, HOST_ID, 1, [p], new Date()) }));
    await vi.waitFor(() => expect(gateway.of('compliance.report').at(-1)?.bundleSequence).toBe(1), WAIT);
    expect(agent.policy.currentResults().map((r) => r.policyId)).toEqual([p.id]);
    expect(existsSync(path.join(dir, BUNDLE_FILE))).toBe(true);
  });
});
