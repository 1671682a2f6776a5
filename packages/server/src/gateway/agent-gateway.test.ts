import { randomUUID } from 'node:crypto';
import {
  AgentMessages,
  Codec,
  type ErrorCode,
  generateKeyPair,
  type HostFacts,
  importPrivateKey,
  inventoryHash,
  MAX_FRAME_BYTES,
  PACKAGES_PER_PART,
  type PackageEntry,
  PURPOSE,
  parseJoinToken,
  randomToken,
  ServerMessages,
  sha256Hex,
  signFields,
  verifyFields,
  wsCloseCodeOf,
} from '@brier/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { createTestServer, RawAgentSocket, type TestServer } from '../testing/test-server.js';

/**
 * The agent gateway over real sockets. One server for the whole file (building one costs seconds),
 * so every test enrols hosts of its own and nothing depends on what another test left behind.
 */

type Agent = Awaited<ReturnType<TestServer['enrollAgent']>>;

interface HostView {
  id: string;
  hostname: string;
  status: string;
  online: boolean;
  lastSeenAt: string | null;
  packageCount: number;
  inventoryHash: string | null;
  os: { distro: string };
}

const agentCodec = new Codec(ServerMessages, AgentMessages);
const WAIT = { timeout: 10_000, interval: 20 };

let s: TestServer;
let url: string;
let bearer: string;
/** An agent that is never refused: a server that still lets it in has survived what the test did. */
let witness: Agent;
/** One join token for every enrolment: each fresh token would cost a login, and logins are rate limited. */
let joinToken: string;
const sockets: RawAgentSocket[] = [];

beforeAll(async () => {
  // Tests enrol dozens of hosts: lift the per-client enrolment limit, which has tests of its own elsewhere.
  s = await createTestServer({ config: { enrollmentsPerMinute: 100_000 } });
  url = await s.listen();
  bearer = await s.login();
  joinToken = await s.createJoinToken({ autoApprove: true });
  witness = await enroll('witness');
});

afterEach(() => {
  for (const sock of sockets.splice(0)) sock.close();
});

afterAll(async () => {
  await s?.close();
});

function enroll(hostname = 'agent'): Promise<Agent> {
  return s.enrollAgent(joinToken, hostname);
}

function open(): RawAgentSocket {
  const sock = new RawAgentSocket(url);
  sockets.push(sock);
  return sock;
}

/** A challenge answer as a real agent builds it; returns the agent's nonce too, to check auth.ok. */
function answer(challenge: Record<string, unknown>, hostId: string, privateKeyPem: string, serverFingerprint = s.identity.fingerprint) {
  const nonce = randomToken();
  const signature = signFields(importPrivateKey(privateKeyPem), PURPOSE.authAnswer, [String(challenge.nonce), hostId, serverFingerprint]);
  return { nonce, frame: agentCodec.encode('auth', { hostId, nonce, signature }) };
}

/** Opens a connection and completes the handshake as `agent`. */
async function connect(agent: Agent): Promise<RawAgentSocket> {
  const sock = open();
  await sock.authenticate(agent.hostId, agent.keys.privateKeyPem, s.identity.fingerprint);
  await sock.next('auth.ok');
  return sock;
}

async function connectNew(hostname = 'agent'): Promise<{ agent: Agent; sock: RawAgentSocket }> {
  const agent = await enroll(hostname);
  return { agent, sock: await connect(agent) };
}

/** The refusal every bad input must get: an error frame with the code, then the matching close code. */
async function expectRefused(sock: RawAgentSocket, code: ErrorCode): Promise<Record<string, unknown>> {
  const error = await sock.next('error');
  expect(error.code).toBe(code);
  expect(error.message).toEqual(expect.any(String));
  expect((await sock.closed).code).toBe(wsCloseCodeOf(code));
  return error;
}

async function expectStillServes(): Promise<void> {
  const sock = await connect(witness);
  sock.close();
}

/** An envelope written by hand, so tests can send what the agent's own codec would never encode. */
function raw(type: string, body: unknown, id = 'm1'): string {
  return JSON.stringify({ v: 1, type, id, body });
}

/**
 * Holds the database until the returned function is called: PGlite has one connection, so every
 * query the server makes meanwhile waits. With PostgreSQL nothing waits and the tests using this
 * prove less, but still pass.
 */
