import { mkdir, readdir, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { ActionResult, ServiceManager, ServiceState } from '../policy/ports.js';
import type { CommandResult, CommandRunner } from '../run-command.js';
import { attempt, failed, firstLineOf, judgeExit, oneLine, succeeded } from './action-result.js';
import type { DirectServiceManager } from './direct.linux.js';
import { assertServiceName, isValidServiceName, refusedName } from './service-name.js';

export interface SysvinitServiceManagerDeps {
  run: CommandRunner;
  /** Where the init scripts are; default /etc/init.d. */
  initDir?: string;
  /** The directory holding rc2.d … rc5.d; default /etc. */
  rcDir?: string;
  /**
   * Call `service NAME ACTION` (which clears the environment and finds the script itself) rather
   * than the script. Default: true exactly when initDir is /etc/init.d, the only place `service` looks.
   */
  useServiceCommand?: boolean;
  /** Used for a service without an init script, or whose script started nothing (see `start`). */
  direct?: DirectServiceManager;
}

const DEFAULT_INIT_DIR = '/etc/init.d';
const STATUS_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 180_000;
/** The multi-user runlevels; a service "starts at boot" when one of them has an S link to it. */
const BOOT_RUNLEVELS = ['2', '3', '4', '5'];
/** What scripts see, as `service` gives them: nothing of the agent's own environment. */
const SCRIPT_ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' };

/**
 * LSB exit codes of `status`: 0 running; 1 dead with a pid file left, 2 dead with a lock file, 3 not
 * running; 4 and anything else (reserved, or a script that has no `status` and prints its usage) unknown.
 */
export function lsbStatus(code: number | null): 'running' | 'stopped' | 'unknown' {
  if (code === 0) return 'running';
  if (code === 1 || code === 2 || code === 3) return 'stopped';
  return 'unknown';
}

const LSB_WORDS: Record<number, string> = {
  0: 'running',
  1: 'dead, pid file exists',
  2: 'dead, lock file exists',
  3: 'not running',
  4: 'status unknown',
};

/**
 * SysV init scripts, as on Debian without systemd (containers, sysvinit-core, WSL): `service NAME
 * status|start`, judged by LSB exit codes; `update-rc.d NAME defaults` (or `chkconfig NAME on`)
 * to start at boot. A service with no script, or whose script exits 0 without starting anything (the
 * clamav-daemon script does exactly that when it finds no main/daily database), is handed to the
 * direct manager when it knows the daemon.
 */
export class SysvinitServiceManager implements ServiceManager {
  readonly kind = 'sysvinit';
  private readonly initDir: string;
  private readonly rcDir: string;
  private readonly useServiceCommand: boolean;

  constructor(private readonly deps: SysvinitServiceManagerDeps) {
    this.initDir = deps.initDir ?? DEFAULT_INIT_DIR;
    this.rcDir = deps.rcDir ?? '/etc';
    this.useServiceCommand = deps.useServiceCommand ?? this.initDir === DEFAULT_INIT_DIR;
  }

  private script(name: string): string {
    return path.join(this.initDir, name);
  }

  private async hasScript(name: string): Promise<boolean> {
    const info = await stat(this.script(name)).catch(() => null);
    return info?.isFile() === true && (info.mode & 0o111) !== 0;
  }

  private invoke(name: string, action: 'status', timeoutMs: number): Promise<CommandResult> {
    return this.useServiceCommand
      ? this.deps.run('service', [name, action], { timeoutMs, env: SCRIPT_ENV })
      : this.deps.run(this.script(name), [action], { timeoutMs, env: SCRIPT_ENV });
  }

  private shown(name: string, action: string): string {
    return this.useServiceCommand ? `service ${name} ${action}` : `${this.script(name)} ${action}`;
  }

  private fallback(name: string): DirectServiceManager | undefined {
    return this.deps.direct?.knows(name) ? this.deps.direct : undefined;
  }

  /** true when an S link in a multi-user runlevel starts it; null when there are no rc directories at all. */
  async enabledAtBoot(name: string): Promise<boolean | null> {
    const pattern = new RegExp(`^S\\d{2}${name.replace(/[.+]/g, '\\$&')}$`);
    let sawDir = false;
    for (const level of BOOT_RUNLEVELS) {
      const entries = await readdir(path.join(this.rcDir, `rc${level}.d`)).catch(() => null);
      if (!entries) continue;
      sawDir = true;
      if (entries.some((e) => pattern.test(e))) return true;
    }
    return sawDir ? false : null;
  }

  async status(name: string): Promise<ServiceState> {
    assertServiceName(name);
    const direct = this.fallback(name);
    if (!(await this.hasScript(name))) {
      if (direct) {
        const state = await direct.status(name);
        return { ...state, detail: `sysvinit: no ${this.script(name)}; ${state.detail}` };
      }
      return { exists: false, running: false, enabled: null, detail: `sysvinit: no ${this.script(name)}` };
    }
    const enabled = await this.enabledAtBoot(name);
    const result = await this.invoke(name, 'status', STATUS_TIMEOUT_MS);
    const verdict = lsbStatus(result.code);
    const said = firstLineOf(result);
    const word = (result.code !== null && LSB_WORDS[result.code]) || `exit ${result.code ?? 'signal'}`;
    if (verdict === 'running' && direct) {
      // Scripts judge by pid file and process name, so a killed daemon that is still a zombie (not yet
      // reaped by PID 1) counts as running to them. The direct manager skips zombies: it has the last word.
      const live = await direct.status(name);
      if (!live.running) {
        return {
          exists: true,
          running: false,
          enabled,
          detail: oneLine(`sysvinit: script says ${word}${said ? ` (${said})` : ''}, but ${live.detail}`),
        };
      }
    }
    if (verdict !== 'unknown') {
      return { exists: true, running: verdict === 'running', enabled, detail: oneLine(`sysvinit: ${word}${said ? ` (${said})` : ''}`) };
    }
    if (direct) {
      const state = await direct.status(name);
      return { exists: true, running: state.running, enabled, detail: oneLine(`sysvinit: ${word}; ${state.detail}`) };
    }
    return { exists: true, running: false, enabled, detail: oneLine(`sysvinit: ${word}${said ? ` (${said})` : ''}`) };
  }

  async start(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    const direct = this.fallback(name);
    if (!(await this.hasScript(name))) {
      if (!direct) return failed('not-found', `no init script ${this.script(name)} and no known way to start ${name} directly`);
      const started = await direct.start(name);
      return { ...started, detail: oneLine(`no init script for ${name}; ${started.detail}`) };
    }
    const before = await this.status(name);
    if (before.running) return succeeded(`${name} is already running (${before.detail})`);

    const ran = await attempt(this.deps.run, ...this.startCommand(name));
    if (ran.failure) return ran.failure;
    const judged = judgeExit(this.shown(name, 'start'), '', ran.result);
    if (!judged.ok) return judged;
    const after = await this.status(name);
    if (after.running) return succeeded(`started ${name} with ${this.shown(name, 'start')} (${after.detail})`);

    const said = firstLineOf(ran.result);
    const why = `${this.shown(name, 'start')} exited 0 but ${name} is not running${said ? ` (${said})` : ''}`;
    if (!direct) return failed('not-running', why);
    const started = await direct.start(name);
    return { ...started, detail: oneLine(`${why}; ${started.detail}`) };
  }

  private startCommand(name: string): [string, string[], { timeoutMs: number; env: NodeJS.ProcessEnv }] {
    const opts = { timeoutMs: START_TIMEOUT_MS, env: SCRIPT_ENV };
    return this.useServiceCommand ? ['service', [name, 'start'], opts] : [this.script(name), ['start'], opts];
  }

  async enable(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    if (!(await this.hasScript(name))) {
      const direct = this.fallback(name);
      if (direct) return direct.enable(name);
      return failed('not-found', `no init script ${this.script(name)}`);
    }
    if ((await this.enabledAtBoot(name)) === true) return succeeded(`${name} already starts at boot`);
    const outcome = this.useServiceCommand ? await this.enableWithTools(name) : await this.enableWithLinks(name);
    if (!outcome.ok) return outcome;
    return (await this.enabledAtBoot(name)) === true
      ? outcome
      : failed('not-effective', `${outcome.detail}, but no runlevel 2-5 starts ${name} afterwards`);
  }

  /**
   * `update-rc.d NAME defaults` adds the links the script's LSB header asks for; when links exist
   * but are K links (an earlier `update-rc.d NAME disable`), `defaults` leaves them, and `enable` turns them
   * back into S links. Red Hat's sysvinit has `chkconfig` instead.
   */
  private async enableWithTools(name: string): Promise<ActionResult> {
    const defaults = await attempt(this.deps.run, 'update-rc.d', [name, 'defaults'], { timeoutMs: STATUS_TIMEOUT_MS });
    if (defaults.failure) {
      if (defaults.failure.code !== 'tool-missing') return defaults.failure;
      const chkconfig = await attempt(this.deps.run, 'chkconfig', [name, 'on'], { timeoutMs: STATUS_TIMEOUT_MS });
      if (chkconfig.failure) {
        return chkconfig.failure.code === 'tool-missing'
          ? failed('tool-missing', 'neither update-rc.d nor chkconfig is installed')
          : chkconfig.failure;
      }
      return judgeExit('chkconfig', `enabled ${name} at boot with chkconfig`, chkconfig.result);
    }
    const judged = judgeExit('update-rc.d', `enabled ${name} at boot with update-rc.d`, defaults.result);
    if (!judged.ok || (await this.enabledAtBoot(name)) === true) return judged;
    const enable = await attempt(this.deps.run, 'update-rc.d', [name, 'enable'], { timeoutMs: STATUS_TIMEOUT_MS });
    if (enable.failure) return enable.failure;
    return judgeExit('update-rc.d', `enabled ${name} at boot with update-rc.d`, enable.result);
  }

  /** update-rc.d only knows /etc; for another root (a chroot, or tests) the S links are made directly. */
  private async enableWithLinks(name: string): Promise<ActionResult> {
    try {
      for (const level of BOOT_RUNLEVELS) {
        const dir = path.join(this.rcDir, `rc${level}.d`);
        await mkdir(dir, { recursive: true });
        await symlink(path.relative(dir, this.script(name)), path.join(dir, `S01${name}`));
      }
    } catch (err) {
      return failed(
        'command-failed',
        `cannot link ${name} into ${this.rcDir}/rc2.d-rc5.d: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return succeeded(`enabled ${name} at boot (S01 links in ${this.rcDir}/rc2.d-rc5.d)`);
  }
}
