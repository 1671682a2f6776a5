// Reconstructed Get-NetFirewallProfile output (see __fixtures__/firewall-state/README.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { powershellArgs } from '../services/windows.windows.js';
import { FIREWALL_PROFILES_SCRIPT, parseFirewallProfiles, windowsFirewallState } from './firewall-state.windows.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/firewall-state/${name}`, import.meta.url), 'utf8');

describe('parseFirewallProfiles', () => {
  it('reads booleans, and the numbers plain ConvertTo-Json prints for the GpoBoolean enum', () => {
    expect(parseFirewallProfiles(fixture('windows-profiles-all-on.json')).every((p) => p.enabled)).toBe(true);
    expect(parseFirewallProfiles(fixture('windows-profiles-enum-numbers.json'))).toEqual([
      { name: 'Domain', enabled: true },
      { name: 'Private', enabled: true },
      { name: 'Public', enabled: false },
    ]);
  });

  it('accepts a single object and throws on output that is not JSON', () => {
    expect(parseFirewallProfiles('{"Name":"Public","Enabled":"True"}')).toEqual([{ name: 'Public', enabled: true }]);
    expect(() => parseFirewallProfiles('Get-NetFirewallProfile : Access denied')).toThrow(/not JSON/);
  });
});

describe('windowsFirewallState', () => {
  it('is on when every profile is on', async () => {
    const runner = scriptedRunner([
      { cmd: 'powershell.exe', args: powershellArgs(FIREWALL_PROFILES_SCRIPT), reply: out(fixture('windows-profiles-all-on.json')) },
    ]);
    expect(await windowsFirewallState(runner.run)).toEqual({ enabled: true, detail: 'Windows Firewall: Domain on, Private on, Public on' });
  });

  it('is off when one profile is off, naming it', async () => {
    const runner = scriptedRunner([{ cmd: 'powershell.exe', args: () => true, reply: out(fixture('windows-profiles-public-off.json')) }]);
    expect(await windowsFirewallState(runner.run)).toEqual({
      enabled: false,
      detail: 'Windows Firewall: Domain on, Private on, Public off',
    });
  });

  it('is off, saying why, when PowerShell fails or is missing', async () => {
    const failing = scriptedRunner([
      { cmd: 'powershell.exe', args: () => true, reply: out('', 1, 'Get-NetFirewallProfile : Access is denied.') },
    ]);
    expect(await windowsFirewallState(failing.run)).toMatchObject({ enabled: false, detail: expect.stringContaining('Access is denied') });
    const gone = scriptedRunner([{ cmd: 'powershell.exe', args: () => true, reply: { throws: 'ENOENT' } }]);
    expect(await windowsFirewallState(gone.run)).toMatchObject({ enabled: false, detail: expect.stringContaining('not installed') });
  });
});
