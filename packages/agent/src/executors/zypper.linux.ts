import { access } from 'node:fs/promises';
import type { CommandRunner } from '../run-command.js';
import {
  busy,
  type ExecutionResult,
  errorLines,
  failed,
  guardedUpgrade,
  type InstalledVersion,
  type OutputTail,
  type PackageExecutor,
  type PackageRequest,
  runStep,
  StepFailed,
  toolEnvironment,
  type UpgradeOptions,
} from './package-executor.js';
import { queryRpm, rpmVersionMatches } from './rpm-query.linux.js';

export interface ZypperExecutorDeps {
  run: CommandRunner;
  env?: Readonly<Record<string, string>>;
  baseEnv?: NodeJS.ProcessEnv;
  installTimeoutMs?: number;
  fileExists?: (file: string) => Promise<boolean>;
}

const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;
const QUERY_TIMEOUT_MS = 5 * 60_000;

/** zypper's documented exit codes (zypper(8), EXIT CODES) that this executor acts on. */
export const ZYPPER_EXIT = {
  ZYPP_LOCKED: 7,
  INF_REBOOT_NEEDED: 102,
  INF_RESTART_NEEDED: 103,
  INF_CAP_NOT_FOUND: 104,
} as const;

/** zypper writes this when an installed update asks for a reboot (as does `needs-rebooting`). */
const REBOOT_FLAG = '/run/reboot-needed';

const fileExistsDefault = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

/** Package names from `zypper list-updates`' table ("S | Repository | Name | Current Version | ..."). */
export function parseZypperListUpdates(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const cols = line.split('|').map((c) => c.trim());
    if (cols.length < 6 || cols[2] === 'Name' || /^-+\+/.test(line)) continue;
    if (cols[2]) names.push(cols[2]);
  }
  return names;
}

/**
 * zypper and rpm, for SUSE and openSUSE. "latest" is `zypper update -- name`; a pinned version is
 * `zypper install -- name=version`, because update takes package names while install takes a
 * versioned capability, and for an installed package that is an upgrade (a downgrade would need
 * --oldpackage, which is not given). zypper waits ZYPP_LOCK_TIMEOUT seconds for its lock itself.
 */
export class ZypperExecutor implements PackageExecutor {
  readonly ecosystem = 'rpm' as const;
  private readonly fileExists: (file: string) => Promise<boolean>;

  constructor(private readonly deps: ZypperExecutorDeps) {
    this.fileExists = deps.fileExists ?? fileExistsDefault;
  }

  upgrade(packages: readonly PackageRequest[], opts: UpgradeOptions): Promise<ExecutionResult> {
    return guardedUpgrade('rpm', packages, opts, (log) => this.run(packages, opts, log));
  }

  private async run(packages: readonly PackageRequest[], opts: UpgradeOptions, log: OutputTail): Promise<ExecutionResult> {
    const { run } = this.deps;
    const env = toolEnvironment(this.deps.baseEnv ?? process.env, { ZYPP_LOCK_TIMEOUT: String(opts.lockTimeoutSeconds) }, this.deps.env);
    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');
    const names = packages.map((p) => p.name);
    const before = await queryRpm(run, log, names);
    if (before.missing.length) return failed(log, 'not-installed', `not installed, so not upgraded: ${before.missing.join(', ')}`);

    const timeoutMs = (this.deps.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS) + opts.lockTimeoutSeconds * 1000;
    let rebootRequired = false;
    const pinned = packages.filter((p) => p.version !== null);
    const latest = packages.filter((p) => p.version === null);
    // Global options first (zypper reads them only before the command), then the command's own.
    const commands: string[][] = [];
    if (latest.length) commands.push(['--non-interactive', 'update', '--auto-agree-with-licenses', '--', ...latest.map((p) => p.name)]);
    if (pinned.length)
      commands.push(['--non-interactive', 'install', '--auto-agree-with-licenses', '--', ...pinned.map((p) => `${p.name}=${p.version}`)]);
    for (const args of commands) {
      if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before all packages were upgraded');
      const result = await runStep(run, log, 'zypper', args, { env, timeoutMs });
      const text = `${result.stdout}\n${result.stderr}`;
      if (result.code === ZYPPER_EXIT.ZYPP_LOCKED) {
        return busy(
          log,
          `another package manager held the zypp lock for more than ${opts.lockTimeoutSeconds} s: ${errorLines(text, /locked/)}`,
        );
      }
      if (result.code === ZYPPER_EXIT.INF_CAP_NOT_FOUND) {
        return failed(log, 'not-available', errorLines(text, /not found|No provider/i) || 'a requested version is not available');
      }
      if (result.code === ZYPPER_EXIT.INF_REBOOT_NEEDED) rebootRequired = true;
      else if (result.code !== 0 && result.code !== ZYPPER_EXIT.INF_RESTART_NEEDED) {
        return failed(log, 'command-failed', errorLines(text, /^(Problem|Error|ERROR)/) || `zypper exited with code ${result.code}`);
      }
    }

    const after = await queryRpm(run, log, names);
    const installed: InstalledVersion[] = [];
    const mismatches: string[] = [];
    for (const p of packages) {
      const versions = after.versions.get(p.name) ?? [];
      for (const version of versions) installed.push({ name: p.name, version });
      if (p.version !== null && !versions.some((v) => rpmVersionMatches(p.version as string, v))) {
        mismatches.push(`${p.name} is at ${versions.join(', ') || 'nothing'}, not ${p.version}`);
      }
    }
    if (latest.length) {
      const list = await runStep(run, log, 'zypper', ['--non-interactive', '--no-refresh', 'list-updates'], {
        env,
        timeoutMs: QUERY_TIMEOUT_MS,
      });
      if (list.code !== 0) throw new StepFailed('command-failed', 'zypper list-updates failed');
      const pending = new Set(parseZypperListUpdates(list.stdout));
      for (const p of latest) if (pending.has(p.name)) mismatches.push(`${p.name} still has a newer version available`);
    }
    rebootRequired ||= await this.fileExists(REBOOT_FLAG);
    if (mismatches.length) return failed(log, 'verify-mismatch', mismatches.join('; '), { installed, rebootRequired });
    return { status: 'succeeded', installed, rebootRequired, output: log.toString() };
  }
}
