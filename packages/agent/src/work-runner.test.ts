import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AgentMessageBodies,
  AgentMessages,
  type AgentMessageType,
  type AssignmentPayload,
  Codec,
  certifyWorkKey,
  generateKeyPair,
  importPrivateKey,
  ServerMessages,
  type SignedAssignment,
  signAssignment,
} from '@brier/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aptAvailable, createAptSandbox } from '../../../test/support/apt-sandbox.js';
import { AptExecutor } from './executors/apt.linux.js';
import type { ExecutionResult, PackageExecutor, PackageRequest, UpgradeOptions } from './executors/package-executor.js';
import { DisabledRebooter, RecordingRebooter } from './reboot/rebooter.js';
import { runCommand } from './run-command.js';
import { LEDGER_FILE, Ledger } from './state/ledger.js';
import { DEFAULT_REBOOT_DELAY_SECONDS, REBOOT_HOLD_GRACE_MS, WorkRunner } from './work-runner.js';

type Sent = { [K in AgentMessageType]: { type: K; body: AgentMessageBodies[K] } }[AgentMessageType];
type Status = AgentMessageBodies['assignment.status'];

/** Stands in for the ServerLink: every frame goes through the real codec, so a body that breaks the schema fails the test. */
class FakeLink {
  private readonly codec = new Codec(ServerMessages, AgentMessages);
  readonly sent: Sent[] = [];
  readonly encodeErrors: unknown[] = [];
  /** False: not connected, as ServerLink.send answers then (nothing is sent). */
  online = true;
  /** Shared with other fakes, so a test can see the order of events across them. */
  events: string[] = [];

  send<K extends AgentMessageType>(type: K, body: AgentMessageBodies[K]): boolean {
    if (!this.online) return false;
    if (type === 'assignment.status') {
      const status = body as Status;
      this.events.push(`status ${status.state}${status.reboot ? ` reboot ${status.reboot.state}` : ''}`);
    }
    try {
      this.sent.push(JSON.parse(this.codec.encode(type, body)) as Sent);
    } catch (err) {
      this.encodeErrors.push(err);
      throw err;
    }
    return true;
  }

  statuses(id?: string): Status[] {
    return this.sent.flatMap((m) => (m.type === 'assignment.status' && (id === undefined || m.body.assignmentId === id) ? [m.body] : []));
  }

  states(id?: string): string[] {
    return this.statuses(id).map((s) => s.state);
  }
}

/** An executor that answers from a script and counts its calls. */
class ScriptedExecutor implements PackageExecutor {
  readonly ecosystem = 'dpkg' as const;
  readonly calls: PackageRequest[][] = [];
  constructor(private readonly script: ExecutionResult[]) {}

  async upgrade(packages: readonly PackageRequest[], _opts: UpgradeOptions): Promise<ExecutionResult> {
    this.calls.push([...packages]);
    const next = this.script.shift();
    if (!next) throw new Error('the executor was called more often than scripted');
    return next;
  }
}

const ok = (version = '2.0'): ExecutionResult => ({
  status: 'succeeded',
  installed: [{ name: 'hello', version }],
  rebootRequired: true,
  output: '$ apt-get install hello\ndone\n',
});
const busy: ExecutionResult = {
  status: 'busy',
  installed: [],
  rebootRequired: false,
  output: 'Could not get lock',
  code: 'lock-busy',
  reason: 'locked',
};

const NOW = new Date('2026-05-01T12:00:00.000Z');
const HOUR = 3_600_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);

/** The server's side: an identity key the agent pins and a work key it certifies. */
function serverKeys() {
  const identity = generateKeyPair();
  const work = generateKeyPair();
  const workKey = importPrivateKey(work.privateKeyPem);
  const certificate = certifyWorkKey(importPrivateKey(identity.privateKeyPem), work.publicKey, at(-24 * HOUR), at(30 * 24 * HOUR));
  return { identity, workKey, certificate };
}

const PAYLOAD: AssignmentPayload = {
  kind: 'package-upgrade',
  packages: [{ ecosystem: 'dpkg', name: 'hello', version: '2.0' }],
  rebootPolicy: 'if-required',
};

