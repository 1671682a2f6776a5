import { access } from 'node:fs/promises';
import path from 'node:path';
import type { RawPackage } from '../collectors/normalize-packages.js';
import { collectDpkg } from '../collectors/packages/dpkg.js';
import { type CommandRunner, isNotFound } from '../run-command.js';
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

export interface AptExecutorDeps {
  run: CommandRunner;
  /** The root dpkg manages (`dpkg --root`); '/' on a real host. Reboot flags are read beneath it too. */
  root?: string;
  /** dpkg's database; default <root>/var/lib/dpkg. */
  admindir?: string;
  /** Extra argv for apt-get/apt-cache, e.g. the sandbox's ['-o', 'Dir=...']; trusted configuration, never request data. */
  aptOptions?: readonly string[];
  /** Extra argv for dpkg run directly (the repair), e.g. ['--root=...']. Default: --root when root is not '/'. */
  dpkgOptions?: readonly string[];
  /** Variables added to every command's environment (the sandbox's APT_CONFIG). */
  env?: Readonly<Record<string, string>>;
  /** The environment to start from; default the agent's own. */
  baseEnv?: NodeJS.ProcessEnv;
  /** How long apt-get may run once it has the lock (downloads included). Default 30 minutes. */
  installTimeoutMs?: number;
  /** Whether a file exists; injectable so tests can fake /run. */
  fileExists?: (file: string) => Promise<boolean>;
}

const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;
// apt-cache and dpkg --audit only read; a minute is plenty even on a slow disk.
const QUERY_TIMEOUT_MS = 60_000;

/**
 * What apt and dpkg print when someone else holds one of their locks: the dpkg frontend lock and
 * the database lock (waited for up to DPkg::Lock::Timeout), and the archives lock (not waited for).
 * Checked against apt 2.6 and dpkg 1.21 in the sandbox tests.
 */
const BUSY = [
  /Could not get lock /,
  /Unable to acquire the dpkg frontend lock/,
  /Unable to lock the administration directory/,
  /Unable to lock directory /,
  /dpkg frontend lock (?:was|is) locked by another process/,
  /dpkg status database is locked by another process/,
];
/** What apt prints when dpkg's journal holds an unfinished run (repair with `dpkg --configure -a`). */
export const DPKG_INTERRUPTED = /dpkg was interrupted, you must manually run/;

const fileExistsDefault = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

/** Whether apt or dpkg said another process holds one of their locks. */
export function isAptBusy(text: string): boolean {
  return BUSY.some((re) => re.test(text));
}

/**
 * `apt-cache policy` sections, keyed by the exact package name they are printed for:
 *   hello:
 *     Installed: 1.0
 *     Candidate: 3.0
 * Only exact names count; apt may print other packages for a name it read as a pattern.
 */
export function parseAptPolicy(text: string): Map<string, { installed: string | null; candidate: string | null }> {
  const out = new Map<string, { installed: string | null; candidate: string | null }>();
  let current: { installed: string | null; candidate: string | null } | null = null;
  for (const line of text.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head?.[1]) {
      current = { installed: null, candidate: null };
      out.set(head[1], current);
      continue;
    }
    const field = /^\s+(Installed|Candidate):\s*(\S+)\s*$/.exec(line);
    if (field && current) {
      const value = field[2] === '(none)' ? null : (field[2] ?? null);
      if (field[1] === 'Installed') current.installed = value;
      else current.candidate = value;
    }
  }
  return out;
}

