import { checkPackageName, compareVersions } from '@brier/protocol';
import type { ActionResult, PackageControl } from '../policy/ports.js';
import { AptExecutor, type AptExecutorDeps, DPKG_INTERRUPTED, isAptBusy, parseAptPolicy } from './apt.linux.js';
import { type ExecutionResult, errorLines, OutputTail, runStep, StepFailed } from './package-executor.js';

export interface AptControlDeps extends AptExecutorDeps {
  /** How long apt waits for another package manager's lock before the answer is 'busy'. Default 60 s. */
  lockTimeoutSeconds?: number;
  /**
   * Run `apt-get update` once when a package to install has no candidate: container images and
   * fresh installs ship without package lists. Default true.
   */
  updateWhenUnavailable?: boolean;
}

/** A request refused before any command: the name is outside Debian's grammar. */
export class PackageControlError extends Error {
  readonly code = 'invalid-request';
  constructor(message: string) {
    super(message);
    this.name = 'PackageControlError';
  }
}

const DEFAULT_LOCK_TIMEOUT_SECONDS = 60;
const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;
const QUERY_TIMEOUT_MS = 60_000;
/** Packages named in a refusal to remove: enough to see why, short enough for one line. */
const NAMES_SHOWN = 5;

/** `apt-get -s remove` prints one "Remv name [version]" line per package it would remove. */
export function parseSimulatedRemovals(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^Remv (\S+)/.exec(line);
    if (m?.[1]) names.push(m[1].replace(/:[a-z0-9-]+$/, ''));
  }
  return names;
}

function refusal(name: unknown): string | null {
  if (typeof name !== 'string') return 'the package name must be a string';
  const check = checkPackageName('dpkg', name);
  return check.ok ? null : check.reason;
}

function fromExecution(result: ExecutionResult): ActionResult {
  return {
    ok: false,
    code: result.status === 'busy' ? 'busy' : (result.code ?? 'command-failed'),
    detail: result.reason ?? 'the package manager failed',
  };
}

/**
 * Installs and removes single packages for policies with apt, sharing the deployment executor's
 * guards: Debian's name grammar before any command, the dpkg lock wait (DPkg::Lock::Timeout, then
 * 'busy'), repair of an interrupted dpkg, and a read-back of the package database afterwards.
 *
 * Only names apt itself lists reach `apt-get install`, always as `name=candidate`; only names dpkg
 * reports installed reach `apt-get remove`. Both are exact lookups for apt, so none of its other
 * readings of a name (regex, trailing +/-, name/suite) can apply. A removal that would take other
 * packages with it (reverse dependencies) is refused after a simulation: a policy saying "telnet
 * must be absent" must never uninstall half a desktop.
 */
export class AptControl implements PackageControl {
  private readonly apt: AptExecutor;
  private readonly lockTimeoutSeconds: number;

  constructor(private readonly deps: AptControlDeps) {
    this.apt = new AptExecutor(deps);
    this.lockTimeoutSeconds = deps.lockTimeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS;
  }

  async installedVersion(name: string): Promise<string | null> {
    const refused = refusal(name);
    if (refused) throw new PackageControlError(refused);
    const versions = (await this.apt.installedVersions()).get(name) ?? [];
    // Several architectures of one name: the oldest decides whether a minimum is met.
    return versions.reduce<string | null>((low, v) => (low === null || compareVersions('dpkg', v, low) < 0 ? v : low), null);
  }

  atLeast(installed: string, minimum: string): boolean {
    return compareVersions('dpkg', installed, minimum) >= 0;
  }

  install(name: string): Promise<ActionResult> {
    return this.guarded(name, (log) => this.installChecked(name, log));
  }

  remove(name: string): Promise<ActionResult> {
    return this.guarded(name, (log) => this.removeChecked(name, log));
  }

  private async guarded(name: string, action: (log: OutputTail) => Promise<ActionResult>): Promise<ActionResult> {
    const refused = refusal(name);
    if (refused) return { ok: false, code: 'invalid-request', detail: refused };
    const log = new OutputTail();
    try {
      const repaired = await this.apt.repairIfInterrupted(log, false);
      if (repaired) return fromExecution(repaired);
      return await action(log);
    } catch (error) {
      if (error instanceof StepFailed) return { ok: false, code: error.code, detail: error.message };
      throw error;
    }
  }

  private lockArgs(): string[] {
    return ['-o', `DPkg::Lock::Timeout=${this.lockTimeoutSeconds}`];
  }

  private timeoutMs(): number {
    return (this.deps.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS) + this.lockTimeoutSeconds * 1000;
  }