let dir: string;
let link: FakeLink;
let ledger: Ledger;
let keys: ReturnType<typeof serverKeys>;
const hostId = randomUUID();
let sequence = 0;

function offer(overrides: { hostId?: string; notBefore?: Date; expiresAt?: Date; payload?: AssignmentPayload; server?: typeof keys } = {}) {
  const k = overrides.server ?? keys;
  return signAssignment(
    k.workKey,
    k.certificate,
    {
      assignmentId: randomUUID(),
      deploymentId: randomUUID(),
      hostId: overrides.hostId ?? hostId,
      notBefore: (overrides.notBefore ?? at(-HOUR)).toISOString(),
      expiresAt: (overrides.expiresAt ?? at(HOUR)).toISOString(),
      sequence: ++sequence,
    },
    overrides.payload ?? PAYLOAD,
  );
}

function runner(executor: PackageExecutor | undefined, extra: Partial<ConstructorParameters<typeof WorkRunner>[0]> = {}) {
  return new WorkRunner({
    identity: { hostId, serverPublicKey: keys.identity.publicKey },
    ledger,
    link,
    executors: executor ? { dpkg: executor } : {},
    logger: pino({ level: 'silent' }),
    now: () => NOW,
    sleep: async () => {},
    ...extra,
  });
}

async function deliver(work: WorkRunner, signed: unknown): Promise<void> {
  work.onMessage('assignment.offer', { signed: signed as SignedAssignment });
  await work.idle();
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'brier-work-'));
  link = new FakeLink();
  ledger = Ledger.open(path.join(dir, LEDGER_FILE), { now: () => NOW });
  keys = serverKeys();
});

