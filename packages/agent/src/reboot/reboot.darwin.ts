import type { CommandRunner } from '../run-command.js';
import {
  firstLine,
  type Rebooter,
  type RebootRequest,
  type RebootResult,
  refuseRebootRequest,
  runRebootCommand,
  sanitizeRebootReason,
  wholeMinutes,
} from './rebooter.js';

export interface DarwinRebooterDeps {
  run: CommandRunner;
  /** Default /sbin/shutdown (a LaunchDaemon's PATH may not hold /sbin). */
  command?: string;
  now?: () => Date;
}

/**
 * macOS: `shutdown -r +N <reason>` (BSD shutdown: whole minutes, the reason is the warning sent to
 * logged-in users; it forks to wait in the background and prints "Shutdown at …"). Needs root.
 *
 * macOS keeps no flag for "a restart is pending": the softwareupdate executor learns it from
 * `softwareupdate --install` output ([restart]) and reports it as rebootRequired. So pending() is
 * always false here.
 */
export class DarwinRebooter implements Rebooter {
  private readonly command: string;
  private readonly now: () => Date;

  constructor(private readonly deps: DarwinRebooterDeps) {
    this.command = deps.command ?? '/sbin/shutdown';
    this.now = deps.now ?? (() => new Date());
  }

  static args(opts: RebootRequest): string[] {
    return ['-r', `+${wholeMinutes(opts.delaySeconds)}`, sanitizeRebootReason(opts.reason)];
  }

  async schedule(opts: RebootRequest): Promise<RebootResult> {
    const refusal = refuseRebootRequest(opts);
    if (refusal) return { ok: false, code: 'invalid-request', reason: refusal, output: '' };
    const delaySeconds = wholeMinutes(opts.delaySeconds) * 60;
    const start = this.now().getTime();
    const ran = await runRebootCommand(this.deps.run, this.command, DarwinRebooter.args(opts));
    if ('ok' in ran) return ran;
    if (ran.result.code !== 0) {
      const how = ran.result.code === null ? 'was killed' : `exited with code ${ran.result.code}`;
      return { ok: false, code: 'command-failed', reason: `shutdown ${how}: ${firstLine(ran.result)}`, output: ran.output };
    }
    return { ok: true, scheduledAt: new Date(start + delaySeconds * 1000).toISOString(), delaySeconds, output: ran.output };
  }

  async pending(): Promise<boolean> {
    return false;
  }
}
