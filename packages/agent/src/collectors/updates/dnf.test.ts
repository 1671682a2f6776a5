/**
 * The dnf fixtures are RECONSTRUCTED by hand, not captured (no RHEL-family host here): they follow
 * dnf 4's formats on RHEL 9. `dnf-check-update.txt` is fmtColumns output with the leading blank
 * line, one name too wide for its column (dnf wraps the rest onto an indented line) and an
 * "Obsoleting Packages" section; `dnf-updateinfo-list.txt` is updateinfo's `%-*s %-*s %s` rows
 * sorted by NEVRA, with two advisories for intermediate openssl versions; `rpm-qa.txt` is
 * RPM_QUERY_FORMAT output with two install-only kernels.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner } from '../../run-command.js';
import { RPM_QUERY_FORMAT } from '../packages/rpm.js';
import { collectDnf, DNF_CHECK_UPDATE_ARGS, DNF_UPDATEINFO_ARGS, parseDnfCheckUpdate, parseDnfUpdateinfo, splitNevra } from './dnf.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

/** Answers dnf and rpm from the fixtures; `checkCode` is what check-update exits with. */
function recorded(checkCode = 100, calls: (readonly string[])[] = []): CommandRunner {
  return async (cmd, args): Promise<CommandResult> => {
    calls.push([cmd, ...args]);
    if (cmd === 'dnf' && args.includes('check-update'))
      return { stdout: checkCode === 100 ? fixture('dnf-check-update.txt') : '', stderr: '', code: checkCode };
    if (cmd === 'dnf' && args.includes('updateinfo')) return { stdout: fixture('dnf-updateinfo-list.txt'), stderr: '', code: 0 };
    if (cmd === 'rpm') return { stdout: fixture('rpm-qa.txt'), stderr: '', code: 0 };
    throw new Error(`unexpected ${cmd}`);
  };
}

describe('parseDnfCheckUpdate', () => {
  const candidates = parseDnfCheckUpdate(fixture('dnf-check-update.txt'));

  it('reads every row before the obsoletes section, including a wrapped one', () => {
    expect(candidates.map((c) => `${c.name}.${c.arch}`)).toEqual([
      'NetworkManager.x86_64',
      'kernel.x86_64',
      'openssl.x86_64',
      'openssl-libs.x86_64',
      'python3-dnf-plugin-post-transaction-actions.noarch',
      'tzdata.noarch',
      'vim-minimal.x86_64',
    ]);
    expect(candidates.find((c) => c.name === 'python3-dnf-plugin-post-transaction-actions')).toEqual({
      name: 'python3-dnf-plugin-post-transaction-actions',
      arch: 'noarch',
      version: '4.3.0-13.el9_4',
      repo: 'baseos',
    });
  });

  it('keeps epochs and repository ids as printed', () => {
    expect(candidates.find((c) => c.name === 'vim-minimal')).toMatchObject({ version: '2:8.2.2637-20.el9_1.1', repo: 'baseos' });
    expect(candidates.find((c) => c.name === 'tzdata')).toMatchObject({ version: '2024b-2.el9', repo: 'appstream' });
  });

  it('skips notes that are not rows and names without an arch', () => {
    const text = [
      '',
      'Security: kernel-core-5.14.0-427.13.1.el9_4.x86_64 is an installed security update',
      'bash.x86_64   5.1.8-9.el9   baseos',
      'noarchname    1.0-1         baseos',
      '',
    ].join('\n');
    expect(parseDnfCheckUpdate(text).map((c) => c.name)).toEqual(['bash']);
  });
});

describe('splitNevra', () => {
  it.each([
    ['openssl-libs-1:3.0.7-27.el9_4.1.x86_64', { name: 'openssl-libs', version: '1:3.0.7-27.el9_4.1', arch: 'x86_64' }],
    ['kernel-5.14.0-427.22.1.el9_4.x86_64', { name: 'kernel', version: '5.14.0-427.22.1.el9_4', arch: 'x86_64' }],
    [
      'python3-dnf-plugin-post-transaction-actions-4.3.0-13.el9_4.noarch',
      { name: 'python3-dnf-plugin-post-transaction-actions', version: '4.3.0-13.el9_4', arch: 'noarch' },
    ],
  ])('%s', (nevra, expected) => {
    expect(splitNevra(nevra)).toEqual(expected);
  });

  it.each(['kernel.x86_64', 'x-1.x86_64', '-1-2.x86_64', 'a-1-.x86_64', 'a-1-2.'])('refuses %s', (nevra) => {
    expect(splitNevra(nevra)).toBeUndefined();
  });
});