async function holdDatabase(): Promise<() => Promise<void>> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered = () => {};
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const holding = s.database.db.transaction(async (tx) => {
    await tx.execute('select 1');
    entered();
    await released;
  });
  await inside;
  return async () => {
    release();
    await holding;
  };
}

/** A counter or gauge from /metrics (0 when it has no sample yet). */
async function metric(name: string, labels = ''): Promise<number> {
  const text = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string): Promise<{ status: number; body: T }> {
  const res = await s.app.inject({ method, url: path, headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.statusCode, body: (res.body ? res.json() : undefined) as T };
}

async function hostOf(id: string): Promise<HostView> {
  const res = await api<HostView>('GET', `/api/v1/hosts/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function softwareOf(id: string, q?: string) {
  const query = q ? `&q=${encodeURIComponent(q)}` : '';
  const res = await api<{ total: number; items: Array<Record<string, string>> }>('GET', `/api/v1/hosts/${id}/software?limit=1000${query}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** Asserts a host has exactly the inventory it had (hash and rows) — "changes nothing". */
async function expectInventory(id: string, hash: string | null, count: number): Promise<void> {
  const host = await hostOf(id);
  expect(host.inventoryHash).toBe(hash);
  expect(host.packageCount).toBe(count);
  expect((await softwareOf(id)).total).toBe(count);
}

function pkg(name: string, version = '1.0-1'): PackageEntry {
  return { ecosystem: 'dpkg', name, version, arch: 'amd64', source: name, sourceVersion: version };
}

function packages(n: number, prefix = 'pkg'): PackageEntry[] {
  return Array.from({ length: n }, (_, i) => pkg(`${prefix}${i}`));
}

const facts: HostFacts = {
  hostname: 'reported-name',
  os: { platform: 'linux', distro: 'debian', release: '12', codename: 'bookworm' },
  hardware: { cores: 4 },
  network: [],
  agentVersion: '0.1.0',
};

/** A full snapshot as the agent sends it: parts of PACKAGES_PER_PART, facts with part 0. */
function snapshotFrames(list: readonly PackageEntry[], snapshotId = randomToken(9)): string[] {
  const parts = Math.max(1, Math.ceil(list.length / PACKAGES_PER_PART));
  const hash = inventoryHash(list);
  return Array.from({ length: parts }, (_, part) =>
    agentCodec.encode(
      'inventory.full',
      {
        snapshotId,
        part,
        parts,
        hash,
        ...(part === 0 ? { facts } : {}),
        packages: list.slice(part * PACKAGES_PER_PART, (part + 1) * PACKAGES_PER_PART),
      },
      `${snapshotId}-${part}`,
    ),
  );
}

async function storeSnapshot(sock: RawAgentSocket, list: readonly PackageEntry[]): Promise<Record<string, unknown>> {
  for (const frame of snapshotFrames(list)) sock.sendRaw(frame);
  return sock.next('inventory.ack');
}

describe('the handshake', () => {
  test('a correct answer to the challenge is acknowledged with a server signature and the host goes online, then offline on close', async () => {
    const agent = await enroll('handshake-host');
    const sock = open();
    await vi.waitFor(() => expect(sock.received.length).toBeGreaterThan(0), WAIT);
    expect(sock.received[0]?.type).toBe('challenge');
    const challenge = await sock.next('challenge');
    expect(challenge.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge.heartbeatIntervalMs).toBe(s.config.heartbeatIntervalMs);

    const { nonce, frame } = answer(challenge, agent.hostId, agent.keys.privateKeyPem);
    sock.sendRaw(frame);
    const ok = await sock.next('auth.ok');
    expect(ok.hostId).toBe(agent.hostId);
    expect(ok.inventoryHash).toBeNull();
    expect(verifyFields(s.identity.publicKey, PURPOSE.authAck, [nonce, agent.hostId], String(ok.signature))).toBe(true);
    expect(verifyFields(s.identity.publicKey, PURPOSE.authAck, [randomToken(), agent.hostId], String(ok.signature))).toBe(false);

    const listed = await api<{ items: HostView[] }>('GET', '/api/v1/hosts?q=handshake-host');
    expect(listed.body.items.map((h) => [h.id, h.online])).toEqual([[agent.hostId, true]]);

    const closedAt = Date.now();
    sock.close();
    await vi.waitFor(async () => expect((await hostOf(agent.hostId)).online).toBe(false), WAIT);
    const after = await hostOf(agent.hostId);
    expect(after.lastSeenAt).not.toBeNull();
    expect(Date.parse(after.lastSeenAt ?? '')).toBeGreaterThanOrEqual(closedAt);
  });

  test('an answer for a host id that was never enrolled is refused as host_unknown', async () => {
    const sock = open();
    const { frame } = answer(await sock.next('challenge'), randomUUID(), generateKeyPair().privateKeyPem);
    sock.sendRaw(frame);
    await expectRefused(sock, 'host_unknown');
    await expectStillServes();
  });

  test('an answer signed with another key is refused as bad_signature and the host stays offline', async () => {
    const agent = await enroll();
    const sock = open();
    const { frame } = answer(await sock.next('challenge'), agent.hostId, generateKeyPair().privateKeyPem);
    sock.sendRaw(frame);
    await expectRefused(sock, 'bad_signature');
    expect((await hostOf(agent.hostId)).online).toBe(false);
  });

  test('an answer made for another server (a different pinned fingerprint) is refused as bad_signature', async () => {
    const agent = await enroll();
    const sock = open();
    const otherServer = sha256Hex('another server').slice(0, 43);
    const { frame } = answer(await sock.next('challenge'), agent.hostId, agent.keys.privateKeyPem, otherServer);
    sock.sendRaw(frame);
    await expectRefused(sock, 'bad_signature');
  });

  test('a valid answer captured on one connection is refused when replayed on another', async () => {
    const agent = await enroll();
    const first = open();
    const { frame } = answer(await first.next('challenge'), agent.hostId, agent.keys.privateKeyPem);
    first.sendRaw(frame);
    await first.next('auth.ok');

    const second = open();
    await second.next('challenge');
    second.sendRaw(frame);
    await expectRefused(second, 'bad_signature');
    expect(first.ws.readyState).toBe(first.ws.OPEN);
  });

  test('an auth body with an extra host-id field is refused as invalid_message and neither host is affected', async () => {
    const agent = await enroll();
    const other = await enroll();
    const sock = open();
    const challenge = await sock.next('challenge');
    const signature = signFields(importPrivateKey(agent.keys.privateKeyPem), PURPOSE.authAnswer, [
      String(challenge.nonce),
      agent.hostId,
      s.identity.fingerprint,
    ]);
    sock.sendRaw(raw('auth', { hostId: agent.hostId, nonce: randomToken(), signature, actingHostId: other.hostId }));
    await expectRefused(sock, 'invalid_message');
    expect((await hostOf(agent.hostId)).online).toBe(false);
    expect((await hostOf(other.hostId)).online).toBe(false);
  });

  test('an agent that disconnects while its answer is still being checked is not left online', async () => {
    const agent = await enroll();
    const sock = open();
    const { frame } = answer(await sock.next('challenge'), agent.hostId, agent.keys.privateKeyPem);
    // Hold the database so the server's look-up of the host is still pending when the agent goes away.
    const release = await holdDatabase();
    sock.sendRaw(frame);
    sock.close();
    await sock.closed;
    // A round trip on a fresh connection: by its answer the server has seen the agent's socket close.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await release();

    // Another agent's handshake queues behind the abandoned answer, so after it the server is done with it.
    await expectStillServes();
    expect(s.app.services.gateway.isOnline(agent.hostId)).toBe(false);
    expect((await hostOf(agent.hostId)).online).toBe(false);
  });

  test('a host revoked while its answer is still being checked is refused with the host_revoked close code', async () => {
    const agent = await enroll();
    const sock = open();
    const { frame } = answer(await sock.next('challenge'), agent.hostId, agent.keys.privateKeyPem);
    const release = await holdDatabase();
    sock.sendRaw(frame);
    // By the answer to a round trip on another connection, the server has read the agent's answer.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // What the hosts service does once a revocation is committed (the REST route would wait for the held database).
    s.app.services.gateway.disconnect(agent.hostId);
    await release();
    expect((await sock.closed).code).toBe(wsCloseCodeOf('host_revoked'));
    expect(sock.received.some((m) => m.type === 'auth.ok')).toBe(false);
    expect((await hostOf(agent.hostId)).online).toBe(false);
  });

  test('a second auth on an authenticated connection is refused as invalid_message', async () => {
    const { agent, sock } = await connectNew();
    sock.sendRaw(answer({ nonce: randomToken() }, agent.hostId, agent.keys.privateKeyPem).frame);
    await expectRefused(sock, 'invalid_message');
  });

  test('a revoked host is refused as host_revoked', async () => {
    const agent = await enroll();
    expect((await api('POST', `/api/v1/hosts/${agent.hostId}/revoke`)).status).toBe(200);
    const sock = open();
    const { frame } = answer(await sock.next('challenge'), agent.hostId, agent.keys.privateKeyPem);
    sock.sendRaw(frame);
    await expectRefused(sock, 'host_revoked');
    expect((await hostOf(agent.hostId)).online).toBe(false);
  });

  test('revoking a connected host closes its live socket with the host_revoked close code and marks it offline', async () => {
    const { agent, sock } = await connectNew();
    expect((await hostOf(agent.hostId)).online).toBe(true);
    expect((await api('POST', `/api/v1/hosts/${agent.hostId}/revoke`)).status).toBe(200);
    expect((await sock.closed).code).toBe(wsCloseCodeOf('host_revoked'));
    await vi.waitFor(async () => {
      expect((await hostOf(agent.hostId)).online).toBe(false);
      expect(s.app.services.gateway.isOnline(agent.hostId)).toBe(false);
    }, WAIT);
  });

  test('a deleted host is cut off, its key is refused on reconnect and cannot be enrolled again', async () => {
    const { agent, sock } = await connectNew();
    expect((await api('DELETE', `/api/v1/hosts/${agent.hostId}`)).status).toBe(204);
    expect((await sock.closed).code).toBe(wsCloseCodeOf('host_revoked'));

    const again = open();
    const { frame } = answer(await again.next('challenge'), agent.hostId, agent.keys.privateKeyPem);
    again.sendRaw(frame);
    await expectRefused(again, 'host_unknown');

    const token = joinToken;
    const nonce = randomToken();
    const signature = signFields(importPrivateKey(agent.keys.privateKeyPem), PURPOSE.enroll, [
      sha256Hex(parseJoinToken(token)?.secret ?? ''),
      nonce,
      agent.keys.publicKey,
    ]);
    const reenrol = await s.app.inject({
      method: 'POST',
      url: '/api/v1/agent/enroll',
      payload: { token, publicKey: agent.keys.publicKey, hostname: 'back-again', nonce, signature },
    });
    expect(reenrol.statusCode).toBe(409);
  });

  test('a host waiting for approval is refused with close code 4411 and let in once approved', async () => {
    const agent = await s.enrollAgent(await s.createJoinToken({ autoApprove: false }));
    const sock = open();
    const { frame } = answer(await sock.next('challenge'), agent.hostId, agent.keys.privateKeyPem);
    sock.sendRaw(frame);
    await expectRefused(sock, 'host_pending');
    expect(wsCloseCodeOf('host_pending')).toBe(4411);
    expect((await hostOf(agent.hostId)).online).toBe(false);

    expect((await api('POST', `/api/v1/hosts/${agent.hostId}/approve`)).status).toBe(200);
    await connect(agent);
  });

  test('a second connection for the same host supersedes the first and the host stays online', async () => {
    const { agent, sock: first } = await connectNew();
    const second = await connect(agent);
    expect((await first.closed).code).toBe(wsCloseCodeOf('superseded'));
    // The superseded socket's close must not mark the host offline: the newer one is live.
    expect((await hostOf(agent.hostId)).online).toBe(true);
    expect(second.ws.readyState).toBe(second.ws.OPEN);

    second.close();
    await vi.waitFor(async () => expect((await hostOf(agent.hostId)).online).toBe(false), WAIT);
    // Every opened session is closed exactly once in the connected-agents gauge, superseded ones included.
    await vi.waitFor(async () => expect(await metric('brier_agents_connected')).toBe(s.app.services.gateway.connectedCount()), WAIT);
  });
});

describe('malformed frames', () => {
  const notEnvelopes: Array<[string, string]> = [
    ['text that is not JSON', 'hello, server'],
    ['truncated JSON', '{"v":1,"type":"auth"'],
    ['a JSON array', '[{"v":1,"type":"auth","id":"m1","body":{}}]'],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['a JSON string', '"auth"'],
    ['an empty frame', ''],
    ['an envelope of protocol version 2', JSON.stringify({ v: 2, type: 'auth', id: 'm1', body: {} })],
    ['an envelope without an id', JSON.stringify({ v: 1, type: 'auth', body: {} })],
    ['an envelope with an id that is not a token', JSON.stringify({ v: 1, type: 'auth', id: 'a b/c', body: {} })],
    ['an envelope without a body', JSON.stringify({ v: 1, type: 'auth', id: 'm1' })],
    ['an envelope whose body is an array', JSON.stringify({ v: 1, type: 'auth', id: 'm1', body: [] })],
    ['an envelope with an extra field', JSON.stringify({ v: 1, type: 'auth', id: 'm1', body: {}, hostId: randomUUID() })],
    ['an auth body missing its fields', raw('auth', {})],
  ];

  test.each(notEnvelopes)('%s is refused as invalid_message with close code 4400', async (_name, frame) => {
    const sock = open();
    await sock.next('challenge');
    sock.sendRaw(frame);
    await expectRefused(sock, 'invalid_message');
    expect(wsCloseCodeOf('invalid_message')).toBe(4400);
    await expectStillServes();
  });

  test('a binary frame is refused as invalid_message even when it holds a valid envelope', async () => {
    const sock = open();
    const { frame } = answer(await sock.next('challenge'), witness.hostId, witness.keys.privateKeyPem);
    sock.sendRaw(Buffer.from(frame));
    await expectRefused(sock, 'invalid_message');
    await expectStillServes();
  });

  test.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'auth.ok', 'challenge', 'error'])(
    'message type %s is refused and closes with 4400',
    async (type) => {
      const sock = open();
      await sock.next('challenge');
      sock.sendRaw(raw(type, {}));
      const error = await sock.next('error');
      expect(['unknown_message_type', 'invalid_message']).toContain(error.code);
      expect((await sock.closed).code).toBe(4400);
      await expectStillServes();
    },
  );

  // Written as text: an object literal with __proto__ would set the prototype instead of a key.
  const pollutions: Array<[string, string]> = [
    ['a __proto__ key in the body', '{"v":1,"type":"auth","id":"m1","body":{"__proto__":{"polluted":true}}}'],
    ['a __proto__ key in the envelope', '{"__proto__":{"polluted":true},"v":1,"type":"auth","id":"m1","body":{}}'],
    ['a constructor.prototype key in the body', '{"v":1,"type":"auth","id":"m1","body":{"constructor":{"prototype":{"polluted":true}}}}'],
    [
      'a __proto__ key deep inside a package list',
      `{"v":1,"type":"inventory.full","id":"m1","body":{"snapshotId":"s1","part":0,"parts":1,"hash":"${'0'.repeat(64)}","packages":[{"ecosystem":"dpkg","name":"a","version":"1","arch":"","__proto__":{"polluted":true}}]}}`,
    ],
  ];

  test.each(pollutions)('%s is refused as invalid_message and Object.prototype stays clean', async (_name, frame) => {
    const sock = open();
    await sock.next('challenge');
    sock.sendRaw(frame);
    await expectRefused(sock, 'invalid_message');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
    await expectStillServes();
  });

  // The validation message names the offending key, so the key must break neither the error frame's
  // own schema (no control characters) nor the 123-byte limit on close reasons.
  test.each([
    ['control characters', '\u0001\u001b[31mred\u0000'],
    ['multi-byte characters', 'é'.repeat(200)],
  ])('an unexpected key made of %s gets a printable error and a valid close, not a crash', async (_name, key) => {
    const sock = open();
    await sock.next('challenge');
    sock.sendRaw(raw('auth', { hostId: randomUUID(), nonce: randomToken(), signature: randomToken(64), [key]: 1 }));
    const error = await expectRefused(sock, 'invalid_message');
    expect([...String(error.message)].filter((c) => c.charCodeAt(0) < 0x20)).toEqual([]);
    expect(Buffer.byteLength((await sock.closed).reason)).toBeLessThanOrEqual(123);
    await expectStillServes();
  });

  test('a frame over the 1 MiB limit closes the connection with 1009 and the server goes on serving others', async () => {
    const before = await metric('brier_agent_protocol_errors_total', '{code="payload_too_large"}');
    const sock = open();
    await sock.next('challenge');
    sock.sendRaw(raw('auth', { padding: 'x'.repeat(MAX_FRAME_BYTES) }));
    expect((await sock.closed).code).toBe(1009);
    expect(await metric('brier_agent_protocol_errors_total', '{code="payload_too_large"}')).toBe(before + 1);
    await expectStillServes();
  });

  test('a text frame that is not valid UTF-8 closes the connection with 1007 and is not counted as too large', async () => {
    const tooLarge = await metric('brier_agent_protocol_errors_total', '{code="payload_too_large"}');
    const invalid = await metric('brier_agent_protocol_errors_total', '{code="invalid_message"}');
    const sock = open();
    await sock.next('challenge');
    sock.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await sock.closed).code).toBe(1007);
    expect(await metric('brier_agent_protocol_errors_total', '{code="payload_too_large"}')).toBe(tooLarge);
    expect(await metric('brier_agent_protocol_errors_total', '{code="invalid_message"}')).toBe(invalid + 1);
    await expectStillServes();
  });

  test.each(['inventory.full', 'inventory.delta'] as const)('%s before authentication is refused as unauthenticated', async (type) => {
    const sock = open();
    await sock.next('challenge');
    const list = packages(2);
    sock.sendRaw(
      type === 'inventory.full'
        ? agentCodec.encode(type, { snapshotId: 's1', part: 0, parts: 1, hash: inventoryHash(list), packages: list })
        : agentCodec.encode(type, { baseHash: inventoryHash([]), hash: inventoryHash(list), upsert: list, remove: [] }),
    );
    await expectRefused(sock, 'unauthenticated');
    await expectStillServes();
  });

  test('frames already in flight behind a fatal error are not acted upon', async () => {
    const { agent, sock } = await connectNew();
    // Both frames leave in one burst, so the server has queued the snapshot before it refuses the first.
    sock.sendRaw('not json');
    for (const frame of snapshotFrames(packages(3))) sock.sendRaw(frame);
    await expectRefused(sock, 'invalid_message');
    await expectInventory(agent.hostId, null, 0);
    expect(sock.received.some((m) => m.type === 'inventory.ack')).toBe(false);
  });
});

