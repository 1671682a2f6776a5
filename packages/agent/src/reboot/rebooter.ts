import { CommandError, type CommandResult, type CommandRunner, isNotFound, type RunOptions } from '../run-command.js';

/**
 * Restarting the host, behind one interface with one implementation per platform
 * (`reboot.linux.ts`, `reboot.windows.ts`, `reboot.darwin.ts`). Restarts are always scheduled with
 * a delay, never immediate: the agent must get its last status out first, and logged-in users are
 * warned by the system's own broadcast (the `reason` is that message).
 *
 * Tests never restart anything: they use RecordingRebooter, or assert the argv a platform
 * implementation hands to its injected CommandRunner. The real agent can be told not to restart
 * (BRIER_AGENT_REBOOT=off), which puts a DisabledRebooter in place.
 */

/** Why a restart was not scheduled, for the server to count without parsing text. */
export type RebootFailure =
  /** Bad delay or reason: a caller bug, nothing was run. */
  | 'invalid-request'
  /** The platform has no shutdown command on PATH. */
  | 'tool-missing'
  /** The command ran and refused (not privileged, logind said no, …). */
  | 'command-failed'
  | 'timeout'
  /** Windows: a shutdown is already scheduled or in progress; ours was not added. */
  | 'already-pending'
  /** Restarts are turned off on this agent. */
  | 'disabled';

export type RebootResult =
  | {
      ok: true;
      /** When the host will restart, ISO 8601 UTC from the agent's clock. */
      scheduledAt: string;
      /** The delay really used: Unix shutdown counts whole minutes, so the request is rounded up. */
      delaySeconds: number;
      /** The command line and what it printed. */
      output: string;
    }
  | { ok: false; code: RebootFailure; reason: string; output: string };

export interface RebootRequest {
  /** From now until the restart; whole seconds, 0 to MAX_REBOOT_DELAY_SECONDS. */
  delaySeconds: number;
  /** Shown to logged-in users; sanitised by every implementation (sanitizeRebootReason). */
  reason: string;
}

export interface Rebooter {
  /** Schedules one restart. Never throws for a command that fails: that is a result with a code. */
  schedule(opts: RebootRequest): Promise<RebootResult>;
  /** Whether the system says a restart is needed to finish earlier updates; false when it cannot tell. */
  pending(): Promise<boolean>;
}

/** One day: a longer wait is a maintenance window's job, not a restart timer's. */
export const MAX_REBOOT_DELAY_SECONDS = 86_400;
/** The broadcast message stays one line on a terminal and within shutdown.exe's 512-character comment. */
export const MAX_REBOOT_REASON_LENGTH = 200;
export const DEFAULT_REBOOT_REASON = 'Brier: restarting to finish installing updates';
/** How long the shutdown command itself may take (it only schedules). */
export const REBOOT_COMMAND_TIMEOUT_MS = 60_000;

/** The refusal for a delay that is not a whole number of seconds in range, or null. */
export function refuseRebootRequest(opts: RebootRequest): string | null {
  const d = opts?.delaySeconds;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > MAX_REBOOT_DELAY_SECONDS) {
    return `delaySeconds must be a whole number from 0 to ${MAX_REBOOT_DELAY_SECONDS}`;
  }
  if (typeof opts.reason !== 'string') return 'reason must be text';
  return null;
}

/**
 * The reason as it may go on a command line: letters, digits, spaces and . , : ( ) / _ + # = @ -
 * only (no quotes, backslashes or control characters, whatever the platform's argument parsing),
 * single spaces, no leading '-' or '/' that a shutdown command could take for an option, bounded.
 * Empty after cleaning: the default reason.
 */
