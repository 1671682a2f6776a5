// Windows Update cannot run on this (Linux) test machine. These tests play back the JSON in
// __fixtures__/windows-update/, which was RECONSTRUCTED from the Windows Update Agent API's documented
// result codes and HRESULTs in the shape our script prints; it was NOT captured on a Windows machine.
import { describe, expect, it } from 'vitest';
import { fixture, out, type ScriptedStep, scriptedRunner } from './__fixtures__/scripted-runner.js';
import { type Clock, OutputTail } from './package-executor.js';
import {
  describeHresult,
  judgeWindowsUpdate,
  parseWindowsUpdateReport,
  WindowsUpdateExecutor,
  windowsUpdatePowerShellArgs,
  windowsUpdateScript,
} from './windows-update.windows.js';

const ps = (kbs: string[]) => windowsUpdatePowerShellArgs(kbs);

function executor(steps: ScriptedStep[]) {
  let t = 0;
  const clock: Clock = {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
  const runner = scriptedRunner(steps);
  return { runner, wu: new WindowsUpdateExecutor({ run: runner.run, clock }) };
}

const step = (kbs: string[], file: string): ScriptedStep => ({
  cmd: 'powershell.exe',
  args: ps(kbs),
  reply: out(fixture('windows-update', file)),
});

describe('windowsUpdateScript', () => {
  it('passes the KB list as single-quoted literals and holds no double quotes', () => {
    const script = windowsUpdateScript(['KB5035853', 'KB890830']);
    expect(script).toContain("$wanted = @('KB5035853','KB890830');");
    expect(script).not.toContain('"');
    expect(script).toContain("Search('IsInstalled=0 and Type=''Software''')");
    expect(script).toContain('CreateUpdateDownloader()');
    expect(script).toContain('CreateUpdateInstaller()');
    expect(ps(['KB5035853']).slice(0, 3)).toEqual(['-NoProfile', '-NonInteractive', '-Command']);
  });

  it('refuses anything but KB ids itself, as a second line of defence', () => {
    expect(() => windowsUpdateScript(["KB5035853'); Remove-Item C:\\ -Recurse; ('"])).toThrow(RangeError);
    expect(() => windowsUpdateScript(['KB12345'])).toThrow(/not a KB article id/);
    expect(() => windowsUpdateScript([])).toThrow(RangeError);
  });
});

describe('WindowsUpdateExecutor (reconstructed output)', () => {
  it('installs a KB, verifies it among installed updates and reports the version the collector would', async () => {
    const { runner, wu } = executor([step(['KB2267602'], 'install-success.json')]);
    const result = await wu.upgrade([{ name: 'KB2267602', version: null }], { lockTimeoutSeconds: 10 });
    expect(result).toMatchObject({
      status: 'succeeded',
      installed: [{ name: 'KB2267602', version: '1.407.391.0' }],
      rebootRequired: false,
    });
    expect(result.output).toContain('$ powershell.exe -NoProfile -NonInteractive -Command');
    expect(runner.remaining()).toEqual([]);
    expect(runner.calls[0]?.opts?.timeoutMs).toBeGreaterThan(60 * 60_000);
  });

  it('reports rebootRequired, and counts an update waiting for the restart as installed', async () => {
    const { wu } = executor([step(['KB5035853'], 'install-reboot-required.json')]);
    expect(await wu.upgrade([{ name: 'KB5035853', version: '1' }], { lockTimeoutSeconds: 10 })).toMatchObject({
      status: 'succeeded',
      installed: [{ name: 'KB5035853', version: '1' }],
      rebootRequired: true,
    });
  });

  it('installs two KBs in one run, in the order asked', async () => {
    const { wu } = executor([step(['KB5035853', 'KB890830'], 'two-kbs-success.json')]);
    const result = await wu.upgrade(
      [
        { name: 'KB5035853', version: null },
        { name: 'KB890830', version: null },
      ],
      { lockTimeoutSeconds: 0 },
    );
    expect(result).toMatchObject({
      status: 'succeeded',
      rebootRequired: true,
      installed: [
        { name: 'KB5035853', version: '1' },
        { name: 'KB890830', version: '200' },
      ],
    });
  });

  it('reports a failed installation with the overall and per-update HRESULTs', async () => {
    const { wu } = executor([step(['KB5034441'], 'install-failed.json')]);
    const result = await wu.upgrade([{ name: 'KB5034441', version: null }], { lockTimeoutSeconds: 10 });
    expect(result).toMatchObject({ status: 'failed', code: 'command-failed' });
    expect(result.reason).toContain('0x80240022 (WU_E_ALL_UPDATES_FAILED)');
    expect(result.reason).toContain('KB5034441: result 4, 0x80070643 (ERROR_INSTALL_FAILURE)');
  });

  it('answers not-available, installing nothing, for a KB that is neither offered nor installed', async () => {
    const { wu } = executor([step(['KB5099999'], 'kb-not-found.json')]);
    const result = await wu.upgrade([{ name: 'KB5099999', version: null }], { lockTimeoutSeconds: 10 });
    expect(result).toMatchObject({ status: 'failed', code: 'not-available', installed: [] });
    expect(result.reason).toContain('KB5099999');
  });

  it('treats a KB that is installed already as done', async () => {
    const { wu } = executor([step(['KB5035853'], 'already-installed.json')]);
    expect(await wu.upgrade([{ name: 'KB5035853', version: null }], { lockTimeoutSeconds: 10 })).toMatchObject({
      status: 'succeeded',
      installed: [{ name: 'KB5035853', version: '1' }],
    });
  });

  it("retries WU_E_INSTALL_NOT_ALLOWED (another installation) for the lock timeout, then answers 'busy'", async () => {
    const { runner, wu } = executor([
      step(['KB5035853'], 'install-busy.json'),
      step(['KB5035853'], 'installer-busy.json'),
      step(['KB5035853'], 'install-busy.json'),
    ]);
    const result = await wu.upgrade([{ name: 'KB5035853', version: null }], { lockTimeoutSeconds: 4 });
    expect(result).toMatchObject({ status: 'busy', code: 'lock-busy' });
    expect(result.reason).toContain('WU_E_INSTALL_NOT_ALLOWED');
    expect(runner.remaining()).toEqual([]);
  });

  it('succeeds when the other installation ends while it retries', async () => {
    const { wu } = executor([step(['KB5035853'], 'installer-busy.json'), step(['KB5035853'], 'install-reboot-required.json')]);
    expect(await wu.upgrade([{ name: 'KB5035853', version: null }], { lockTimeoutSeconds: 10 })).toMatchObject({
      status: 'succeeded',
      rebootRequired: true,
    });
  });

  it('reports a COM error with its HRESULT and phase', async () => {
    const { wu } = executor([step(['KB5035853'], 'com-access-denied.json')]);
    const result = await wu.upgrade([{ name: 'KB5035853', version: null }], { lockTimeoutSeconds: 10 });
    expect(result).toMatchObject({ status: 'failed', code: 'command-failed' });
    expect(result.reason).toMatch(/during start, 0x80070005 \(E_ACCESSDENIED\)/);
  });

  it('reports PowerShell failing before the script printed its report', async () => {
    const { wu } = executor([
      {
        cmd: 'powershell.exe',
        args: ps(['KB5035853']),
        reply: out('', 1, "Program 'powershell.exe' failed to run: This program is blocked by group policy.\r\n"),
      },
    ]);
    const result = await wu.upgrade([{ name: 'KB5035853', version: null }], { lockTimeoutSeconds: 10 });
    expect(result).toMatchObject({ status: 'failed', code: 'command-failed' });
    expect(result.reason).toContain('exited with code 1: Program');
  });

  it('reports tool-missing when there is no powershell.exe', async () => {
    const { wu } = executor([{ cmd: 'powershell.exe', args: ps(['KB5035853']), reply: { throws: 'ENOENT' } }]);
    expect(await wu.upgrade([{ name: 'KB5035853', version: null }], { lockTimeoutSeconds: 10 })).toMatchObject({
      status: 'failed',
      code: 'tool-missing',
    });
  });

  it('refuses an injection attempt in a KB before any command is built', async () => {
    const { runner, wu } = executor([]);
    for (const name of ['KB123; Remove-Item', "KB5035853'; Remove-Item C:\\ -Recurse; '", 'KB5035853 -Force', '$(Remove-Item)']) {
      const result = await wu.upgrade([{ name, version: null }], { lockTimeoutSeconds: 10 });
      expect(result, name).toMatchObject({ status: 'failed', code: 'invalid-request' });
    }
    expect(runner.calls).toEqual([]);
  });

  it('refuses winget ids and too short KB numbers, which are not Windows Update articles', async () => {
    const { runner, wu } = executor([]);
    const winget = await wu.upgrade([{ name: 'Microsoft.PowerShell', version: null }], { lockTimeoutSeconds: 10 });
    expect(winget).toMatchObject({ status: 'failed', code: 'invalid-request' });
    expect(winget.reason).toContain('Microsoft.PowerShell');
    expect(await wu.upgrade([{ name: 'KB12345', version: null }], { lockTimeoutSeconds: 10 })).toMatchObject({ code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });

  it('does nothing once cancelled', async () => {
    const { runner, wu } = executor([]);
    const signal = AbortSignal.abort();
    expect(await wu.upgrade([{ name: 'KB5035853', version: null }], { lockTimeoutSeconds: 10, signal })).toMatchObject({ code: 'aborted' });
    expect(runner.calls).toEqual([]);
  });
});

describe('parseWindowsUpdateReport and judgeWindowsUpdate', () => {
  it('accepts a lone value where PowerShell 5.1 drops a one-element array', () => {
    const report = parseWindowsUpdateReport(
      '\uFEFF{"requested":"KB2267602","phase":"done","missing":[],"alreadyInstalled":null,"download":null,"install":null,' +
        '"updates":[],"verified":{"kb":"KB2267602","title":"t","version":"1.2"},"error":null}',
    );
    expect(report.requested).toEqual(['KB2267602']);
    expect(report.verified).toEqual([{ kb: 'KB2267602', title: 't', version: '1.2' }]);
  });

  it('refuses output that is not the report', () => {
    expect(() => parseWindowsUpdateReport('Exception calling "Search"')).toThrow(/not JSON/);
    expect(() => parseWindowsUpdateReport('[]')).toThrow(/not a Windows Update report/);
    expect(() => parseWindowsUpdateReport('{"phase":"launch"}')).toThrow(/not a Windows Update report/);
  });

  it('does not trust a report about other KBs than were asked for', () => {
    const report = parseWindowsUpdateReport(fixture('windows-update', 'install-success.json'));
    expect(judgeWindowsUpdate(report, ['KB5035853'], new OutputTail())).toMatchObject({ status: 'failed', code: 'command-failed' });
  });

  it('fails verification when a KB that needs no restart is not installed afterwards', () => {
    const report = parseWindowsUpdateReport(fixture('windows-update', 'install-success.json'));
    const result = judgeWindowsUpdate({ ...report, verified: [] }, ['KB2267602'], new OutputTail());
    expect(result).toMatchObject({ status: 'failed', code: 'verify-mismatch' });
  });

  it('reports an aborted installation (result 5) as aborted', () => {
    const report = parseWindowsUpdateReport(fixture('windows-update', 'install-failed.json'));
    const aborted = {
      ...report,
      install: { resultCode: 5, hresult: '0x00000000', rebootRequired: false },
      updates: report.updates.map((u) => ({ ...u, resultCode: 5 })),
    };
    expect(judgeWindowsUpdate(aborted, ['KB5034441'], new OutputTail())).toMatchObject({ status: 'failed', code: 'aborted' });
  });

  it('names known HRESULTs and leaves others as they are', () => {
    expect(describeHresult('0x80240016')).toBe('0x80240016 (WU_E_INSTALL_NOT_ALLOWED)');
    expect(describeHresult('0x8024FFFF')).toBe('0x8024FFFF');
    expect(describeHresult(null)).toBe('no error code');
  });
});
