import {
  AGENT_WS_PATH,
  AgentMessages,
  Codec,
  generateKeyPair,
  importPrivateKey,
  PURPOSE,
  parseJoinToken,
  randomToken,
  ServerMessages,
  sha256Hex,
  signFields,
} from '@brier/protocol';
import WebSocket from 'ws';
import { buildServer } from '../app.js';
import { parseConfig, type ServerConfig } from '../config.js';
import { openDatabase } from '../store/index.js';
import { testKeys } from './test-keys.js';

/**
 * Test support (not shipped: excluded from the build). Builds a real server on a real database:
 * in-memory PGlite by default, or PostgreSQL when `databaseUrl` is given.
 */
export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface TestServerOptions {
  databaseUrl?: string | undefined;
  config?: Partial<ServerConfig>;
  now?: () => Date;
}

export async function createTestServer(options: TestServerOptions = {}) {
  const database = await openDatabase({ databaseUrl: options.databaseUrl });
  const { identity, workKey } = testKeys();
  const config = Object.freeze({ ...parseConfig({}), ...options.config });
  const app = await buildServer({ config, database, identity, workKey, ...(options.now ? { now: options.now } : {}) });
  await app.services.auth.ensureAdmin(ADMIN_PASSWORD);

  async function login(username = 'admin', password = ADMIN_PASSWORD): Promise<string> {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
    return res.json<{ token: string }>().token;
  }

  // One admin session for all helper calls: logging in per call would trip the login rate limit.
  let adminToken: string | undefined;

  async function createJoinToken(
    body: { autoApprove?: boolean; expiresInHours?: number; maxUses?: number } = { autoApprove: true },
  ): Promise<string> {
    adminToken ??= await login();
    const token = adminToken;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/enrollment-tokens',
      headers: { authorization: `Bearer ${token}` },
      payload: body,
    });
    if (res.statusCode !== 201) throw new Error(`token creation failed: ${res.statusCode} ${res.body}`);
    return res.json<{ token: string }>().token;
  }

  /** Enrols a simulated agent through the real HTTP route; returns its id and keys. */
  async function enrollAgent(joinToken?: string, hostname = 'test-host') {
    const token = joinToken ?? (await createJoinToken());
    const keys = generateKeyPair();
    const nonce = randomToken();
    const secret = parseJoinToken(token)?.secret ?? '';
    const signature = signFields(importPrivateKey(keys.privateKeyPem), PURPOSE.enroll, [sha256Hex(secret), nonce, keys.publicKey]);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/agent/enroll',
      payload: { token, publicKey: keys.publicKey, hostname, nonce, signature },
    });
    if (res.statusCode !== 201) throw new Error(`enrolment failed: ${res.statusCode} ${res.body}`);
    return { hostId: res.json<{ hostId: string }>().hostId, keys };
  }

  async function listen(): Promise<string> {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    return `http://127.0.0.1:${address.port}`;
  }

  return {
    app,
    identity,
    database,
    config,
    login,
    createJoinToken,
    enrollAgent,
    listen,
    async close() {
      await app.close();
      await database.close();
    },
  };
}

export type TestServer = Awaited<ReturnType<typeof createTestServer>>;

/**
 * A raw agent connection for gateway tests: lets a test send any frame, well-formed or not, and
 * read what the server answers, including the close code.
 */
export class RawAgentSocket {
  readonly codec = new Codec(ServerMessages, AgentMessages);
  readonly ws: WebSocket;
  readonly received: Array<{ type: string; body: Record<string, unknown> }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(baseUrl: string) {
    this.ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + AGENT_WS_PATH, { maxPayload: 64 * 1024 * 1024 });
    this.ws.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as { type: string; body: Record<string, unknown> };
      this.received.push(parsed);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.waiters.splice(0)) w();
      });
    });
    this.ws.on('error', () => {});
  }

  opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  /** Resolves with the first received message of `type` (waiting for it if needed). */
  async next(type: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type);
      if (i >= 0) return this.received.splice(i, 1)[0]?.body ?? {};
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`closed before ${type} arrived`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${type}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Completes the challenge/answer handshake as host `hostId` with its private key. */
  async authenticate(hostId: string, privateKeyPem: string, serverFingerprint: string): Promise<Record<string, unknown>> {
    const challenge = await this.next('challenge');
    const signature = signFields(importPrivateKey(privateKeyPem), PURPOSE.authAnswer, [String(challenge.nonce), hostId, serverFingerprint]);
    this.ws.send(this.codec.encode('auth', { hostId, nonce: randomToken(), signature }));
    return challenge;
  }

  close(): void {
    this.ws.terminate();
  }
}
