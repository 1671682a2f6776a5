import {
  canonicalJson,
  generateKeyPair,
  importPrivateKey,
  PURPOSE,
  parseJoinToken,
  randomToken,
  type SignedAssignment,
  sha256Hex,
  signFields,
} from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../packages/server/src/app.js';
import { parseConfig } from '../packages/server/src/config.js';
import { type Database, openDatabase } from '../packages/server/src/store/db.js';
import { testKeys } from '../packages/server/src/testing/test-keys.js';
import { ADMIN_PASSWORD, RawAgentSocket } from '../packages/server/src/testing/test-server.js';
import { databases, eventually, tempDir } from './support/system.js';

/**
 * Killing the server mid-rollout and restarting it on the same database resumes the rollout
 * without running anything twice. The server identity and work key are fixed across both servers
 * (agents pin the identity). Agents are simulated over the real socket: each keeps a set of the
 * assignment ids it has taken (its "ledger"), counts executions per (assignment id, nonce), and
 * answers offers with assignment.status. PGlite uses a data directory so the database outlives
 * the first server; PostgreSQL uses a database of the test run.
 */

interface SimAgent {
  hostId: string;
  privateKeyPem: string;
  socket?: RawAgentSocket;
  /** 'finish' answers received/running/succeeded; 'hold' stops after running (work in flight). */
  mode: 'finish' | 'hold';
  taken: Map<string, 'running' | 'succeeded'>;
  offers: Array<{ raw: string; signed: SignedAssignment }>;
}

