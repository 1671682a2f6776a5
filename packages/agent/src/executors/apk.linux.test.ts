// apk cannot run on this (Debian) test machine. These tests play back outputs in __fixtures__/apk/
// that were RECONSTRUCTED BY HAND in apk-tools 2's real output format, not captured on Alpine.
import { describe, expect, it } from 'vitest';
import { fixture, out, type ScriptedStep, scriptedRunner } from './__fixtures__/scripted-runner.js';
import { ApkExecutor, parseApkInstalled } from './apk.linux.js';

function executor(steps: ScriptedStep[], world: string | null = fixture('apk', 'world.txt')) {
  const runner = scriptedRunner(steps);
  return { runner, apk: new ApkExecutor({ run: runner.run, baseEnv: {}, readWorld: async () => world }) };
}

describe('ApkExecutor (recorded output)', () => {
  it('upgrades with apk add --upgrade --wait, relaxes the world pins it made, and verifies', async () => {
    const { runner, apk } = executor([
      { cmd: 'apk', args: ['list', '--installed', '--', 'musl', 'busybox'], reply: out(fixture('apk', 'list-installed-before.txt')) },
      {
        cmd: 'apk',
        args: ['add', '--upgrade', '--wait', '20', '--', 'musl=1.2.4-r2', 'busybox'],
        reply: out(fixture('apk', 'add-success.txt')),
      },
      { cmd: 'apk', args: ['add', '--wait', '20', '--', 'musl'], reply: out(fixture('apk', 'add-relax.txt')) },
      { cmd: 'apk', args: ['list', '--installed', '--', 'musl', 'busybox'], reply: out(fixture('apk', 'list-installed-after.txt')) },
      { cmd: 'apk', args: ['version', '-l', '<', '--', 'busybox'], reply: out(fixture('apk', 'version-none.txt')) },
    ]);
    const result = await apk.upgrade(
      [
        { name: 'musl', version: '1.2.4-r2' },
        { name: 'busybox', version: null },
      ],
      { lockTimeoutSeconds: 20 },
    );
    expect(result).toMatchObject({
      status: 'succeeded',
      installed: [
        { name: 'musl', version: '1.2.4-r2' },
        { name: 'busybox', version: '1.36.1-r15' },
      ],
    });
    expect(runner.remaining()).toEqual([]);
  });

  it('says so when a pin stays in world because the package was only a dependency', async () => {
    const { apk } = executor(
      [
        { cmd: 'apk', args: (a) => a[0] === 'list', reply: out(fixture('apk', 'list-installed-before.txt')) },
        { cmd: 'apk', args: ['add', '--upgrade', '--wait', '5', '--', 'musl=1.2.4-r2'], reply: out(fixture('apk', 'add-success.txt')) },
        { cmd: 'apk', args: (a) => a[0] === 'list', reply: out(fixture('apk', 'list-installed-after.txt')) },
      ],
      'busybox\n',
    );
    const result = await apk.upgrade([{ name: 'musl', version: '1.2.4-r2' }], { lockTimeoutSeconds: 5 });
    expect(result.status).toBe('succeeded');
    expect(result.output).toContain('/etc/apk/world now pins musl=1.2.4-r2');
  });

  it("answers 'busy' when the database lock is still held after --wait, but not for a permission error", async () => {
    const locked = executor([
      { cmd: 'apk', args: (a) => a[0] === 'list', reply: out(fixture('apk', 'list-installed-before.txt')) },
      { cmd: 'apk', args: (a) => a[0] === 'add', reply: out('', 99, fixture('apk', 'add-locked.txt')) },
    ]);
    expect(await locked.apk.upgrade([{ name: 'musl', version: null }], { lockTimeoutSeconds: 5 })).toMatchObject({ status: 'busy' });
    const denied = executor([
      { cmd: 'apk', args: (a) => a[0] === 'list', reply: out(fixture('apk', 'list-installed-before.txt')) },
      { cmd: 'apk', args: (a) => a[0] === 'add', reply: out('', 99, fixture('apk', 'add-permission.txt')) },
    ]);
    expect(await denied.apk.upgrade([{ name: 'musl', version: null }], { lockTimeoutSeconds: 5 })).toMatchObject({
      status: 'failed',
      code: 'command-failed',
    });
  });

  it('fails cleanly for a version no repository has', async () => {
    const { apk } = executor([
      { cmd: 'apk', args: (a) => a[0] === 'list', reply: out(fixture('apk', 'list-installed-before.txt')) },
      { cmd: 'apk', args: (a) => a[0] === 'add', reply: out('', 1, fixture('apk', 'add-no-such.txt')) },
    ]);
    const result = await apk.upgrade([{ name: 'musl', version: '9.9-r0' }], { lockTimeoutSeconds: 5 });
    expect(result).toMatchObject({ status: 'failed', code: 'not-available', reason: expect.stringContaining('musl-9.9-r0') });
  });

  it("fails verification when 'latest' still leaves a newer version", async () => {
    const { apk } = executor([
      { cmd: 'apk', args: (a) => a[0] === 'list', reply: out(fixture('apk', 'list-installed-after.txt')) },
      { cmd: 'apk', args: (a) => a[0] === 'add', reply: out('OK: 7 MiB in 15 packages\n') },
      { cmd: 'apk', args: (a) => a[0] === 'list', reply: out(fixture('apk', 'list-installed-after.txt')) },
      { cmd: 'apk', args: (a) => a[0] === 'version', reply: out(fixture('apk', 'version-pending.txt')) },
    ]);
    const result = await apk.upgrade([{ name: 'busybox', version: null }], { lockTimeoutSeconds: 5 });
    expect(result).toMatchObject({ status: 'failed', code: 'verify-mismatch' });
  });

  it.each(['musl=1.2.4-r2', 'musl>1', 'musl@edge', '!musl', '-U', 'mu sl'])('refuses %j before any command', async (name) => {
    const { runner, apk } = executor([]);
    expect(await apk.upgrade([{ name, version: null }], { lockTimeoutSeconds: 5 })).toMatchObject({ code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });
});

describe('parseApkInstalled', () => {
  it('splits name and version even when the name contains hyphens', () => {
    const text =
      'py3-setuptools-70.3.0-r0 noarch {py3-setuptools} (MIT) [installed]\npy3-setuptools-pyc-70.3.0-r0 noarch {py3-setuptools} (MIT) [installed]\n';
    expect(parseApkInstalled(text, ['py3-setuptools'])).toEqual(new Map([['py3-setuptools', '70.3.0-r0']]));
  });
});
