import { describe, expect, it } from 'vitest';
import type { ExecutionResult, PackageExecutor, PackageRequest } from './package-executor.js';
import { WindowsPackageExecutor } from './windows-package-executor.windows.js';

/** An executor that records what it was asked and answers as scripted. */
function scripted(name: string, results: ExecutionResult[]): PackageExecutor & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    ecosystem: 'windows',
    calls,
    async upgrade(packages: readonly PackageRequest[]) {
      calls.push(packages.map((p) => p.name));
      const next = results.shift();
      if (!next) throw new Error(`${name} was called more often than scripted`);
      return next;
    },
  };
}

const ok = (name: string, version: string, rebootRequired = false): ExecutionResult => ({
  status: 'succeeded',
  installed: [{ name, version }],
  rebootRequired,
  output: `$ ${name}\n`,
});

describe('WindowsPackageExecutor', () => {
  it('sends winget ids to winget and KB articles to Windows Update, applications first, and merges the results', async () => {
    const winget = scripted('winget', [ok('Microsoft.PowerShell', '7.4.6.0')]);
    const windowsUpdate = scripted('windows update', [ok('KB5035853', '1', true)]);
    const result = await new WindowsPackageExecutor({ winget, windowsUpdate }).upgrade(
      [
        { name: 'KB5035853', version: null },
        { name: 'Microsoft.PowerShell', version: '7.4.6.0' },
      ],
      { lockTimeoutSeconds: 10 },
    );
    expect(winget.calls).toEqual([['Microsoft.PowerShell']]);
    expect(windowsUpdate.calls).toEqual([['KB5035853']]);
    expect(result).toMatchObject({
      status: 'succeeded',
      rebootRequired: true,
      installed: [
        { name: 'Microsoft.PowerShell', version: '7.4.6.0' },
        { name: 'KB5035853', version: '1' },
      ],
    });
    expect(result.output).toContain('$ Microsoft.PowerShell');
    expect(result.output).toContain('$ KB5035853');
  });

  it('stops at the first group that does not succeed, keeping what the earlier one installed', async () => {
    const winget = scripted('winget', [ok('Git.Git', '2.44.0')]);
    const windowsUpdate = scripted('windows update', [
      { status: 'busy', installed: [], rebootRequired: false, output: '', code: 'lock-busy', reason: 'another installation' },
    ]);
    const result = await new WindowsPackageExecutor({ winget, windowsUpdate }).upgrade(
      [
        { name: 'Git.Git', version: null },
        { name: 'KB5035853', version: null },
      ],
      { lockTimeoutSeconds: 10 },
    );
    expect(result).toMatchObject({ status: 'busy', code: 'lock-busy', installed: [{ name: 'Git.Git', version: '2.44.0' }] });
  });

  it('fails with tool-missing, running nothing, when winget is absent and an application is asked for', async () => {
    const windowsUpdate = scripted('windows update', []);
    const result = await new WindowsPackageExecutor({ windowsUpdate }).upgrade(
      [
        { name: 'Git.Git', version: null },
        { name: 'KB5035853', version: null },
      ],
      { lockTimeoutSeconds: 10 },
    );
    expect(result).toMatchObject({ status: 'failed', code: 'tool-missing' });
    expect(result.reason).toContain('winget (for Git.Git)');
    expect(windowsUpdate.calls).toEqual([]);
  });

  it('needs no winget for KB articles alone', async () => {
    const windowsUpdate = scripted('windows update', [ok('KB890830', '200')]);
    expect(
      await new WindowsPackageExecutor({ windowsUpdate }).upgrade([{ name: 'KB890830', version: null }], { lockTimeoutSeconds: 0 }),
    ).toMatchObject({
      status: 'succeeded',
    });
  });

  it('refuses a name outside the windows grammar before either tool is asked', async () => {
    const winget = scripted('winget', []);
    const windowsUpdate = scripted('windows update', []);
    const result = await new WindowsPackageExecutor({ winget, windowsUpdate }).upgrade([{ name: 'KB123; Remove-Item', version: null }], {
      lockTimeoutSeconds: 10,
    });
    expect(result).toMatchObject({ status: 'failed', code: 'invalid-request' });
    expect(winget.calls).toEqual([]);
    expect(windowsUpdate.calls).toEqual([]);
  });
});
