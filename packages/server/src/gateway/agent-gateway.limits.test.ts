import {
  AGENT_WS_PATH,
  AgentMessages,
  Codec,
  importPrivateKey,
  PURPOSE,
  randomToken,
  ServerMessages,
  signFields,
  wsCloseCodeOf,
} from '@brier/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import { createTestServer, RawAgentSocket, type TestServer } from '../testing/test-server.js';

/**
 * The gateway's clocks and limits: auth timeout, heartbeats, handshake rate limit. Each describe
 * has its own server with short intervals, so nothing here waits for a production default.
 */

const WAIT = { timeout: 10_000, interval: 20 };

async function hostOf(s: TestServer, bearer: string, hostId: string): Promise<{ online: boolean; lastSeenAt: string | null }> {
  const res = await s.app.inject({ method: 'GET', url: `/api/v1/hosts/${hostId}`, headers: { authorization: `Bearer ${bearer}` } });
  expect(res.statusCode).toBe(200);
  return res.json<{ online: boolean; lastSeenAt: string | null }>();
}

describe('with a 500 ms auth timeout and a 1 s heartbeat', () => {
  let s: TestServer;
  let url: string;
  let bearer: string;
  const sockets: Array<{ terminate(): void }> = [];

  beforeAll(async () => {
    s = await createTestServer({ config: { authTimeoutMs: 500, heartbeatIntervalMs: 1_000 } });
    url = await s.listen();
    bearer = await s.login();
  });
  afterEach(() => {
    for (const sock of sockets.splice(0)) sock.terminate();
  });
  afterAll(async () => {
    await s?.close();
  });

  test('a connection that does not answer the challenge in time gets auth_timeout and is closed with its code', async () => {
    const sock = new RawAgentSocket(url);
    sockets.push(sock.ws);
    expect((await sock.next('challenge')).heartbeatIntervalMs).toBe(1_000);
    const { code } = await sock.closed;
    expect(code).toBe(wsCloseCodeOf('auth_timeout'));
    expect((await sock.next('error')).code).toBe('auth_timeout');
  });

  test('an agent that stops answering pings is terminated and marked offline, while one that answers stays', async () => {
    const silentAgent = await s.enrollAgent(undefined, 'silent');
    const liveAgent = await s.enrollAgent(undefined, 'live');

    // A raw ws with autoPong off: it receives the server's pings and ignores them.
    const silent = new WebSocket(url.replace(/^http/, 'ws') + AGENT_WS_PATH, { autoPong: false });
    sockets.push(silent);
    silent.on('error', () => {});
    const codec = new Codec(ServerMessages, AgentMessages);
    const frames: Array<{ type: string; body: Record<string, unknown> }> = [];
    silent.on('message', (data) => frames.push(JSON.parse(String(data)) as { type: string; body: Record<string, unknown> }));
    let pings = 0;
    silent.on('ping', () => pings++);
    const closed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));

    await vi.waitFor(() => expect(frames.some((f) => f.type === 'challenge')).toBe(true), WAIT);
    const challenge = frames.find((f) => f.type === 'challenge')?.body ?? {};
    const signature = signFields(importPrivateKey(silentAgent.keys.privateKeyPem), PURPOSE.authAnswer, [
      String(challenge.nonce),
      silentAgent.hostId,
      s.identity.fingerprint,
    ]);
    silent.send(codec.encode('auth', { hostId: silentAgent.hostId, nonce: randomToken(), signature }));
    await vi.waitFor(() => expect(frames.some((f) => f.type === 'auth.ok')).toBe(true), WAIT);

    const live = new RawAgentSocket(url);
    sockets.push(live.ws);
    await live.authenticate(liveAgent.hostId, liveAgent.keys.privateKeyPem, s.identity.fingerprint);
    await live.next('auth.ok');
    expect((await hostOf(s, bearer, silentAgent.hostId)).online).toBe(true);

    // Terminated, not closed: there is no close frame from a peer presumed dead.
    expect(await closed).toBe(1006);
    expect(pings).toBeGreaterThan(0);
    await vi.waitFor(async () => expect((await hostOf(s, bearer, silentAgent.hostId)).online).toBe(false), WAIT);
    expect((await hostOf(s, bearer, silentAgent.hostId)).lastSeenAt).not.toBeNull();

    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    expect((await hostOf(s, bearer, liveAgent.hostId)).online).toBe(true);
  });
});

describe('with a handshake limit of 1 per second and a burst of 2', () => {
  let s: TestServer;
  let url: string;
  const sockets: RawAgentSocket[] = [];

  beforeAll(async () => {
    s = await createTestServer({ config: { handshakesPerSecond: 1, handshakeBurst: 2 } });
    url = await s.listen();
  });
  afterEach(() => {
    for (const sock of sockets.splice(0)) sock.close();
  });
  afterAll(async () => {
    await s?.close();
  });

  test('the third immediate upgrade is refused with HTTP 503 and counted in /metrics', async () => {
    const refusals: Array<{ status: number | undefined; retryAfter: string | string[] | undefined }> = [];
    const attempts = Array.from({ length: 3 }, () => {
      const sock = new RawAgentSocket(url);
      sockets.push(sock);
      sock.ws.on('unexpected-response', (_req, res) => refusals.push({ status: res.statusCode, retryAfter: res.headers['retry-after'] }));
      return sock.opened();
    });
    const outcomes = await Promise.allSettled(attempts);

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
    expect(refusals).toEqual([{ status: 503, retryAfter: '1' }]);
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(Number(/^brier_agent_handshakes_rejected_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });
});
