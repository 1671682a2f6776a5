import path from 'node:path';
import type { ActionResult, FirewallControl, FirewallState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { firewallState } from './firewall-state.platform.js';
import { NftablesFirewall } from './nftables.linux.js';
import { PfFirewall } from './pf.darwin.js';
import { WindowsFirewall } from './windows-firewall.windows.js';

export { type AllowList, parseAllowList, QuarantineRequestError } from './allow-list.js';
export { firewallState } from './firewall-state.platform.js';
export { NFT_TABLE, NftablesFirewall, nftQuarantineScript } from './nftables.linux.js';
export { PF_ANCHOR, PfFirewall } from './pf.darwin.js';
export { QUARANTINE_STATE_FILE, QuarantineManager, type QuarantineManagerDeps } from './quarantine-manager.js';
export { WINDOWS_RULE_GROUP, WindowsFirewall } from './windows-firewall.windows.js';

/** Where pf's reference token is kept, in the agent's state directory. */
export const PF_TOKEN_FILE = 'pf-quarantine-token';

export interface PlatformFirewallOptions {
  /** The agent's state directory (pf keeps its reference token there). */
  stateDir?: string;
  /** Whether the host firewall is on, for the firewall-enabled policy rule. Default: firewallState(platform, run). */
  state?: () => Promise<FirewallState>;
}

/** A FirewallControl for a platform without one: quarantine orders fail with 'unsupported'. */
export function unsupportedFirewall(platform: string): FirewallControl {
  const no: ActionResult = { ok: false, code: 'unsupported', detail: `no quarantine firewall on platform ${platform}` };
  return {
    kind: 'none',
    state: async () => ({ enabled: false, detail: `no firewall support on platform ${platform}` }),
    isolate: async () => no,
    release: async () => no,
    isolated: async () => false,
  };
}

/** The quarantine firewall of this platform: nftables on Linux, Windows Firewall, pf on macOS. */
export function platformFirewall(platform: NodeJS.Platform, run: CommandRunner, options: PlatformFirewallOptions = {}): FirewallControl {
  const state = { state: options.state ?? (() => firewallState(platform, run)) };
  switch (platform) {
    case 'linux':
      return new NftablesFirewall({ run, ...state });
    case 'win32':
      return new WindowsFirewall({ run, ...state });
    case 'darwin':
      return new PfFirewall({ run, ...state, ...(options.stateDir ? { tokenFile: path.join(options.stateDir, PF_TOKEN_FILE) } : {}) });
    default:
      return unsupportedFirewall(platform);
  }
}
