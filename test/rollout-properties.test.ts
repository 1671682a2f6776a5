import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type AgentMessageBodies,
  canonicalJson,
  certifyWorkKey,
  generateKeyPair,
  importPrivateKey,
  type ServerMessageBodies,
  type SignedAssignment,
} from '@brier/protocol';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionResult, PackageExecutor } from '../packages/agent/src/executors/package-executor.js';
import { LEDGER_FILE, Ledger } from '../packages/agent/src/state/ledger.js';
import { WorkRunner } from '../packages/agent/src/work-runner.js';
import { identityFromPem, type ServerIdentity } from '../packages/server/src/auth/server-identity.js';
import { createDeploymentsService, type WorkSigner } from '../packages/server/src/rollouts/deployments-service.js';
import { type Database, openDatabase } from '../packages/server/src/store/db.js';
import { createStores, type Stores } from '../packages/server/src/store/index.js';

/**
 * Random interleavings of lost, duplicated and reordered messages, disconnects, agent crashes,
 * engine ticks and clock steps, driven against the real deployments service (on PGlite) and the
 * real agent side: each simulated host has a real `Ledger` in a temporary directory and a real
 * `WorkRunner`. Only the transport is fake: an in-memory list of messages in flight, in both
 * directions, that the property delivers, drops, duplicates or delivers out of order. The package
 * executor is a counting fake whose runs stay in flight until a `finish` command (so a crash can
 * land in the middle of a run).
 *
 * Transport model: a message is dropped only by the channel, and a real WebSocket loses messages only
 * when the connection breaks; the agent learns of that by reconnecting. So the liveness phase at the
 * end reconnects every agent once (sync) before delivering everything reliably.
 */