describe('inventory', () => {
  test('a full snapshot sent in several parts is stored whole and acknowledged', async () => {
    const { agent, sock } = await connectNew();
    const list = packages(5_000);
    const ack = await storeSnapshot(sock, list);
    expect(ack).toEqual({ hash: inventoryHash(list), mode: 'full', added: 5_000, removed: 0, changed: 0 });

    const host = await hostOf(agent.hostId);
    expect(host.inventoryHash).toBe(inventoryHash(list));
    expect(host.packageCount).toBe(5_000);
    expect(host.os.distro).toBe('debian');
    const found = await softwareOf(agent.hostId, 'pkg4321');
    expect(found.items).toEqual([
      { ecosystem: 'dpkg', name: 'pkg4321', version: '1.0-1', arch: 'amd64', source: 'pkg4321', sourceVersion: '1.0-1' },
    ]);
    expect((await softwareOf(agent.hostId)).total).toBe(5_000);

    // The next handshake tells the agent which inventory the server holds, so it can send a delta.
    sock.close();
    const again = open();
    await again.authenticate(agent.hostId, agent.keys.privateKeyPem, s.identity.fingerprint);
    expect((await again.next('auth.ok')).inventoryHash).toBe(inventoryHash(list));
  });

  test('a snapshot whose hash does not match its packages is refused, nothing is written and the connection stays open', async () => {
    const { agent, sock } = await connectNew();
    const list = packages(3);
    const claimed = inventoryHash(packages(4));
    sock.sendRaw(agentCodec.encode('inventory.full', { snapshotId: 'bad', part: 0, parts: 1, hash: claimed, packages: list }, 'snap-bad'));
    const error = await sock.next('error');
    expect(error).toMatchObject({ code: 'inventory_hash_mismatch', ref: 'snap-bad' });
    await expectInventory(agent.hostId, null, 0);

    expect((await storeSnapshot(sock, list)).hash).toBe(inventoryHash(list));
    await expectInventory(agent.hostId, inventoryHash(list), 3);
  });

  test.each([
    ['name', pkg('evil\u0000name')],
    ['version', pkg('evil', '1.0\u0000-1')],
  ])('a NUL byte in a package %s is refused as invalid_message and nothing is written', async (_field, bad) => {
    const { agent, sock } = await connectNew();
    const list = [...packages(2), bad];
    sock.sendRaw(raw('inventory.full', { snapshotId: 'nul', part: 0, parts: 1, hash: inventoryHash(list), packages: list }));
    await expectRefused(sock, 'invalid_message');
    await expectInventory(agent.hostId, null, 0);
  });

  test('a NUL byte in a delta is refused as invalid_message and the stored inventory is unchanged', async () => {
    const { agent, sock } = await connectNew();
    const base = packages(2);
    await storeSnapshot(sock, base);
    const upsert = [pkg('nul\u0000pkg')];
    sock.sendRaw(raw('inventory.delta', { baseHash: inventoryHash(base), hash: inventoryHash([...base, ...upsert]), upsert, remove: [] }));
    await expectRefused(sock, 'invalid_message');
    await expectInventory(agent.hostId, inventoryHash(base), 2);
  });

  test('one part holding 100,000 packages is over the frame limit and is refused with 1009; nothing is written', async () => {
    const { agent, sock } = await connectNew();
    const list = packages(100_000);
    sock.sendRaw(raw('inventory.full', { snapshotId: 'huge', part: 0, parts: 1, hash: inventoryHash(list), packages: list }));
    expect((await sock.closed).code).toBe(1009);
    await expectInventory(agent.hostId, null, 0);
    await expectStillServes();
  });

  test('one part with more packages than a part may hold is refused as invalid_message even under the frame limit', async () => {
    const { agent, sock } = await connectNew();
    const list = packages(PACKAGES_PER_PART + 1);
    const frame = raw('inventory.full', { snapshotId: 'wide', part: 0, parts: 1, hash: inventoryHash(list), packages: list });
    expect(Buffer.byteLength(frame)).toBeLessThan(MAX_FRAME_BYTES);
    sock.sendRaw(frame);
    await expectRefused(sock, 'invalid_message');
    await expectInventory(agent.hostId, null, 0);
  });

  test('a snapshot of 51 parts of 2,000 packages is refused as inventory_too_large, every later part too, and nothing is written', async () => {
    const { agent, sock } = await connectNew();
    const parts = 51;
    const list = packages(parts * PACKAGES_PER_PART);
    const hash = inventoryHash(list);
    for (let part = 0; part < parts; part++) {
      const chunk = list.slice(part * PACKAGES_PER_PART, (part + 1) * PACKAGES_PER_PART);
      sock.sendRaw(agentCodec.encode('inventory.full', { snapshotId: 'big', part, parts, hash, packages: chunk }, `part-${part}`));
    }
    const codes: unknown[] = [];
    for (;;) {
      const error = await sock.next('error');
      codes.push(error.code);
      if (error.ref === `part-${parts - 1}`) break;
    }
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(['inventory_too_large']));
    expect(sock.received.some((m) => m.type === 'inventory.ack')).toBe(false);
    await expectInventory(agent.hostId, null, 0);

    // Not fatal: the agent may still report a snapshot within the limit on the same connection.
    const small = packages(10, 'small');
    expect((await storeSnapshot(sock, small)).added).toBe(10);
  });

  test('a delta against a stale base hash is refused as inventory_hash_mismatch and changes nothing', async () => {
    const { agent, sock } = await connectNew();
    const base = packages(3);
    await storeSnapshot(sock, base);
    const upsert = [pkg('newcomer')];
    const stale = inventoryHash(packages(2));
    sock.sendRaw(
      agentCodec.encode('inventory.delta', { baseHash: stale, hash: inventoryHash([...base, ...upsert]), upsert, remove: [] }, 'd1'),
    );
    expect(await sock.next('error')).toMatchObject({ code: 'inventory_hash_mismatch', ref: 'd1' });
    expect(sock.ws.readyState).toBe(sock.ws.OPEN);
    await expectInventory(agent.hostId, inventoryHash(base), 3);
  });

  test('a delta whose result does not hash to its claimed hash is refused and rolled back', async () => {
    const { agent, sock } = await connectNew();
    const base = packages(3);
    await storeSnapshot(sock, base);
    const upsert = [pkg('newcomer')];
    sock.sendRaw(
      agentCodec.encode('inventory.delta', { baseHash: inventoryHash(base), hash: inventoryHash(base), upsert, remove: [] }, 'd2'),
    );
    expect(await sock.next('error')).toMatchObject({ code: 'inventory_hash_mismatch', ref: 'd2' });
    await expectInventory(agent.hostId, inventoryHash(base), 3);
    expect((await softwareOf(agent.hostId, 'newcomer')).total).toBe(0);
  });

  test('a valid delta is applied and acknowledged with added, removed and changed counts', async () => {
    const { agent, sock } = await connectNew();
    const [a, b, c] = [pkg('alpha'), pkg('bravo'), pkg('charlie')];
    await storeSnapshot(sock, [a, b, c]);
    const bravo2 = pkg('bravo', '2.0-1');
    const delta = pkg('delta');
    const after = [a, bravo2, delta];
    sock.sendRaw(
      agentCodec.encode(
        'inventory.delta',
        {
          baseHash: inventoryHash([a, b, c]),
          hash: inventoryHash(after),
          upsert: [bravo2, delta],
          remove: [{ ecosystem: 'dpkg', name: 'charlie', arch: 'amd64' }],
        },
        'd3',
      ),
    );
    expect(await sock.next('inventory.ack')).toEqual({ hash: inventoryHash(after), mode: 'delta', added: 1, removed: 1, changed: 1 });
    await expectInventory(agent.hostId, inventoryHash(after), 3);
    const rows = (await softwareOf(agent.hostId)).items.map((p) => `${p.name}=${p.version}`);
    expect(rows).toEqual(['alpha=1.0-1', 'bravo=2.0-1', 'delta=1.0-1']);
  });

  test.each(['inventory.delta', 'inventory.full'] as const)(
    'an %s body naming another host is refused as invalid_message and that host keeps its inventory',
    async (type) => {
      const victim = await connectNew('victim');
      const victimList = packages(3, 'victim');
      await storeSnapshot(victim.sock, victimList);
      const { agent, sock } = await connectNew('intruder');

      const planted = [...victimList, pkg('backdoor')];
      const body =
        type === 'inventory.delta'
          ? { baseHash: inventoryHash(victimList), hash: inventoryHash(planted), upsert: [pkg('backdoor')], remove: [] }
          : { snapshotId: 'x', part: 0, parts: 1, hash: inventoryHash(planted), packages: planted };
      sock.sendRaw(raw(type, { ...body, hostId: victim.agent.hostId }));
      await expectRefused(sock, 'invalid_message');

      await expectInventory(victim.agent.hostId, inventoryHash(victimList), 3);
      await expectInventory(agent.hostId, null, 0);
    },
  );
});