describe.each(databases())('restarting the server mid-rollout on $name', (db) => {
  let url: string | undefined;
  let dir: { dir: string; cleanup: () => Promise<void> };
  const keys = testKeys();
  const executions = new Map<string, number>();
  const sockets: RawAgentSocket[] = [];
  let current: Awaited<ReturnType<typeof start>> | undefined;

  async function start() {
    const database: Database = await openDatabase(url ? { databaseUrl: url } : { dataDir: dir.dir });
    const config = Object.freeze({ ...parseConfig({}) });
    const app = await buildServer({ config, database, identity: keys.identity, workKey: keys.workKey });
    await app.services.auth.ensureAdmin(ADMIN_PASSWORD);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
    const token = res.json<{ token: string }>().token;
    return {
      app,
      database,
      token,
      baseUrl: `http://127.0.0.1:${address.port}`,
      async close() {
        await app.close();
        await database.close();
      },
    };
  }

  function send(agent: SimAgent, type: string, body: Record<string, unknown>) {
    const s = agent.socket as RawAgentSocket;
    s.ws.send(s.codec.encode(type as never, body as never));
  }

  function onOffer(agent: SimAgent, signed: SignedAssignment, raw: string) {
    agent.offers.push({ raw, signed });
    const id = signed.assignment.assignmentId;
    const seen = agent.taken.get(id);
    if (seen !== undefined) {
      // Already taken: never again; report where it stands (a held run finishes now).
      if (seen === 'running' && agent.mode === 'hold') return;
      send(agent, 'assignment.status', finished(signed));
      return;
    }
    const key = `${agent.hostId}/${id}/${signed.assignment.nonce}`;
    executions.set(key, (executions.get(key) ?? 0) + 1);
    agent.taken.set(id, 'running');
    send(agent, 'assignment.status', { assignmentId: id, state: 'received' });
    send(agent, 'assignment.status', { assignmentId: id, state: 'running' });
    if (agent.mode === 'finish') {
      agent.taken.set(id, 'succeeded');
      send(agent, 'assignment.status', finished(signed));
    }
  }

  function finished(signed: SignedAssignment) {
    return {
      assignmentId: signed.assignment.assignmentId,
      state: 'succeeded',
      installed: signed.payload.packages.map((p) => ({ name: p.name, version: p.version ?? '1' })),
      rebootRequired: false,
    };
  }

  async function connect(agent: SimAgent, baseUrl: string) {
    const socket = new RawAgentSocket(baseUrl);
    agent.socket = socket;
    sockets.push(socket);
    socket.ws.on('message', (data) => {
      const text = String(data);
      const m = JSON.parse(text) as { type: string; body: { signed?: SignedAssignment } };
      if (m.type === 'assignment.offer' && m.body.signed) onOffer(agent, m.body.signed, JSON.stringify(m.body.signed));
    });
    await socket.opened();
    await socket.authenticate(agent.hostId, agent.privateKeyPem, keys.identity.fingerprint);
    await socket.next('auth.ok');
    send(agent, 'assignment.sync', { highestSequence: 0 });
  }

  beforeAll(async () => {
    url = await db.open();
    dir = await tempDir('brier-restart-');
  });
  afterAll(async () => {
    for (const c of sockets) c.close();
    await current?.close();
    await db.drop(url);
    await dir?.cleanup();
  });

  it('resumes without running anything twice, re-sending the same signed documents', async () => {
    current = await start();
    let server = current;
    const api = (s: typeof server, method: 'GET' | 'POST', path: string, payload?: unknown) =>
      s.app.inject({ method, url: path, headers: { authorization: `Bearer ${s.token}` }, ...(payload ? { payload } : {}) });

    const tokenRes = await api(server, 'POST', '/api/v1/enrollment-tokens', { autoApprove: true });
    const joinToken = tokenRes.json<{ token: string }>().token;
    const agents: SimAgent[] = [];
    for (let i = 0; i < 3; i++) {
      const k = generateKeyPair();
      const nonce = randomToken();
      const secret = parseJoinToken(joinToken)?.secret ?? '';
      const signature = signFields(importPrivateKey(k.privateKeyPem), PURPOSE.enroll, [sha256Hex(secret), nonce, k.publicKey]);
      const res = await server.app.inject({
        method: 'POST',
        url: '/api/v1/agent/enroll',
        payload: { token: joinToken, publicKey: k.publicKey, hostname: `restart-${i}`, nonce, signature },
      });
      expect(res.statusCode, res.body).toBe(201);
      agents.push({
        hostId: res.json<{ hostId: string }>().hostId,
        privateKeyPem: k.privateKeyPem,
        mode: 'finish',
        taken: new Map(),
        offers: [],
      });
    }
    for (const a of agents) await connect(a, server.baseUrl);

    const created = await api(server, 'POST', '/api/v1/deployments', {
      name: 'restart',
      packages: [{ name: 'openssl', version: '3.0.2-1' }],
      targets: { hostIds: agents.map((a) => a.hostId) },
      waves: [
        { name: 'first', percent: 67, bakeMinutes: 0, successThreshold: 1 },
        { name: 'rest', percent: 100, bakeMinutes: 0, successThreshold: 1 },
      ],
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;
    type View = { state: string; hosts: Array<{ hostId: string; wave: number; state: string }> };
    const view = async (s: typeof server) => (await api(s, 'GET', `/api/v1/deployments/${id}`)).json<View>();

    // The first host offered work finishes it; every later one holds (its run is in flight).
    for (const a of agents) a.mode = 'hold';
    let finishedOne = false;
    for (const a of agents)
      a.socket?.ws.prependListener('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string };
        if (m.type === 'assignment.offer' && !finishedOne) {
          finishedOne = true;
          a.mode = 'finish';
        }
      });
    await server.app.services.deployments.tick();
    await eventually(
      async () => {
        const v = await view(server);
        const w1 = v.hosts.filter((h) => h.wave === 0);
        return w1.filter((h) => h.state === 'succeeded').length === 1 && w1.filter((h) => h.state === 'running').length >= 1
          ? w1
          : undefined;
      },
      10_000,
      'one wave-1 host to succeed and another to be running',
    );
    const firstDocs = new Map<string, SignedAssignment>();
    for (const a of agents)
      for (const o of a.offers)
        if (!firstDocs.has(o.signed.assignment.assignmentId)) firstDocs.set(o.signed.assignment.assignmentId, o.signed);

    // Kill the server while the held run is in flight.
    for (const a of agents) a.socket?.close();
    await server.close();
    current = undefined;

    current = await start();
    server = current;
    for (const a of agents) a.mode = 'finish';
    for (const a of agents) await connect(a, server.baseUrl);
    const done = await eventually(
      async () => {
        await server.app.services.deployments.tick();
        const v = await view(server);
        return v.state === 'completed' ? v : undefined;
      },
      20_000,
      'the deployment to complete after the restart',
    );
    expect(done.hosts.map((h) => h.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // Each host ran its one assignment exactly once, keyed by assignment id and nonce.
    expect([...executions.values()]).toEqual([1, 1, 1]);
    expect(new Set([...executions.keys()].map((k) => k.split('/')[0])).size).toBe(3);
    // Every re-sent document is the one first sent: same nonce, same signature, same signed content.
    let resent = 0;
    for (const a of agents)
      for (const o of a.offers) {
        const firstDoc = firstDocs.get(o.signed.assignment.assignmentId);
        if (!firstDoc || firstDoc === o.signed) continue;
        resent += 1;
        expect(o.signed.assignment.nonce).toBe(firstDoc.assignment.nonce);
        expect(o.signed.signature).toBe(firstDoc.signature);
        expect(canonicalJson(o.signed)).toBe(canonicalJson(firstDoc));
      }
    expect(resent).toBeGreaterThan(0);
  });
});