describe('parseDnfUpdateinfo', () => {
  it('reads id, type and package, and marks the /Sec. types security', () => {
    const advisories = parseDnfUpdateinfo(fixture('dnf-updateinfo-list.txt'));
    expect(advisories).toHaveLength(8);
    expect(advisories[1]).toEqual({
      id: 'RHSA-2024:4211',
      type: 'Important/Sec.',
      security: true,
      name: 'kernel',
      arch: 'x86_64',
      version: '5.14.0-427.22.1.el9_4',
    });
    expect(advisories.filter((a) => a.security).map((a) => a.id)).toEqual([
      'RHSA-2024:4211',
      'RHSA-2024:2447',
      'RHSA-2024:3933',
      'RHSA-2024:2447',
      'RHSA-2024:3933',
      'RHSA-2024:0001',
    ]);
  });

  it('drops the installed mark of mixed listings', () => {
    const text =
      'i FEDORA-2024-1a2b3c4d5e security    curl-8.6.0-8.fc40.x86_64\n  FEDORA-2024-9f8e7d6c5b bugfix      bash-5.2.26-3.fc40.x86_64\n';
    expect(parseDnfUpdateinfo(text).map((a) => [a.id, a.security])).toEqual([
      ['FEDORA-2024-1a2b3c4d5e', true],
      ['FEDORA-2024-9f8e7d6c5b', false],
    ]);
  });
});

describe('collectDnf', () => {
  it('joins candidates, advisories and installed versions', async () => {
    const updates = await collectDnf(recorded());
    expect(updates).toHaveLength(7);
    expect(updates.find((u) => u.name === 'openssl')).toEqual({
      manager: 'dnf',
      kind: 'package',
      name: 'openssl',
      arch: 'x86_64',
      installedVersion: '1:3.0.7-25.el9_3',
      candidateVersion: '1:3.0.7-27.el9_4.1',
      origin: 'baseos',
      security: true,
      advisories: ['RHSA-2024:2447', 'RHSA-2024:3933'],
    });
    expect(updates.find((u) => u.name === 'NetworkManager')).toMatchObject({ security: false, advisories: ['RHBA-2024:3955'] });
    expect(updates.find((u) => u.name === 'vim-minimal')).toMatchObject({ security: true, advisories: ['RHSA-2024:0001'] });
    expect(updates.find((u) => u.name === 'python3-dnf-plugin-post-transaction-actions')).toMatchObject({
      security: false,
      advisories: undefined,
      installedVersion: '4.3.0-12.el9',
    });
  });

  it('gives an install-only package in several versions no installed version', async () => {
    const kernel = (await collectDnf(recorded())).find((u) => u.name === 'kernel');
    expect(kernel).toMatchObject({ installedVersion: undefined, candidateVersion: '5.14.0-427.22.1.el9_4', security: true });
  });

  it('runs nothing more when check-update exits 0 (no updates)', async () => {
    const calls: (readonly string[])[] = [];
    expect(await collectDnf(recorded(0, calls))).toEqual([]);
    expect(calls).toEqual([['dnf', ...DNF_CHECK_UPDATE_ARGS]]);
  });

  it('asks rpm for everything rather than naming packages on its command line', async () => {
    const calls: (readonly string[])[] = [];
    await collectDnf(recorded(100, calls));
    expect(calls).toEqual([
      ['dnf', ...DNF_CHECK_UPDATE_ARGS],
      ['dnf', ...DNF_UPDATEINFO_ARGS],
      ['rpm', '-qa', '--qf', RPM_QUERY_FORMAT],
    ]);
  });

  it('fails on exit 1 quoting stderr, and on exit 100 with nothing readable', async () => {
    const failing: CommandRunner = async () => ({ stdout: '', stderr: 'Error: Failed to download metadata for repo baseos', code: 1 });
    await expect(collectDnf(failing)).rejects.toThrow(/exited with code 1: Error: Failed to download metadata/);
    const garbled: CommandRunner = async () => ({ stdout: 'something else entirely\n', stderr: '', code: 100 });
    await expect(collectDnf(garbled)).rejects.toThrow(/listed none/);
  });

  it('rejects with ENOENT when dnf is not installed', async () => {
    const missing: CommandRunner = () => Promise.reject(Object.assign(new Error('spawn dnf ENOENT'), { code: 'ENOENT' }));
    await expect(collectDnf(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
