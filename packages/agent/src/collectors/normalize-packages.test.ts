import { compileSchema, PackageEntry } from '@brier/protocol';
import { describe, expect, it } from 'vitest';
import { normalizePackage, normalizePackages, type RawPackage } from './normalize-packages.js';
import { parseDpkgQuery } from './packages/dpkg.js';

const checkEntry = compileSchema(PackageEntry);
const entry = (over: Partial<RawPackage>): RawPackage => ({
  ecosystem: 'dpkg',
  name: 'bash',
  version: '5.2.15-2+b7',
  arch: 'amd64',
  ...over,
});

describe('normalizePackage', () => {
  it('strips NUL, escape and other control characters, and lone surrogates', () => {
    expect(normalizePackage(entry({ name: 'ba\u0000sh\u001b[0m\u007f', version: '\t5.2\uD800 ', source: 'bash\u0085' }))).toEqual({
      ecosystem: 'dpkg',
      name: 'bash[0m',
      version: '5.2',
      arch: 'amd64',
      source: 'bash',
    });
  });

  it('refuses names and versions that are empty or too long instead of truncating them', () => {
    expect(normalizePackage(entry({ name: 'x'.repeat(300) }))).toBeUndefined();
    expect(normalizePackage(entry({ version: 'v'.repeat(257) }))).toBeUndefined();
    expect(normalizePackage(entry({ arch: 'a'.repeat(65) }))).toBeUndefined();
    expect(normalizePackage(entry({ name: '\u0000\u0001' }))).toBeUndefined();
    expect(normalizePackage(entry({ version: '' }))).toBeUndefined();
    expect(normalizePackage(entry({ name: 'x'.repeat(256) }))?.name).toHaveLength(256);
  });

  it('omits an unusable source but keeps the package', () => {
    expect(normalizePackage(entry({ source: 's'.repeat(300), sourceVersion: '\u0000' }))).toEqual(entry({}));
  });

  it('refuses an ecosystem the protocol does not know', () => {
    expect(normalizePackage(entry({ ecosystem: 'pacman' as RawPackage['ecosystem'] }))).toBeUndefined();
  });
});

describe('normalizePackages', () => {
  it('turns hostile dpkg output into schema-valid entries and counts what it dropped', () => {
    const junk = [
      `${'a'.repeat(300)}\t1.0\tamd64\tsrc\t1.0\tii `,
      'nul\u0000name\t1.0\u0000\tamd64\tnul\t1.0\tii ',
      'esc\u001b]0;pwned\u0007\t2.0\tamd64\tesc\t2.0\tii ',
      '\u0001\u0002\t1.0\tamd64\tx\t1.0\tii ',
      'ok\t1.0\tamd64\tok\t1.0\tii ',
      'ok\t2.0\tamd64\tok\t2.0\tii ',
    ].join('\n');
    const { packages, invalid, duplicates } = normalizePackages(parseDpkgQuery(junk));
    for (const p of packages) checkEntry(p, 'package');
    expect(packages.map((p) => p.name)).toEqual(['nulname', 'esc]0;pwned', 'ok']);
    expect(packages.find((p) => p.name === 'ok')?.version).toBe('1.0');
    expect(invalid).toBe(2);
    expect(duplicates).toBe(1);
  });

  it('keeps packages of the same name apart by architecture and ecosystem', () => {
    const { packages, duplicates } = normalizePackages([entry({}), entry({ arch: 'i386' }), entry({ ecosystem: 'rpm' })]);
    expect(packages).toHaveLength(3);
    expect(duplicates).toBe(0);
  });
});
