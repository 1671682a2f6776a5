import type { CommandResult, CommandRunner } from '../run-command.js';
import {
  busy,
  type Clock,
  type ExecutionResult,
  errorLines,
  failed,
  guardedUpgrade,
  type InstalledVersion,
  type OutputTail,
  type PackageExecutor,
  type PackageRequest,
  retryWhileBusy,
  runStep,
  StepFailed,
  systemClock,
  toolEnvironment,
  type UpgradeOptions,
} from './package-executor.js';
import { queryRpm, rpmVersionMatches } from './rpm-query.linux.js';

export interface DnfExecutorDeps {
  run: CommandRunner;
  /** 'dnf' (Fedora, RHEL 8+); 'yum' on hosts where that is dnf 4 under its old name. */
  command?: string;
  env?: Readonly<Record<string, string>>;
  baseEnv?: NodeJS.ProcessEnv;
  clock?: Clock;
  installTimeoutMs?: number;
}

const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;
const QUERY_TIMEOUT_MS = 5 * 60_000;

/**
 * dnf 4 with exit_on_lock: "RPMDB already locked by 1234" (also cachedir/metadata/log locks).
 * dnf 5, which never waits: "Failed to obtain rpm transaction lock. Another transaction is in progress."
 */
const BUSY = [/\balready locked by \d+/, /Failed to obtain rpm transaction lock/];
const NO_MATCH = /^No match for argument: (.+)$/m;

function isBusy(result: CommandResult): boolean {
  const text = `${result.stdout}\n${result.stderr}`;
  return result.code !== 0 && BUSY.some((re) => re.test(text));
}

/**
 * dnf (4 and 5) and rpm, for Fedora, RHEL and derivatives. Pinned versions go to dnf as
 * `name-version` (a NEVRA dnf matches against the installed name, so the version part cannot be read
 * as part of another package's name); "latest" as the bare name. Afterwards rpm -q reads the
 * versions back, and for "latest" `dnf repoquery --upgrades` must find nothing newer left.
 *
 * dnf 4 would wait for a held lock forever; with exit_on_lock it fails at once like dnf 5, and this
 * executor retries for lockTimeoutSeconds before answering 'busy'.
 */
export class DnfExecutor implements PackageExecutor {
  readonly ecosystem = 'rpm' as const;
  private readonly command: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly clock: Clock;
  private major: 4 | 5 | null = null;

  constructor(private readonly deps: DnfExecutorDeps) {
    this.command = deps.command ?? 'dnf';
    this.env = toolEnvironment(deps.baseEnv ?? process.env, {}, deps.env);
    this.clock = deps.clock ?? systemClock;
  }

  upgrade(packages: readonly PackageRequest[], opts: UpgradeOptions): Promise<ExecutionResult> {
    return guardedUpgrade('rpm', packages, opts, (log) => this.run(packages, opts, log));
  }

  private async version(log: OutputTail): Promise<4 | 5> {
    if (this.major === null) {
      const result = await runStep(this.deps.run, log, this.command, ['--version'], { env: this.env, timeoutMs: QUERY_TIMEOUT_MS });
      if (result.code !== 0) throw new StepFailed('command-failed', `${this.command} --version failed`);
      // dnf 5 names itself ("dnf5 version 5.1.17"); dnf 4 prints its bare version first ("4.14.0").
      this.major = /\bdnf5\b/.test(result.stdout) || /^5\./.test(result.stdout.trim()) ? 5 : 4;
    }
    return this.major;
  }

  private async run(packages: readonly PackageRequest[], opts: UpgradeOptions, log: OutputTail): Promise<ExecutionResult> {
    const { run } = this.deps;
    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');
    const names = packages.map((p) => p.name);
    const before = await queryRpm(run, log, names);
    if (before.missing.length) return failed(log, 'not-installed', `not installed, so not upgraded: ${before.missing.join(', ')}`);

    const major = await this.version(log);
    const specs = packages.map((p) => (p.version === null ? p.name : `${p.name}-${p.version}`));
    const args = ['-y', ...(major === 4 ? ['--setopt=exit_on_lock=True'] : []), 'upgrade', '--', ...specs];
    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');
    const timeoutMs = this.deps.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS;
    const result = await retryWhileBusy(
      () => runStep(run, log, this.command, args, { env: this.env, timeoutMs }),
      isBusy,
      opts.lockTimeoutSeconds,
      this.clock,
      opts.signal,
    );
    const text = `${result.stdout}\n${result.stderr}`;
    if (isBusy(result)) return busy(log, `another package manager held the rpm/dnf lock for more than ${opts.lockTimeoutSeconds} s`);
    if (result.code !== 0) {
      const noMatch = NO_MATCH.exec(text);
      if (noMatch) return failed(log, 'not-available', `not available in the enabled repositories: ${noMatch[1]}`);
      return failed(
        log,
        'command-failed',
        errorLines(text, /^(Error|Problem|Transaction failed)/) || `${this.command} exited with code ${result.code}`,
      );
    }

    const after = await queryRpm(run, log, names);
    const installed: InstalledVersion[] = [];
    const mismatches: string[] = [];
    for (const p of packages) {
      const versions = after.versions.get(p.name) ?? [];
      for (const version of versions) installed.push({ name: p.name, version });
      // "Some": installonly packages (kernels) keep older versions installed beside the new one.
      if (p.version !== null && !versions.some((v) => rpmVersionMatches(p.version as string, v))) {
        mismatches.push(`${p.name} is at ${versions.join(', ') || 'nothing'}, not ${p.version}`);
      }
    }
    const latest = packages.filter((p) => p.version === null).map((p) => p.name);
    if (latest.length) {
      const pending = await this.pendingUpgrades(log, latest);
      for (const name of pending) mismatches.push(`${name} still has a newer version available`);
    }
    const rebootRequired = await this.needsReboot(log);
    if (mismatches.length) return failed(log, 'verify-mismatch', mismatches.join('; '), { installed, rebootRequired });
    return { status: 'succeeded', installed, rebootRequired, output: log.toString() };
  }

  /** Names among `names` that the (cached) metadata still offers an upgrade for. */
  private async pendingUpgrades(log: OutputTail, names: readonly string[]): Promise<string[]> {
    const args = ['-q', '-C', 'repoquery', '--upgrades', '--queryformat', '%{name}\\n', '--', ...names];
    const result = await runStep(this.deps.run, log, this.command, args, { env: this.env, timeoutMs: QUERY_TIMEOUT_MS });
    if (result.code !== 0) throw new StepFailed('command-failed', `${this.command} repoquery --upgrades failed`);
    const listed = new Set(result.stdout.split(/\s+/).filter(Boolean));
    return names.filter((n) => listed.has(n));
  }

  /** `needs-restarting -r` exits 1 when a reboot is needed, 0 when not; anything else means "cannot tell". */
  private async needsReboot(log: OutputTail): Promise<boolean> {
    try {
      const result = await runStep(this.deps.run, log, this.command, ['needs-restarting', '-r'], {
        env: this.env,
        timeoutMs: QUERY_TIMEOUT_MS,
      });
      return result.code === 1 && /Reboot is required/i.test(result.stdout);
    } catch (error) {
      if (error instanceof StepFailed) return false;
      throw error;
    }
  }
}
