import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type AptSandbox, type AptSandboxOptions, aptAvailable, createAptSandbox, exists } from './support/apt-sandbox.js';

/**
 * The apt sandbox other suites build on: real apt and dpkg, a private root, a local repository.
 * These tests pin down that it behaves like a Debian host (security suites, upgradable lists, locks,
 * interrupted dpkg) and that it never touches the machine's own package state.
 * Off Debian-family machines there is no apt; CI runs on Debian and must not skip.
 */
const canRun = process.env.CI === 'true' || (await aptAvailable());
const exec = promisify(execFile);

async function hostState(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['/var/lib/dpkg/status', '/var/log/dpkg.log']) {
    hash.update(file);
    hash.update(await readFile(file).catch(() => Buffer.from('missing')));
  }
  for (const dir of ['/var/lib/dpkg/updates', '/var/lib/apt/lists', '/var/cache/apt/archives', '/run']) {
    const names = await readdir(dir).catch(() => []);
    hash.update(`${dir}:${names.sort().join(',')}`);
  }
  return hash.digest('hex');
}

describe.runIf(canRun)('the apt sandbox', () => {
  const sandboxes: AptSandbox[] = [];
  afterEach(async () => {
    for (const s of sandboxes.splice(0)) await s.cleanup();
  });
  async function sandbox(options: AptSandboxOptions): Promise<AptSandbox> {
    const s = await createAptSandbox(options);
    sandboxes.push(s);
    return s;
  }

  const PACKAGES = [
    { name: 'hello', version: '1.0' },
    { name: 'hello', version: '2.0', suite: 'bookworm-security' },
    { name: 'tool', version: '1.0-1' },
    { name: 'tool', version: '1.1-1', suite: 'bookworm-updates' },
    { name: 'lib', version: '1:0.9-1' },
  ];

  it('serves a repository whose security suite apt reports by suite, origin and label', async () => {
    const s = await sandbox({
      packages: PACKAGES,
      installed: [
        { name: 'hello', version: '1.0' },
        { name: 'tool', version: '1.0-1' },
      ],
    });

    const list = await s.apt('apt', ['list', '--upgradable']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('hello/bookworm-security 2.0 all [upgradable from: 1.0]');
    expect(list.stdout).toContain('tool/bookworm-updates 1.1-1 all [upgradable from: 1.0-1]');

    const simulated = await s.apt('apt-get', ['-s', 'upgrade']);
    expect(simulated.stdout).toContain('Inst hello [1.0] (2.0 Debian-Security:bookworm-security [all])');
    expect(simulated.stdout).toContain('Inst tool [1.0-1] (1.1-1 Debian:bookworm-updates [all])');

    const policy = await s.apt('apt-cache', ['policy']);
    expect(policy.stdout).toMatch(/o=Debian,a=bookworm-security,n=bookworm-security,l=Debian-Security,c=main/);
    // Nothing else: the host's own sources are not visible in the sandbox.
    expect(policy.stdout).not.toContain('deb.debian.org');
  });

  it('takes Release metadata per suite, e.g. Debian-style stable-security', async () => {
    const s = await sandbox({
      packages: [
        { name: 'hello', version: '1.0' },
        { name: 'hello', version: '2.0', suite: 'bookworm-security' },
      ],
      suites: [
        { name: 'bookworm-security', suite: 'stable-security', codename: 'bookworm-security', origin: 'Debian', label: 'Debian-Security' },
      ],
      installed: [{ name: 'hello', version: '1.0' }],
    });
    const list = await s.apt('apt', ['list', '--upgradable']);
    expect(list.stdout).toContain('hello/stable-security 2.0 all [upgradable from: 1.0]');
  });

  it('upgrades only inside the private root, leaving the host untouched', async () => {
    const before = await hostState();
    const s = await sandbox({ packages: PACKAGES, installed: [{ name: 'hello', version: '1.0' }] });

    const result = await s.apt('apt-get', ['install', '--only-upgrade', '-y', '--', 'hello=2.0']);

    expect(result.code).toBe(0);
    expect(await s.installedVersions()).toEqual(new Map([['hello', '2.0']]));
    expect(await readFile(path.join(s.root, 'usr/share/hello/VERSION'), 'utf8')).toBe('2.0\n');
    expect(await exists(path.join(s.root, 'var/log/dpkg.log'))).toBe(true);
    await expect(exec('dpkg-query', ['-W', 'hello'])).rejects.toThrow();
    expect(await exists('/usr/share/hello/VERSION')).toBe(false);
    expect(await hostState()).toBe(before);
  });

  it("does not read the host's apt.conf.d (its hooks would run against the real machine)", async () => {
    const s = await sandbox({});
    const dump = await s.apt('apt-config', ['dump']);
    expect(dump.code).toBe(0);
    expect(dump.stdout).not.toMatch(/^DPkg::(Pre-Install-Pkgs|Post-Invoke|Pre-Invoke)/m);
    expect(dump.stdout).not.toMatch(/^APT::Update::Post-Invoke/m);
    const parts = await exec('apt-config', [...s.aptOptions, 'shell', 'P', 'Dir::Etc::parts/d'], { env: { ...process.env, ...s.env } });
    expect(parts.stdout).toContain(path.join(s.root, 'etc/apt/apt.conf.d'));
  });

  it('publishes packages added later', async () => {
    const s = await sandbox({ packages: [{ name: 'hello', version: '1.0' }], installed: [{ name: 'hello', version: '1.0' }] });
    expect((await s.apt('apt', ['list', '--upgradable'])).stdout).not.toContain('hello/');
    await s.addPackages([{ name: 'hello', version: '1.1', suite: 'bookworm-security' }]);
    expect((await s.apt('apt', ['list', '--upgradable'])).stdout).toContain('hello/bookworm-security 1.1 all [upgradable from: 1.0]');
  });

  it('installs a version the repository no longer has, like a host that fell behind', async () => {
    const s = await sandbox({ packages: [{ name: 'hello', version: '2.0' }], installed: [{ name: 'hello', version: '0.9' }] });
    expect((await s.installedVersions()).get('hello')).toBe('0.9');
    expect((await s.apt('apt', ['list', '--upgradable'])).stdout).toContain('hello/bookworm 2.0 all [upgradable from: 0.9]');
  });

  it('resolves dependencies from the repository', async () => {
    const s = await sandbox({
      packages: [
        { name: 'libfoo', version: '1.0' },
        { name: 'libfoo', version: '2.0' },
        { name: 'app', version: '1.0', depends: 'libfoo (>= 1.0)' },
        { name: 'app', version: '2.0', depends: 'libfoo (>= 2.0)' },
      ],
      installed: [
        { name: 'libfoo', version: '1.0' },
        { name: 'app', version: '1.0' },
      ],
    });
    const simulated = await s.apt('apt-get', ['-s', 'install', '--only-upgrade', '--', 'app=2.0']);
    expect(simulated.stdout).toContain('Inst libfoo [1.0] (2.0');
  });

  it('holds dpkg locks the way another apt would (fcntl), so apt waits and then gives up', async () => {
    const s = await sandbox({ packages: PACKAGES, installed: [{ name: 'hello', version: '1.0' }] });
    const held = await s.holdLock();
    const result = await s.apt('apt-get', ['-o', 'DPkg::Lock::Timeout=1', 'install', '--only-upgrade', '-y', '--', 'hello=2.0']);
    expect(result.code).toBe(100);
    expect(result.stderr).toContain('Unable to acquire the dpkg frontend lock');
    expect(result.stdout).toContain(`It is held by process ${held.pid}`);
    await held.release();
    const again = await s.apt('apt-get', ['-o', 'DPkg::Lock::Timeout=1', 'install', '--only-upgrade', '-y', '--', 'hello=2.0']);
    expect(again.code).toBe(0);
  });

  it('leaves dpkg interrupted the way a crash does, and dpkg --configure -a repairs it', async () => {
    const s = await sandbox({ packages: PACKAGES, installed: [{ name: 'hello', version: '1.0' }] });
    await s.interruptDpkg({ name: 'hello', version: '2.0' });

    expect((await s.dpkg(['--audit'])).stdout).toContain('unpacked but not yet configured');
    const refused = await s.apt('apt-get', ['install', '--only-upgrade', '-y', '--', 'hello=2.0']);
    expect(refused.stderr).toContain("dpkg was interrupted, you must manually run 'dpkg --configure -a'");

    expect((await s.dpkg(['--configure', '-a'])).code).toBe(0);
    expect((await s.dpkg(['--audit'])).stdout).toBe('');
    expect((await s.installedVersions()).get('hello')).toBe('2.0');
  });

  it('lets a package flag "reboot required" under the private root only', async () => {
    const s = await sandbox({
      packages: [
        { name: 'kernelish', version: '1.0' },
        { name: 'kernelish', version: '2.0', rebootRequired: true },
      ],
      installed: [{ name: 'kernelish', version: '1.0' }],
    });
    expect(await exists(path.join(s.root, 'run/reboot-required'))).toBe(false);
    const hostFlag = await exists('/run/reboot-required');
    await s.apt('apt-get', ['install', '--only-upgrade', '-y', '--', 'kernelish']);
    expect(await exists(path.join(s.root, 'run/reboot-required'))).toBe(true);
    expect(await readFile(path.join(s.root, 'run/reboot-required.pkgs'), 'utf8')).toBe('kernelish\n');
    expect(await exists('/run/reboot-required')).toBe(hostFlag);
  });

  it('refuses sandbox inputs that are not Debian names or versions', async () => {
    await expect(createAptSandbox({ packages: [{ name: '../evil', version: '1.0' }] })).rejects.toThrow(/not a Debian package name/);
    await expect(createAptSandbox({ packages: [{ name: 'ok', version: '1.0/../x' }] })).rejects.toThrow(/not a Debian version/);
    await expect(createAptSandbox({ packages: [{ name: 'ok', version: '1.0', suite: '../x' }] })).rejects.toThrow(/suite/);
  });

  it('removes everything on cleanup', async () => {
    const s = await createAptSandbox({ packages: [{ name: 'hello', version: '1.0' }], installed: [{ name: 'hello', version: '1.0' }] });
    const held = await s.holdLock();
    await s.cleanup();
    expect(await exists(s.dir)).toBe(false);
    // The lock holder is gone too.
    expect(() => process.kill(held.pid, 0)).toThrow();
  });

  // Root is not required: the same sandbox works for an unprivileged user. When the tests run as root
  // (CI), the sandbox is owned by `nobody` and every command runs as nobody.
  it('works for an unprivileged user', async () => {
    const runAs = process.getuid?.() === 0 ? await nobody() : undefined;
    const s = await sandbox({ packages: PACKAGES, installed: [{ name: 'hello', version: '1.0' }], ...(runAs ? { runAs } : {}) });
    const result = await s.apt('apt-get', ['install', '--only-upgrade', '-y', '--', 'hello']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/^E:/m);
    expect((await s.installedVersions()).get('hello')).toBe('2.0');
    if (runAs) expect((await stat(path.join(s.root, 'usr/share/hello/VERSION'))).uid).toBe(runAs.uid);
  });
});

async function nobody(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await exec('getent', ['passwd', 'nobody']);
  const [, , uid, gid] = stdout.trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
