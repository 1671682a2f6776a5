import type { FirewallState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { darwinFirewallState } from './firewall-state.darwin.js';
import { linuxFirewallState } from './firewall-state.linux.js';
import { windowsFirewallState } from './firewall-state.windows.js';

export { darwinFirewallState } from './firewall-state.darwin.js';
export { linuxFirewallState } from './firewall-state.linux.js';
export { windowsFirewallState } from './firewall-state.windows.js';

/**
 * Whether the host firewall filters incoming traffic, for the `firewall-enabled` policy rule:
 * nftables / iptables / ufw on Linux, all Windows Firewall profiles, the macOS Application
 * Firewall. Read-only. Pass it to `platformFirewall(…, { state: () => firewallState(platform, run) })`.
 */
export function firewallState(platform: NodeJS.Platform, run: CommandRunner): Promise<FirewallState> {
  switch (platform) {
    case 'linux':
      return linuxFirewallState(run);
    case 'win32':
      return windowsFirewallState(run);
    case 'darwin':
      return darwinFirewallState(run);
    default:
      return Promise.resolve({ enabled: false, detail: `no firewall check for platform ${platform}` });
  }
}
