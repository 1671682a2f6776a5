// winget cannot run on this (Linux) test machine. These tests play back outputs in __fixtures__/winget/
// that were RECONSTRUCTED BY HAND in winget 1.x's real output format (spinner, CR progress bars,
// padded table), not captured on Windows; exit codes are the HRESULTs from winget's AppInstallerErrors.h.
import { describe, expect, it } from 'vitest';
import { fixture, out, type ScriptedStep, scriptedRunner } from './__fixtures__/scripted-runner.js';
import type { Clock } from './package-executor.js';
import { parseWingetList, WINGET, WingetExecutor } from './winget.windows.js';

const list = (id: string) => ['list', '--id', id, '--exact', '--accept-source-agreements', '--disable-interactivity'];
const upgrade = (id: string, version?: string) => [
  'upgrade',
  '--id',
  id,
  '--exact',
  ...(version ? ['--version', version] : []),
  '--silent',
  '--accept-package-agreements',
  '--accept-source-agreements',
  '--disable-interactivity',
];

function executor(steps: ScriptedStep[]) {
  let t = 0;
  const clock: Clock = {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
  const runner = scriptedRunner(steps);
  return { runner, winget: new WingetExecutor({ run: runner.run, clock }) };
}

describe('WingetExecutor (recorded output)', () => {
  it('upgrades to a pinned version silently and verifies it with winget list', async () => {
    const { runner, winget } = executor([
      { cmd: 'winget', args: list('Microsoft.PowerShell'), reply: out(fixture('winget', 'list-powershell-before.txt')) },
      { cmd: 'winget', args: upgrade('Microsoft.PowerShell', '7.4.6.0'), reply: out(fixture('winget', 'upgrade-powershell-success.txt')) },
      { cmd: 'winget', args: list('Microsoft.PowerShell'), reply: out(fixture('winget', 'list-powershell-after.txt')) },
    ]);
    const result = await winget.upgrade([{ name: 'Microsoft.PowerShell', version: '7.4.6.0' }], { lockTimeoutSeconds: 10 });
    expect(result).toMatchObject({
      status: 'succeeded',
      installed: [{ name: 'Microsoft.PowerShell', version: '7.4.6.0' }],
      rebootRequired: false,
    });
    expect(result.output).toContain('Successfully installed');
    expect(runner.remaining()).toEqual([]);
  });

  it("retries while another installation is in progress, then answers 'busy'", async () => {
    const inProgress = out(fixture('winget', 'upgrade-in-progress.txt'), WINGET.INSTALL_IN_PROGRESS);
    const { winget } = executor([
      { cmd: 'winget', args: list('Microsoft.PowerShell'), reply: out(fixture('winget', 'list-powershell-before.txt')) },
      { cmd: 'winget', args: upgrade('Microsoft.PowerShell'), reply: inProgress },
      { cmd: 'winget', args: upgrade('Microsoft.PowerShell'), reply: inProgress },
    ]);
    const result = await winget.upgrade([{ name: 'Microsoft.PowerShell', version: null }], { lockTimeoutSeconds: 2 });
    expect(result).toMatchObject({ status: 'busy', code: 'lock-busy' });
  });

  it('treats a signed exit code the same as the unsigned HRESULT', async () => {
    const { winget } = executor([
      { cmd: 'winget', args: list('Microsoft.PowerShell'), reply: out(fixture('winget', 'list-powershell-before.txt')) },
      {
        cmd: 'winget',
        args: upgrade('Microsoft.PowerShell'),
        reply: out(fixture('winget', 'upgrade-in-progress.txt'), WINGET.INSTALL_IN_PROGRESS | 0),
      },
    ]);
    expect((await winget.upgrade([{ name: 'Microsoft.PowerShell', version: null }], { lockTimeoutSeconds: 0 })).status).toBe('busy');
  });

  it('reports reboot-required when the installer needs a restart to finish', async () => {
    const { winget } = executor([
      { cmd: 'winget', args: list('Microsoft.PowerShell'), reply: out(fixture('winget', 'list-powershell-before.txt')) },
      {
        cmd: 'winget',
        args: upgrade('Microsoft.PowerShell'),
        reply: out(fixture('winget', 'upgrade-reboot-to-finish.txt'), WINGET.REBOOT_REQUIRED_TO_FINISH),
      },
      { cmd: 'winget', args: list('Microsoft.PowerShell'), reply: out(fixture('winget', 'list-powershell-after.txt')) },
    ]);
    const result = await winget.upgrade([{ name: 'Microsoft.PowerShell', version: null }], { lockTimeoutSeconds: 0 });
    expect(result).toMatchObject({ status: 'succeeded', rebootRequired: true });
  });

  it("succeeds when 'latest' finds nothing newer and the list shows no available version", async () => {
    const { winget } = executor([
      { cmd: 'winget', args: list('Git.Git'), reply: out(fixture('winget', 'list-git-before.txt')) },
      {
        cmd: 'winget',
        args: upgrade('Git.Git'),
        reply: out(fixture('winget', 'upgrade-not-applicable.txt'), WINGET.UPDATE_NOT_APPLICABLE),
      },
      { cmd: 'winget', args: list('Git.Git'), reply: out(fixture('winget', 'list-git-before.txt')) },
    ]);
    expect(await winget.upgrade([{ name: 'Git.Git', version: null }], { lockTimeoutSeconds: 0 })).toMatchObject({
      status: 'succeeded',
      installed: [{ name: 'Git.Git', version: '2.43.0' }],
    });
  });

  it('fails with the HRESULT when the installer fails', async () => {
    const { winget } = executor([
      { cmd: 'winget', args: list('Git.Git'), reply: out(fixture('winget', 'list-git-pending.txt')) },
      { cmd: 'winget', args: upgrade('Git.Git'), reply: out(fixture('winget', 'upgrade-hash-mismatch.txt'), 0x8a150011) },
    ]);
    const result = await winget.upgrade([{ name: 'Git.Git', version: null }], { lockTimeoutSeconds: 0 });
    expect(result).toMatchObject({ status: 'failed', code: 'command-failed', reason: expect.stringContaining('0x8A150011') });
  });

  it('refuses packages that are not installed, and Windows Update articles', async () => {
    const { runner, winget } = executor([
      { cmd: 'winget', args: list('Mozilla.Firefox'), reply: out(fixture('winget', 'list-none.txt'), WINGET.NO_APPLICATIONS_FOUND) },
    ]);
    expect(await winget.upgrade([{ name: 'Mozilla.Firefox', version: null }], { lockTimeoutSeconds: 0 })).toMatchObject({
      code: 'not-installed',
    });
    expect(await winget.upgrade([{ name: 'KB5034441', version: null }], { lockTimeoutSeconds: 0 })).toMatchObject({
      code: 'invalid-request',
    });
    expect(runner.calls).toHaveLength(1);
  });

  it.each(['--source', 'Microsoft.PowerShell --force', 'Micro*', 'C:\\evil.exe', 'Microsoft.PowerShell&calc', 'Microsoft.PowerShеll'])(
    'refuses %j before any command',
    async (name) => {
      const { runner, winget } = executor([]);
      expect(await winget.upgrade([{ name, version: null }], { lockTimeoutSeconds: 0 })).toMatchObject({ code: 'invalid-request' });
      expect(runner.calls).toEqual([]);
    },
  );
});

describe('parseWingetList', () => {
  it('reads version and available version through spinner and CR noise', () => {
    expect(parseWingetList(fixture('winget', 'list-powershell-before.txt'), 'Microsoft.PowerShell')).toEqual({
      version: '7.4.1.0',
      available: '7.4.6.0',
    });
    expect(parseWingetList(fixture('winget', 'list-powershell-after.txt'), 'Microsoft.PowerShell')).toEqual({
      version: '7.4.6.0',
      available: null,
    });
    expect(parseWingetList(fixture('winget', 'list-none.txt'), 'Microsoft.PowerShell')).toBeNull();
  });

  it('keeps a range version such as "< 1.2.3" whole', () => {
    const text = 'Name  Id          Version   Source\n----------------------------------\nTool  Vendor.Tool < 1.2.3   winget\n';
    expect(parseWingetList(text, 'Vendor.Tool')).toEqual({ version: '< 1.2.3', available: null });
  });
});
