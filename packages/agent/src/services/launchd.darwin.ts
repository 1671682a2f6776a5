import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ActionResult, ServiceManager, ServiceState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, failed, firstLineOf, judgeExit, succeeded } from './action-result.js';
import { assertServiceName, isValidServiceName, refusedName } from './service-name.js';

export interface LaunchdServiceManagerDeps {
  run: CommandRunner;
  /** Default `launchctl`. */
  command?: string;
  /** Where job definitions for jobs that are not loaded are looked for, in order. */
  daemonDirs?: readonly string[];
  /** Default: stat says it is a file. */
  fileExists?: (file: string) => Promise<boolean>;
}

const QUERY_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 120_000;
/** launchctl's exit code for "Could not find service … in domain for system" (ESRCH-like, EX_… 113). */
export const LAUNCHCTL_NOT_FOUND = 113;
const DEFAULT_DAEMON_DIRS = ['/Library/LaunchDaemons', '/System/Library/LaunchDaemons'];

/**
 * The job's own `state = …` and `pid = …` in `launchctl print` output. Only lines indented by one
 * tab belong to the job; nested blocks (endpoints, event triggers) have their own `state` lines.
 */
export function parseLaunchctlPrint(text: string): { state: string | null; pid: number | null; path: string | null } {
  const state = /^\tstate = (.+)$/m.exec(text)?.[1]?.trim() ?? null;
  const pid = /^\tpid = (\d+)$/m.exec(text)?.[1];
  const plist = /^\tpath = (.+)$/m.exec(text)?.[1]?.trim() ?? null;
  return { state, pid: pid ? Number(pid) : null, path: plist };
}

/**
 * `launchctl print-disabled system`: `"label" => disabled|enabled` (macOS 11+), `=> true|false`
 * on older systems, where true means disabled. Labels not listed keep the default: enabled.
 */
export function parsePrintDisabled(text: string): Map<string, boolean> {
  const disabled = new Map<string, boolean>();
  for (const match of text.matchAll(/^\s*"([^"]+)"\s*=>\s*(disabled|enabled|true|false)\s*$/gm)) {
    disabled.set(match[1] as string, match[2] === 'disabled' || match[2] === 'true');
  }
  return disabled;
}

/**
 * launchd jobs in the system domain: `launchctl print system/LABEL` to read, `kickstart` to start
 * (after `bootstrap` from /Library/LaunchDaemons when the job is not loaded), `enable` for boot.
 * A label is passed as part of one argv element (`system/LABEL`), never through a shell.
 */
export class LaunchdServiceManager implements ServiceManager {
  readonly kind = 'launchd';
  private readonly command: string;
  private readonly daemonDirs: readonly string[];
  private readonly fileExists: (file: string) => Promise<boolean>;

  constructor(private readonly deps: LaunchdServiceManagerDeps) {
    this.command = deps.command ?? 'launchctl';
    this.daemonDirs = deps.daemonDirs ?? DEFAULT_DAEMON_DIRS;
    this.fileExists =
      deps.fileExists ??
      ((file) =>
        stat(file).then(
          (s) => s.isFile(),
          () => false,
        ));
  }

  private async definition(name: string): Promise<string | null> {
    for (const dir of this.daemonDirs) {
      const file = path.posix.join(dir, `${name}.plist`);
      if (await this.fileExists(file)) return file;
    }
    return null;
  }

  async status(name: string): Promise<ServiceState> {
    assertServiceName(name);
    const print = await this.deps.run(this.command, ['print', `system/${name}`], { timeoutMs: QUERY_TIMEOUT_MS });
    if (print.code !== 0) {
      const plist = await this.definition(name);
      const why = print.code === LAUNCHCTL_NOT_FOUND ? 'not loaded' : `launchctl print failed (exit ${print.code}): ${firstLineOf(print)}`;
      return {
        exists: plist !== null,
        running: false,
        enabled: plist ? await this.enabledAtBoot(name) : null,
        detail: `launchd: ${why}${plist ? `; defined in ${plist}` : ''}`,
      };
    }
    const job = parseLaunchctlPrint(print.stdout);
    return {
      exists: true,
      running: job.state === 'running',
      enabled: await this.enabledAtBoot(name),
      detail: `launchd: ${job.state ?? 'state unknown'}${job.pid ? `, pid ${job.pid}` : ''}`,
    };
  }

  private async enabledAtBoot(name: string): Promise<boolean | null> {
    const result = await this.deps.run(this.command, ['print-disabled', 'system'], { timeoutMs: QUERY_TIMEOUT_MS }).catch(() => null);
    if (result?.code !== 0) return null;
    const disabled = parsePrintDisabled(result.stdout).get(name);
    return disabled === undefined ? true : !disabled;
  }

  async start(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    const before = await this.status(name);
    if (before.running) return succeeded(`${name} is already running (${before.detail})`);
    if (!before.exists) return failed('not-found', `no launchd job ${name} (${before.detail})`);
    if (before.detail.includes('not loaded')) {
      const plist = await this.definition(name);
      if (!plist) return failed('not-found', `no launchd job ${name}`);
      const boot = await attempt(this.deps.run, this.command, ['bootstrap', 'system', plist], { timeoutMs: START_TIMEOUT_MS });
      if (boot.failure) return boot.failure;
      const judged = judgeExit('launchctl bootstrap', '', boot.result);
      if (!judged.ok) return judged;
    }
    const kick = await attempt(this.deps.run, this.command, ['kickstart', `system/${name}`], { timeoutMs: START_TIMEOUT_MS });
    if (kick.failure) return kick.failure;
    const judged = judgeExit('launchctl kickstart', '', kick.result);
    if (!judged.ok) return judged;
    const after = await this.status(name);
    return after.running
      ? succeeded(`started ${name} (${after.detail})`)
      : failed('not-running', `${name} is not running after kickstart (${after.detail})`);
  }

  async enable(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    const ran = await attempt(this.deps.run, this.command, ['enable', `system/${name}`], { timeoutMs: QUERY_TIMEOUT_MS });
    if (ran.failure) return ran.failure;
    return judgeExit('launchctl enable', `enabled ${name} at boot`, ran.result);
  }
}
