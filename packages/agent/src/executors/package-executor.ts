import { checkPackageName, checkVersion, type Ecosystem } from '@brier/protocol';
import { CommandError, type CommandResult, type CommandRunner, isNotFound, type RunOptions } from '../run-command.js';

/** One package to upgrade: to exactly `version`, or with `version: null` to the newest the host's sources offer. */
export interface PackageRequest {
  name: string;
  version: string | null;
}

export interface UpgradeOptions {
  /** Checked between steps only: killing a package manager mid-transaction is what breaks hosts. */
  signal?: AbortSignal;
  /** How long to wait for another package manager's lock before answering 'busy'. */
  lockTimeoutSeconds: number;
}

/**
 * 'busy': another process held the package manager's lock past the timeout; nothing was changed
 * and the same work should simply be retried later. Never reported as a failure of the package.
 */
export type ExecutionStatus = 'succeeded' | 'failed' | 'busy';

/** Stable reasons a run did not succeed, for the server to count and act on without parsing text. */
export type ExecutionFailure =
  | 'invalid-request'
  | 'not-installed'
  | 'not-available'
  | 'lock-busy'
  | 'repair-failed'
  | 'command-failed'
  | 'verify-mismatch'
  | 'tool-missing'
  | 'timeout'
  | 'aborted';

export interface InstalledVersion {
  name: string;
  version: string;
}

export interface ExecutionResult {
  status: ExecutionStatus;
  /** The requested packages' versions as read back from the package database after the change. */
  installed: InstalledVersion[];
  rebootRequired: boolean;
  /** The tail of what the commands printed, each preceded by its command line; at most OUTPUT_TAIL_CHARS. */
  output: string;
  code?: ExecutionFailure;
  reason?: string;
}

/** Every package manager behind one interface; platform files are `<tool>.<platform>.ts`. */
export interface PackageExecutor {
  readonly ecosystem: Ecosystem;
  upgrade(packages: readonly PackageRequest[], opts: UpgradeOptions): Promise<ExecutionResult>;
}

/** Enough output to see why apt or dnf failed, small enough for one report message. */
export const OUTPUT_TAIL_CHARS = 16 * 1024;
/** One deployment upgrades a handful of packages; hundreds means a mistake or an attack. */
export const MAX_PACKAGES_PER_RUN = 500;
/** An upper bound for lock waits so a bad value cannot park an executor for a day. */
export const MAX_LOCK_TIMEOUT_SECONDS = 3600;

/**
 * Checks every name and version against the ecosystem's grammar before any command is built, and the
 * request as a whole (not empty, no duplicates, a sane lock timeout). Returns the refusal, or null.
 */
export function refuseRequest(ecosystem: Ecosystem, packages: readonly PackageRequest[], opts: UpgradeOptions): string | null {
  if (!Array.isArray(packages) || packages.length === 0) return 'no packages were requested';
  if (packages.length > MAX_PACKAGES_PER_RUN) return `more than ${MAX_PACKAGES_PER_RUN} packages in one request`;
  const t = opts?.lockTimeoutSeconds;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > MAX_LOCK_TIMEOUT_SECONDS) {
    return `lockTimeoutSeconds must be a whole number from 0 to ${MAX_LOCK_TIMEOUT_SECONDS}`;
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  packages.forEach((p, i) => {
    const name = checkPackageName(ecosystem, p?.name);
    if (!name.ok) {
      problems.push(`package ${i + 1}: ${name.reason}`);
      return;
    }
    if (seen.has(p.name)) problems.push(`package ${i + 1}: ${p.name} is requested twice`);
    seen.add(p.name);
    if (p.version !== null) {
      const version = checkVersion(ecosystem, p.version);
      if (!version.ok) problems.push(`package ${i + 1} (${p.name}): ${version.reason}`);
    }
  });
  return problems.length ? problems.join('; ') : null;
}

/** Collects command lines and their output, keeping only the tail so a chatty upgrade stays bounded. */
export class OutputTail {
  private text = '';

  constructor(private readonly limit = OUTPUT_TAIL_CHARS) {}

  add(line: string): void {
    // Progress bars redraw with a bare CR; as lines they read in order and stay bounded.
    this.text = (this.text + line.replace(/\r\n?/g, '\n') + (line.endsWith('\n') ? '' : '\n')).slice(-this.limit);
  }