const START = new Date('2026-11-27T10:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BAKE_MINUTES = 30;

type Status = AgentMessageBodies['assignment.status'];
type UpMessage =
  | { dir: 'up'; hostId: string; type: 'assignment.status'; body: Status }
  | { dir: 'up'; hostId: string; type: 'assignment.sync'; body: { highestSequence: number } };
type DownMessage = { dir: 'down'; hostId: string; epoch: number; signed: SignedAssignment };
type Message = UpMessage | DownMessage;

type Command =
  | { kind: 'deliver' | 'drop' | 'duplicate'; index: number }
  | { kind: 'disconnect' | 'reconnect' | 'crash' | 'finish'; agent: number }
  | { kind: 'tick' }
  | { kind: 'advance'; minutes: number };

interface Execution {
  hostId: string;
  assignmentId: string;
  at: number;
  /** 'pending' while in flight; 'interrupted' when the agent crashed during it. */
  outcome: 'pending' | 'succeeded' | 'failed' | 'interrupted';
}

let database: Database;
let stores: Stores;
let identity: ServerIdentity;
let signer: WorkSigner;
let root: string;

beforeAll(async () => {
  database = await openDatabase({});
  stores = createStores(database.db);
  identity = identityFromPem(generateKeyPair().privateKeyPem);
  const work = generateKeyPair();
  signer = {
    privateKey: importPrivateKey(work.privateKeyPem),
    certificate: certifyWorkKey(
      identity.privateKey,
      work.publicKey,
      new Date(START.getTime() - HOUR),
      new Date(START.getTime() + 365 * 24 * HOUR),
    ),
  };
  root = await mkdtemp(path.join(tmpdir(), 'brier-rollout-prop-'));
});
afterAll(async () => {
  await database?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const settle = async () => {
  for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
};

interface Scenario {
  hosts: number;
  succeeds: boolean[];
  threshold: number;
  deadlineHours: number | undefined;
  startOffline: boolean[];
  commands: Command[];
}

/** One run: fresh hosts, a fresh deployment, fresh agents; the database is shared by all runs. */
async function runScenario(s: Scenario) {
  const clock = { now: START.getTime() };
  const now = () => new Date(clock.now);
  const inFlight: Message[] = [];
  const executions: Execution[] = [];
  /** Every document the server ever offered, per assignment id, as JSON. */
  const documents = new Map<string, Set<string>>();
  const expiry = new Map<string, number>();
  const violations: string[] = [];

  const hostIds: string[] = [];
  for (let i = 0; i < s.hosts; i++) {
    const h = await stores.hosts.create({
      hostname: `prop-${i}`,
      publicKey: `pk-${randomUUID()}`,
      status: 'approved',
      enrollmentTokenId: null,
      at: START,
    });
    hostIds.push(h.id);
  }
  const dir = await mkdtemp(path.join(root, 'run-'));

  interface Agent {
    index: number;
    hostId: string;
    online: boolean;
    /** Connection number: offers queued for an earlier connection are never delivered to a later one. */
    epoch: number;
    incarnation: number;
    ledger: Ledger;
    runner: WorkRunner;
    finishRun: (() => void) | undefined;
    current: Execution | undefined;
  }

  const agents: Agent[] = [];

  function boot(agent: Omit<Agent, 'ledger' | 'runner'> & Partial<Pick<Agent, 'ledger' | 'runner'>>): Agent {
    const incarnation = agent.incarnation;
    const ledger = Ledger.open(path.join(dir, agent.hostId, LEDGER_FILE), { now });
    const a = agent as Agent;
    const executor: PackageExecutor = {
      ecosystem: 'dpkg',
      upgrade(packages) {
        // The run is the one startRun just moved to 'running' (the most recently updated such entry).
        const running = ledger.list().filter((e) => e.state === 'running');
        const assignmentId = running[running.length - 1]?.assignmentId ?? 'unknown';
        const exec: Execution = { hostId: a.hostId, assignmentId, at: clock.now, outcome: 'pending' };
        const previous = executions.filter((e) => e.hostId === a.hostId && e.assignmentId === assignmentId).length;
        if (previous > 0) violations.push(`assignment ${assignmentId} executed ${previous + 1} times on host ${a.index}`);
        const expires = expiry.get(assignmentId);
        if (expires === undefined || clock.now >= expires)
          violations.push(`assignment ${assignmentId} executed at ${new Date(clock.now).toISOString()}, at or after its expiry`);
        executions.push(exec);
        a.current = exec;
        const ok = s.succeeds[a.index] ?? true;
        return new Promise<ExecutionResult>((resolve) => {
          a.finishRun = () => {
            exec.outcome = ok ? 'succeeded' : 'failed';
            a.finishRun = undefined;
            a.current = undefined;
            resolve(
              ok
                ? {
                    status: 'succeeded',
                    installed: packages.map((p) => ({ name: p.name, version: p.version ?? '9.9' })),
                    rebootRequired: false,
                    output: 'ok\n',
                  }
                : {
                    status: 'failed',
                    installed: [],
                    rebootRequired: false,
                    output: 'E: broken\n',
                    code: 'command-failed',
                    reason: 'scripted failure',
                  },
            );
          };
        });
      },
    };
    const runner = new WorkRunner({
      identity: { hostId: a.hostId, serverPublicKey: identity.publicKey },
      ledger,
      link: {
        send: (type, body) => {
          // A crashed incarnation says nothing more; a disconnected one cannot send (the runner resends on connect).
          if (a.incarnation !== incarnation || !a.online) throw new Error('not connected');
          inFlight.push({ dir: 'up', hostId: a.hostId, type, body } as UpMessage);
          return true;
        },
      },
      executors: { dpkg: executor },
      logger: pino({ level: 'silent' }),
      now,
      sleep: async () => {},
      defer: () => () => {},
    });
    a.ledger = ledger;
    a.runner = runner;
    return a;
  }

  for (let i = 0; i < s.hosts; i++) {
    const a = boot({
      index: i,
      hostId: hostIds[i] as string,
      online: false,
      epoch: 0,
      incarnation: 0,
      finishRun: undefined,
      current: undefined,
    });
    agents.push(a);
  }

  const service = createDeploymentsService({
    store: stores.deployments,
    audit: stores.audit,
    signing: () => signer,
    offer: (hostId, signed) => {
      const a = agents.find((x) => x.hostId === hostId);
      if (!a?.online) return false;
      inFlight.push({ dir: 'down', hostId, epoch: a.epoch, signed });
      return true;
    },
    now,
    config: { approvalHostThreshold: 50, assignmentTtlHours: 72 },
  });

  function recordDocument(signed: SignedAssignment) {
    const id = signed.assignment.assignmentId;
    const set = documents.get(id) ?? new Set<string>();
    // Compared canonically: the store keeps the document as jsonb, which does not keep key order.
    set.add(canonicalJson(signed));
    documents.set(id, set);
    expiry.set(id, Date.parse(signed.assignment.expiresAt));
    if (set.size > 1) violations.push(`assignment ${id} was offered as ${set.size} different documents`);
  }

  async function connect(a: Agent) {
    if (a.online) return;
    a.online = true;
    a.epoch += 1;
    a.runner.connected();
    await settle();
  }

  async function process(m: Message) {
    if (m.dir === 'down') {
      const a = agents.find((x) => x.hostId === m.hostId);
      // The connection it was sent on is gone: lost with it.
      if (!a?.online || a.epoch !== m.epoch) return;
      recordDocument(m.signed);
      a.runner.onMessage('assignment.offer', { signed: m.signed } as ServerMessageBodies['assignment.offer']);
    } else if (m.type === 'assignment.sync') {
      const a = agents.find((x) => x.hostId === m.hostId);
      const resend = await service.onAgentConnected(m.hostId, m.body.highestSequence);
      // The gateway answers a sync on the same connection.
      if (a?.online) for (const signed of resend) inFlight.push({ dir: 'down', hostId: m.hostId, epoch: a.epoch, signed });
    } else {
      await service.onAssignmentStatus(m.hostId, m.body);
    }
    await settle();
  }

  async function apply(c: Command) {
    switch (c.kind) {
      case 'deliver':
      case 'drop':
      case 'duplicate': {
        if (inFlight.length === 0) return;
        const i = c.index % inFlight.length;
        const m = inFlight[i] as Message;
        if (c.kind === 'duplicate') {
          inFlight.push(m);
          return;
        }
        inFlight.splice(i, 1);
        if (c.kind === 'deliver') await process(m);
        return;
      }
      case 'disconnect': {
        const a = agents[c.agent % agents.length] as Agent;
        a.online = false;
        return;
      }
      case 'reconnect':
        await connect(agents[c.agent % agents.length] as Agent);
        return;
      case 'finish': {
        const a = agents[c.agent % agents.length] as Agent;
        a.finishRun?.();
        await settle();
        return;
      }
      case 'crash': {
        const old = agents[c.agent % agents.length] as Agent;
        old.runner.stop();
        old.ledger.close();
        if (old.current) old.current.outcome = 'interrupted';
        // The old run never returns (the process is gone); a new process opens the same ledger file.
        const next = boot({ ...old, online: false, incarnation: old.incarnation + 1, finishRun: undefined, current: undefined });
        agents[old.index] = next;
        return;
      }
      case 'tick':
        await service.tick();
        await settle();
        return;
      case 'advance':
        clock.now += c.minutes * MINUTE;
        return;
    }
  }

  const author = { id: randomUUID(), username: `prop-${randomUUID().slice(0, 8)}`, role: 'operator' as const };
  for (const a of agents) if (!s.startOffline[a.index]) await connect(a);
  const created = await service.create(author, {
    name: 'property',
    packages: [{ name: 'openssl', version: '3.0.2-1' }],
    targets: { hostIds },
    waves: [
      { name: 'first', percent: 50, bakeMinutes: BAKE_MINUTES, successThreshold: s.threshold },
      { name: 'rest', percent: 100, bakeMinutes: BAKE_MINUTES, successThreshold: s.threshold },
    ],
    ...(s.deadlineHours !== undefined ? { deadlineHours: s.deadlineHours } : {}),
  });

  for (const c of s.commands) {
    await apply(c);
    if (violations.length > 0) break;
  }

  // Liveness: from here every message is delivered, in order; every agent reconnects once (learning
  // that its connection may have lost messages), runs finish, and the clock passes the bake times.
  for (const a of agents) a.online = false;
  for (let round = 0; round < 40 && violations.length === 0; round++) {
    for (const a of agents) await connect(a);
    for (let guard = 0; guard < 500; guard++) {
      const m = inFlight.shift();
      if (!m) {
        const busy = agents.find((a) => a.finishRun);
        if (!busy) break;
        busy.finishRun?.();
        await settle();
        continue;
      }
      await process(m);
    }
    await service.tick();
    await settle();
    const d = await service.get(created.id);
    if ((d.state === 'completed' || d.state === 'halted') && inFlight.length === 0 && !agents.some((a) => a.finishRun)) break;
    clock.now += (BAKE_MINUTES + 1) * MINUTE;
  }
  for (const a of agents) {
    a.runner.stop();
    a.ledger.close();
  }
  return { service, id: created.id, executions, violations, agents, documents };
}

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), index: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('drop' as const, 'duplicate' as const), index: fc.nat(20) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constantFrom('disconnect' as const, 'reconnect' as const, 'finish' as const), agent: fc.nat(3) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), agent: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'tick' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 45 }) }) },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 4 }).chain((hosts) =>
  fc.record({
    hosts: fc.constant(hosts),
    succeeds: fc.array(fc.boolean(), { minLength: hosts, maxLength: hosts }).map((xs) => xs.map((x, i) => x || i % 2 === 0)),
    threshold: fc.constantFrom(0.5, 1),
    deadlineHours: fc.constantFrom(undefined, undefined, 1, 2),
    startOffline: fc.array(fc.boolean(), { minLength: hosts, maxLength: hosts }),
    commands: fc.array(commandArb, { minLength: 5, maxLength: 40 }),
  }),
);

