import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AptSandbox, type AptSandboxOptions, aptAvailable, createAptSandbox } from '../../../../test/support/apt-sandbox.js';
import { type CommandRunner, runCommand } from '../run-command.js';
import { AptExecutor, parseAptPolicy } from './apt.linux.js';
import type { PackageRequest } from './package-executor.js';

/**
 * The apt executor against a REAL apt 2.x and dpkg: a private root and a local repository built by
 * test/support/apt-sandbox.ts. The machine's own package state is never touched (checked below).
 * Off Debian-family machines there is no apt; CI runs on Debian and must not skip.
 */
const canRun = process.env.CI === 'true' || (await aptAvailable());
const exec = promisify(execFile);

const HELLO = [
  { name: 'hello', version: '1.0' },
  { name: 'hello', version: '2.0', suite: 'bookworm-security' },
  { name: 'hello', version: '3.0', suite: 'bookworm-security' },
  { name: 'world', version: '1:1.0-1' },
  { name: 'world', version: '1:1.1-1' },
];

interface Call {
  cmd: string;
  args: readonly string[];
}

describe.runIf(canRun)('AptExecutor on a real apt sandbox', () => {
  const sandboxes: AptSandbox[] = [];
  afterEach(async () => {
    for (const s of sandboxes.splice(0)) await s.cleanup();
  });

  async function setup(options: AptSandboxOptions, runner: CommandRunner = runCommand) {
    const sandbox = await createAptSandbox(options);
    sandboxes.push(sandbox);
    const calls: Call[] = [];
    const run: CommandRunner = (cmd, args, opts) => {
      calls.push({ cmd, args });
      return runner(cmd, args, opts);
    };
    const executor = new AptExecutor({
      run,
      root: sandbox.root,
      aptOptions: sandbox.aptOptions,
      dpkgOptions: sandbox.dpkgOptions,
      env: sandbox.env,
    });
    return { sandbox, executor, calls };
  }

  it('upgrades a package to a pinned version and reads it back from dpkg', async () => {
    const hostStatus = await hashHostStatus();
    const { sandbox, executor, calls } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });

    const result = await executor.upgrade([{ name: 'hello', version: '2.0' }], { lockTimeoutSeconds: 5 });

    expect(result).toMatchObject({ status: 'succeeded', installed: [{ name: 'hello', version: '2.0' }], rebootRequired: false });
    expect((await sandbox.installedVersions()).get('hello')).toBe('2.0');
    // dpkg really replaced the files in the private root.
    expect(await readFile(path.join(sandbox.root, 'usr/share/hello/VERSION'), 'utf8')).toBe('2.0\n');
    const install = calls.find((c) => c.cmd === 'apt-get');
    expect(install?.args).toEqual(
      expect.arrayContaining(['install', '--only-upgrade', '-y', '-o', 'DPkg::Lock::Timeout=5', '--', 'hello=2.0']),
    );
    expect(install?.args.indexOf('--')).toBe((install?.args.length ?? 0) - 2);
    expect(result.output).toContain('Setting up hello (2.0)');
    expect(await hashHostStatus()).toBe(hostStatus);
  });

  it('upgrades to the newest candidate for "latest" and several packages in one run', async () => {
    const { sandbox, executor } = await setup({
      packages: HELLO,
      installed: [
        { name: 'hello', version: '1.0' },
        { name: 'world', version: '1:1.0-1' },
      ],
    });

    const result = await executor.upgrade(
      [
        { name: 'hello', version: null },
        { name: 'world', version: '1:1.1-1' },
      ],
      { lockTimeoutSeconds: 5 },
    );

    expect(result.status).toBe('succeeded');
    expect(result.installed).toEqual([
      { name: 'hello', version: '3.0' },
      { name: 'world', version: '1:1.1-1' },
    ]);
    expect(Object.fromEntries(await sandbox.installedVersions())).toEqual({ hello: '3.0', world: '1:1.1-1' });
  });

  it('succeeds without change when the package is already at the requested version', async () => {
    const { executor } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '3.0' }] });
    const pinned = await executor.upgrade([{ name: 'hello', version: '3.0' }], { lockTimeoutSeconds: 5 });
    const latest = await executor.upgrade([{ name: 'hello', version: null }], { lockTimeoutSeconds: 5 });
    expect(pinned).toMatchObject({ status: 'succeeded', installed: [{ name: 'hello', version: '3.0' }] });
    expect(latest).toMatchObject({ status: 'succeeded', installed: [{ name: 'hello', version: '3.0' }] });
  });

  it('fails cleanly for a version the repository does not have, changing nothing', async () => {
    const { sandbox, executor } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });

    const result = await executor.upgrade([{ name: 'hello', version: '9.9' }], { lockTimeoutSeconds: 5 });

    expect(result).toMatchObject({ status: 'failed', code: 'command-failed', installed: [{ name: 'hello', version: '1.0' }] });
    expect(result.reason).toContain("Version '9.9' for 'hello' was not found");
    expect((await sandbox.installedVersions()).get('hello')).toBe('1.0');
  });

  it('refuses a downgrade: --only-upgrade without --allow-downgrades', async () => {
    const { sandbox, executor } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '3.0' }] });
    const result = await executor.upgrade([{ name: 'hello', version: '1.0' }], { lockTimeoutSeconds: 5 });
    expect(result.status).toBe('failed');
    expect((await sandbox.installedVersions()).get('hello')).toBe('3.0');
  });

  it('refuses packages that are not installed without running apt-get (an upgrade never installs)', async () => {
    const { sandbox, executor, calls } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });

    const result = await executor.upgrade(
      [
        { name: 'hello', version: '2.0' },
        { name: 'world', version: null },
      ],
      { lockTimeoutSeconds: 5 },
    );

    expect(result).toMatchObject({ status: 'failed', code: 'not-installed' });
    expect(result.reason).toContain('world');
    expect(calls.map((c) => c.cmd)).not.toContain('apt-get');
    expect((await sandbox.installedVersions()).get('world')).toBeUndefined();
  });

  // apt would read 'hello+' as "install hello" and 'hell.' as a regex matching hello; neither is an
  // installed package, so neither reaches apt.
  it.each(['hello+', 'hel.o'])('never hands apt the ambiguous name %s', async (name) => {
    const { executor, calls } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });
    const result = await executor.upgrade([{ name, version: null }], { lockTimeoutSeconds: 5 });
    expect(result).toMatchObject({ status: 'failed', code: 'not-installed' });
    expect(calls.map((c) => c.cmd)).not.toContain('apt-get');
    expect(calls.map((c) => c.cmd)).not.toContain('apt-cache');
  });

  it.each(['lock-frontend', 'lock'] as const)("reports 'busy' while another process holds dpkg's %s, changing nothing", async (lock) => {
    const { sandbox, executor } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });
    const held = await sandbox.holdLock(lock);

    const started = Date.now();
    const result = await executor.upgrade([{ name: 'hello', version: '2.0' }], { lockTimeoutSeconds: 1 });
    const waitedMs = Date.now() - started;
    await held.release();

    expect(result).toMatchObject({ status: 'busy', code: 'lock-busy' });
    expect(result.reason).toContain('dpkg');
    // apt waited DPkg::Lock::Timeout before giving up.
    expect(waitedMs).toBeGreaterThanOrEqual(900);
    expect((await sandbox.installedVersions()).get('hello')).toBe('1.0');

    const retried = await executor.upgrade([{ name: 'hello', version: '2.0' }], { lockTimeoutSeconds: 1 });
    expect(retried.status).toBe('succeeded');
  });

  it("reports 'busy' when apt's archive cache is locked", async () => {
    const { sandbox, executor } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });
    const held = await sandbox.holdLock('archives');
    const result = await executor.upgrade([{ name: 'hello', version: '2.0' }], { lockTimeoutSeconds: 1 });
    await held.release();
    expect(result.status).toBe('busy');
  });

  it('repairs an interrupted dpkg run first, then upgrades', async () => {
    const { sandbox, executor, calls } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });
    await sandbox.interruptDpkg({ name: 'hello', version: '2.0' });
    // What an operator would see: apt refuses to work until dpkg is repaired.
    const refused = await sandbox.apt('apt-get', ['install', '--only-upgrade', '-y', '--', 'hello=3.0']);
    expect(refused.stderr).toContain('dpkg was interrupted');

    const result = await executor.upgrade([{ name: 'hello', version: '3.0' }], { lockTimeoutSeconds: 5 });

    expect(result).toMatchObject({ status: 'succeeded', installed: [{ name: 'hello', version: '3.0' }] });
    const commands = calls.map((c) => [c.cmd, ...c.args.filter((a) => !a.startsWith('--root') && !a.startsWith('--log'))].join(' '));
    const repair = commands.findIndex((c) => c.startsWith('dpkg') && c.includes('--configure -a'));
    expect(repair).toBeGreaterThanOrEqual(0);
    expect(repair).toBeLessThan(commands.findIndex((c) => c.startsWith('apt-get')));
    const audit = await sandbox.dpkg(['--audit']);
    expect(audit.stdout).toBe('');
  });

  it('repairs when only dpkg\'s journal was left behind (apt says "dpkg was interrupted", --audit says nothing)', async () => {
    const { sandbox, executor } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });
    await sandbox.interruptDpkg({ name: 'hello', version: '2.0' });
    // Finish the configuration by hand but put the journal back: apt still refuses.
    await sandbox.dpkg(['--configure', '-a']);
    const status = await readFile(path.join(sandbox.dpkgAdmindir, 'status'), 'utf8');
    const stanza = status.split('\n\n').find((s) => s.startsWith('Package: hello\n')) ?? '';
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(path.join(sandbox.dpkgAdmindir, 'updates', '0000'), `${stanza.trimEnd()}\n\n`),
    );

    const result = await executor.upgrade([{ name: 'hello', version: '3.0' }], { lockTimeoutSeconds: 5 });
    expect(result.status).toBe('succeeded');
    expect(result.output).toContain('dpkg was interrupted');
  });

  it('reports reboot-required from <root>/run/reboot-required, set by the package itself', async () => {
    const { sandbox, executor } = await setup({
      packages: [
        { name: 'kernelish', version: '1.0' },
        { name: 'kernelish', version: '2.0', rebootRequired: true },
      ],
      installed: [{ name: 'kernelish', version: '1.0' }],
    });
    await rm(path.join(sandbox.root, 'run/reboot-required'), { force: true });

    const result = await executor.upgrade([{ name: 'kernelish', version: '2.0' }], { lockTimeoutSeconds: 5 });

    expect(result).toMatchObject({ status: 'succeeded', rebootRequired: true });
    expect(await readFile(path.join(sandbox.root, 'run/reboot-required.pkgs'), 'utf8')).toContain('kernelish');
  });

  const HOSTILE: PackageRequest[][] = [
    [{ name: '-oAPT::Get::AllowUnauthenticated=true', version: null }],
    [{ name: '--allow-unauthenticated', version: null }],
    [{ name: './x.deb', version: null }],
    [{ name: '../../etc/passwd', version: null }],
    [{ name: '/tmp/x.deb', version: null }],
    [{ name: 'hello-', version: null }],
    [{ name: 'hello=1.0', version: null }],
    [{ name: 'hello/bookworm-security', version: null }],
    [{ name: 'hello:amd64', version: null }],
    [{ name: 'hello;reboot', version: null }],
    [{ name: '$(reboot)', version: null }],
    [{ name: 'h\u0435llo', version: null }],
    [{ name: 'hello', version: '2.0 --allow-downgrades' }],
    [{ name: 'hello', version: '-o' }],
    [{ name: 'hello', version: '2.0/bookworm' }],
    [{ name: 'hello', version: '2.0\n' }],
    [
      { name: 'hello', version: '2.0' },
      { name: 'hello', version: '3.0' },
    ],
    [],
  ];

  // One sandbox for all of them: each must leave it exactly as it was.
  describe('with hostile input', () => {
    let shared: Awaited<ReturnType<typeof setup>>;
    beforeAll(async () => {
      shared = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });
      sandboxes.splice(sandboxes.indexOf(shared.sandbox), 1);
    });
    afterAll(async () => {
      await shared?.sandbox.cleanup();
    });

    it.each(HOSTILE.map((packages) => [JSON.stringify(packages), packages] as const))(
      'refuses %s before running any command',
      async (_label, packages) => {
        shared.calls.length = 0;
        const result = await shared.executor.upgrade(packages, { lockTimeoutSeconds: 5 });
        expect(result).toMatchObject({ status: 'failed', code: 'invalid-request', installed: [] });
        expect(result.reason).toBeTruthy();
        expect(shared.calls).toEqual([]);
        expect((await shared.sandbox.installedVersions()).get('hello')).toBe('1.0');
      },
    );
  });

  it('refuses a bad lock timeout and an already cancelled run before any command', async () => {
    const { executor, calls } = await setup({ packages: HELLO, installed: [{ name: 'hello', version: '1.0' }] });
    expect((await executor.upgrade([{ name: 'hello', version: '2.0' }], { lockTimeoutSeconds: -1 })).code).toBe('invalid-request');
    expect((await executor.upgrade([{ name: 'hello', version: '2.0' }], { lockTimeoutSeconds: 1.5 })).code).toBe('invalid-request');
    const controller = new AbortController();
    controller.abort();
    expect((await executor.upgrade([{ name: 'hello', version: '2.0' }], { lockTimeoutSeconds: 1, signal: controller.signal })).code).toBe(
      'aborted',
    );
    expect(calls).toEqual([]);
  });

  // As an unprivileged user (the sandbox owned by `nobody`, every command run through setpriv), to show
  // nothing here depends on being root. Only possible when the tests themselves run as root.
  const asRoot = process.getuid?.() === 0;
  it.runIf(asRoot)('works when apt and dpkg run as an unprivileged user', async () => {
    const nobody = await lookupNobody();
    const viaSetpriv: CommandRunner = (cmd, args, opts) =>
      runCommand('setpriv', [`--reuid=${nobody.uid}`, `--regid=${nobody.gid}`, '--clear-groups', '--', cmd, ...args], opts);
    const { sandbox, executor, calls } = await setup(
      { packages: HELLO, installed: [{ name: 'hello', version: '1.0' }], runAs: nobody },
      viaSetpriv,
    );
    const result = await executor.upgrade([{ name: 'hello', version: null }], { lockTimeoutSeconds: 5 });
    expect(result).toMatchObject({ status: 'succeeded', installed: [{ name: 'hello', version: '3.0' }] });
    expect((await sandbox.installedVersions()).get('hello')).toBe('3.0');
    expect(calls.some((c) => c.cmd === 'apt-get')).toBe(true);
  });
});

describe('parseAptPolicy', () => {
  it('reads installed and candidate per exact package name', () => {
    const text = [
      'hello:',
      '  Installed: 1.0',
      '  Candidate: 3.0',
      '  Version table:',
      '     3.0 500',
      '        500 file:/repo bookworm-security/main amd64 Packages',
      ' *** 1.0 100',
      '        100 /var/lib/dpkg/status',
      'ghost:',
      '  Installed: (none)',
      '  Candidate: (none)',
      '  Version table:',
      '',
    ].join('\n');
    expect(parseAptPolicy(text)).toEqual(
      new Map([
        ['hello', { installed: '1.0', candidate: '3.0' }],
        ['ghost', { installed: null, candidate: null }],
      ]),
    );
  });
});

async function hashHostStatus(): Promise<string> {
  return createHash('sha256')
    .update(await readFile('/var/lib/dpkg/status').catch(() => Buffer.alloc(0)))
    .digest('hex');
}

async function lookupNobody(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await exec('getent', ['passwd', 'nobody']);
  const [, , uid, gid] = stdout.trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
