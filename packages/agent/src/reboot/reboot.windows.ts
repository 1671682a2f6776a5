import type { CommandResult, CommandRunner } from '../run-command.js';
import {
  firstLine,
  type Rebooter,
  type RebootRequest,
  type RebootResult,
  refuseRebootRequest,
  runRebootCommand,
  sanitizeRebootReason,
} from './rebooter.js';

export interface WindowsRebooterDeps {
  run: CommandRunner;
  /** Default `shutdown.exe` and `reg.exe` from PATH (System32). */
  shutdownCommand?: string;
  regCommand?: string;
  now?: () => Date;
}

/**
 * Keys that exist only while Windows waits for a restart: Windows Update's (set when an installed
 * update needs one) and Component Based Servicing's (a servicing stack / feature change pending).
 * `PendingFileRenameOperations` is left out on purpose: installers and antivirus leave it set for
 * days, so it would make 'if-required' restart hosts that need nothing.
 */
export const PENDING_REBOOT_KEYS = [
  'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired',
  'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending',
] as const;

/** shutdown.exe's reason "Operating System: Hot fix (Planned)", so the event log says why. */
export const SHUTDOWN_REASON_CODE = 'p:2:17';
/** Win32 errors shutdown.exe exits with when a shutdown is already on its way. */
const ERROR_SHUTDOWN_IN_PROGRESS = 1115;
const ERROR_SHUTDOWN_IS_SCHEDULED = 1190;
const QUERY_TIMEOUT_MS = 30_000;

/**
 * What `reg query KEY` says about a key. reg.exe exits 0 when the key exists (printing its path and
 * values, or nothing for an empty key) and 1 with "ERROR: The system was unable to find the specified
 * registry key or value." when it does not. That message is localised, so the exit code decides;
 * anything else (killed, another code) cannot tell.
 */
export function parseRegQuery(result: CommandResult): 'present' | 'absent' | 'unknown' {
  if (result.code === 0) return 'present';
  if (result.code === 1) return 'absent';
  return 'unknown';
}

/**
 * Windows: `shutdown.exe /r /t <seconds> /d p:2:17 /c <reason>`. With /t above 0 Windows closes
 * applications without asking (/f is implied) after warning users for the delay. A shutdown that
 * is already scheduled makes shutdown.exe refuse ours (1190): reported as 'already-pending'.
 */
export class WindowsRebooter implements Rebooter {
  private readonly shutdown: string;
  private readonly reg: string;
  private readonly now: () => Date;

  constructor(private readonly deps: WindowsRebooterDeps) {
    this.shutdown = deps.shutdownCommand ?? 'shutdown.exe';
    this.reg = deps.regCommand ?? 'reg.exe';
    this.now = deps.now ?? (() => new Date());
  }

  static args(opts: RebootRequest): string[] {
    return ['/r', '/t', String(opts.delaySeconds), '/d', SHUTDOWN_REASON_CODE, '/c', sanitizeRebootReason(opts.reason)];
  }

  async schedule(opts: RebootRequest): Promise<RebootResult> {
    const refusal = refuseRebootRequest(opts);
    if (refusal) return { ok: false, code: 'invalid-request', reason: refusal, output: '' };
    const start = this.now().getTime();
    const ran = await runRebootCommand(this.deps.run, this.shutdown, WindowsRebooter.args(opts));
    if ('ok' in ran) return ran;
    const code = ran.result.code;
    if (code === ERROR_SHUTDOWN_IS_SCHEDULED || code === ERROR_SHUTDOWN_IN_PROGRESS) {
      return { ok: false, code: 'already-pending', reason: `a shutdown is already scheduled or in progress (${code})`, output: ran.output };
    }
    if (code !== 0) {
      const how = code === null ? 'was killed' : `exited with code ${code}`;
      return { ok: false, code: 'command-failed', reason: `${this.shutdown} ${how}: ${firstLine(ran.result)}`, output: ran.output };
    }
    return {
      ok: true,
      scheduledAt: new Date(start + opts.delaySeconds * 1000).toISOString(),
      delaySeconds: opts.delaySeconds,
      output: ran.output,
    };
  }

  async pending(): Promise<boolean> {
    for (const key of PENDING_REBOOT_KEYS) {
      const ran = await runRebootCommand(this.deps.run, this.reg, ['query', key], { timeoutMs: QUERY_TIMEOUT_MS });
      if ('ok' in ran) return false;
      if (parseRegQuery(ran.result) === 'present') return true;
    }
    return false;
  }
}