afterEach(() => {
  expect(link.encodeErrors).toEqual([]);
  ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('WorkRunner with genuine work', () => {
  it('reports received, running and succeeded with the installed versions, and records it in the ledger', async () => {
    const executor = new ScriptedExecutor([ok()]);
    let scans = 0;
    const work = runner(executor, { afterRun: () => void scans++ });
    const signed = offer();
    await deliver(work, signed);

    const id = signed.assignment.assignmentId;
    expect(link.states(id)).toEqual(['received', 'running', 'succeeded']);
    expect(link.statuses(id).at(-1)).toMatchObject({ installed: [{ name: 'hello', version: '2.0' }], rebootRequired: true });
    expect(executor.calls).toEqual([[{ name: 'hello', version: '2.0' }]]);
    expect(ledger.stateOf(id)).toBe('succeeded');
    expect(scans).toBe(1);
  });

  it('runs the same offer only once when it arrives twice, and re-reports its state', async () => {
    const executor = new ScriptedExecutor([ok()]);
    const work = runner(executor);
    const signed = offer();
    await deliver(work, signed);
    await deliver(work, structuredClone(signed));

    expect(executor.calls).toHaveLength(1);
    expect(link.states(signed.assignment.assignmentId)).toEqual(['received', 'running', 'succeeded', 'succeeded']);
  });

  it('does not run an offer again after a restart (a new runner on the same ledger)', async () => {
    const signed = offer();
    await deliver(runner(new ScriptedExecutor([ok()])), signed);
    const again = new ScriptedExecutor([]);
    await deliver(runner(again), signed);
    expect(again.calls).toEqual([]);
  });

  it('runs queued work one at a time in sequence order', async () => {
    const versions: Array<string | null> = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const executor: PackageExecutor = {
      ecosystem: 'dpkg',
      async upgrade(packages) {
        versions.push(packages[0]!.version);
        if (versions.length === 1) await gate;
        return ok(packages[0]!.version ?? '1');
      },
    };
    const work = runner(executor);
    const withVersion = (version: string) => ({ ...PAYLOAD, packages: [{ ecosystem: 'dpkg' as const, name: 'hello', version }] });
    const a = offer({ payload: withVersion('1.1') });
    const b = offer({ payload: withVersion('1.2') });
    const c = offer({ payload: withVersion('1.3') });
    work.onMessage('assignment.offer', { signed: a });
    work.onMessage('assignment.offer', { signed: c });
    work.onMessage('assignment.offer', { signed: b });
    // While the first runs, the other two wait; then the lower sequence goes first.
    expect(versions).toEqual(['1.1']);
    release();
    await work.idle();
    expect(versions).toEqual(['1.1', '1.2', '1.3']);
  });

  it('retries a busy package manager and reports one final succeeded', async () => {
    const executor = new ScriptedExecutor([busy, ok()]);
    const work = runner(executor);
    const signed = offer();
    await deliver(work, signed);

    expect(executor.calls).toHaveLength(2);
    const states = link.states(signed.assignment.assignmentId);
    expect(states).toEqual(['received', 'running', 'busy', 'succeeded']);
    expect(ledger.stateOf(signed.assignment.assignmentId)).toBe('succeeded');
  });

  it('gives up as failed (lock-busy) when the lock stays held for every attempt', async () => {
    const executor = new ScriptedExecutor(Array.from({ length: 20 }, () => ({ ...busy })));
    const work = runner(executor);
    const signed = offer();
    await deliver(work, signed);
    expect(link.statuses(signed.assignment.assignmentId).at(-1)).toMatchObject({ state: 'failed', code: 'lock-busy' });
    expect(executor.calls.length).toBeLessThan(20);
  });

  it('ends a run waiting for a held lock as failed (aborted) when the agent stops, without calling the executor again', async () => {
    const executor = new ScriptedExecutor([{ ...busy }, ok()]);
    const work = runner(executor, { sleep: () => new Promise<void>(() => {}) });
    const signed = offer();
    work.onMessage('assignment.offer', { signed });
    await new Promise((resolve) => setImmediate(resolve));
    work.stop();
    await work.idle();
    expect(executor.calls).toHaveLength(1);
    expect(link.statuses(signed.assignment.assignmentId).at(-1)).toMatchObject({ state: 'failed', code: 'aborted' });
    expect(ledger.stateOf(signed.assignment.assignmentId)).toBe('failed');
  });

  it('fails with tool-missing, running nothing, when the host has no executor for the ecosystem', async () => {
    const work = runner(undefined);
    const signed = offer();
    await deliver(work, signed);
    expect(link.statuses(signed.assignment.assignmentId).at(-1)).toMatchObject({ state: 'failed', code: 'tool-missing' });
    expect(ledger.stateOf(signed.assignment.assignmentId)).toBe('failed');
  });

  it('reports a failed run with the executor code and output', async () => {
    const executor = new ScriptedExecutor([
      {
        status: 'failed',
        installed: [],
        rebootRequired: false,
        output: 'E: Version 2.0 not found',
        code: 'not-available',
        reason: 'no 2.0',
      },
    ]);
    const work = runner(executor);
    const signed = offer();
    await deliver(work, signed);
    expect(link.statuses(signed.assignment.assignmentId).at(-1)).toMatchObject({
      state: 'failed',
      code: 'not-available',
      output: 'E: Version 2.0 not found',
    });
  });

  it('waits for an assignment that is not valid yet instead of refusing it, and runs it once it is', async () => {
    const executor = new ScriptedExecutor([ok()]);
    let clock = NOW;
    const timers: Array<() => void> = [];
    const work = runner(executor, {
      now: () => clock,
      defer: (_ms, task) => {
        timers.push(task);
        return () => {};
      },
    });
    const signed = offer({ notBefore: at(HOUR), expiresAt: at(2 * HOUR) });
    await deliver(work, signed);
    expect(link.sent).toEqual([]);
    expect(ledger.hasSeen(signed.assignment.assignmentId)).toBe(false);

    clock = at(HOUR + 1);
    timers.shift()?.();
    await work.idle();
    expect(link.states(signed.assignment.assignmentId)).toEqual(['received', 'running', 'succeeded']);
  });
});

describe('WorkRunner with forged or unusable work', () => {
  function altered(): SignedAssignment {
    const signed = offer();
    return { ...signed, payload: { ...signed.payload, packages: [{ ecosystem: 'dpkg', name: 'evil', version: null }] } };
  }

  const cases: Array<[string, () => unknown, string]> = [
    ['signed by another work key the pinned identity did not certify', () => offer({ server: serverKeys() }), 'bad_certificate'],
    ['with an altered payload', altered, 'payload_altered'],
    ['meant for another host', () => offer({ hostId: randomUUID() }), 'wrong_host'],
    [
      'whose signature was replaced by one from another key',
      () => ({ ...offer(), signature: offer({ server: serverKeys() }).signature }),
      'bad_signature',
    ],
    ['carrying a certificate from another identity', () => ({ ...offer(), keyCertificate: serverKeys().certificate }), 'bad_certificate'],
  ];

  for (const [what, make, code] of cases) {
    it(`refuses an offer ${what}, runs nothing and records nothing`, async () => {
      const executor = new ScriptedExecutor([]);
      const work = runner(executor);
      const signed = make() as SignedAssignment;
      await deliver(work, signed);
      expect(link.statuses()).toEqual([{ assignmentId: signed.assignment.assignmentId, state: 'refused', code }]);
      expect(executor.calls).toEqual([]);
      expect(ledger.list()).toEqual([]);
      expect(ledger.highestSequence()).toBe(0);
    });
  }

  it('refuses a document that is not an assignment at all without reporting an id', async () => {
    const executor = new ScriptedExecutor([]);
    const work = runner(executor);
    await deliver(work, { hello: 'world' });
    expect(link.sent).toEqual([]);
    expect(executor.calls).toEqual([]);
  });

  it('reports an expired assignment as expired and never runs it', async () => {
    const executor = new ScriptedExecutor([]);
    const work = runner(executor);
    const signed = offer({ notBefore: at(-2 * HOUR), expiresAt: at(-HOUR) });
    await deliver(work, signed);
    expect(link.statuses()).toEqual([{ assignmentId: signed.assignment.assignmentId, state: 'expired', code: 'expired' }]);
    expect(executor.calls).toEqual([]);
    expect(ledger.stateOf(signed.assignment.assignmentId)).toBe('expired');
  });

  it('refuses a replay of a seen nonce under a new id', async () => {
    const executor = new ScriptedExecutor([ok()]);
    const work = runner(executor);
    const signed = offer();
    await deliver(work, signed);
    const replay = signAssignment(
      keys.workKey,
      keys.certificate,
      { ...signed.assignment, assignmentId: randomUUID(), sequence: ++sequence, nonce: signed.assignment.nonce },
      PAYLOAD,
    );
    await deliver(work, replay);
    expect(executor.calls).toHaveLength(1);
    expect(link.statuses(replay.assignment.assignmentId)).toEqual([
      { assignmentId: replay.assignment.assignmentId, state: 'refused', code: 'replayed' },
    ]);
  });
});

describe('WorkRunner on (re)connect', () => {
  it('sends the ledger highest sequence in assignment.sync', async () => {
    const work = runner(new ScriptedExecutor([ok(), ok()]));
    await deliver(work, offer());
    const second = offer();
    await deliver(work, second);
    link.sent.length = 0;
    work.connected();
    expect(link.sent[0]).toMatchObject({ type: 'assignment.sync', body: { highestSequence: second.assignment.sequence } });
    expect(ledger.highestSequence()).toBe(second.assignment.sequence);
  });

  it('sends highestSequence 0 from an empty ledger', () => {
    runner(undefined).connected();
    expect(link.sent).toEqual([expect.objectContaining({ type: 'assignment.sync', body: { highestSequence: 0 } })]);
  });

  it('re-sends the final status of recent work, with its installed versions', async () => {
    const work = runner(new ScriptedExecutor([ok()]));
    const signed = offer();
    await deliver(work, signed);
    link.sent.length = 0;
    work.connected();
    expect(link.statuses(signed.assignment.assignmentId)).toEqual([
      expect.objectContaining({ state: 'succeeded', installed: [{ name: 'hello', version: '2.0' }] }),
    ]);
  });

  it('reports work a crash left running as failed (interrupted) and never runs it', async () => {
    const signed = offer();
    ledger.admit(signed.assignment);
    expect(ledger.startRun(signed.assignment.assignmentId)).toBe(true);
    ledger.close();
    // The agent restarts: the ledger is opened again from disk.
    ledger = Ledger.open(path.join(dir, LEDGER_FILE), { now: () => NOW });
    const executor = new ScriptedExecutor([]);
    const work = runner(executor);
    work.connected();
    await deliver(work, signed);

    expect(link.statuses(signed.assignment.assignmentId)[0]).toEqual({
      assignmentId: signed.assignment.assignmentId,
      state: 'failed',
      code: 'interrupted',
    });
    expect(executor.calls).toEqual([]);
    expect(ledger.stateOf(signed.assignment.assignmentId)).toBe('failed');
  });

  it('asks again from before work that was received but not started when the agent stopped', async () => {
    const first = offer();
    const second = offer();
    ledger.admit(first.assignment);
    ledger.admit(second.assignment);
    ledger.close();
    ledger = Ledger.open(path.join(dir, LEDGER_FILE), { now: () => NOW });
    const executor = new ScriptedExecutor([ok(), ok()]);
    const work = runner(executor);
    work.connected();
    expect(link.sent[0]).toMatchObject({ type: 'assignment.sync', body: { highestSequence: first.assignment.sequence - 1 } });
    await deliver(work, first);
    await deliver(work, second);
    expect(executor.calls).toHaveLength(2);
    expect(ledger.stateOf(second.assignment.assignmentId)).toBe('succeeded');
  });
});

describe('WorkRunner and the reboot policy', () => {
  const withPolicy = (rebootPolicy: AssignmentPayload['rebootPolicy'], version = '2.0'): AssignmentPayload => ({
    ...PAYLOAD,
    packages: [{ ecosystem: 'dpkg', name: 'hello', version }],
    rebootPolicy,
  });
  const result = (rebootRequired: boolean): ExecutionResult => ({ ...ok(), rebootRequired });

  /** Timers the runner sets (the wait past a restart), run by hand; nothing waits for real. */
  function manualDefer() {
    const timers: Array<{ ms: number; task: () => void; cancelled: boolean }> = [];
    return {
      timers,
      defer: (ms: number, task: () => void) => {
        const timer = { ms, task, cancelled: false };
        timers.push(timer);
        return () => {
          timer.cancelled = true;
        };
      },
    };
  }

  const table: Array<[AssignmentPayload['rebootPolicy'], boolean, boolean]> = [
    ['never', false, false],
    ['never', true, false],
    ['if-required', false, false],
    ['if-required', true, true],
    ['always', false, true],
    ['always', true, true],
  ];
  for (const [policy, required, restarts] of table) {
    it(`with policy '${policy}' and rebootRequired ${required} ${restarts ? 'schedules one restart' : 'does not restart'}`, async () => {
      const rebooter = new RecordingRebooter({ now: () => NOW });
      const work = runner(new ScriptedExecutor([result(required)]), { rebooter, defer: manualDefer().defer });
      const signed = offer({ payload: withPolicy(policy) });
      await deliver(work, signed);
      const id = signed.assignment.assignmentId;

      expect(rebooter.calls).toHaveLength(restarts ? 1 : 0);
      const statuses = link.statuses(id);
      expect(statuses.find((s) => s.state === 'succeeded')?.rebootRequired).toBe(required);
      if (restarts) {
        expect(link.states(id)).toEqual(['received', 'running', 'succeeded', 'succeeded']);
        expect(statuses.at(-1)?.reboot).toEqual({
          state: 'scheduled',
          scheduledAt: new Date(NOW.getTime() + DEFAULT_REBOOT_DELAY_SECONDS * 1000).toISOString(),
          delaySeconds: DEFAULT_REBOOT_DELAY_SECONDS,
        });
        expect(statuses.at(-1)).toMatchObject({ installed: [{ name: 'hello', version: '2.0' }], rebootRequired: required });
      } else {
        expect(link.states(id)).toEqual(['received', 'running', 'succeeded']);
        expect(statuses.some((s) => s.reboot)).toBe(false);
      }
    });
  }

  it('never restarts after a failed assignment, whatever the policy', async () => {
    const rebooter = new RecordingRebooter();
    const failedRun: ExecutionResult = { ...result(true), status: 'failed', code: 'verify-mismatch', reason: 'still 1.0' };
    const work = runner(new ScriptedExecutor([failedRun]), { rebooter });
    await deliver(work, offer({ payload: withPolicy('always') }));
    expect(rebooter.calls).toEqual([]);
  });

  it("asks the rebooter whether a restart is pending when the executor saw none, and acts on it for 'if-required'", async () => {
    const rebooter = new RecordingRebooter({ pending: true });
    const work = runner(new ScriptedExecutor([result(false)]), { rebooter, defer: manualDefer().defer });
    const signed = offer({ payload: withPolicy('if-required') });
    await deliver(work, signed);
    expect(link.statuses(signed.assignment.assignmentId)[2]).toMatchObject({ state: 'succeeded', rebootRequired: true });
    expect(rebooter.calls).toHaveLength(1);
  });

  it("only reports a pending restart for 'never'", async () => {
    const rebooter = new RecordingRebooter({ pending: true });
    const work = runner(new ScriptedExecutor([result(false)]), { rebooter });
    const signed = offer({ payload: withPolicy('never') });
    await deliver(work, signed);
    expect(link.statuses(signed.assignment.assignmentId).at(-1)).toMatchObject({ state: 'succeeded', rebootRequired: true });
    expect(rebooter.calls).toEqual([]);
  });

  it('takes a rebooter that cannot tell (throws in pending) as no restart pending', async () => {
    const rebooter = new RecordingRebooter({ pending: () => Promise.reject(new Error('reg.exe crashed')) });
    const work = runner(new ScriptedExecutor([result(false)]), { rebooter });
    const signed = offer({ payload: withPolicy('if-required') });
    await deliver(work, signed);
    expect(link.statuses(signed.assignment.assignmentId).at(-1)).toMatchObject({ state: 'succeeded', rebootRequired: false });
    expect(rebooter.calls).toEqual([]);
  });

  it('sends the final status and records the end in the ledger before it schedules the restart', async () => {
    const events: string[] = [];
    link.events = events;
    const rebooter = new RecordingRebooter({ now: () => NOW });
    const signed = offer({ payload: withPolicy('always') });
    const id = signed.assignment.assignmentId;
    rebooter.onSchedule = () => events.push(`schedule (ledger ${ledger.stateOf(id)})`);
    const work = runner(new ScriptedExecutor([result(false)]), { rebooter, defer: manualDefer().defer });
    await deliver(work, signed);
    expect(events).toEqual([
      'status received',
      'status running',
      'status succeeded',
      'schedule (ledger succeeded)',
      'status succeeded reboot scheduled',
    ]);
    // A new runner on the same ledger (the agent after the restart) never runs it again.
    const after = new ScriptedExecutor([]);
    await deliver(runner(after, { rebooter: new RecordingRebooter() }), signed);
    expect(after.calls).toEqual([]);
  });

  it('schedules one restart after the last assignment of a drain, never between two, and reports it on each that asked', async () => {
    const events: string[] = [];
    link.events = events;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const executor: PackageExecutor = {
      ecosystem: 'dpkg',
      async upgrade() {
        if (++calls === 1) await gate;
        return result(true);
      },
    };
    const rebooter = new RecordingRebooter({ now: () => NOW });
    rebooter.onSchedule = () => events.push('schedule');
    const work = runner(executor, { rebooter, defer: manualDefer().defer });
    const a = offer({ payload: withPolicy('if-required', '1.1') });
    const b = offer({ payload: withPolicy('never', '1.2') });
    const c = offer({ payload: withPolicy('always', '1.3') });
    for (const signed of [a, b, c]) work.onMessage('assignment.offer', { signed });
    release();
    await work.idle();

    expect(rebooter.calls).toHaveLength(1);
    expect(rebooter.calls[0]?.reason).toContain('(2 assignments)');
    expect(events.filter((e) => e === 'status succeeded' || e === 'schedule')).toEqual([
      'status succeeded',
      'status succeeded',
      'status succeeded',
      'schedule',
    ]);
    expect(link.statuses(a.assignment.assignmentId).at(-1)?.reboot?.state).toBe('scheduled');
    expect(link.statuses(b.assignment.assignmentId).some((s) => s.reboot)).toBe(false);
    expect(link.statuses(c.assignment.assignmentId).at(-1)?.reboot?.state).toBe('scheduled');
  });

  it('reports a failed restart command on the assignment, which stays succeeded', async () => {
    const rebooter = new RecordingRebooter({
      result: {
        ok: false,
        code: 'command-failed',
        reason: 'shutdown exited with code 1: Interactive authentication required.',
        output: '',
      },
    });
    const work = runner(new ScriptedExecutor([result(true)]), { rebooter });
    const signed = offer({ payload: withPolicy('if-required') });
    await deliver(work, signed);
    const id = signed.assignment.assignmentId;
    expect(link.statuses(id).at(-1)).toMatchObject({
      state: 'succeeded',
      reboot: { state: 'failed', code: 'command-failed', detail: 'shutdown exited with code 1: Interactive authentication required.' },
    });
    expect(ledger.stateOf(id)).toBe('succeeded');
  });

  it('reports a rebooter that throws as a failed restart', async () => {
    const rebooter = new RecordingRebooter({
      result: () => {
        throw new Error('boom');
      },
    });
    const work = runner(new ScriptedExecutor([result(true)]), { rebooter });
    const signed = offer({ payload: withPolicy('always') });
    await deliver(work, signed);
    expect(link.statuses(signed.assignment.assignmentId).at(-1)?.reboot).toMatchObject({ state: 'failed', code: 'command-failed' });
  });

  it('reports restarts turned off as disabled, and runs the next work at once', async () => {
    const work = runner(new ScriptedExecutor([result(true), result(true)]), { rebooter: new DisabledRebooter() });
    const first = offer({ payload: withPolicy('always') });
    await deliver(work, first);
    expect(link.statuses(first.assignment.assignmentId).at(-1)?.reboot).toMatchObject({ state: 'disabled', code: 'disabled' });
    const second = offer({ payload: withPolicy('never') });
    await deliver(work, second);
    expect(ledger.stateOf(second.assignment.assignmentId)).toBe('succeeded');
  });

  it('without a rebooter acts on no policy and sends one final status', async () => {
    const work = runner(new ScriptedExecutor([result(true)]));
    const signed = offer({ payload: withPolicy('always') });
    await deliver(work, signed);
    expect(link.states(signed.assignment.assignmentId)).toEqual(['received', 'running', 'succeeded']);
  });

  it('passes the configured delay and a reason the platforms accept', async () => {
    const rebooter = new RecordingRebooter();
    const work = runner(new ScriptedExecutor([result(true)]), { rebooter, rebootDelaySeconds: 120, defer: manualDefer().defer });
    await deliver(work, offer({ payload: withPolicy('always') }));
    expect(rebooter.calls).toEqual([
      { delaySeconds: 120, reason: 'Brier: restarting in 2 min to finish installing updates (1 assignment)' },
    ]);
  });

  it('waits with the restart until the server could be told, then schedules it on the next connect', async () => {
    const rebooter = new RecordingRebooter({ now: () => NOW });
    const work = runner(new ScriptedExecutor([result(true)]), { rebooter, defer: manualDefer().defer });
    const signed = offer({ payload: withPolicy('if-required') });
    const id = signed.assignment.assignmentId;
    work.onMessage('assignment.offer', { signed });
    // The link drops while the package manager runs.
    link.online = false;
    await work.idle();
    expect(ledger.stateOf(id)).toBe('succeeded');
    expect(rebooter.calls).toEqual([]);

    link.online = true;
    work.connected();
    await work.idle();
    expect(rebooter.calls).toHaveLength(1);
    const sent = link.statuses(id).map((s) => `${s.state}${s.reboot ? ` ${s.reboot.state}` : ''}`);
    // 'succeeded' once only: the one the connect re-sent; the first try was lost offline.
    expect(sent).toEqual(['received', 'running', 'succeeded', 'succeeded scheduled']);
  });

  it('holds new work while a restart is scheduled, and runs it if the restart never comes', async () => {
    const timers = manualDefer();
    const rebooter = new RecordingRebooter({ now: () => NOW });
    const executor = new ScriptedExecutor([result(true), result(false)]);
    const work = runner(executor, { rebooter, defer: timers.defer, rebootDelaySeconds: 60 });
    await deliver(work, offer({ payload: withPolicy('always') }));
    expect(rebooter.calls).toHaveLength(1);

    const later = offer({ payload: withPolicy('never') });
    await deliver(work, later);
    expect(link.states(later.assignment.assignmentId)).toEqual(['received']);
    expect(ledger.stateOf(later.assignment.assignmentId)).toBe('received');
    expect(executor.calls).toHaveLength(1);

    const resume = timers.timers.find((t) => !t.cancelled);
    expect(resume?.ms).toBe(60_000 + REBOOT_HOLD_GRACE_MS);
    resume?.task();
    await work.idle();
    expect(executor.calls).toHaveLength(2);
    expect(ledger.stateOf(later.assignment.assignmentId)).toBe('succeeded');
    expect(rebooter.calls).toHaveLength(1);
  });

  it('after the restart, asks the server again for work that was held and never started', async () => {
    const rebooter = new RecordingRebooter({ now: () => NOW });
    const work = runner(new ScriptedExecutor([result(true)]), { rebooter, defer: manualDefer().defer });
    await deliver(work, offer({ payload: withPolicy('always') }));
    const held = offer({ payload: withPolicy('never') });
    await deliver(work, held);
    // The host restarts: a new runner on the same ledger, which kept no payload for the held work.
    ledger.close();
    ledger = Ledger.open(path.join(dir, LEDGER_FILE), { now: () => NOW });
    link.sent.length = 0;
    runner(new ScriptedExecutor([]), { rebooter: new RecordingRebooter() }).connected();
    expect(link.sent[0]).toMatchObject({ type: 'assignment.sync', body: { highestSequence: held.assignment.sequence - 1 } });
  });

  it('does not restart when the agent stops before the drain ends', async () => {
    const rebooter = new RecordingRebooter();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const executor: PackageExecutor = {
      ecosystem: 'dpkg',
      async upgrade() {
        await gate;
        return result(true);
      },
    };
    const work = runner(executor, { rebooter });
    work.onMessage('assignment.offer', { signed: offer({ payload: withPolicy('always') }) });
    work.stop();
    release();
    await work.idle();
    expect(rebooter.calls).toEqual([]);
  });
});

const canRunApt = process.env.CI === 'true' || (await aptAvailable());

describe.runIf(canRunApt)('WorkRunner with a real apt', () => {
  it('upgrades a package from a signed offer in an apt sandbox', async () => {
    const sandbox = await createAptSandbox({
      packages: [
        { name: 'hello', version: '1.0' },
        { name: 'hello', version: '2.0' },
      ],
      installed: [{ name: 'hello', version: '1.0' }],
    });
    try {
      const executor = new AptExecutor({
        run: runCommand,
        root: sandbox.root,
        aptOptions: sandbox.aptOptions,
        dpkgOptions: sandbox.dpkgOptions,
        env: sandbox.env,
      });
      const work = runner(executor);
      const signed = offer();
      await deliver(work, signed);

      expect(link.statuses(signed.assignment.assignmentId).at(-1)).toMatchObject({
        state: 'succeeded',
        installed: [{ name: 'hello', version: '2.0' }],
      });
      expect((await sandbox.installedVersions()).get('hello')).toBe('2.0');
    } finally {
      await sandbox.cleanup();
    }
  });
});