  command(cmd: string, args: readonly string[], result: CommandResult): void {
    this.add(`$ ${[cmd, ...args].join(' ')}`);
    if (result.stdout) this.add(result.stdout);
    if (result.stderr) this.add(result.stderr);
    if (result.code !== 0) this.add(result.code === null ? '(killed by a signal)' : `(exit code ${result.code})`);
  }

  toString(): string {
    return this.text;
  }
}

/** A command that could not run at all (missing binary, timeout, output flood), as a result. */
export class StepFailed extends Error {
  constructor(
    readonly code: ExecutionFailure,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'StepFailed';
  }
}

/** Runs one step and logs it; a runner error becomes StepFailed with the matching code. */
export async function runStep(
  run: CommandRunner,
  log: OutputTail,
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<CommandResult> {
  try {
    const result = await run(cmd, args, opts);
    log.command(cmd, args, result);
    return result;
  } catch (error) {
    log.add(`$ ${[cmd, ...args].join(' ')}`);
    log.add(error instanceof Error ? error.message : String(error));
    if (isNotFound(error)) throw new StepFailed('tool-missing', `${cmd} is not installed`, { cause: error });
    if (error instanceof CommandError && error.code === 'ETIMEDOUT')
      throw new StepFailed('timeout', `${cmd} did not finish in time`, { cause: error });
    throw new StepFailed('command-failed', `${cmd} could not be run`, { cause: error });
  }
}

export function failed(log: OutputTail, code: ExecutionFailure, reason: string, extra: Partial<ExecutionResult> = {}): ExecutionResult {
  return { status: 'failed', installed: [], rebootRequired: false, output: log.toString(), code, reason, ...extra };
}

export function busy(log: OutputTail, reason: string, extra: Partial<ExecutionResult> = {}): ExecutionResult {
  return { status: 'busy', installed: [], rebootRequired: false, output: log.toString(), code: 'lock-busy', reason, ...extra };
}

/** Turns a StepFailed into a result; anything else is a bug and propagates. */
export function stepFailure(log: OutputTail, error: unknown): ExecutionResult {
  if (error instanceof StepFailed) return failed(log, error.code, error.message);
  throw error;
}

/** The first lines a tool marked as errors, to quote in a reason without the whole transcript. */
export function errorLines(text: string, pattern: RegExp, max = 3): string {
  return text
    .split(/\r?\n/)
    .filter((l) => pattern.test(l))
    .slice(0, max)
    .join(' / ');
}

/** Environment for package managers: the agent's own plus `extra`; tools print English so messages can be matched. */
export function toolEnvironment(
  base: NodeJS.ProcessEnv,
  fixed: Record<string, string>,
  extra: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  return { ...base, LC_ALL: 'C', LANG: 'C', ...fixed, ...extra };
}

/** Time for executors that poll a lock themselves; injected so tests do not wait. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** How often a tool that fails at once on a held lock (dnf5, winget) is tried again while the lock timeout lasts. */
export const LOCK_RETRY_INTERVAL_MS = 2_000;

/**
 * Runs `attempt` until it is not busy, the lock timeout is used up or the signal fires, and returns
 * the last result. For tools that do not wait for their lock themselves.
 */
export async function retryWhileBusy<T>(
  attempt: () => Promise<T>,
  isBusy: (result: T) => boolean,
  timeoutSeconds: number,
  clock: Clock,
  signal?: AbortSignal,
): Promise<T> {
  const deadline = clock.now() + timeoutSeconds * 1000;
  for (;;) {
    const result = await attempt();
    const left = deadline - clock.now();
    if (!isBusy(result) || left <= 0 || signal?.aborted) return result;
    await clock.sleep(Math.min(LOCK_RETRY_INTERVAL_MS, left));
  }
}

/**
 * The frame every executor's `upgrade` shares: refuse a request that fails the grammar before any
 * command is built, and turn a failed step into a result instead of an exception.
 */
export async function guardedUpgrade(
  ecosystem: Ecosystem,
  packages: readonly PackageRequest[],
  opts: UpgradeOptions,
  run: (log: OutputTail) => Promise<ExecutionResult>,
): Promise<ExecutionResult> {
  const log = new OutputTail();
  const refusal = refuseRequest(ecosystem, packages, opts);
  if (refusal) return failed(log, 'invalid-request', refusal);
  try {
    return await run(log);
  } catch (error) {
    return stepFailure(log, error);
  }
}
