import { readFile } from 'node:fs/promises';
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

export interface ApkExecutorDeps {
  run: CommandRunner;
  env?: Readonly<Record<string, string>>;
  baseEnv?: NodeJS.ProcessEnv;
  installTimeoutMs?: number;
  /** Reads /etc/apk/world; null when it cannot be read. Injectable for tests. */
  readWorld?: () => Promise<string | null>;
}

const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;
const QUERY_TIMEOUT_MS = 5 * 60_000;
const WORLD = '/etc/apk/world';

// apk's version grammar, to split "name-1.2.3-r0" when the name itself contains hyphens.
const APK_VERSION_TAIL = /^[0-9]+(?:\.[0-9]+)*[a-z]?(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(?:~[0-9a-f]+)?(?:-r[0-9]+)?$/;
/** EAGAIN on apk's database lock, after --wait ran out. "Permission denied" is not busy. */
const BUSY = /Unable to lock database: Resource temporarily unavailable/;
const NO_SUCH = /^\s*(\S+) \(no such package\)/m;

/**
 * Versions of `names` from lines that start with "name-version": `apk list --installed`
 * ("busybox-1.36.1-r15 x86_64 {busybox} (GPL-2.0-only) [installed]", only lines marked installed
 * count) or, with `onlyInstalled` false, `apk version` ("busybox-1.36.1-r5   < 1.36.1-r15").
 */
export function parseApkInstalled(text: string, names: readonly string[], onlyInstalled = true): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (onlyInstalled && !line.includes('[installed]')) continue;
    const token = line.split(/\s+/)[0] ?? '';
    for (const name of names) {
      if (!token.startsWith(`${name}-`)) continue;
      const version = token.slice(name.length + 1);
      if (APK_VERSION_TAIL.test(version)) out.set(name, version);
    }
  }
  return out;
}

/**
 * apk, for Alpine. `apk add --upgrade --wait N -- name=version` (or `name` for latest); apk waits up
 * to N seconds for its database lock itself.
 *
 * `apk add name=version` also records "name=version" in /etc/apk/world, a pin that would hold the
 * package at that version through every later `apk upgrade`. When world listed the bare name before,
 * the pin is relaxed again with `apk add name`, which changes nothing installed. A package that was
 * only a dependency (not in world) keeps the pinned world entry; the output says so.
 */
export class ApkExecutor implements PackageExecutor {
  readonly ecosystem = 'apk' as const;

  constructor(private readonly deps: ApkExecutorDeps) {}

  upgrade(packages: readonly PackageRequest[], opts: UpgradeOptions): Promise<ExecutionResult> {
    return guardedUpgrade('apk', packages, opts, (log) => this.run(packages, opts, log));
  }

  private async installed(log: OutputTail, names: readonly string[]): Promise<Map<string, string>> {
    const result = await runStep(this.deps.run, log, 'apk', ['list', '--installed', '--', ...names], {
      env: this.env(),
      timeoutMs: QUERY_TIMEOUT_MS,
    });
    if (result.code !== 0)
      throw new StepFailed('command-failed', `apk list failed: ${errorLines(result.stderr, /ERROR/) || `exit ${result.code}`}`);
    return parseApkInstalled(result.stdout, names);
  }

  private env(): NodeJS.ProcessEnv {
    return toolEnvironment(this.deps.baseEnv ?? process.env, {}, this.deps.env);
  }

  private async run(packages: readonly PackageRequest[], opts: UpgradeOptions, log: OutputTail): Promise<ExecutionResult> {
    const { run } = this.deps;
    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');
    const names = packages.map((p) => p.name);
    const before = await this.installed(log, names);
    const missing = names.filter((n) => !before.has(n));
    if (missing.length) return failed(log, 'not-installed', `not installed, so not upgraded: ${missing.join(', ')}`);
    const world = new Set(((await (this.deps.readWorld ?? readWorldFile)()) ?? '').split('\n').map((l) => l.trim()));

    const wait = ['--wait', String(opts.lockTimeoutSeconds)];
    const specs = packages.map((p) => (p.version === null ? p.name : `${p.name}=${p.version}`));
    const timeoutMs = (this.deps.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS) + opts.lockTimeoutSeconds * 1000;
    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');
    const result = await runStep(run, log, 'apk', ['add', '--upgrade', ...wait, '--', ...specs], { env: this.env(), timeoutMs });
    const text = `${result.stdout}\n${result.stderr}`;
    if (result.code !== 0) {
      if (BUSY.test(text))
        return busy(log, `another package manager held the apk database lock for more than ${opts.lockTimeoutSeconds} s`);
      const noSuch = NO_SUCH.exec(text);
      if (noSuch) return failed(log, 'not-available', `not available in the configured repositories: ${noSuch[1]}`);
      return failed(log, 'command-failed', errorLines(text, /ERROR/) || `apk exited with code ${result.code}`);
    }

    const relax = packages.filter((p) => p.version !== null && world.has(p.name)).map((p) => p.name);
    if (relax.length) {
      const undo = await runStep(run, log, 'apk', ['add', ...wait, '--', ...relax], { env: this.env(), timeoutMs });
      if (undo.code !== 0) log.add(`note: could not relax the world pins of ${relax.join(', ')}`);
    }
    const kept = packages.filter((p) => p.version !== null && !world.has(p.name)).map((p) => `${p.name}=${p.version}`);
    if (kept.length) log.add(`note: /etc/apk/world now pins ${kept.join(', ')}`);

    const after = await this.installed(log, names);
    const installed: InstalledVersion[] = [];
    const mismatches: string[] = [];
    for (const p of packages) {
      const version = after.get(p.name);
      if (version) installed.push({ name: p.name, version });
      if (!version) mismatches.push(`${p.name} is no longer installed`);
      else if (p.version !== null && version !== p.version) mismatches.push(`${p.name} is at ${version}, not ${p.version}`);
    }
    const latest = packages.filter((p) => p.version === null).map((p) => p.name);
    if (latest.length) {
      // `apk version -l '<'` lists installed packages for which the indexes have something newer.
      const pending = await runStep(run, log, 'apk', ['version', '-l', '<', '--', ...latest], {
        env: this.env(),
        timeoutMs: QUERY_TIMEOUT_MS,
      });
      if (pending.code !== 0) throw new StepFailed('command-failed', 'apk version failed');
      const stale = parseApkInstalled(pending.stdout, latest, false);
      for (const name of stale.keys()) mismatches.push(`${name} still has a newer version available`);
    }
    // Alpine has no reboot-required convention; a kernel upgrade is the one case, and it is visible
    // as a new linux-* package whose version differs from the running kernel.
    const rebootRequired = packages.some((p) => p.name.startsWith('linux-') && before.get(p.name) !== after.get(p.name));
    if (mismatches.length) return failed(log, 'verify-mismatch', mismatches.join('; '), { installed, rebootRequired });
    return { status: 'succeeded', installed, rebootRequired, output: log.toString() };
  }
}

async function readWorldFile(): Promise<string | null> {
  return readFile(WORLD, 'utf8').catch(() => null);
}
