import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestServer, type TestServer } from '../testing/test-server.js';
import { CLOSE_UNAUTHENTICATED, CONSOLE_WS_MAX_PAYLOAD, CONSOLE_WS_MAX_SUBSCRIPTIONS, CONSOLE_WS_PATH } from './console-socket.js';

type Frame = { type: string; message?: string; deployment?: { id: string; state: string; waves: unknown[]; summary: unknown } };

/** A console socket client that keeps every frame and lets a test wait for the next one of a type. */
class ConsoleClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;

  constructor(url: string, options: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data) => this.frames.push(JSON.parse(String(data)) as Frame));
    this.ws.on('ping', () => {
      this.pings += 1;
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Resolves when open; rejects with the HTTP status of a refused upgrade. */
  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(String(res.statusCode))));
    });
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame matching `pred` not taken yet (waits up to 10 s, then throws). */
  async next(pred: (f: Frame) => boolean): Promise<Frame> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0] as Frame;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('closed while waiting');
      if (Date.now() > deadline) throw new Error(`timed out; frames: ${JSON.stringify(this.frames)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  error() {
    return this.next((f) => f.type === 'error');
  }

  close() {
    this.ws.terminate();
  }
}

describe('the console WebSocket', () => {
  let s: TestServer;
  let base = '';
  let url = '';
  let origin = '';
  let session = '';
  let hostId = '';
  const clients: ConsoleClient[] = [];

  const connect = (options: WebSocket.ClientOptions = {}) => {
    const c = new ConsoleClient(url, options);
    clients.push(c);
    return c;
  };
  /** A client with the server's own Origin and the session cookie, open. */
  const open = async (cookie = session) => {
    const c = connect({ origin, headers: { cookie: `brier_session=${cookie}` } });
    await c.opened();
    return c;
  };
  const deploy = async (name: string) => {
    const res = await fetch(`${base}/api/v1/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        packages: [{ name: 'openssl', version: '3.0.13-1~deb12u1' }],
        targets: { hostIds: [hostId] },
        waves: [{ name: 'all', percent: 100, bakeMinutes: 0 }],
      }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };

  beforeAll(async () => {
    s = await createTestServer({
      config: { loginAttemptsPerMinute: 10_000, publicUrl: 'https://brier.example.org', heartbeatIntervalMs: 1_000 },
    });
    base = await s.listen();
    url = `${base.replace(/^http/, 'ws')}${CONSOLE_WS_PATH}`;
    origin = base;
    session = await s.login();
    hostId = (await s.enrollAgent()).hostId;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await s.close();
  });

  it('sends a deployment’s progress on subscribe and again when it changes', async () => {
    const id = await deploy('watched');
    const c = await open();
    c.send({ type: 'subscribe', topic: 'deployment', id });
    const first = await c.next((f) => f.type === 'deployment.progress');
    expect(first.deployment).toMatchObject({ id, state: 'approved' });
    expect(Object.keys(first.deployment ?? {}).sort()).toEqual(['id', 'state', 'stateReason', 'summary', 'waves']);
    await s.app.services.deployments.tick();
    const second = await c.next((f) => f.type === 'deployment.progress');
    expect(second.deployment).toMatchObject({ id, state: 'running' });
    expect(second.deployment?.waves).toEqual([expect.objectContaining({ index: 0, name: 'all', hostCount: 1 })]);
  });

  it('tells a deployments subscriber when one is created or changes state', async () => {
    const c = await open();
    c.send({ type: 'subscribe', topic: 'deployments' });
    // Frames are handled in order: once this one is answered, the subscription is in place.
    c.send('sync');
    await c.error();
    const id = await deploy('listed');
    expect(await c.next((f) => f.type === 'deployments.changed')).toEqual({ type: 'deployments.changed' });
    const abort = await fetch(`${base}/api/v1/deployments/${id}/abort`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(abort.status).toBe(200);
    expect(await c.next((f) => f.type === 'deployments.changed')).toEqual({ type: 'deployments.changed' });
  });

  it('stops sending after unsubscribe', async () => {
    const id = await deploy('unsubscribed');
    const c = await open();
    c.send({ type: 'subscribe', topic: 'deployment', id });
    await c.next((f) => f.type === 'deployment.progress');
    c.send({ type: 'unsubscribe', topic: 'deployment', id });
    c.send({ type: 'unsubscribe', topic: 'deployment', id });
    expect((await c.error()).message).toBe(`not subscribed to deployment:${id}`);
    await s.app.services.deployments.tick();
    // A round trip after the change: any progress frame would have arrived before this answer.
    await new Promise((r) => setTimeout(r, 400));
    c.send('not json');
    await c.error();
    expect(c.frames.filter((f) => f.type === 'deployment.progress')).toEqual([]);
  });

  it('accepts the public URL’s origin and a bearer token', async () => {
    const c = connect({ origin: 'https://brier.example.org', headers: { authorization: `Bearer ${session}` } });
    await c.opened();
    c.close();
  });

  it.each<[string, WebSocket.ClientOptions]>([
    ['no Origin', {}],
    ['another site’s Origin', { origin: 'https://evil.example' }],
    ['the opaque Origin null', { origin: 'null' }],
    ['the same host on another port', { origin: 'http://127.0.0.1:1' }],
    ['the public host over http', { origin: 'http://brier.example.org' }],
  ])('refuses an upgrade with %s with 403', async (_what, options) => {
    const c = connect({ ...options, headers: { cookie: `brier_session=${session}` } });
    await expect(c.opened()).rejects.toThrow('403');
  });

  it.each<[string, Record<string, string>]>([
    ['no cookie', {}],
    ['an unknown session', { cookie: `brier_session=brs_${'A'.repeat(43)}` }],
    ['a malformed cookie', { cookie: 'brier_session=%E0%A4%A' }],
    ['a malformed Authorization header', { authorization: 'Basic abc' }],
  ])('refuses an upgrade with %s with 401', async (_what, headers) => {
    const c = connect({ origin, headers });
    await expect(c.opened()).rejects.toThrow('401');
  });

  it.each<[string, string | Buffer, RegExp]>([
    ['malformed JSON', '{"type":"subscribe",', /^frames must be JSON$/],
    ['a JSON array', '[1,2]', /^frames must be JSON objects$/],
    ['a JSON string', '"subscribe"', /^frames must be JSON objects$/],
    ['an unknown type', '{"type":"delete","topic":"deployment"}', /^unknown frame type "delete"$/],
    ['no type', '{"topic":"deployments"}', /^unknown frame type$/],
    ['an unknown topic', '{"type":"subscribe","topic":"hosts"}', /^topic must be deployment or deployments$/],
    ['a bad uuid', '{"type":"subscribe","topic":"deployment","id":"../../etc"}', /needs an id that is a UUID/],
    ['a uuid with a NUL byte', '{"type":"subscribe","topic":"deployment","id":"00000000-0000-4000-8000-00000000000\\u0000"}', /UUID/],
    ['an id as a number', '{"type":"subscribe","topic":"deployment","id":42}', /UUID/],
    ['an unknown field', '{"type":"subscribe","topic":"deployments","filter":"x"}', /^unknown fields: filter$/],
    ['an id on the list topic', `{"type":"subscribe","topic":"deployments","id":"${randomUUID()}"}`, /takes no id/],
    ['an unknown deployment', `{"type":"subscribe","topic":"deployment","id":"${randomUUID()}"}`, /^no deployment /],
    ['a binary frame', Buffer.from([1, 2, 3]), /^binary frames are not accepted$/],
  ])('answers %s with an error frame and keeps the connection', async (_what, frame, message) => {
    const c = await open();
    c.ws.send(frame);
    expect((await c.error()).message).toMatch(message);
    // Still usable: a good subscription works afterwards.
    const id = await deploy('after a bad frame');
    c.send({ type: 'subscribe', topic: 'deployment', id });
    expect((await c.next((f) => f.type === 'deployment.progress')).deployment?.id).toBe(id);
    c.close();
  });

  it('closes the connection (1009) on a frame over 4 KiB', async () => {
    const c = await open();
    c.send({ type: 'subscribe', topic: 'deployments', pad: 'x'.repeat(CONSOLE_WS_MAX_PAYLOAD) });
    expect((await c.closed).code).toBe(1009);
  });

  it(`allows at most ${CONSOLE_WS_MAX_SUBSCRIPTIONS} subscriptions per connection`, async () => {
    const c = await open();
    c.send({ type: 'subscribe', topic: 'deployments' });
    c.send({ type: 'subscribe', topic: 'deployments' });
    expect((await c.error()).message).toBe('already subscribed to deployments');
    const ids: string[] = [];
    for (let i = 0; i < CONSOLE_WS_MAX_SUBSCRIPTIONS; i++) ids.push(await deploy(`many ${i}`));
    for (const id of ids) c.send({ type: 'subscribe', topic: 'deployment', id });
    expect((await c.error()).message).toBe(`at most ${CONSOLE_WS_MAX_SUBSCRIPTIONS} subscriptions per connection`);
    for (let i = 0; i < CONSOLE_WS_MAX_SUBSCRIPTIONS - 1; i++) await c.next((f) => f.type === 'deployment.progress');
    expect(c.frames.filter((f) => f.type === 'error')).toEqual([]);
  });

  it('pings to keep the connection alive', async () => {
    const c = await open();
    await new Promise<void>((resolve) => c.ws.once('ping', () => resolve()));
    expect(c.pings).toBeGreaterThan(0);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes with 4401 once the session is revoked: on the next subscribe, or at the next keep-alive', async () => {
    for (const trigger of ['subscribe', 'keep-alive'] as const) {
      const token = await s.login();
      const c = await open(token);
      const out = await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(out.status).toBe(204);
      if (trigger === 'subscribe') c.send({ type: 'subscribe', topic: 'deployments' });
      const closed = await c.closed;
      expect(closed.code).toBe(CLOSE_UNAUTHENTICATED);
      expect(closed.reason).toBe('session revoked or expired');
    }
  });

  it('refuses upgrades of other paths without answering them as the console', async () => {
    const other = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/console/wss`, { origin });
    other.on('error', () => {});
    const refused = await new Promise<string>((resolve) => {
      other.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      other.once('error', () => resolve('destroyed'));
      other.once('close', () => resolve('destroyed'));
    });
    expect(['destroyed', '404']).toContain(refused);
  });
});
