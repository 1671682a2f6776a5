/**
 * `apk-version.txt` is RECONSTRUCTED, not captured (no Alpine host here): written with the very
 * printf formats of apk-tools 2's app_version.c (`%-42sAvailable:` header, `%-40s%s %s %s` rows),
 * so it has the trailing blank of an untagged row and one name-version of 40 characters that runs
 * straight into the `<`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../run-command.js';
import { APK_VERSION_ARGS, collectApkUpdates, parseApkVersion } from './apk.js';

const recorded = readFileSync(new URL('./__fixtures__/apk-version.txt', import.meta.url), 'utf8');

describe('parseApkVersion', () => {
  const updates = parseApkVersion(recorded);

  it('reads every row and skips the header', () => {
    expect(updates.map((u) => u.name)).toEqual([
      'busybox',
      'busybox-binsh',
      'font-noto-cjk-extra',
      'kubernetes-controller-manager',
      'libcrypto3',
      'libssl3',
      'py3-google-api-python-client',
      'py3-setuptools',
    ]);
  });

  it('splits name and version at the version, not at the first dash', () => {
    expect(updates[3]).toEqual({
      manager: 'apk',
      kind: 'package',
      name: 'kubernetes-controller-manager',
      arch: '',
      installedVersion: '1.30.2-r0',
      candidateVersion: '1.30.3-r0',
      origin: '@community',
      security: false,
    });
  });

  it('reads a name-version that fills the padded column with no space before the <', () => {
    expect(updates[6]).toMatchObject({ installedVersion: '2.137.0-r10', candidateVersion: '2.138.0-r0', origin: undefined });
  });

  it('reads the apk-tools 3 layout (one space before the comparison) too', () => {
    const text = 'Installed:                                 Available:\nmusl-1.2.5-r0                           < 1.2.5-r1 \n';
    expect(parseApkVersion(text)).toMatchObject([{ name: 'musl', installedVersion: '1.2.5-r0', candidateVersion: '1.2.5-r1' }]);
  });

  it('skips rows that are not upgrades or have no apk version', () => {
    const text =
      'musl-1.2.5-r1                           = 1.2.5-r1 \nodd-1.0                                 < 1.1 \nWARNING: opening x: No such file\n';
    expect(parseApkVersion(text)).toEqual([]);
  });
});

describe('collectApkUpdates', () => {
  it('passes the limit as its own argument', async () => {
    const calls: (readonly string[])[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args]);
      return { stdout: recorded, stderr: '', code: 0 };
    };
    expect(await collectApkUpdates(run)).toHaveLength(8);
    expect(calls).toEqual([['apk', ...APK_VERSION_ARGS]]);
    expect(APK_VERSION_ARGS).toEqual(['version', '-l', '<']);
  });

  it('rejects with ENOENT when apk is not installed and quotes stderr on failure', async () => {
    const missing: CommandRunner = () => Promise.reject(Object.assign(new Error('spawn apk ENOENT'), { code: 'ENOENT' }));
    await expect(collectApkUpdates(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    const failing: CommandRunner = async () => ({ stdout: '', stderr: 'ERROR: Unable to lock database', code: 99 });
    await expect(collectApkUpdates(failing)).rejects.toThrow(/exited with code 99: ERROR: Unable to lock database/);
  });
});
