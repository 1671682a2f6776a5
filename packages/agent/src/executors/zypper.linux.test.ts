// zypper and rpm cannot run on this (Debian) test machine. These tests play back outputs in
// __fixtures__/zypper/ that were RECONSTRUCTED BY HAND in zypper's and rpm's real output formats, not
// captured on a SUSE host; exit codes are zypper(8)'s documented ones.
import { describe, expect, it } from 'vitest';
import { fixture, out, type ScriptedStep, scriptedRunner } from './__fixtures__/scripted-runner.js';
import { RPM_QUERY_FORMAT } from './rpm-query.linux.js';
import { parseZypperListUpdates, ZYPPER_EXIT, ZypperExecutor } from './zypper.linux.js';

const rpmQ = (...names: string[]) => ['-q', '--queryformat', RPM_QUERY_FORMAT, '--', ...names];

function executor(steps: ScriptedStep[], rebootFlag = false) {
  const runner = scriptedRunner(steps);
  return { runner, zypper: new ZypperExecutor({ run: runner.run, baseEnv: {}, fileExists: async () => rebootFlag }) };
}

describe('ZypperExecutor (recorded output)', () => {
  it('installs a pinned version as a capability, waits for the lock via ZYPP_LOCK_TIMEOUT, and verifies', async () => {
    const { runner, zypper } = executor([
      { cmd: 'rpm', args: rpmQ('openssl-3'), reply: out(fixture('zypper', 'rpm-q-before.txt')) },
      {
        cmd: 'zypper',
        args: ['--non-interactive', 'install', '--auto-agree-with-licenses', '--', 'openssl-3=3.1.4-150600.5.15.1'],
        reply: out(fixture('zypper', 'install-success.txt')),
      },
      { cmd: 'rpm', args: rpmQ('openssl-3'), reply: out(fixture('zypper', 'rpm-q-after.txt')) },
    ]);
    const result = await zypper.upgrade([{ name: 'openssl-3', version: '3.1.4-150600.5.15.1' }], { lockTimeoutSeconds: 30 });
    expect(result).toMatchObject({
      status: 'succeeded',
      rebootRequired: false,
      installed: [{ name: 'openssl-3', version: '3.1.4-150600.5.15.1' }],
    });
    expect(runner.calls[1]?.opts?.env?.ZYPP_LOCK_TIMEOUT).toBe('30');
    expect(runner.remaining()).toEqual([]);
  });

  it('updates to the latest version and reports the reboot zypper asks for (exit 102)', async () => {
    const { zypper } = executor([
      { cmd: 'rpm', args: rpmQ('kernel-default'), reply: out(fixture('zypper', 'rpm-q-kernel-before.txt')) },
      {
        cmd: 'zypper',
        args: ['--non-interactive', 'update', '--auto-agree-with-licenses', '--', 'kernel-default'],
        reply: out(fixture('zypper', 'update-reboot.txt'), ZYPPER_EXIT.INF_REBOOT_NEEDED),
      },
      { cmd: 'rpm', args: rpmQ('kernel-default'), reply: out(fixture('zypper', 'rpm-q-kernel-after.txt')) },
      {
        cmd: 'zypper',
        args: ['--non-interactive', '--no-refresh', 'list-updates'],
        reply: out(fixture('zypper', 'list-updates-none.txt')),
      },
    ]);
    const result = await zypper.upgrade([{ name: 'kernel-default', version: null }], { lockTimeoutSeconds: 30 });
    expect(result).toMatchObject({ status: 'succeeded', rebootRequired: true });
  });

  it("answers 'busy' when the zypp lock stays held (exit 7)", async () => {
    const { zypper } = executor([
      { cmd: 'rpm', args: rpmQ('openssl-3'), reply: out(fixture('zypper', 'rpm-q-before.txt')) },
      { cmd: 'zypper', args: (a) => a.includes('update'), reply: out(fixture('zypper', 'locked.txt'), ZYPPER_EXIT.ZYPP_LOCKED) },
    ]);
    const result = await zypper.upgrade([{ name: 'openssl-3', version: null }], { lockTimeoutSeconds: 5 });
    expect(result).toMatchObject({ status: 'busy', code: 'lock-busy' });
    expect(result.reason).toContain('pid 15950');
  });

  it('fails cleanly when the version is not provided by any repository (exit 104)', async () => {
    const { zypper } = executor([
      { cmd: 'rpm', args: rpmQ('openssl-3'), reply: out(fixture('zypper', 'rpm-q-before.txt')) },
      {
        cmd: 'zypper',
        args: (a) => a.includes('openssl-3=9.9.9'),
        reply: out(fixture('zypper', 'cap-not-found.txt'), ZYPPER_EXIT.INF_CAP_NOT_FOUND),
      },
    ]);
    const result = await zypper.upgrade([{ name: 'openssl-3', version: '9.9.9' }], { lockTimeoutSeconds: 5 });
    expect(result).toMatchObject({
      status: 'failed',
      code: 'not-available',
      reason: expect.stringContaining("No provider of 'openssl-3=9.9.9'"),
    });
  });

  it("fails verification when 'latest' still has an update pending", async () => {
    const { zypper } = executor(
      [
        { cmd: 'rpm', args: rpmQ('vim'), reply: out('vim\t9.1.0330-150500.20.9\tx86_64\n') },
        { cmd: 'zypper', args: (a) => a.includes('update'), reply: out('Nothing to do.\n') },
        { cmd: 'rpm', args: rpmQ('vim'), reply: out('vim\t9.1.0330-150500.20.9\tx86_64\n') },
        { cmd: 'zypper', args: (a) => a.includes('list-updates'), reply: out(fixture('zypper', 'list-updates-pending.txt')) },
      ],
      true,
    );
    const result = await zypper.upgrade([{ name: 'vim', version: null }], { lockTimeoutSeconds: 5 });
    expect(result).toMatchObject({ status: 'failed', code: 'verify-mismatch', rebootRequired: true });
  });

  it.each(['repo:openssl-3', 'openssl-3=1.0', 'openssl*', '-y', 'openssl 3'])('refuses %j before any command', async (name) => {
    const { runner, zypper } = executor([]);
    expect(await zypper.upgrade([{ name, version: null }], { lockTimeoutSeconds: 5 })).toMatchObject({ code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });
});

describe('parseZypperListUpdates', () => {
  it('reads the Name column and skips the header and rule', () => {
    expect(parseZypperListUpdates(fixture('zypper', 'list-updates-pending.txt'))).toEqual(['kernel-default', 'vim']);
    expect(parseZypperListUpdates(fixture('zypper', 'list-updates-none.txt'))).toEqual([]);
  });
});