  private async candidate(name: string, log: OutputTail): Promise<string | null> {
    const result = await runStep(this.deps.run, log, 'apt-cache', [...this.apt.aptOptions, 'policy', '--', name], {
      env: this.apt.env,
      timeoutMs: QUERY_TIMEOUT_MS,
    });
    if (result.code !== 0)
      throw new StepFailed('command-failed', `apt-cache policy failed: ${errorLines(result.stderr, /^E:/) || `exit ${result.code}`}`);
    return parseAptPolicy(result.stdout).get(name)?.candidate ?? null;
  }

  /** apt-get install, with one repair and retry when dpkg says it was interrupted meanwhile. */
  private async runApt(args: readonly string[], log: OutputTail): Promise<{ code: number | null; text: string } | ActionResult> {
    let result = await runStep(this.deps.run, log, 'apt-get', args, { env: this.apt.env, timeoutMs: this.timeoutMs() });
    let text = `${result.stdout}\n${result.stderr}`;
    if (result.code !== 0 && DPKG_INTERRUPTED.test(text)) {
      const again = await this.apt.repairIfInterrupted(log, true);
      if (again) return fromExecution(again);
      result = await runStep(this.deps.run, log, 'apt-get', args, { env: this.apt.env, timeoutMs: this.timeoutMs() });
      text = `${result.stdout}\n${result.stderr}`;
    }
    if (result.code !== 0 && isAptBusy(text)) {
      return {
        ok: false,
        code: 'busy',
        detail: `another package manager held the dpkg lock for more than ${this.lockTimeoutSeconds} s`,
      };
    }
    return { code: result.code, text };
  }

  private async installChecked(name: string, log: OutputTail): Promise<ActionResult> {
    let candidate = await this.candidate(name, log);
    if (!candidate && (this.deps.updateWhenUnavailable ?? true)) {
      const update = await this.runApt([...this.apt.aptOptions, 'update', ...this.lockArgs()], log);
      if ('ok' in update) return update;
      candidate = await this.candidate(name, log);
    }
    if (!candidate) return { ok: false, code: 'not-available', detail: `no candidate version of ${name} in the configured sources` };
    const args = [
      ...this.apt.aptOptions,
      'install',
      '-y',
      ...this.lockArgs(),
      // Changed configuration files: take the maintainer's default where there is one, else keep the local file.
      '-o',
      'Dpkg::Options::=--force-confdef',
      '-o',
      'Dpkg::Options::=--force-confold',
      '--',
      `${name}=${candidate}`,
    ];
    const ran = await this.runApt(args, log);
    if ('ok' in ran) return ran;
    const after = (await this.apt.installedVersions()).get(name) ?? [];
    if (ran.code !== 0)
      return { ok: false, code: 'command-failed', detail: errorLines(ran.text, /^E:/) || `apt-get exited with code ${ran.code}` };
    if (!after.includes(candidate))
      return { ok: false, code: 'verify-mismatch', detail: `${name} is at ${after.join(', ') || 'nothing'} after installing ${candidate}` };
    return { ok: true, detail: `installed ${name} ${candidate}` };
  }

  private async removeChecked(name: string, log: OutputTail): Promise<ActionResult> {
    const before = (await this.apt.installedVersions()).get(name);
    if (!before?.length) return { ok: true, detail: `${name} is not installed` };
    const simulated = await runStep(this.deps.run, log, 'apt-get', [...this.apt.aptOptions, '-s', 'remove', '--', name], {
      env: this.apt.env,
      timeoutMs: QUERY_TIMEOUT_MS,
    });
    if (simulated.code !== 0) {
      const text = `${simulated.stdout}\n${simulated.stderr}`;
      return {
        ok: false,
        code: 'command-failed',
        detail: `apt-get -s remove failed: ${errorLines(text, /^E:/) || `exit ${simulated.code}`}`,
      };
    }
    const others = [...new Set(parseSimulatedRemovals(simulated.stdout).filter((n) => n !== name))];
    if (others.length) {
      const shown =
        others.slice(0, NAMES_SHOWN).join(', ') + (others.length > NAMES_SHOWN ? `, and ${others.length - NAMES_SHOWN} more` : '');
      return { ok: false, code: 'would-remove-others', detail: `removing ${name} would also remove ${shown}; not removed` };
    }
    const ran = await this.runApt([...this.apt.aptOptions, 'remove', '-y', ...this.lockArgs(), '--', name], log);
    if ('ok' in ran) return ran;
    const after = (await this.apt.installedVersions()).get(name) ?? [];
    if (ran.code !== 0)
      return { ok: false, code: 'command-failed', detail: errorLines(ran.text, /^E:/) || `apt-get exited with code ${ran.code}` };
    if (after.length) return { ok: false, code: 'verify-mismatch', detail: `${name} is still installed (${after.join(', ')})` };
    return { ok: true, detail: `removed ${name} ${before.join(', ')}` };
  }
}
