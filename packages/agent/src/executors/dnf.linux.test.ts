// dnf and rpm cannot run on this (Debian) test machine. These tests play back outputs in
// __fixtures__/dnf/ that were RECONSTRUCTED BY HAND in dnf 4/5's and rpm's real output formats, not
// captured on a Fedora/RHEL host; exit codes are the tools' documented ones.
import { describe, expect, it } from 'vitest';
import { fixture, out, type ScriptedStep, scriptedRunner } from './__fixtures__/scripted-runner.js';
import { DnfExecutor } from './dnf.linux.js';
import type { Clock } from './package-executor.js';
import { RPM_QUERY_FORMAT, rpmVersionMatches } from './rpm-query.linux.js';

const rpmQ = (...names: string[]) => ['-q', '--queryformat', RPM_QUERY_FORMAT, '--', ...names];
const dnf4Upgrade = (...specs: string[]) => ['-y', '--setopt=exit_on_lock=True', 'upgrade', '--', ...specs];

function fakeClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

function executor(steps: ScriptedStep[], clock: Clock = fakeClock()) {
  const runner = scriptedRunner(steps);
  return { runner, dnf: new DnfExecutor({ run: runner.run, clock, baseEnv: {} }) };
}

describe('DnfExecutor (recorded output)', () => {
  it('upgrades pinned and latest packages, verifies with rpm -q and repoquery, and reads needs-restarting', async () => {
    const { runner, dnf } = executor([
      { cmd: 'rpm', args: rpmQ('openssl', 'curl'), reply: out(fixture('dnf', 'rpm-q-before.txt')) },
      { cmd: 'dnf', args: ['--version'], reply: out(fixture('dnf', 'version-4.txt')) },
      { cmd: 'dnf', args: dnf4Upgrade('openssl-1:3.0.7-25.el9_3', 'curl'), reply: out(fixture('dnf', 'upgrade-success.txt')) },
      { cmd: 'rpm', args: rpmQ('openssl', 'curl'), reply: out(fixture('dnf', 'rpm-q-after.txt')) },
      { cmd: 'dnf', args: ['-q', '-C', 'repoquery', '--upgrades', '--queryformat', '%{name}\\n', '--', 'curl'], reply: out('') },
      { cmd: 'dnf', args: ['needs-restarting', '-r'], reply: out(fixture('dnf', 'needs-restarting-reboot.txt'), 1) },
    ]);

    const result = await dnf.upgrade(
      [
        { name: 'openssl', version: '1:3.0.7-25.el9_3' },
        { name: 'curl', version: null },
      ],
      { lockTimeoutSeconds: 10 },
    );

    expect(result).toMatchObject({
      status: 'succeeded',
      rebootRequired: true,
      installed: [
        { name: 'openssl', version: '1:3.0.7-25.el9_3' },
        { name: 'curl', version: '7.76.1-26.el9_3.2' },
      ],
    });
    expect(result.output).toContain('Complete!');
    expect(runner.remaining()).toEqual([]);
  });

  it("fails verification when 'latest' still leaves a newer version available", async () => {
    const { dnf } = executor([
      { cmd: 'rpm', args: rpmQ('curl'), reply: out('curl\t7.76.1-26.el9\tx86_64\n') },
      { cmd: 'dnf', args: ['--version'], reply: out(fixture('dnf', 'version-4.txt')) },
      { cmd: 'dnf', args: dnf4Upgrade('curl'), reply: out('Dependencies resolved.\nNothing to do.\nComplete!\n') },
      { cmd: 'rpm', args: rpmQ('curl'), reply: out('curl\t7.76.1-26.el9\tx86_64\n') },
      { cmd: 'dnf', args: (a) => a.includes('repoquery'), reply: out(fixture('dnf', 'repoquery-upgrades-pending.txt')) },
      { cmd: 'dnf', args: ['needs-restarting', '-r'], reply: out(fixture('dnf', 'needs-restarting-none.txt'), 0) },
    ]);
    const result = await dnf.upgrade([{ name: 'curl', version: null }], { lockTimeoutSeconds: 10 });
    expect(result).toMatchObject({ status: 'failed', code: 'verify-mismatch', rebootRequired: false });
    expect(result.reason).toContain('curl still has a newer version available');
  });

  it('accepts a kernel upgrade although the old kernel stays installed (installonly)', async () => {
    const { dnf } = executor([
      { cmd: 'rpm', args: rpmQ('kernel-core'), reply: out('kernel-core\t5.14.0-362.8.1.el9_3\tx86_64\n') },
      { cmd: 'dnf', args: ['--version'], reply: out(fixture('dnf', 'version-4.txt')) },
      { cmd: 'dnf', args: dnf4Upgrade('kernel-core-5.14.0-362.13.1.el9_3'), reply: out('Complete!\n') },
      { cmd: 'rpm', args: rpmQ('kernel-core'), reply: out(fixture('dnf', 'rpm-q-kernel-after.txt')) },
      { cmd: 'dnf', args: ['needs-restarting', '-r'], reply: out(fixture('dnf', 'needs-restarting-reboot.txt'), 1) },
    ]);
    const result = await dnf.upgrade([{ name: 'kernel-core', version: '5.14.0-362.13.1.el9_3' }], { lockTimeoutSeconds: 10 });
    expect(result).toMatchObject({ status: 'succeeded', rebootRequired: true });
  });

  it("retries while dnf 4's RPMDB lock is held, then answers 'busy'", async () => {
    const locked = out(fixture('dnf', 'upgrade-locked-dnf4.txt'), 200);
    const clock = fakeClock();
    const { runner, dnf } = executor(
      [
        { cmd: 'rpm', args: rpmQ('openssl'), reply: out('openssl\t1:3.0.7-24.el9\tx86_64\n') },
        { cmd: 'dnf', args: ['--version'], reply: out(fixture('dnf', 'version-4.txt')) },
        { cmd: 'dnf', args: dnf4Upgrade('openssl'), reply: locked },
        { cmd: 'dnf', args: dnf4Upgrade('openssl'), reply: locked },
        { cmd: 'dnf', args: dnf4Upgrade('openssl'), reply: locked },
      ],
      clock,
    );
    const result = await dnf.upgrade([{ name: 'openssl', version: null }], { lockTimeoutSeconds: 4 });
    expect(result).toMatchObject({ status: 'busy', code: 'lock-busy' });
    expect(clock.slept).toEqual([2000, 2000]);
    expect(runner.remaining()).toEqual([]);
  });

  it('recognises dnf 5 (no exit_on_lock option) and its lock failure', async () => {
    const { dnf } = executor([
      { cmd: 'rpm', args: rpmQ('openssl'), reply: out('openssl\t1:3.2.1-1.fc40\tx86_64\n') },
      { cmd: 'dnf', args: ['--version'], reply: out(fixture('dnf', 'version-5.txt')) },
      { cmd: 'dnf', args: ['-y', 'upgrade', '--', 'openssl'], reply: out(fixture('dnf', 'upgrade-locked-dnf5.txt'), 1) },
    ]);
    const result = await dnf.upgrade([{ name: 'openssl', version: null }], { lockTimeoutSeconds: 0 });
    expect(result.status).toBe('busy');
  });

  it('fails cleanly for a version no repository has', async () => {
    const { dnf } = executor([
      { cmd: 'rpm', args: rpmQ('openssl'), reply: out('openssl\t1:3.0.7-24.el9\tx86_64\n') },
      { cmd: 'dnf', args: ['--version'], reply: out(fixture('dnf', 'version-4.txt')) },
      { cmd: 'dnf', args: dnf4Upgrade('openssl-9.9.9'), reply: out(fixture('dnf', 'upgrade-no-match.txt'), 1) },
    ]);
    const result = await dnf.upgrade([{ name: 'openssl', version: '9.9.9' }], { lockTimeoutSeconds: 0 });
    expect(result).toMatchObject({ status: 'failed', code: 'not-available' });
    expect(result.reason).toContain('openssl-9.9.9');
  });

  it('refuses packages that are not installed before running dnf', async () => {
    const { runner, dnf } = executor([{ cmd: 'rpm', args: rpmQ('openssl', 'nosuch'), reply: out(fixture('dnf', 'rpm-q-missing.txt'), 1) }]);
    const result = await dnf.upgrade(
      [
        { name: 'openssl', version: null },
        { name: 'nosuch', version: null },
      ],
      { lockTimeoutSeconds: 0 },
    );
    expect(result).toMatchObject({ status: 'failed', code: 'not-installed', reason: expect.stringContaining('nosuch') });
    expect(runner.calls.map((c) => c.cmd)).toEqual(['rpm']);
  });

  it("reports a missing dnf as 'tool-missing'", async () => {
    const { dnf } = executor([{ cmd: 'rpm', args: rpmQ('openssl'), reply: { throws: 'ENOENT' } }]);
    expect(await dnf.upgrade([{ name: 'openssl', version: null }], { lockTimeoutSeconds: 0 })).toMatchObject({
      status: 'failed',
      code: 'tool-missing',
    });
  });

  it.each(['--nogpgcheck', '*', 'openssl-*', '@core', 'repo:openssl', '/usr/bin/openssl', 'openssl>1', 'openssl;id', 'оpenssl'])(
    'refuses %j before any command',
    async (name) => {
      const { runner, dnf } = executor([]);
      const result = await dnf.upgrade([{ name, version: null }], { lockTimeoutSeconds: 0 });
      expect(result).toMatchObject({ status: 'failed', code: 'invalid-request' });
      expect(runner.calls).toEqual([]);
    },
  );
});

describe('rpmVersionMatches', () => {
  it.each([
    ['1:3.0.7-25.el9_3', '1:3.0.7-25.el9_3', true],
    ['3.0.7-25.el9_3', '1:3.0.7-25.el9_3', true],
    ['3.0.7', '1:3.0.7-25.el9_3', true],
    ['0:1.0-1', '1.0-1', true],
    ['2:3.0.7-25.el9_3', '1:3.0.7-25.el9_3', false],
    ['3.0.7-24.el9', '1:3.0.7-25.el9_3', false],
    ['3.0.8', '1:3.0.7-25.el9_3', false],
  ] as const)('%s against installed %s: %s', (requested, installed, expected) => {
    expect(rpmVersionMatches(requested, installed)).toBe(expected);
  });
});
