/**
 * `__fixtures__/apk-installed` is hand-reconstructed in the exact format of Alpine's
 * /lib/apk/db/installed (package data modelled on Alpine 3.20, checksums made up), not captured
 * from a live machine.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isNotFound } from '../../run-command.js';
import { APK_INSTALLED_PATH, collectApk, parseApkInstalled } from './apk.js';

const fixture = new URL('./__fixtures__/apk-installed', import.meta.url);
const recorded = readFileSync(fixture, 'utf8');

describe('parseApkInstalled', () => {
  it('reads name, version, arch and origin from every stanza', () => {
    const packages = parseApkInstalled(recorded);
    expect(packages.map((p) => p.name)).toEqual([
      'musl',
      'busybox',
      'ssl_client',
      'libcrypto3',
      'alpine-baselayout-data',
      'ca-certificates-bundle',
    ]);
    expect(packages.find((p) => p.name === 'libcrypto3')).toEqual({
      ecosystem: 'apk',
      name: 'libcrypto3',
      version: '3.1.6-r0',
      arch: 'x86_64',
      source: 'openssl',
      sourceVersion: '3.1.6-r0',
    });
  });

  it('is not confused by file, dependency and provides lines that look like fields', () => {
    const ssl = parseApkInstalled(recorded).find((p) => p.name === 'ssl_client');
    expect(ssl).toMatchObject({ version: '1.36.1-r29', source: 'busybox' });
  });

  it('accepts a last stanza without a trailing blank line and skips stanzas without P or V', () => {
    const text = 'P:nover\nA:x86_64\n\nV:1.0-r0\n\nP:last\nV:2.0-r1\nA:aarch64';
    expect(parseApkInstalled(text)).toEqual([{ ecosystem: 'apk', name: 'last', version: '2.0-r1', arch: 'aarch64' }]);
  });
});

describe('collectApk', () => {
  it('reads the database path through the given reader', async () => {
    const paths: string[] = [];
    const packages = await collectApk(async (path) => {
      paths.push(path);
      return recorded;
    });
    expect(paths).toEqual([APK_INSTALLED_PATH]);
    expect(packages).toHaveLength(6);
  });

  it('rejects with ENOENT on a machine without apk', async () => {
    const error = await collectApk((path) => readFile(path, 'utf8'), '/nonexistent/brier/apk/installed').catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
  });
});
