import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../run-command.js';
import { firewallState } from './firewall-state.platform.js';

describe('firewallState', () => {
  it('asks the tool of each platform', async () => {
    const seen: string[] = [];
    const run: CommandRunner = async (cmd) => {
      seen.push(cmd);
      return { stdout: '', stderr: '', code: 1 };
    };
    await firewallState('linux', run);
    await firewallState('win32', run);
    await firewallState('darwin', run);
    expect(seen).toEqual(['nft', 'iptables', 'ufw', 'powershell.exe', '/usr/libexec/ApplicationFirewall/socketfilterfw']);
  });

  it('answers off without running anything on a platform it has no check for', async () => {
    const run: CommandRunner = async () => {
      throw new Error('must not run');
    };
    expect(await firewallState('aix', run)).toEqual({ enabled: false, detail: 'no firewall check for platform aix' });
  });
});
