import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AptSandbox, type AptSandboxOptions, aptAvailable, createAptSandbox } from '../../../../test/support/apt-sandbox.js';
import { type CommandRunner, runCommand } from '../run-command.js';
import { scriptedRunner } from './__fixtures__/scripted-runner.js';
import { AptControl, PackageControlError, parseSimulatedRemovals } from './apt-control.linux.js';

/**
 * The policies' apt control against a REAL apt and dpkg in a private root (test/support/apt-sandbox.ts);
 * the machine's own packages are never touched. CI runs on Debian and must not skip.
 */
const canRun = process.env.CI === 'true' || (await aptAvailable());

const REPO = [
  { name: 'hello', version: '1.0' },
  { name: 'hello', version: '2.0', suite: 'bookworm-security' },
  { name: 'world', version: '1.0', depends: 'hello' },
  { name: 'telnet', version: '0.17-44' },
];

const HOSTILE = ['clamav; rm -rf /', '-oAPT::X=1', '../../etc', 'hello\nworld', '$(reboot)', '', 'hello world', '--purge'];

describe.runIf(canRun)('AptControl on a real apt sandbox', () => {
  const sandboxes: AptSandbox[] = [];
  afterEach(async () => {
    for (const s of sandboxes.splice(0)) await s.cleanup();
  });

  async function setup(options: AptSandboxOptions) {
    const sandbox = await createAptSandbox(options);
    sandboxes.push(sandbox);
    const calls: string[] = [];
    const run: CommandRunner = (cmd, args, opts) => {
      // The command without the sandbox's own options in front, e.g. "apt-get update -o DPkg::Lock::Timeout=1".
      const own = cmd === 'dpkg' ? sandbox.dpkgOptions : cmd.startsWith('apt') ? sandbox.aptOptions : [];
      calls.push([cmd, ...args.slice(own.length)].join(' '));
      return runCommand(cmd, args, opts);
    };
    const control = new AptControl({
      run,
      root: sandbox.root,
      aptOptions: sandbox.aptOptions,
      dpkgOptions: sandbox.dpkgOptions,
      env: sandbox.env,
      lockTimeoutSeconds: 1,
    });
    return { sandbox, control, calls };
  }

  it('installs a missing package at its candidate version and reads it back', async () => {
    const { sandbox, control } = await setup({ packages: REPO });
    expect(await control.installedVersion('hello')).toBeNull();
    expect(await control.install('hello')).toEqual({ ok: true, detail: 'installed hello 2.0' });
    expect(await control.installedVersion('hello')).toBe('2.0');
    expect((await sandbox.installedVersions()).get('hello')).toBe('2.0');
  });

  it('brings an old version up to the candidate (a minimum version the host does not meet)', async () => {
    const { control } = await setup({ packages: REPO, installed: [{ name: 'hello', version: '1.0' }] });
    expect(control.atLeast((await control.installedVersion('hello')) ?? '', '2.0')).toBe(false);
    expect((await control.install('hello')).ok).toBe(true);
    expect(control.atLeast((await control.installedVersion('hello')) ?? '', '2.0')).toBe(true);
  });

  it('succeeds without change when the candidate is already installed', async () => {
    const { control } = await setup({ packages: REPO, installed: [{ name: 'hello', version: '2.0' }] });
    expect(await control.install('hello')).toMatchObject({ ok: true });
    expect(await control.installedVersion('hello')).toBe('2.0');
  });

  it('says a package the sources do not have is not available, after refreshing the lists once', async () => {
    const { control, calls } = await setup({ packages: REPO });
    expect(await control.install('ghost')).toMatchObject({ ok: false, code: 'not-available' });
    expect(calls.filter((c) => c.startsWith('apt-get update'))).toHaveLength(1);
  });

  it('removes an installed package and treats an absent one as done', async () => {
    const { sandbox, control, calls } = await setup({ packages: REPO, installed: [{ name: 'telnet', version: '0.17-44' }] });
    expect(await control.remove('telnet')).toEqual({ ok: true, detail: 'removed telnet 0.17-44' });
    expect((await sandbox.installedVersions()).has('telnet')).toBe(false);
    calls.length = 0;
    expect(await control.remove('telnet')).toEqual({ ok: true, detail: 'telnet is not installed' });
    expect(calls.some((c) => c.startsWith('apt-get'))).toBe(false);
  });

  it('refuses a removal that would take other packages with it, changing nothing', async () => {
    const { sandbox, control } = await setup({
      packages: REPO,
      installed: [
        { name: 'hello', version: '1.0' },
        { name: 'world', version: '1.0' },
      ],
    });
    const result = await control.remove('hello');
    expect(result).toMatchObject({ ok: false, code: 'would-remove-others' });
    expect(result.detail).toContain('world');
    expect(Object.fromEntries(await sandbox.installedVersions())).toEqual({ hello: '1.0', world: '1.0' });
  });

  it("answers 'busy' while another process holds dpkg's lock, changing nothing", async () => {
    const { sandbox, control } = await setup({ packages: REPO, installed: [{ name: 'hello', version: '1.0' }] });
    const held = await sandbox.holdLock('lock-frontend');
    const result = await control.install('hello');
    await held.release();
    expect(result).toMatchObject({ ok: false, code: 'busy' });
    expect((await sandbox.installedVersions()).get('hello')).toBe('1.0');
  });

  it('repairs an interrupted dpkg run before installing', async () => {
    const { sandbox, control } = await setup({ packages: REPO, installed: [{ name: 'hello', version: '1.0' }] });
    await sandbox.interruptDpkg({ name: 'hello', version: '2.0' });
    expect((await control.install('hello')).ok).toBe(true);
    expect((await sandbox.dpkg(['--audit'])).stdout.trim()).toBe('');
    expect(await control.installedVersion('hello')).toBe('2.0');
  });

  describe('with hostile names', () => {
    let shared: Awaited<ReturnType<typeof setup>>;
    beforeAll(async () => {
      shared = await setup({ packages: REPO, installed: [{ name: 'hello', version: '1.0' }] });
      sandboxes.splice(sandboxes.indexOf(shared.sandbox), 1);
    });
    afterAll(async () => {
      await shared?.sandbox.cleanup();
    });

    it.each(HOSTILE)('refuses %j before running any command', async (name) => {
      shared.calls.length = 0;
      expect(await shared.control.install(name)).toMatchObject({ ok: false, code: 'invalid-request' });
      expect(await shared.control.remove(name)).toMatchObject({ ok: false, code: 'invalid-request' });
      await expect(shared.control.installedVersion(name)).rejects.toBeInstanceOf(PackageControlError);
      expect(shared.calls).toEqual([]);
      expect((await shared.sandbox.installedVersions()).get('hello')).toBe('1.0');
    });
  });
});