export function sanitizeRebootReason(reason: unknown): string {
  const text = typeof reason === 'string' ? reason : '';
  const cleaned = text
    .replace(/[^A-Za-z0-9 .,:()/_+#=@-]/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/^[-/\s]+/, '')
    .slice(0, MAX_REBOOT_REASON_LENGTH)
    .trim();
  return cleaned === '' ? DEFAULT_REBOOT_REASON : cleaned;
}

/** Unix `shutdown +N` takes minutes: the request rounded up to whole minutes, at least one. */
export function wholeMinutes(delaySeconds: number): number {
  return Math.max(1, Math.ceil(delaySeconds / 60));
}

export interface RecordedReboot {
  delaySeconds: number;
  reason: string;
}

/**
 * A rebooter that restarts nothing: it records each request and answers as scripted (default:
 * scheduled, at `now` plus the delay). For tests, and for a dry run of the whole agent.
 */
export class RecordingRebooter implements Rebooter {
  readonly calls: RecordedReboot[] = [];
  /** Called inside schedule(), before it answers: tests look at the world at that moment. */
  onSchedule: ((req: RecordedReboot) => void) | undefined;

  constructor(
    private readonly options: {
      result?: RebootResult | ((req: RecordedReboot) => RebootResult);
      pending?: boolean | (() => Promise<boolean>);
      now?: () => Date;
    } = {},
  ) {}

  async schedule(opts: RebootRequest): Promise<RebootResult> {
    const req = { delaySeconds: opts.delaySeconds, reason: opts.reason };
    this.calls.push(req);
    this.onSchedule?.(req);
    const { result } = this.options;
    if (typeof result === 'function') return result(req);
    if (result) return result;
    const now = (this.options.now ?? (() => new Date()))();
    return {
      ok: true,
      scheduledAt: new Date(now.getTime() + opts.delaySeconds * 1000).toISOString(),
      delaySeconds: opts.delaySeconds,
      output: '(dry run: nothing was restarted)',
    };
  }

  async pending(): Promise<boolean> {
    const { pending } = this.options;
    return typeof pending === 'function' ? pending() : (pending ?? false);
  }
}

/**
 * Restarts turned off (BRIER_AGENT_REBOOT=off): never schedules, but still says whether a restart
 * is pending, so `rebootRequired` stays truthful.
 */
export class DisabledRebooter implements Rebooter {
  constructor(
    private readonly detect?: Pick<Rebooter, 'pending'>,
    private readonly why = 'restarts are turned off on this agent (BRIER_AGENT_REBOOT=off)',
  ) {}

  async schedule(_opts: RebootRequest): Promise<RebootResult> {
    return { ok: false, code: 'disabled', reason: this.why, output: '' };
  }

  pending(): Promise<boolean> {
    return this.detect ? this.detect.pending() : Promise.resolve(false);
  }
}

/** Runs the platform's shutdown command and turns what can go wrong into a RebootResult failure. */
export async function runRebootCommand(
  run: CommandRunner,
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<{ result: CommandResult; output: string } | Extract<RebootResult, { ok: false }>> {
  const line = `$ ${[cmd, ...args].join(' ')}`;
  try {
    const result = await run(cmd, args, { timeoutMs: REBOOT_COMMAND_TIMEOUT_MS, ...opts });
    const printed = [result.stdout.trim(), result.stderr.trim()].filter(Boolean).join('\n');
    return { result, output: printed ? `${line}\n${printed}\n` : `${line}\n` };
  } catch (error) {
    const output = `${line}\n${error instanceof Error ? error.message : String(error)}\n`;
    if (isNotFound(error)) return { ok: false, code: 'tool-missing', reason: `${cmd} is not installed`, output };
    if (error instanceof CommandError && error.code === 'ETIMEDOUT')
      return { ok: false, code: 'timeout', reason: `${cmd} did not finish in time`, output };
    return { ok: false, code: 'command-failed', reason: `${cmd} could not be run`, output };
  }
}

/** The first non-empty line of a command's stderr (or stdout), bounded, for a reason. */
export function firstLine(result: CommandResult): string {
  const line = `${result.stderr}\n${result.stdout}`.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 300);
}
