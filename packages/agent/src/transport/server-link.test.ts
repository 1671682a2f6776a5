import type { AddressInfo } from 'node:net';
import {
  AGENT_WS_PATH,
  type AgentMessageBodies,
  AgentMessages,
  type AgentMessageType,
  type BrierError,
  Codec,
  fingerprint,
  generateKeyPair,
  importPrivateKey,
  type KeyPair,
  PURPOSE,
  randomToken,
  type ServerMessageBodies,
  ServerMessages,
  signFields,
  verifyFields,
} from '@brier/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Identity } from '../state/agent-state.js';
import { ServerLink } from './server-link.js';

const HOST_ID = '9c8b7a65-4d3e-4f21-8a0b-1c2d3e4f5a6b';
const WAIT = { timeout: 10_000, interval: 10 };

type Received = { [K in AgentMessageType]: { type: K; body: AgentMessageBodies[K] } }[AgentMessageType];

interface Connection {
  ws: WebSocket;
  nonce: string;
  frames: Received[];
  closeCode: number | undefined;
}

let serverKeys: KeyPair;
let wss: WebSocketServer;
let connections: Connection[];
const codec = new Codec(AgentMessages, ServerMessages);
let link: ServerLink | undefined;

beforeEach(async () => {
  serverKeys = generateKeyPair();
  connections = [];
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: AGENT_WS_PATH });
  wss.on('connection', (ws) => {
    const conn: Connection = { ws, nonce: randomToken(), frames: [], closeCode: undefined };
    connections.push(conn);
    ws.on('message', (data) => conn.frames.push(codec.decode(data as Buffer) as Received));
    ws.on('close', (code) => {
      conn.closeCode = code;
    });
    ws.send(codec.encode('challenge', { nonce: conn.nonce, heartbeatIntervalMs: 30_000 }));
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
});

