import {
  type AgentMessageBodies,
  type Assignment,
  type AssignmentPayload,
  type Ecosystem,
  type ServerMessageBodies,
  verifySignedAssignment,
} from '@brier/protocol';
import type { Logger } from 'pino';
import type { ExecutionResult, InstalledVersion, PackageExecutor, PackageRequest } from './executors/package-executor.js';
import { OUTPUT_TAIL_CHARS } from './executors/package-executor.js';
import type { Rebooter, RebootResult } from './reboot/rebooter.js';
import type { Ledger, LedgerEntry, LedgerState } from './state/ledger.js';
import type { ServerLink } from './transport/server-link.js';

type Status = AgentMessageBodies['assignment.status'];

/** How long an executor may wait for another package manager's lock before answering 'busy'. */
export const LOCK_TIMEOUT_SECONDS = 60;
/** Busy attempts per package group before the run is given up as failed ('lock-busy'). */
export const MAX_BUSY_ATTEMPTS = 8;
/** Pause after the n-th busy attempt: doubling from 30 s, at most 15 minutes (so about an hour in all). */
export const BUSY_RETRY_BASE_MS = 30_000;
export const BUSY_RETRY_CAP_MS = 15 * 60_000;
/** Finished assignments whose status is sent again on every (re)connect, in case one was lost while offline. */
export const RESEND_FINISHED = 100;
/** Not-yet-valid assignments waiting in memory at most; more are dropped (the server offers them again). */
export const MAX_DEFERRED = 1_000;
/** A not-yet-valid assignment is looked at again after at most this long (timers cannot hold weeks). */
export const MAX_DEFER_MS = 6 * 60 * 60_000;
/** From scheduling a restart to the restart: users are warned, and the last statuses leave meanwhile. */
export const DEFAULT_REBOOT_DELAY_SECONDS = 300;
/**
 * Queued work waits this long past a scheduled restart before it runs anyway: the restart was
 * cancelled (`shutdown -c`) or never came, and the agent must not sit on work for ever.
 */
