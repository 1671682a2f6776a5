/**
 * The two apt fixtures are REAL output, not reconstructed: apt 2.6.1 (Debian 12) ran
 * `apt-get -s -o Debug::NoLocking=1 ... dist-upgrade` (and `upgrade`) as an unprivileged user
 * with LC_ALL=C against a hand-built private root: a dpkg status file and a file: repository with
 * four suites whose Release files carry Label/Suite/Version like Debian's ("Debian" 12.10
 * oldstable, "Debian-Security" oldstable-security), Ubuntu's jammy-security, and a vendor suite
 * with neither Label nor Version. The sandbox test (apt.sandbox.test.ts) runs apt for real.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandRunner, RunOptions } from '../../run-command.js';
import { aptSimulateArgs, checkAptOptions, collectApt, isSecurityRelease, parseAptReleases, parseAptSimulation } from './apt.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('parseAptReleases', () => {
  it('reads Label, Version and Suite, and several sources joined with commas', () => {
    expect(parseAptReleases('Debian:12.10/oldstable, Debian-Security:12/oldstable-security')).toEqual([
      { label: 'Debian', version: '12.10', suite: 'oldstable' },
      { label: 'Debian-Security', version: '12', suite: 'oldstable-security' },
    ]);
  });

  it('reads a Release without Version or without Label, and a source without a Release', () => {
    expect(parseAptReleases('Debian-Security:bookworm-security')).toEqual([{ label: 'Debian-Security', suite: 'bookworm-security' }]);
    expect(parseAptReleases('stable')).toEqual([{ suite: 'stable' }]);
    expect(parseAptReleases('12/stable')).toEqual([{ version: '12', suite: 'stable' }]);
    expect(parseAptReleases('localhost')).toEqual([{ suite: 'localhost' }]);
    expect(parseAptReleases('')).toEqual([]);
  });

  it('keeps a Label with spaces whole', () => {
    expect(parseAptReleases('Docker CE:bookworm')).toEqual([{ label: 'Docker CE', suite: 'bookworm' }]);
  });
});

describe('isSecurityRelease', () => {
  it.each([
    [{ label: 'Debian-Security', version: '12', suite: 'stable-security' }, true],
    [{ label: 'Debian-Security', version: '10', suite: 'oldoldstable' }, true],
    [{ label: 'Debian', suite: 'bookworm-security' }, true],
    [{ label: 'Ubuntu', version: '22.04', suite: 'jammy-security' }, true],
    [{ label: 'UbuntuESMApps', version: '22.04', suite: 'jammy-apps-security' }, true],
    [{ suite: 'stable/bookworm-security' }, true],
    [{ label: 'Debian', version: '12.10', suite: 'oldstable' }, false],
    [{ label: 'Ubuntu', version: '22.04', suite: 'jammy-updates' }, false],
    [{ label: 'security-tools', suite: 'stable' }, false],
    [{ suite: 'securityonion' }, false],
  ])('%o is security: %s', (release, expected) => {
    expect(isSecurityRelease(release)).toBe(expected);
  });
});

describe('parseAptSimulation', () => {
  const recorded = parseAptSimulation(fixture('apt-get-s-dist-upgrade.txt'));
  const byName = (name: string, arch?: string) => recorded.updates.find((u) => u.name === name && (arch === undefined || u.arch === arch));

  it('reports every Inst line with an installed version, once, ignoring Conf lines', () => {
    expect(recorded.updates.map((u) => `${u.name}:${u.arch}`)).toEqual([
      'bind9-host:amd64',
      'curl:amd64',
      'libssl3:amd64',
      'libssl3:i386',
      'linux-image-amd64:amd64',
      'openssl:amd64',
      'tzdata:all',
      'ubuntu-thing:amd64',
      'vendor-agent:amd64',
    ]);
  });

  it('skips a new package pulled in by an upgrade (the kernel ABI package), keeping the metapackage', () => {
    expect(byName('linux-image-6.1.0-31-amd64')).toBeUndefined();
    expect(byName('linux-image-amd64')).toMatchObject({ installedVersion: '6.1.76-1', candidateVersion: '6.1.129-1', security: false });
  });

  it('reads installed and candidate versions, epochs included', () => {
    expect(byName('bind9-host')).toEqual({
      manager: 'apt',
      kind: 'package',
      name: 'bind9-host',
      arch: 'amd64',
      installedVersion: '1:9.18.19-1~deb12u1',
      candidateVersion: '1:9.18.33-1~deb12u2',
      origin: 'Debian-Security',
      suite: 'oldstable-security',
      security: true,
    });
  });

  it('marks a candidate security when any of its sources is, naming that source', () => {
    expect(byName('curl')).toMatchObject({ security: true, origin: 'Debian-Security', suite: 'oldstable-security' });
    expect(byName('tzdata')).toMatchObject({ security: false, origin: 'Debian', suite: 'oldstable', arch: 'all' });
    expect(byName('ubuntu-thing')).toMatchObject({ security: true, origin: 'Ubuntu', suite: 'jammy-security' });
  });

  it('takes the arch of a foreign-architecture package from the candidate, not the name', () => {
    expect(byName('libssl3', 'i386')).toMatchObject({ name: 'libssl3', installedVersion: '3.0.11-1~deb12u2', security: true });
  });

  it('ignores the simulator notes on broken dependencies after the candidate', () => {
    expect(byName('libssl3', 'amd64')).toMatchObject({ candidateVersion: '3.0.16-1~deb12u1', suite: 'oldstable-security' });
  });

  it('reads a source without Label or Version as a bare suite', () => {
    expect(byName('vendor-agent')).toMatchObject({ origin: undefined, suite: 'stable', security: false });
  });

  it('lists held packages as kept back, by name only', () => {
    expect(recorded.keptBack).toEqual(['pinned-pkg']);
  });

  it('with plain `upgrade`, the metapackage needing a new package is kept back instead', () => {
    const upgrade = parseAptSimulation(fixture('apt-get-s-upgrade.txt'));
    expect(upgrade.keptBack).toEqual(['linux-image-amd64', 'pinned-pkg']);
    expect(upgrade.updates.map((u) => u.name)).not.toContain('linux-image-amd64');
  });

  it('reads an empty release list and a phased-updates list', () => {
    const text = [
      'The following upgrades have been deferred due to phasing:',
      '  python3-software-properties software-properties-common',
      'Inst x [1.0] (1.1  [amd64])',
      '0 upgraded, 0 newly installed, 0 to remove and 2 not upgraded.',
    ].join('\n');
    const parsed = parseAptSimulation(text);
    expect(parsed.keptBack).toEqual(['python3-software-properties', 'software-properties-common']);
    expect(parsed.updates).toEqual([
      { manager: 'apt', kind: 'package', name: 'x', arch: 'amd64', installedVersion: '1.0', candidateVersion: '1.1', security: false },
    ]);
  });

  it('reads CRLF and ignores lines that only look similar', () => {
    const text = 'Inst a [1] (2 Debian:12/stable [amd64])\r\nInstall b [1] (2 x [amd64])\nInst c [1] 2\nRemv d [1]\n';
    expect(parseAptSimulation(text).updates.map((u) => u.name)).toEqual(['a']);
  });

  it('returns nothing for a host that is up to date', () => {
    const text =
      'Reading package lists...\nBuilding dependency tree...\nCalculating upgrade...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n';
    expect(parseAptSimulation(text)).toEqual({ updates: [], keptBack: [] });
  });
});

describe('checkAptOptions', () => {
  it('accepts -o Key=Value pairs', () => {
    const options = ['-o', 'Dir=/tmp/x y/', '-o', 'Dir::State::status=/tmp/s', '-o', 'APT::Architectures::=i386'];
    expect(checkAptOptions(options)).toBe(options);
  });

  it.each([
    [['-o']],
    [['-c', '/tmp/apt.conf']],
    [['-o', 'install']],
    [['-o', '=x']],
    [['-o', '-s=1']],
    [['-o', 'Dir=/tmp\nx']],
    [['--allow-unauthenticated', 'x']],
  ])('refuses %j', (options) => {
    expect(() => checkAptOptions(options)).toThrow(/apt option/);
  });
});

describe('collectApt', () => {
  it('runs one simulated dist-upgrade with the options as separate arguments, in the C locale', async () => {
    const calls: { cmd: string; args: readonly string[]; opts: RunOptions | undefined }[] = [];
    const run: CommandRunner = async (cmd, args, opts) => {
      calls.push({ cmd, args, opts });
      return { stdout: fixture('apt-get-s-dist-upgrade.txt'), stderr: '', code: 0 };
    };
    const result = await collectApt(run, { options: ['-o', 'Dir=/x y/'], env: { APT_CONFIG: '/x y/apt.conf', LC_ALL: 'de_DE.UTF-8' } });
    expect(result.updates).toHaveLength(9);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.cmd).toBe('apt-get');
    expect(calls[0]?.args).toEqual([
      '-s',
      '-o',
      'Debug::NoLocking=1',
      '-o',
      'Dir::Cache::pkgcache=',
      '-o',
      'Dir::Cache::srcpkgcache=',
      '-o',
      'Dir=/x y/',
      'dist-upgrade',
    ]);
    expect(calls[0]?.args).toEqual(aptSimulateArgs(['-o', 'Dir=/x y/']));
    expect(calls[0]?.opts?.env).toMatchObject({ APT_CONFIG: '/x y/apt.conf', LC_ALL: 'C' });
  });

  it('refuses bad options before running anything', async () => {
    let ran = false;
    const run: CommandRunner = async () => {
      ran = true;
      return { stdout: '', stderr: '', code: 0 };
    };
    await expect(collectApt(run, { options: ['install', 'evil'] })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(ran).toBe(false);
  });

  it('rejects with ENOENT when apt-get is not installed', async () => {
    const missing: CommandRunner = () => Promise.reject(Object.assign(new Error('spawn apt-get ENOENT'), { code: 'ENOENT' }));
    await expect(collectApt(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('turns apt errors into an error quoting stderr', async () => {
    const failing: CommandRunner = async () => ({
      stdout: '',
      stderr: "E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem.",
      code: 100,
    });
    await expect(collectApt(failing)).rejects.toThrow(/exited with code 100: E: dpkg was interrupted/);
  });
});
