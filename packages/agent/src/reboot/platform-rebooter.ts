import type { CommandRunner } from '../run-command.js';
import { DarwinRebooter } from './reboot.darwin.js';
import { LinuxRebooter } from './reboot.linux.js';
import { WindowsRebooter } from './reboot.windows.js';
import { DisabledRebooter, type Rebooter } from './rebooter.js';

/** The switch in BRIER_AGENT_REBOOT / `--reboot`: whether this agent may restart its host. */
export type RebootSwitch = 'on' | 'off';

/** Parses the switch; undefined or empty means 'on' (the real agent acts on the policy). Throws on anything else. */
export function parseRebootSwitch(value: string | undefined): RebootSwitch {
  if (value === undefined || value === '') return 'on';
  const v = value.trim().toLowerCase();
  if (v === 'on' || v === 'off') return v;
  throw new RangeError(`reboot must be 'on' or 'off', not ${JSON.stringify(value)}`);
}

/**
 * The rebooter for this platform; with the switch 'off' one that never schedules but still detects
 * a pending restart. A platform without an implementation gets a disabled one.
 */
export function platformRebooter(platform: NodeJS.Platform, run: CommandRunner, rebootSwitch: RebootSwitch): Rebooter {
  let real: Rebooter | undefined;
  if (platform === 'linux') real = new LinuxRebooter({ run });
  else if (platform === 'win32') real = new WindowsRebooter({ run });
  else if (platform === 'darwin') real = new DarwinRebooter({ run });
  if (!real) return new DisabledRebooter(undefined, `this agent cannot restart a ${platform} host`);
  return rebootSwitch === 'on' ? real : new DisabledRebooter(real);
}
