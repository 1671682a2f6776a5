import type { ActionResult, ServiceManager, ServiceState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, failed, firstLineOf, judgeExit, succeeded } from './action-result.js';
import { assertServiceName, isValidServiceName, refusedName } from './service-name.js';

export interface WindowsServiceManagerDeps {
  run: CommandRunner;
  /** Default `sc.exe`. */
  sc?: string;
  /** Default `powershell.exe` (Windows PowerShell 5.1, on every supported Windows). */
  powershell?: string;
}

const QUERY_TIMEOUT_MS = 30_000;
/** Start-Service waits for SERVICE_RUNNING; the service control manager itself gives up after 30 s per service, dependencies add more. */
const START_TIMEOUT_MS = 180_000;
/** sc.exe's exit code for "The specified service does not exist as an installed service." */
export const ERROR_SERVICE_DOES_NOT_EXIST = 1060;

/** The numeric value after a `KEY : N TEXT` line of sc.exe, which is not translated on localised Windows (the words after it may be). */
function scNumber(text: string, key: string): { value: number; words: string } | null {
  const match = new RegExp(`^\\s*${key}\\s*:\\s*(\\d+)\\s*(.*)$`, 'm').exec(text);
  return match ? { value: Number(match[1]), words: (match[2] ?? '').trim() } : null;
}

/** `sc.exe query NAME`: STATE 4 is RUNNING (1 STOPPED, 2 START_PENDING, 3 STOP_PENDING, 5-7 CONTINUE/PAUSE). */
export function parseScQuery(text: string): { state: number; words: string } | null {
  const found = scNumber(text, 'STATE');
  return found ? { state: found.value, words: found.words } : null;
}

/** `sc.exe qc NAME`: START_TYPE 2 is AUTO_START (also "AUTO_START (DELAYED)"); 0/1 boot and system drivers; 3 DEMAND_START; 4 DISABLED. */
export function parseScQc(text: string): { startType: number; words: string } | null {
  const found = scNumber(text, 'START_TYPE');
  return found ? { startType: found.value, words: found.words } : null;
}

/** PowerShell arguments for a fixed script; only single quotes, which survive the Windows command line. */
export function powershellArgs(script: string): string[] {
  return ['-NoProfile', '-NonInteractive', '-Command', `$ErrorActionPreference = 'Stop'; ${script}`];
}

/**
 * Windows services: `sc.exe query` and `sc.exe qc` to read (plain argv, no script), PowerShell's
 * Start-Service (which waits until the service runs, unlike `sc.exe start`) and Set-Service
 * -StartupType Automatic to act. The name is interpolated into PowerShell only inside single quotes
 * after the grammar check, which admits no quote, so it cannot end the string.
 */
export class WindowsServiceManager implements ServiceManager {
  readonly kind = 'windows';
  private readonly sc: string;
  private readonly powershell: string;

  constructor(private readonly deps: WindowsServiceManagerDeps) {
    this.sc = deps.sc ?? 'sc.exe';
    this.powershell = deps.powershell ?? 'powershell.exe';
  }

  async status(name: string): Promise<ServiceState> {
    assertServiceName(name);
    const query = await this.deps.run(this.sc, ['query', name], { timeoutMs: QUERY_TIMEOUT_MS });
    if (query.code === ERROR_SERVICE_DOES_NOT_EXIST) {
      return { exists: false, running: false, enabled: null, detail: `windows: ${name} is not an installed service` };
    }
    const state = parseScQuery(query.stdout);
    if (query.code !== 0 || !state) {
      return {
        exists: false,
        running: false,
        enabled: null,
        detail: `windows: sc.exe query failed (exit ${query.code}): ${firstLineOf(query)}`,
      };
    }
    const qc = await this.deps.run(this.sc, ['qc', name], { timeoutMs: QUERY_TIMEOUT_MS });
    const config = qc.code === 0 ? parseScQc(qc.stdout) : null;
    return {
      exists: true,
      running: state.state === 4,
      enabled: config ? config.startType === 2 : null,
      detail: `windows: ${state.words || `state ${state.state}`}${config ? `, ${config.words || `start type ${config.startType}`}` : ''}`,
    };
  }

  async start(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    const ran = await attempt(this.deps.run, this.powershell, powershellArgs(`Start-Service -Name '${name}'`), {
      timeoutMs: START_TIMEOUT_MS,
    });
    if (ran.failure) return ran.failure;
    const judged = judgeExit('Start-Service', '', ran.result);
    if (!judged.ok) return judged;
    const after = await this.status(name);
    return after.running
      ? succeeded(`started ${name} (${after.detail})`)
      : failed('not-running', `${name} is not running after Start-Service (${after.detail})`);
  }

  async enable(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    const ran = await attempt(this.deps.run, this.powershell, powershellArgs(`Set-Service -Name '${name}' -StartupType Automatic`), {
      timeoutMs: QUERY_TIMEOUT_MS,
    });
    if (ran.failure) return ran.failure;
    return judgeExit('Set-Service', `set ${name} to start automatically`, ran.result);
  }
}