const dbg = (d: { waves: unknown[]; hosts: unknown[]; stateReason: string }) => ({ waves: d.waves, hosts: d.hosts, r: d.stateReason });
const TERMINAL = ['succeeded', 'failed', 'expired'];
const HALTED_OK = [...TERMINAL, 'pending', 'unreached', 'offered', 'deferred'];

describe('rollout properties: lossy, reordering channels, crashes and ticks', () => {
  it('never runs an assignment twice or after its expiry, and loses nothing', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const { service, id, executions, violations } = await runScenario(s);
        expect(violations).toEqual([]);
        // No duplicate execution per (host, assignment), across crashes.
        const keys = executions.map((e) => `${e.hostId}/${e.assignmentId}`);
        expect(new Set(keys).size).toBe(keys.length);

        const d = await service.get(id);
        expect(['completed', 'halted']).toContain(d.state);
        expect(d.stateReason.length).toBeGreaterThan(0);
        const started = new Set(d.waves.filter((w) => w.startedAt !== null).map((w) => w.index));
        for (const h of d.hosts) {
          // Every host whose wave started ends terminal, with a reason. A halt stops delivery on
          // purpose, so in a halted deployment a host may also be left queued (never given the
          // work) or holding an offer it never received; it must still never be left running.
          if (started.has(h.wave)) {
            expect(d.state === 'halted' ? HALTED_OK : TERMINAL, `host state ${h.state} (${h.reason})`).toContain(h.state);
            expect(h.reason.length).toBeGreaterThan(0);
          }
          const ran = executions.filter((e) => e.hostId === h.hostId);
          // The server never claims a run that did not happen.
          if (h.state === 'succeeded') expect(ran.map((e) => e.outcome)).toEqual(['succeeded']);
        }
        if (d.state === 'completed') for (const h of d.hosts) expect(TERMINAL).toContain(h.state);
      }),
      {
        numRuns: Number(process.env.BRIER_FC_RUNS ?? 20),
        endOnFailure: true,
        ...(process.env.BRIER_FC_SEED ? { seed: Number(process.env.BRIER_FC_SEED), path: process.env.BRIER_FC_PATH } : {}),
      },
    );
  });

  // Regression: an agent that starts a run before the deadline, whose 'running' report is lost or
  // late, used to be swept to 'expired' by the server and its later 'succeeded' ignored, so the report
  // said "expired, never run" for a host that was changed. The example below reproduces that race.
  it('reports how every finished run ended (a run finished on the host is never recorded as expired)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const { service, id, executions, violations } = await runScenario(s);
        expect(violations).toEqual([]);
        const d = await service.get(id);
        for (const h of d.hosts) {
          const ran = executions.filter((e) => e.hostId === h.hostId);
          if (ran.length === 0) continue;
          const outcome = (ran[0] as Execution).outcome;
          const expected = outcome === 'succeeded' ? 'succeeded' : 'failed';
          expect(
            h.state,
            `host ran with outcome ${outcome}; server says ${h.state}: ${h.reason}; ${d.state} ${JSON.stringify(executions)} ${JSON.stringify(dbg(d))}`,
          ).toBe(expected);
        }
      }),
      {
        numRuns: 20,
        endOnFailure: true,
        examples: [
          [
            {
              hosts: 2,
              succeeds: [true, true],
              threshold: 1,
              deadlineHours: 1,
              startOffline: [false, false],
              commands: [
                { kind: 'deliver', index: 0 },
                { kind: 'deliver', index: 0 },
                { kind: 'tick' },
                { kind: 'deliver', index: 0 },
                { kind: 'drop', index: 0 },
                { kind: 'drop', index: 0 },
                { kind: 'advance', minutes: 61 },
                { kind: 'tick' },
                { kind: 'finish', agent: 0 },
                { kind: 'finish', agent: 1 },
              ],
            },
          ],
        ],
      },
    );
  });
});