/**
 * apt + dpkg, for Debian and Ubuntu. One run:
 *   1. refuse anything outside Debian's grammar (no command is built before this);
 *   2. repair an interrupted dpkg (`dpkg --audit` says so) with `dpkg --configure -a`;
 *   3. read installed versions; refuse packages that are not installed (an upgrade never installs);
 *   4. resolve "latest" to apt's candidate, so every argument is `name=version`;
 *   5. apt-get install --only-upgrade, waiting DPkg::Lock::Timeout for the lock;
 *   6. read the installed versions again: succeeded only if each is exactly the target.
 *
 * Only names dpkg reports installed reach apt, always as `name=version`: apt looks a name up exactly
 * first, so none of its other readings can apply (a name with '.' as a regex, a trailing '+' or '-'
 * as install/remove, `name/suite`). Packages are upgraded for every installed architecture of that
 * name; a Multi-Arch: same library left behind on one architecture fails verification.
 */
export class AptExecutor implements PackageExecutor {
  readonly ecosystem = 'dpkg' as const;
  private readonly root: string;
  private readonly admindir: string;
  /** apt's argv prefix, dpkg's and the tools' environment; shared with AptControl (apt-control.linux.ts). */
  readonly aptOptions: readonly string[];
  readonly dpkgOptions: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  private readonly fileExists: (file: string) => Promise<boolean>;

  constructor(private readonly deps: AptExecutorDeps) {
    this.root = deps.root ?? '/';
    this.admindir = deps.admindir ?? path.join(this.root, 'var/lib/dpkg');
    this.aptOptions = deps.aptOptions ?? [];
    this.dpkgOptions = deps.dpkgOptions ?? (this.root === '/' ? [] : [`--root=${this.root}`]);
    this.env = toolEnvironment(
      deps.baseEnv ?? process.env,
      {
        // No debconf questions; a package that insists gets its default answer.
        DEBIAN_FRONTEND: 'noninteractive',
        // apt-listchanges would otherwise open a pager or wait for a confirmation.
        APT_LISTCHANGES_FRONTEND: 'none',
        // ucf-managed configuration files: keep the local version, like --force-confold for dpkg's own.
        UCF_FORCE_CONFFOLD: '1',
      },
      deps.env,
    );
    this.fileExists = deps.fileExists ?? fileExistsDefault;
  }

  upgrade(packages: readonly PackageRequest[], opts: UpgradeOptions): Promise<ExecutionResult> {
    return guardedUpgrade('dpkg', packages, opts, (log) => this.run(packages, opts, log));
  }