describe('pending updates', () => {
  const update = (name: string) => ({
    ecosystem: 'dpkg',
    manager: 'apt',
    kind: 'package',
    name,
    arch: 'amd64',
    installedVersion: '1.0-1',
    candidateVersion: '1.0-2',
    suite: 'bookworm-security',
    security: true,
  });
  const report = (updates: unknown[]) => ({ updates, sources: ['apt'], collectedAt: '2026-11-27T10:00:00Z', truncated: false });

  test('a report is stored for the sending host and acknowledged with its count', async () => {
    const { agent, sock } = await connectNew();
    sock.sendRaw(raw('updates.report', report([update('openssl'), update('libssl3')]), 'up1'));
    expect(await sock.next('updates.ack')).toEqual({ count: 2 });
    const res = await api<{ items: Array<{ name: string }> }>('GET', `/api/v1/hosts/${agent.hostId}/updates`);
    expect(res.body.items.map((u) => u.name)).toEqual(['libssl3', 'openssl']);
  });

  test.each([
    ['a NUL byte in a name', report([update('evil\u0000')])],
    ['a host id in the body', { ...report([update('x')]), hostId: '00000000-0000-4000-8000-000000000000' }],
    ['an unknown manager', report([{ ...update('x'), manager: 'pip' }])],
    ['more updates than one report may hold', report(Array.from({ length: 3_001 }, (_, i) => update(`p${i}`)))],
  ])('%s is refused as invalid_message and nothing is written', async (_what, body) => {
    const { agent, sock } = await connectNew();
    sock.sendRaw(raw('updates.report', body));
    await expectRefused(sock, 'invalid_message');
    const res = await api<{ items: unknown[]; updatesAt: string | null }>('GET', `/api/v1/hosts/${agent.hostId}/updates`);
    expect(res.body).toEqual({ items: [], updatesAt: null });
  });
});
