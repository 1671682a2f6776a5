/**
 * `__fixtures__/rpm-qa.txt` is hand-reconstructed in the exact format `rpm -qa --qf RPM_QUERY_FORMAT`
 * prints (package names and versions from AlmaLinux 9), not captured from a live machine: rpm is
 * not installed where these tests run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectRpm, parseRpmQuery, parseSourceRpm, RPM_QUERY_FORMAT } from './rpm.js';

const recorded = readFileSync(new URL('./__fixtures__/rpm-qa.txt', import.meta.url), 'utf8');

describe('parseRpmQuery', () => {
  it('skips the gpg-pubkey pseudo-packages', () => {
    const packages = parseRpmQuery(recorded);
    expect(packages).toHaveLength(11);
    expect(packages.some((p) => p.name === 'gpg-pubkey')).toBe(false);
  });

  it('splits the source rpm into source name and version, keeping dashes in names', () => {
    const wheel = parseRpmQuery(recorded).find((p) => p.name === 'python3-setuptools-wheel');
    expect(wheel).toEqual({
      ecosystem: 'rpm',
      name: 'python3-setuptools-wheel',
      version: '53.0.0-12.el9_4.1',
      arch: 'noarch',
      source: 'python-setuptools',
      sourceVersion: '53.0.0-12.el9_4.1',
    });
  });

  it('carries the binary epoch onto the source version', () => {
    const ssl = parseRpmQuery(recorded).find((p) => p.name === 'openssl-libs');
    expect(ssl).toMatchObject({ version: '1:3.0.7-27.el9', source: 'openssl', sourceVersion: '1:3.0.7-27.el9' });
  });

  it('keeps multilib packages apart by architecture and lists every installed kernel', () => {
    const packages = parseRpmQuery(recorded);
    expect(packages.filter((p) => p.name === 'glibc').map((p) => p.arch)).toEqual(['x86_64', 'i686']);
    expect(packages.filter((p) => p.name === 'kernel-core').map((p) => p.version)).toEqual([
      '5.14.0-362.8.1.el9_3',
      '5.14.0-427.13.1.el9_4',
    ]);
  });

  it('maps an arch of (none) to empty and omits a missing source', () => {
    expect(parseRpmQuery('weird\t1.0-1\t(none)\t(none)\n')).toEqual([{ ecosystem: 'rpm', name: 'weird', version: '1.0-1', arch: '' }]);
  });
});

describe('parseSourceRpm', () => {
  it('parses source and nosrc file names and refuses malformed ones', () => {
    expect(parseSourceRpm('kernel-5.14.0-427.13.1.el9_4.src.rpm')).toEqual({ name: 'kernel', versionRelease: '5.14.0-427.13.1.el9_4' });
    expect(parseSourceRpm('foo-bar-1.0-2.nosrc.rpm')).toEqual({ name: 'foo-bar', versionRelease: '1.0-2' });
    for (const bad of ['(none)', '', 'foo.src.rpm', 'foo-1.src.rpm', '-1-2.src.rpm', 'foo-1-.src.rpm', 'foo-1-2.rpm']) {
      expect(parseSourceRpm(bad)).toBeUndefined();
    }
  });
});

describe('collectRpm', () => {
  it('runs rpm -qa with the query format as one argument', async () => {
    const calls: [string, readonly string[]][] = [];
    const packages = await collectRpm(async (cmd, args) => {
      calls.push([cmd, args]);
      return { stdout: recorded, stderr: '', code: 0 };
    });
    expect(calls).toEqual([['rpm', ['-qa', '--qf', RPM_QUERY_FORMAT]]]);
    expect(packages).toHaveLength(11);
  });

  it('rejects quoting stderr when rpm fails', async () => {
    const failing = async () => ({ stdout: '', stderr: 'error: rpmdb: BDB0113 Thread/process failed', code: 1 });
    await expect(collectRpm(failing)).rejects.toThrow(/rpm exited with code 1: error: rpmdb/);
  });
});