export const REBOOT_HOLD_GRACE_MS = 15 * 60_000;
const MAX_DETAIL = 2_048;
const CODE = /^[a-z][a-z0-9_-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface WorkRunnerDeps {
  identity: { hostId: string; serverPublicKey: string };
  ledger: Ledger;
  link: Pick<ServerLink, 'send'>;
  /** Package managers by ecosystem; an assignment naming one that is missing fails with 'tool-missing'. */
  executors: Partial<Record<Ecosystem, PackageExecutor>>;
  logger: Logger;
  /** Called after every run that reached an executor, so the new versions reach the server (an inventory scan). */
  afterRun?: () => unknown;
  now?: () => Date;
  /** Waits between busy attempts; injected so tests do not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Runs `task` after `ms` (a not-yet-valid assignment, the wait past a restart); returns a cancel function. */
  defer?: (ms: number, task: () => void) => () => void;
  /**
   * Restarts the host as an assignment's rebootPolicy asks, and says whether a restart is pending.
   * Absent: the policy is not acted on (logged only), so tests and embedded agents never restart.
   */
  rebooter?: Rebooter;
  /** Delay of a scheduled restart; default DEFAULT_REBOOT_DELAY_SECONDS. */
  rebootDelaySeconds?: number;
}

type RebootReport = NonNullable<Status['reboot']>;

interface Work {
  assignment: Assignment;
  payload: AssignmentPayload;
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

const defaultDefer = (ms: number, task: () => void): (() => void) => {
  const timer = setTimeout(task, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

/** Text for a SafeText field: no control characters, bounded. */
function safeText(text: string, max = MAX_DETAIL): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point.
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, max);
}

/** The code stored at the front of a ledger note ("lock-busy: reason"), if it is one. */
function codeOfNote(note: string | undefined): string | undefined {
  const head = note?.split(':', 1)[0];
  return head !== undefined && CODE.test(head) ? head : undefined;
}

/** The assignment id a document claims, for reporting a refusal; never trusted for anything else. */
function claimedId(signed: unknown): string | undefined {
  try {
    const id = (signed as { assignment?: { assignmentId?: unknown } } | null)?.assignment?.assignmentId;
    return typeof id === 'string' && UUID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The agent side of signed work: verifies each offer against the pinned server key, admits genuine
 * ones to the durable ledger before anything else, runs them one at a time in sequence order through
 * the package executors, and reports every step as `assignment.status`.
 *
 * Never-run-twice rests on the ledger alone: `startRun` moves an assignment to 'running' durably
 * before the executor is called and answers true once per assignment, ever. A 'busy' answer changed
 * nothing on the host, so the run is retried in memory, inside that one 'running' state: the executor
 * is called again only by the same loop that holds the run and only after the previous attempt said
 * busy. If the agent dies meanwhile, the entry is 'running' on the next start, is reported as failed
 * with code 'interrupted' and is never started again; the operator retries with a new assignment.
 *
 * Forgeries never reach the ledger: recording an unauthenticated id would let a forger "use up" the
 * id of real work.
 *
 * Restarts follow each succeeded assignment's rebootPolicy: 'never' only reports `rebootRequired`
 * (the executor's answer, or the rebooter's pending() when the executor saw none); 'if-required'
 * restarts when it is true; 'always' restarts. Failed work never restarts the host. One drain ends
 * with at most one restart, after the last queued assignment, never between two. Its order keeps
 * never-run-twice across the restart: the ledger records the end and the final status goes out
 * first, then the restart is scheduled (with a delay, so that status leaves the socket), then a
 * second 'succeeded' status carries `reboot` (scheduled, failed or disabled). If the final status
 * could not be sent (offline), the restart waits for the next connect, which re-sends it. A failed
 * restart command is logged and reported in `reboot`, never as a failed assignment. While a restart
 * is scheduled, new work is admitted and queued but not started; after the restart its payload is
 * gone, so the sync asks the server again (see `syncSequence`), and if the restart never comes the
 * queue runs REBOOT_HOLD_GRACE_MS after its time.
 */
export class WorkRunner {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly defer: (ms: number, task: () => void) => () => void;
  /** Admitted work waiting to run, by id; run lowest sequence first. */
  private readonly queue = new Map<string, Work>();
  private active: string | undefined;
  private draining: Promise<void> | undefined;
  private readonly deferred = new Map<string, () => void>();
  /** The last full status sent per assignment (installed versions, output), for re-sending after a reconnect. */
  private readonly lastStatus = new Map<string, Status>();
  private interruptedHandled = false;
  private readonly abort = new AbortController();
  /** Settles on stop(), ending a wait between busy attempts at once. */
  private readonly stopping = new Promise<void>((resolve) => {
    this.abort.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  private stopped = false;
  /** Succeeded assignments of this drain whose policy asks for a restart, and whether their final status went out. */
  private readonly rebootWanted = new Map<string, { delivered: boolean }>();
  /** A restart is scheduled: queued work waits (until the resume timer clears it). */
  private rebootHeld = false;
  private cancelResume: (() => void) | undefined;

  constructor(private readonly deps: WorkRunnerDeps) {
    this.log = deps.logger.child({ module: 'work' });
    this.now = deps.now ?? (() => new Date());
    this.sleep = deps.sleep ?? defaultSleep;
    this.defer = deps.defer ?? defaultDefer;
  }

  /**
   * The link is (re)authenticated: say what we last saw and send again the state of every unfinished
   * assignment and of the most recent finished ones (the server ignores duplicates).
   */
  connected(): void {
    this.finishInterrupted();
    this.send('assignment.sync', { highestSequence: this.syncSequence() });
    const entries = this.deps.ledger.list();
    const finished = entries.filter((e) => e.state !== 'received' && e.state !== 'running').slice(-RESEND_FINISHED);
    const unfinished = entries.filter((e) => e.state === 'received' || e.state === 'running');
    for (const entry of [...finished, ...unfinished].sort((a, b) => a.sequence - b.sequence)) {
      const delivered = this.report(this.statusOf(entry));
      const wanted = this.rebootWanted.get(entry.assignmentId);
      if (wanted && delivered) wanted.delivered = true;
    }
    // A restart that waited for the server to hear how its work ended can go ahead now.
    if (this.rebootWanted.size > 0) this.drain();
  }

  onMessage<K extends keyof ServerMessageBodies>(type: K, body: ServerMessageBodies[K]): void {
    if (type !== 'assignment.offer') return;
    try {
      this.offer((body as ServerMessageBodies['assignment.offer']).signed);
    } catch (err) {
      // A ledger that cannot be written: nothing runs, and the server offers the work again later.
      this.log.error({ err }, 'cannot take an assignment');
    }
  }

  /** Resolves when no work is queued or running (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stops taking work and cancels waits; a running package manager is asked to stop between steps. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    for (const cancel of this.deferred.values()) cancel();
    this.deferred.clear();
    this.cancelResume?.();
    this.cancelResume = undefined;
  }

  /**
   * The sequence after which the server should send work. Normally the ledger's highest; when an
   * assignment was received but not started before a restart, its payload is gone (the ledger keeps
   * no payloads), so ask again from just before it. Offers already seen are only re-reported.
   */
  private syncSequence(): number {
    const lost = this.deps.ledger
      .unfinished()
      .filter((e) => e.state === 'received' && !this.queue.has(e.assignmentId) && e.assignmentId !== this.active);
    if (lost.length === 0) return this.deps.ledger.highestSequence();
    return Math.min(...lost.map((e) => e.sequence)) - 1;
  }

  /** Assignments a crash left 'running' end as failed: they are never started again. */
  private finishInterrupted(): void {
    if (this.interruptedHandled) return;
    this.interruptedHandled = true;
    for (const entry of this.deps.ledger.interrupted) {
      if (this.deps.ledger.stateOf(entry.assignmentId) !== 'running' || entry.assignmentId === this.active) continue;
      try {
        this.deps.ledger.record(entry.assignmentId, entry.sequence, 'failed', { note: 'interrupted: the agent stopped during the run' });
        this.log.warn({ assignmentId: entry.assignmentId }, 'assignment was interrupted by an agent stop; reported as failed');
      } catch (err) {
        this.interruptedHandled = false;
        this.log.error({ err, assignmentId: entry.assignmentId }, 'cannot record an interrupted assignment');
      }
    }
  }

  private statusOf(entry: LedgerEntry): Status {
    const last = this.lastStatus.get(entry.assignmentId);
    if (last && last.state === entry.state) return last;
    if (entry.assignmentId === this.active && last) return last;
    const code = codeOfNote(entry.note);
    return { assignmentId: entry.assignmentId, state: entry.state, ...(code ? { code } : {}) };
  }

  private offer(signed: unknown): void {
    if (this.stopped) return;
    const verdict = verifySignedAssignment(signed, {
      pinnedServerPublicKey: this.deps.identity.serverPublicKey,
      hostId: this.deps.identity.hostId,
      now: this.now(),
    });
    if (!verdict.ok) {
      if (verdict.reason === 'not_yet_valid') {
        this.deferOffer(signed);
        return;
      }
      if (verdict.reason === 'expired') {
        // Authenticity and host were checked before expiry, so this is genuine work that came too late.
        this.expire(signed as { assignment: Assignment });
        return;
      }
      this.refuse(claimedId(signed), verdict.reason);
      return;
    }
    const { assignment, payload } = verdict;
    const id = assignment.assignmentId;
    this.deferred.get(id)?.();
    this.deferred.delete(id);
    const admission = this.deps.ledger.admit(assignment);
    if (admission === 'seen') {
      const entry = this.deps.ledger.entry(id);
      // Admitted before under this id: report where it stands. Its nonce came with another id: a replay.
      if (entry) this.report(this.statusOf(entry));
      else this.refuse(id, 'replayed');
      return;
    }
    if (admission === 'pending' && (this.queue.has(id) || this.active === id)) return;
    this.report({ assignmentId: id, state: 'received' });
    this.queue.set(id, { assignment, payload });
    this.drain();
  }

  private refuse(assignmentId: string | undefined, reason: string): void {
    this.log.warn({ assignmentId, reason }, 'security: refused an assignment that failed verification');
    if (assignmentId === undefined) return;
    // Reported, never recorded: the id is whatever the document claims.
    this.report({ assignmentId, state: 'refused', code: reason });
  }

  private expire(signed: { assignment: Assignment }): void {
    const { assignment } = signed;
    const id = assignment.assignmentId;
    const known = this.deps.ledger.entry(id);
    if (known && known.state !== 'received') {
      this.report(this.statusOf(known));
      return;
    }
    if (!known && this.deps.ledger.seenNonce(assignment.nonce)) {
      this.refuse(id, 'replayed');
      return;
    }
    if (this.active === id) return;
    this.queue.delete(id);
    this.deps.ledger.record(id, assignment.sequence, 'expired', {
      nonce: assignment.nonce,
      expiresAt: assignment.expiresAt,
      note: 'expired',
    });
    this.log.info({ assignmentId: id }, 'assignment expired before it could run');
    this.report({ assignmentId: id, state: 'expired', code: 'expired' });
  }

  private deferOffer(signed: unknown): void {
    // Verified genuine and for this host (only the time was wrong), so its id may key an in-memory timer.
    const { assignment } = signed as { assignment: Assignment };
    const id = assignment.assignmentId;
    if (this.deferred.has(id)) return;
    if (this.deferred.size >= MAX_DEFERRED) {
      this.log.warn({ assignmentId: id }, 'too many assignments waiting for their start time; dropped (the server offers it again)');
      return;
    }
    const wait = Math.min(Math.max(Date.parse(assignment.notBefore) - this.now().getTime(), 0) + 1, MAX_DEFER_MS);
    this.log.info({ assignmentId: id, waitMs: wait }, 'assignment is not valid yet; will look again');
    this.deferred.set(
      id,
      this.defer(wait, () => {
        this.deferred.delete(id);
        this.onMessage('assignment.offer', { signed: signed as ServerMessageBodies['assignment.offer']['signed'] });
      }),
    );
  }

  private drain(): void {
    if (this.draining || this.stopped) return;
    const loop = async (): Promise<void> => {
      for (;;) {
        if (this.stopped || this.rebootHeld) break;
        const next = [...this.queue.values()].sort((a, b) => a.assignment.sequence - b.assignment.sequence)[0];
        if (!next) {
          // The queue is empty: the one restart of this drain, once the server heard every final status.
          if (this.rebootWanted.size === 0 || [...this.rebootWanted.values()].some((w) => !w.delivered)) break;
          await this.reboot();
          continue;
        }
        this.queue.delete(next.assignment.assignmentId);
        try {
          await this.run(next);
        } catch (err) {
          this.log.error({ err, assignmentId: next.assignment.assignmentId }, 'assignment run failed unexpectedly');
        }
      }
    };
    // Cleared in a callback, which always runs after this assignment even when the loop ends at once
    // (queued work held for a restart): clearing inside the loop could run first and leave it set.
    const draining: Promise<void> = loop().finally(() => {
      if (this.draining === draining) this.draining = undefined;
    });
    this.draining = draining;
  }

  private async run({ assignment, payload }: Work): Promise<void> {
    const id = assignment.assignmentId;
    const { ledger } = this.deps;
    if (this.now().getTime() >= Date.parse(assignment.expiresAt)) {
      this.expire({ assignment });
      return;
    }
    // The never-run-twice gate: durable 'running' before any effect, true once per assignment ever.
    if (!ledger.startRun(id)) {
      const entry = ledger.entry(id);
      if (entry) this.report(this.statusOf(entry));
      return;
    }
    this.active = id;
    try {
      this.report({ assignmentId: id, state: 'running' });
      let result: ExecutionResult;
      try {
        result = await this.execute(id, payload);
      } catch (err) {
        // An executor bug: the host may or may not have changed, so this run is over (never retried).
        this.log.error({ err, assignmentId: id }, 'executor threw');
        result = {
          status: 'failed',
          installed: [],
          rebootRequired: false,
          output: '',
          code: 'command-failed',
          reason: 'the executor failed unexpectedly',
        };
      }
      const final: LedgerState = result.status === 'succeeded' ? 'succeeded' : 'failed';
      const code = result.status === 'succeeded' ? undefined : (result.code ?? 'command-failed');
      const rebootRequired = result.rebootRequired || (final === 'succeeded' && (await this.rebootPending(id)));
      const status: Status = {
        assignmentId: id,
        state: final,
        ...(code ? { code } : {}),
        ...(result.reason ? { detail: safeText(result.reason) } : {}),
        installed: result.installed.slice(0, 500).map((p) => ({ name: safeText(p.name, 256), version: safeText(p.version, 256) })),
        rebootRequired,
        output: result.output.slice(-OUTPUT_TAIL_CHARS),
      };
      try {
        ledger.record(id, assignment.sequence, final, code ? { note: `${code}: ${result.reason ?? ''}` } : {});
      } catch (err) {
        // The work is done either way; the server must hear how it went even if the disk did not.
        this.log.error({ err, assignmentId: id }, 'cannot record how an assignment ended');
      }
      this.log.info({ assignmentId: id, state: final, code, rebootRequired }, 'assignment finished');
      const delivered = this.report(status);
      const policy = payload.rebootPolicy;
      if (final === 'succeeded' && (policy === 'always' || (policy === 'if-required' && rebootRequired))) {
        this.rebootWanted.set(id, { delivered });
      }
    } finally {
      this.active = undefined;
    }
    if (this.deps.afterRun) {
      try {
        await this.deps.afterRun();
      } catch (err) {
        this.log.error({ err }, 'scan after an assignment failed');
      }
    }
  }

  /** Runs each ecosystem's packages through its executor, retrying 'busy' in memory; stops at the first failure. */
  private async execute(id: string, payload: AssignmentPayload): Promise<ExecutionResult> {
    const groups = new Map<Ecosystem, PackageRequest[]>();
    for (const p of payload.packages) {
      const list = groups.get(p.ecosystem) ?? [];
      list.push({ name: p.name, version: p.version });
      groups.set(p.ecosystem, list);
    }
    const missing = [...groups.keys()].filter((e) => !this.deps.executors[e]);
    if (missing.length > 0) {
      return {
        status: 'failed',
        installed: [],
        rebootRequired: false,
        output: '',
        code: 'tool-missing',
        reason: `no package manager for ${missing.join(', ')} on this host`,
      };
    }
    const installed: InstalledVersion[] = [];
    let rebootRequired = false;
    let output = '';
    for (const [ecosystem, packages] of groups) {
      const executor = this.deps.executors[ecosystem] as PackageExecutor;
      let result: ExecutionResult;
      for (let attempt = 1; ; attempt++) {
        result = await executor.upgrade(packages, { lockTimeoutSeconds: LOCK_TIMEOUT_SECONDS, signal: this.abort.signal });
        if (result.status !== 'busy') break;
        if (attempt >= MAX_BUSY_ATTEMPTS || this.stopped) {
          result = { ...result, status: 'failed', code: 'lock-busy', reason: result.reason ?? 'the package manager stayed locked' };
          break;
        }
        this.report({
          assignmentId: id,
          state: 'busy',
          code: 'lock-busy',
          ...(result.reason ? { detail: safeText(result.reason) } : {}),
        });
        await Promise.race([this.sleep(Math.min(BUSY_RETRY_BASE_MS * 2 ** (attempt - 1), BUSY_RETRY_CAP_MS)), this.stopping]);
        // Stopping during the wait: the busy attempts changed nothing, so the run ends honestly as not done.
        if (this.stopped) {
          return { ...result, status: 'failed', code: 'aborted', reason: 'the agent stopped while waiting for the package manager lock' };
        }
        // Only the holder of this run retries, and only while the ledger still says it is running.
        if (this.deps.ledger.stateOf(id) !== 'running') return { ...result, status: 'failed', code: 'aborted' };
      }
      installed.push(...result.installed);
      rebootRequired ||= result.rebootRequired;
      output = (output + result.output).slice(-OUTPUT_TAIL_CHARS);
      if (result.status !== 'succeeded') return { ...result, installed, rebootRequired, output };
    }
    return { status: 'succeeded', installed, rebootRequired, output };
  }

  /** Whether the host says a restart is pending; false without a rebooter or when it cannot tell. */
  private async rebootPending(id: string): Promise<boolean> {
    if (!this.deps.rebooter) return false;
    try {
      return await this.deps.rebooter.pending();
    } catch (err) {
      this.log.warn({ err, assignmentId: id }, 'cannot tell whether a restart is pending');
      return false;
    }
  }

  /**
   * Schedules the one restart of this drain and reports it on every assignment that asked for it.
   * Called only with the queue empty and every final status sent (see drain).
   */
  private async reboot(): Promise<void> {
    const ids = [...this.rebootWanted.keys()];
    this.rebootWanted.clear();
    const { rebooter } = this.deps;
    if (!rebooter) {
      this.log.warn({ assignmentIds: ids }, 'the reboot policy asks for a restart, but this agent has no rebooter; not restarting');
      return;
    }
    const delaySeconds = this.deps.rebootDelaySeconds ?? DEFAULT_REBOOT_DELAY_SECONDS;
    const reason = `Brier: restarting in ${Math.ceil(delaySeconds / 60)} min to finish installing updates (${ids.length} assignment${ids.length === 1 ? '' : 's'})`;
    let result: RebootResult;
    try {
      result = await rebooter.schedule({ delaySeconds, reason });
    } catch (err) {
      this.log.error({ err }, 'rebooter threw');
      result = { ok: false, code: 'command-failed', reason: 'the rebooter failed unexpectedly', output: '' };
    }
    let reboot: RebootReport;
    if (result.ok) {
      reboot = { state: 'scheduled', scheduledAt: result.scheduledAt, delaySeconds: result.delaySeconds };
      this.log.warn({ assignmentIds: ids, scheduledAt: result.scheduledAt }, 'restart scheduled for the reboot policy');
      this.holdUntilRestart(Date.parse(result.scheduledAt) - this.now().getTime() + REBOOT_HOLD_GRACE_MS);
    } else {
      reboot = {
        state: result.code === 'disabled' ? 'disabled' : 'failed',
        code: result.code,
        detail: safeText(result.reason, 512),
      };
      const level = result.code === 'disabled' ? 'info' : 'error';
      this.log[level]({ assignmentIds: ids, code: result.code, reason: result.reason, output: result.output }, 'restart not scheduled');
    }
    for (const id of ids) {
      const entry = this.deps.ledger.entry(id);
      const last = this.lastStatus.get(id) ?? (entry ? this.statusOf(entry) : { assignmentId: id, state: 'succeeded' as const });
      this.report({ ...last, reboot });
    }
  }

  /** Queued work waits for the restart; if it has not come `ms` from now, the queue runs after all. */
  private holdUntilRestart(ms: number): void {
    this.rebootHeld = true;
    this.cancelResume?.();
    this.cancelResume = this.defer(Math.min(Math.max(ms, 0), MAX_DEFER_MS), () => {
      this.cancelResume = undefined;
      this.rebootHeld = false;
      this.log.warn('the scheduled restart did not happen; running queued work');
      this.drain();
    });
  }

  private report(status: Status): boolean {
    this.lastStatus.delete(status.assignmentId);
    if (status.state !== 'busy') this.lastStatus.set(status.assignmentId, status);
    // Bounded like the re-send: older full statuses fall back to what the ledger holds.
    while (this.lastStatus.size > RESEND_FINISHED * 2) {
      const oldest = this.lastStatus.keys().next().value;
      if (oldest === undefined) break;
      this.lastStatus.delete(oldest);
    }
    return this.send('assignment.status', status);
  }

  /** Whether the message was handed to a connected link. */
  private send<K extends 'assignment.status' | 'assignment.sync'>(type: K, body: AgentMessageBodies[K]): boolean {
    try {
      // Not connected: the status goes out again on the next connect (see `connected`).
      return this.deps.link.send(type, body) !== false;
    } catch (err) {
      this.log.error({ err, type }, 'cannot send an assignment message');
      return false;
    }
  }
}