describe('AptControl without apt', () => {
  it.each(HOSTILE)('refuses %j before any command (the runner is never called)', async (name) => {
    const runner = scriptedRunner([]);
    const control = new AptControl({ run: runner.run });
    expect(await control.install(name)).toMatchObject({ ok: false, code: 'invalid-request' });
    expect(await control.remove(name)).toMatchObject({ ok: false, code: 'invalid-request' });
    await expect(control.installedVersion(name)).rejects.toMatchObject({ code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });

  it('refuses a name that is not a string', async () => {
    const control = new AptControl({ run: scriptedRunner([]).run });
    expect(await control.install(42 as unknown as string)).toMatchObject({ ok: false, code: 'invalid-request' });
  });

  it("reports 'tool-missing' when dpkg is not installed", async () => {
    const runner = scriptedRunner([{ cmd: 'dpkg', args: ['--audit'], reply: { throws: 'ENOENT' } }]);
    const control = new AptControl({ run: runner.run });
    expect(await control.install('hello')).toMatchObject({ ok: false, code: 'tool-missing' });
  });

  it('compares versions with dpkg ordering', () => {
    const control = new AptControl({ run: scriptedRunner([]).run });
    expect(control.atLeast('1:0.9', '2.0')).toBe(true);
    expect(control.atLeast('1.0~rc1', '1.0')).toBe(false);
    expect(control.atLeast('1.0', '1.0')).toBe(true);
  });
});

describe('parseSimulatedRemovals', () => {
  it('lists the packages apt-get -s remove would remove, without architectures', () => {
    const text = [
      'Reading package lists...',
      'The following packages will be REMOVED:',
      '  hello world',
      'Remv world [1.0]',
      'Remv hello:amd64 [1.0]',
      '',
    ].join('\n');
    expect(parseSimulatedRemovals(text)).toEqual(['world', 'hello']);
  });
});
