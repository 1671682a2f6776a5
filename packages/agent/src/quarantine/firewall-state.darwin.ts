import type { FirewallState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, firstLineOf, oneLine } from '../services/action-result.js';

export const SOCKETFILTERFW = '/usr/libexec/ApplicationFirewall/socketfilterfw';

/**
 * `socketfilterfw --getglobalstate`: "Firewall is enabled. (State = 1)", "(State = 2)" when it
 * blocks all incoming connections, "Firewall is disabled. (State = 0)". The number decides; the
 * words are the fallback. null when the output says neither.
 */
export function parseSocketFilterState(text: string): boolean | null {
  const state = /\(State = (\d+)\)/.exec(text);
  if (state) return Number(state[1]) > 0;
  if (/\bdisabled\b/i.test(text)) return false;
  if (/\benabled\b/i.test(text)) return true;
  return null;
}

/** The macOS Application Firewall's global state (pf, which the quarantine uses, is separate). */
export async function darwinFirewallState(run: CommandRunner): Promise<FirewallState> {
  const ran = await attempt(run, SOCKETFILTERFW, ['--getglobalstate'], { timeoutMs: 30_000 });
  if (ran.failure) return { enabled: false, detail: `Application Firewall: ${ran.failure.detail}` };
  const enabled = ran.result.code === 0 ? parseSocketFilterState(ran.result.stdout) : null;
  const said = firstLineOf(ran.result);
  if (enabled === null) return { enabled: false, detail: oneLine(`Application Firewall: cannot tell: ${said}`) };
  return { enabled, detail: oneLine(`Application Firewall: ${said}`) };
}