  private async run(packages: readonly PackageRequest[], opts: UpgradeOptions, log: OutputTail): Promise<ExecutionResult> {
    const { run } = this.deps;
    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');

    const repaired = await this.repairIfInterrupted(log, false);
    if (repaired) return repaired;

    const before = await this.installedVersions();
    const missing = packages.filter((p) => !before.has(p.name));
    if (missing.length) {
      return failed(log, 'not-installed', `not installed, so not upgraded: ${missing.map((p) => p.name).join(', ')}`);
    }

    const targets = new Map<string, string>();
    const latest = packages.filter((p) => p.version === null).map((p) => p.name);
    if (latest.length) {
      const args = [...this.aptOptions, 'policy', '--', ...latest];
      const result = await runStep(run, log, 'apt-cache', args, { env: this.env, timeoutMs: QUERY_TIMEOUT_MS });
      if (result.code !== 0)
        return failed(log, 'command-failed', `apt-cache policy failed: ${errorLines(result.stderr, /^E:/) || `exit ${result.code}`}`);
      const policy = parseAptPolicy(result.stdout);
      const unavailable = latest.filter((name) => !policy.get(name)?.candidate);
      if (unavailable.length)
        return failed(log, 'not-available', `no candidate version in the configured sources: ${unavailable.join(', ')}`);
      for (const name of latest) targets.set(name, policy.get(name)?.candidate as string);
    }
    for (const p of packages) if (p.version !== null) targets.set(p.name, p.version);

    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');
    const args = [
      ...this.aptOptions,
      'install',
      '--only-upgrade',
      '-y',
      '-o',
      `DPkg::Lock::Timeout=${opts.lockTimeoutSeconds}`,
      // Changed configuration files: take the maintainer's default where there is one, else keep the local file.
      '-o',
      'Dpkg::Options::=--force-confdef',
      '-o',
      'Dpkg::Options::=--force-confold',
      '--',
      ...[...targets].map(([name, version]) => `${name}=${version}`),
    ];
    const timeoutMs = (this.deps.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS) + opts.lockTimeoutSeconds * 1000;
    let result = await runStep(run, log, 'apt-get', args, { env: this.env, timeoutMs });
    let text = `${result.stdout}\n${result.stderr}`;
    if (result.code !== 0 && DPKG_INTERRUPTED.test(text)) {
      // dpkg's journal was left behind after --audit looked (or it said nothing); repair once and retry.
      const again = await this.repairIfInterrupted(log, true);
      if (again) return again;
      result = await runStep(run, log, 'apt-get', args, { env: this.env, timeoutMs });
      text = `${result.stdout}\n${result.stderr}`;
    }
    if (result.code !== 0 && isAptBusy(text)) {
      return busy(log, `another package manager held the dpkg lock for more than ${opts.lockTimeoutSeconds} s: ${errorLines(text, /^E:/)}`);
    }

    const after = await this.installedVersions();
    const installed: InstalledVersion[] = [];
    const mismatches: string[] = [];
    for (const [name, target] of targets) {
      const versions = after.get(name) ?? [];
      for (const version of new Set(versions)) installed.push({ name, version });
      if (versions.length === 0) mismatches.push(`${name} is no longer installed and configured`);
      else if (versions.some((v) => v !== target)) mismatches.push(`${name} is at ${[...new Set(versions)].join(', ')}, not ${target}`);
    }
    const rebootRequired = await this.fileExists(path.join(this.root, 'run/reboot-required'));
    if (result.code !== 0) {
      const why = errorLines(text, /^E:/) || `apt-get exited with code ${result.code}`;
      return failed(log, 'command-failed', why, { installed, rebootRequired });
    }
    if (mismatches.length) return failed(log, 'verify-mismatch', mismatches.join('; '), { installed, rebootRequired });
    return { status: 'succeeded', installed, rebootRequired, output: log.toString() };
  }

  /**
   * `dpkg --audit` prints the packages an interrupted run left half-done (and exits 0 either way);
   * `dpkg --configure -a` finishes them. Returns a result only when the repair could not be done.
   * Also used by AptControl before it installs or removes.
   */
  async repairIfInterrupted(log: OutputTail, force: boolean): Promise<ExecutionResult | null> {
    const { run } = this.deps;
    if (!force) {
      const audit = await runStep(run, log, 'dpkg', [...this.dpkgOptions, '--audit'], { env: this.env, timeoutMs: QUERY_TIMEOUT_MS });
      if (audit.stdout.trim() === '' && audit.code === 0) return null;
    }
    const args = [...this.dpkgOptions, '--force-confdef', '--force-confold', '--configure', '-a'];
    const result = await runStep(run, log, 'dpkg', args, {
      env: this.env,
      timeoutMs: this.deps.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS,
    });
    const text = `${result.stdout}\n${result.stderr}`;
    if (result.code === 0) return null;
    if (isAptBusy(text))
      return busy(log, 'another package manager holds the dpkg lock, so the interrupted dpkg run could not be repaired yet');
    return failed(log, 'repair-failed', `dpkg --configure -a failed: ${errorLines(text, /^dpkg: error/) || `exit ${result.code}`}`);
  }

  /** Configured packages by name: every installed architecture's version. Also used by AptControl. */
  async installedVersions(): Promise<Map<string, string[]>> {
    let entries: RawPackage[];
    try {
      entries = await collectDpkg(this.deps.run, { admindir: this.admindir });
    } catch (error) {
      throw new StepFailed(isNotFound(error) ? 'tool-missing' : 'command-failed', 'dpkg-query could not read the installed packages', {
        cause: error,
      });
    }
    const byName = new Map<string, string[]>();
    for (const e of entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e.version]);
    return byName;
  }
}
