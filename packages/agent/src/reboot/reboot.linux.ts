import { access } from 'node:fs/promises';
import path from 'node:path';
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

export interface LinuxRebooterDeps {
  run: CommandRunner;
  /** The reboot flags are read beneath this root; '/' on a real host. */
  root?: string;
  /** Whether a file exists; injectable so tests can fake /run. */
  fileExists?: (file: string) => Promise<boolean>;
  /** The shutdown command; default `shutdown` from PATH (systemd's, sysvinit's). */
  command?: string;
  now?: () => Date;
  /** The environment to start from; default the agent's own. */
  baseEnv?: NodeJS.ProcessEnv;
}

/**
 * Flags a Debian/Ubuntu package sets when it needs a restart (update-notifier-common's
 * /var/run/reboot-required, with the packages that asked in `.pkgs`). /var/run is a link to /run on
 * every current system; both are looked at for older ones.
 */
export const REBOOT_FLAG_FILES = [
  'run/reboot-required',
  'run/reboot-required.pkgs',
  'var/run/reboot-required',
  'var/run/reboot-required.pkgs',
];

const QUERY_TIMEOUT_MS = 120_000;

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Linux: `shutdown -r +N <reason>`. shutdown counts whole minutes, so the delay is rounded up (at
 * least one minute, which also leaves time for the last status to leave). On systemd it asks logind
 * to schedule the restart and broadcasts the reason; a later request replaces an earlier one.
 * (`systemctl reboot --when=` would take seconds, but only from systemd 254; shutdown works on all.)
 * Some older systemd versions restart at once when logind refuses to schedule: one more reason
 * why the WorkRunner sends its statuses before it calls this.
 *
 * A pending restart: the Debian flag files, else `needs-restarting -r` (dnf-utils/yum-utils), which
 * exits 1 and says "Reboot is required" when the running kernel or core libraries are older than
 * the installed ones. Neither present: false.
 */
export class LinuxRebooter implements Rebooter {
  private readonly root: string;
  private readonly fileExists: (file: string) => Promise<boolean>;
  private readonly command: string;
  private readonly now: () => Date;

  constructor(private readonly deps: LinuxRebooterDeps) {
    this.root = deps.root ?? '/';
    this.fileExists = deps.fileExists ?? exists;
    this.command = deps.command ?? 'shutdown';
    this.now = deps.now ?? (() => new Date());
  }

  /** The argv for a restart in `delaySeconds`, with the reason already sanitised. */
  static args(opts: RebootRequest): string[] {
    return ['-r', `+${wholeMinutes(opts.delaySeconds)}`, sanitizeRebootReason(opts.reason)];
  }

  async schedule(opts: RebootRequest): Promise<RebootResult> {
    const refusal = refuseRebootRequest(opts);
    if (refusal) return { ok: false, code: 'invalid-request', reason: refusal, output: '' };
    const delaySeconds = wholeMinutes(opts.delaySeconds) * 60;
    const start = this.now().getTime();
    const ran = await runRebootCommand(this.deps.run, this.command, LinuxRebooter.args(opts), {
      env: { ...(this.deps.baseEnv ?? process.env), LC_ALL: 'C', LANG: 'C' },
    });
    if ('ok' in ran) return ran;
    if (ran.result.code !== 0) {
      const how = ran.result.code === null ? 'was killed' : `exited with code ${ran.result.code}`;
      return { ok: false, code: 'command-failed', reason: `${this.command} ${how}: ${firstLine(ran.result)}`, output: ran.output };
    }
    return { ok: true, scheduledAt: new Date(start + delaySeconds * 1000).toISOString(), delaySeconds, output: ran.output };
  }

  async pending(): Promise<boolean> {
    for (const flag of REBOOT_FLAG_FILES) if (await this.fileExists(path.join(this.root, flag))) return true;
    const ran = await runRebootCommand(this.deps.run, 'needs-restarting', ['-r'], {
      timeoutMs: QUERY_TIMEOUT_MS,
      env: { ...(this.deps.baseEnv ?? process.env), LC_ALL: 'C', LANG: 'C' },
    });
    // Not installed (a Debian or Alpine host) or not working: cannot tell, so not pending.
    if ('ok' in ran) return false;
    return parseNeedsRestarting(ran.result.code, ran.result.stdout);
  }
}

/** `needs-restarting -r`: exit 1 with "Reboot is required" means pending; exit 0 means not; anything else cannot tell (false). */
export function parseNeedsRestarting(code: number | null, stdout: string): boolean {
  return code === 1 && /Reboot is required/i.test(stdout);
}