afterEach(async () => {
  await link?.stop();
  link = undefined;
  for (const client of wss.clients) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

function identity(): Identity {
  const keys = generateKeyPair();
  return {
    hostId: HOST_ID,
    privateKeyPem: keys.privateKeyPem,
    publicKey: keys.publicKey,
    serverUrl: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    serverPublicKey: serverKeys.publicKey,
    serverFingerprint: fingerprint(serverKeys.publicKey),
    enrolledAt: '2024-06-01T08:00:00.000Z',
  };
}

interface Events {
  ready: Array<string | null>;
  messages: Array<{ type: string; body: unknown }>;
  fatal: BrierError[];
}

function startLink(id: Identity = identity()): Events {
  const events: Events = { ready: [], messages: [], fatal: [] };
  link = new ServerLink({
    identity: id,
    logger: pino({ level: 'silent' }),
    onReady: (hash) => events.ready.push(hash),
    onMessage: (type, body) => events.messages.push({ type, body }),
    onFatal: (err) => events.fatal.push(err),
    backoffBaseMs: 10,
    backoffCapMs: 10,
    random: () => 0,
  });
  link.start();
  return events;
}

async function authAnswer(index = 0): Promise<{ conn: Connection; auth: AgentMessageBodies['auth'] }> {
  return vi.waitFor(() => {
    const conn = connections[index];
    const auth = conn?.frames.find((f) => f.type === 'auth');
    if (!conn || auth?.type !== 'auth') throw new Error('no auth yet');
    return { conn, auth: auth.body };
  }, WAIT);
}

function sendAuthOk(conn: Connection, agentNonce: string, options: { signer?: KeyPair; hostId?: string; hash?: string | null } = {}): void {
  const body: ServerMessageBodies['auth.ok'] = {
    hostId: options.hostId ?? HOST_ID,
    signature: signFields(importPrivateKey((options.signer ?? serverKeys).privateKeyPem), PURPOSE.authAck, [agentNonce, HOST_ID]),
    inventoryHash: options.hash === undefined ? null : options.hash,
  };
  conn.ws.send(codec.encode('auth.ok', body));
}

function closed(conn: Connection): Promise<number> {
  return vi.waitFor(() => {
    if (conn.closeCode === undefined) throw new Error('open');
    return conn.closeCode;
  }, WAIT);
}

describe('ServerLink', () => {
  it('answers the challenge with a signature over [server nonce, host ID, server fingerprint]', async () => {
    const id = identity();
    startLink(id);
    const { conn, auth } = await authAnswer();
    expect(auth.hostId).toBe(HOST_ID);
    expect(verifyFields(id.publicKey, PURPOSE.authAnswer, [conn.nonce, HOST_ID, id.serverFingerprint], auth.signature)).toBe(true);
  });

  it('becomes ready and reports the server hash once the server proves the pinned key', async () => {
    const events = startLink();
    expect(link!.send('inventory.delta', { baseHash: 'a'.repeat(64), hash: 'b'.repeat(64), upsert: [], remove: [] })).toBe(false);
    const { conn, auth } = await authAnswer();
    sendAuthOk(conn, auth.nonce, { hash: 'c'.repeat(64) });
    await vi.waitFor(() => expect(events.ready).toEqual(['c'.repeat(64)]), WAIT);
    expect(link!.isReady).toBe(true);
    expect(link!.send('inventory.delta', { baseHash: 'a'.repeat(64), hash: 'b'.repeat(64), upsert: [], remove: [] })).toBe(true);
    await vi.waitFor(() => expect(conn.frames.map((f) => f.type)).toEqual(['auth', 'inventory.delta']), WAIT);
  });

  it('passes later server messages on, and ignores them before authentication', async () => {
    const events = startLink();
    const { conn, auth } = await authAnswer();
    conn.ws.send(codec.encode('inventory.request', { full: true }));
    sendAuthOk(conn, auth.nonce);
    conn.ws.send(codec.encode('inventory.request', { full: false }));
    await vi.waitFor(() => expect(events.messages).toEqual([{ type: 'inventory.request', body: { full: false } }]), WAIT);
  });

  it('hangs up with 4401 when the proof is signed by another key', async () => {
    const events = startLink();
    const { conn, auth } = await authAnswer();
    sendAuthOk(conn, auth.nonce, { signer: generateKeyPair() });
    expect(await closed(conn)).toBe(4401);
    expect(events.ready).toEqual([]);
  });

  it('hangs up with 4401 when the server names another host', async () => {
    const events = startLink();
    const { conn, auth } = await authAnswer();
    sendAuthOk(conn, auth.nonce, { hostId: '00000000-0000-4000-8000-000000000000' });
    expect(await closed(conn)).toBe(4401);
    expect(events.ready).toEqual([]);
  });

  it('hangs up with 4400 on a frame that is not a valid message', async () => {
    startLink();
    const { conn } = await authAnswer();
    conn.ws.send('{"v":1,"type":"auth.ok","id":"x","body":{"__proto__":{}}}');
    expect(await closed(conn)).toBe(4400);
  });

  it('reconnects after the connection drops, and authenticates again', async () => {
    const events = startLink();
    const first = await authAnswer(0);
    sendAuthOk(first.conn, first.auth.nonce);
    await vi.waitFor(() => expect(events.ready).toHaveLength(1), WAIT);
    first.conn.ws.close(1001, 'server restarting');

    const second = await authAnswer(1);
    expect(second.auth.nonce).not.toBe(first.auth.nonce);
    sendAuthOk(second.conn, second.auth.nonce);
    await vi.waitFor(() => expect(events.ready).toHaveLength(2), WAIT);
  });

  it('stops for good when the server says the host is revoked or unknown', async () => {
    for (const [close, code] of [
      [4410, 'host_revoked'],
      [4414, 'host_unknown'],
    ] as const) {
      connections = [];
      const events = startLink();
      const { conn } = await authAnswer();
      conn.ws.close(close, 'no');
      await vi.waitFor(() => expect(events.fatal.map((e) => e.code)).toEqual([code]), WAIT);
      // Given time to reconnect (backoff is 10 ms here), it does not.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(connections).toHaveLength(1);
      await link!.stop();
    }
  });

  it('stop() closes with 1000 and does not reconnect', async () => {
    startLink();
    const { conn } = await authAnswer();
    await link!.stop();
    expect(await closed(conn)).toBe(1000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connections).toHaveLength(1);
    expect(link!.isReady).toBe(false);
  });

  it('stop() resolves while the connection is still being opened', async () => {
    startLink();
    await expect(link!.stop()).resolves.toBeUndefined();
    expect(link!.isReady).toBe(false);
  });
});
