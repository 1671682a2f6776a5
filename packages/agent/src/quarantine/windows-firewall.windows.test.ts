// No test here runs PowerShell: the firewall gets a scripted runner playing back JSON RECONSTRUCTED in
// the shape the scripts print (see __fixtures__/windows/README.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { parseAllowList } from './allow-list.js';
import {
  powerShellArgs,
  WINDOWS_RULE_GROUP,
  WindowsFirewall,
  windowsIsolatedScript,
  windowsIsolateScript,
  windowsReleaseScript,
} from './windows-firewall.windows.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/windows/${name}`, import.meta.url), 'utf8');
const PS = 'powershell.exe';

describe('windowsIsolateScript', () => {
  it('blocks every address but the server and loopback in both directions, with single quotes only', () => {
    const script = windowsIsolateScript(parseAllowList(['10.20.0.5'], []));
    expect(script).not.toContain('"');
    expect(script).toContain(`$g = '${WINDOWS_RULE_GROUP}'`);
    const outside =
      "@('0.0.0.0-10.20.0.4','10.20.0.6-126.255.255.255','128.0.0.0-255.255.255.255','0:0:0:0:0:0:0:0','0:0:0:0:0:0:0:2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')";
    expect(script).toContain(`-Direction Outbound -RemoteAddress ${outside}`);
    expect(script).toContain(`-Direction Inbound -RemoteAddress ${outside}`);
    expect(script).toContain('Set-NetFirewallProfile -All -Enabled True');
    expect(script.match(/New-NetFirewallRule/g)).toHaveLength(2);
  });

  it('also blocks other TCP ports and all UDP of the server when the order names ports', () => {
    const script = windowsIsolateScript(parseAllowList(['10.20.0.5'], [8443]));
    expect(script).toContain("-Direction Outbound -Protocol TCP -RemoteAddress @('10.20.0.5') -RemotePort @('1-8442','8444-65535')");
    expect(script).toContain("-Direction Outbound -Protocol UDP -RemoteAddress @('10.20.0.5')");
    expect(script.match(/New-NetFirewallRule/g)).toHaveLength(6);
  });

  it('keeps the profile states saved by an earlier isolation instead of overwriting them', () => {
    const script = windowsIsolateScript(parseAllowList(['10.20.0.5'], []));
    expect(script).toMatch(
      /\$saved = if \(\$old\.Count -gt 0 -and .*StartsWith\('brier-saved-profiles:'\)\) \{ \[string\]\$old\[0\]\.Description \}/,
    );
    expect(script.indexOf('$saved =')).toBeLessThan(script.indexOf('Remove-NetFirewallRule'));
  });

  it('restores only known profile names and values on release, before removing the rules', () => {
    const script = windowsReleaseScript();
    expect(script).toContain("@('Domain','Private','Public') -contains $kv[0]");
    expect(script.indexOf('Set-NetFirewallProfile')).toBeLessThan(script.indexOf('Remove-NetFirewallRule'));
  });
});

describe('WindowsFirewall', () => {
  it('runs the isolation script through powershell.exe -Command and reports the rules', async () => {
    const script = windowsIsolateScript(parseAllowList(['10.20.0.5'], [8443]));
    const runner = scriptedRunner([{ cmd: PS, args: powerShellArgs(script), reply: out(fixture('isolate-ok.json')) }]);
    const result = await new WindowsFirewall({ run: runner.run }).isolate(['10.20.0.5'], [8443]);
    expect(result).toMatchObject({ ok: true });
    expect(result.detail).toContain('6 block rules');
  });

  it('reports a session without elevation as command-failed with the cmdlet message', async () => {
    const runner = scriptedRunner([{ cmd: PS, args: () => true, reply: out(fixture('access-denied.json')) }]);
    expect(await new WindowsFirewall({ run: runner.run }).isolate(['10.20.0.5'], [])).toEqual({
      ok: false,
      code: 'command-failed',
      detail: 'Access is denied.',
    });
  });

  it('refuses a PowerShell injection attempt without running anything', async () => {
    const runner = scriptedRunner([]);
    const result = await new WindowsFirewall({ run: runner.run }).isolate(["10.20.0.5'); Remove-NetFirewallRule -All; ('"], []);
    expect(result).toMatchObject({ ok: false, code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });

  it('reports unreadable output as command-failed and a missing PowerShell as tool-missing', async () => {
    const garbled = scriptedRunner([{ cmd: PS, args: () => true, reply: out('New-NetFirewallRule : The term is not recognized', 1) }]);
    expect(await new WindowsFirewall({ run: garbled.run }).release()).toMatchObject({ ok: false, code: 'command-failed' });
    const missing = scriptedRunner([{ cmd: PS, args: () => true, reply: { throws: 'ENOENT' } }]);
    expect(await new WindowsFirewall({ run: missing.run }).release()).toMatchObject({ ok: false, code: 'tool-missing' });
  });

  it('releases and names the restored profiles; a release with nothing to remove is fine', async () => {
    const runner = scriptedRunner([
      { cmd: PS, args: powerShellArgs(windowsReleaseScript()), reply: out(fixture('release-ok.json')) },
      { cmd: PS, args: powerShellArgs(windowsReleaseScript()), reply: out(fixture('release-none.json')) },
    ]);
    const firewall = new WindowsFirewall({ run: runner.run });
    const first = await firewall.release();
    expect(first).toMatchObject({ ok: true });
    expect(first.detail).toContain('Public=False');
    expect(await firewall.release()).toMatchObject({ ok: true });
  });

  it('says isolated only with the block rules on and no profile disabled (one-element arrays included)', async () => {
    const runner = scriptedRunner([
      { cmd: PS, args: powerShellArgs(windowsIsolatedScript()), reply: out(fixture('isolated-on.json')) },
      { cmd: PS, args: powerShellArgs(windowsIsolatedScript()), reply: out(fixture('isolated-off.json')) },
    ]);
    const firewall = new WindowsFirewall({ run: runner.run });
    expect(await firewall.isolated()).toBe(true);
    expect(await firewall.isolated()).toBe(false);
  });
});
