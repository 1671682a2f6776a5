import { readFileSync, statSync } from 'node:fs';
import type { ActionResult, ServiceManager, ServiceState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, failed, firstLineOf, judgeExit, succeeded } from './action-result.js';
import { assertServiceName, isValidServiceName, refusedName } from './service-name.js';

export interface SystemdServiceManagerDeps {
  run: CommandRunner;
  /** Default `systemctl` from PATH. */
  command?: string;
}

const QUERY_TIMEOUT_MS = 30_000;
/** A unit's start job may wait for its dependencies and ExecStartPre; systemd's own default is 90 s. */
const START_TIMEOUT_MS = 120_000;

/** The properties `status` asks for, in one `systemctl show` call. */
export const SYSTEMCTL_SHOW_PROPERTIES = 'LoadState,ActiveState,SubState,UnitFileState';

/** `Key=Value` lines of `systemctl show`; values may contain `=`, lines without one are ignored. */
export function parseSystemctlShow(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    props[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return props;
}

/**
 * UnitFileState to "starts at boot". `static`, `indirect`, `generated` and `transient` units have
 * no [Install] section of their own (something else pulls them in), so the answer is "cannot tell".
 */
function enabledFrom(unitFileState: string | undefined): boolean | null {
  switch (unitFileState) {
    case 'enabled':
    case 'enabled-runtime':
    case 'alias':
      return true;
    case 'disabled':
    case 'masked':
    case 'masked-runtime':
    case 'linked':
    case 'linked-runtime':
      return false;
    default:
      return null;
  }
}

/** Turns `systemctl show` properties into a ServiceState. */
export function serviceStateFromShow(props: Record<string, string>): ServiceState {
  const load = props.LoadState ?? '';
  const active = props.ActiveState ?? '';
  const sub = props.SubState ?? '';
  // LoadState "not-found" is systemd's word for "no such unit"; "masked" units exist but cannot start.
  const exists = load !== '' && load !== 'not-found';
  const running = active === 'active' || active === 'reloading';
  return {
    exists,
    running: exists && running,
    enabled: exists ? enabledFrom(props.UnitFileState) : null,
    detail: `systemd: ${load || 'unknown'}, ${active || 'unknown'}${sub ? ` (${sub})` : ''}${props.UnitFileState ? `, ${props.UnitFileState}` : ''}`,
  };
}

/**
 * systemd, when it is PID 1. One `systemctl show` gives existence, activity and the boot setting
 * together (`is-active` and `is-enabled` would need two calls and their exit codes overlap). `--`
 * ends the options before every name, although the grammar already forbids a leading dash.
 */
export class SystemdServiceManager implements ServiceManager {
  readonly kind = 'systemd';
  private readonly command: string;

  constructor(private readonly deps: SystemdServiceManagerDeps) {
    this.command = deps.command ?? 'systemctl';
  }

  async status(name: string): Promise<ServiceState> {
    assertServiceName(name);
    const result = await this.deps.run(this.command, ['show', '--no-pager', `--property=${SYSTEMCTL_SHOW_PROPERTIES}`, '--', name], {
      timeoutMs: QUERY_TIMEOUT_MS,
    });
    if (result.code !== 0) {
      return { exists: false, running: false, enabled: null, detail: `systemd: systemctl show failed: ${firstLineOf(result)}` };
    }
    return serviceStateFromShow(parseSystemctlShow(result.stdout));
  }

  async start(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    const ran = await attempt(this.deps.run, this.command, ['start', '--', name], { timeoutMs: START_TIMEOUT_MS });
    if (ran.failure) return ran.failure;
    const judged = judgeExit(this.command, `systemctl start ${name}`, ran.result);
    if (!judged.ok) return judged;
    // A unit can "start" and die at once (Type=simple with a bad config): read it back.
    const after = await this.status(name);
    return after.running
      ? succeeded(`started ${name} (${after.detail})`)
      : failed('not-running', `${name} is not running after start (${after.detail})`);
  }

  async enable(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    const ran = await attempt(this.deps.run, this.command, ['enable', '--', name], { timeoutMs: QUERY_TIMEOUT_MS });
    if (ran.failure) return ran.failure;
    return judgeExit(this.command, `enabled ${name} at boot`, ran.result);
  }
}

/** Synchronous, because the choice of manager is made once while the agent is built, from two tiny files. */
export interface InitProbe {
  readText(file: string): string | null;
  isDirectory(dir: string): boolean;
}

export const fsProbe: InitProbe = {
  readText(file) {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  },
  isDirectory(dir) {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  },
};

/**
 * Whether systemd manages this machine: PID 1's name is `systemd`, or /run/systemd/system exists
 * (libsystemd's own sd_booted() test). Containers often have systemctl installed without systemd
 * running, so the binary being present proves nothing.
 */
export function systemdIsRunning(probe: InitProbe = fsProbe): boolean {
  if (probe.readText('/proc/1/comm')?.trim() === 'systemd') return true;
  return probe.isDirectory('/run/systemd/system');
}
