import { describe, expect, it } from 'vitest';
import * as protocol from '../index.js';
import {
  compareVersions,
  isValidVersion,
  isVersionScheme,
  MAX_VERSION_LENGTH,
  schemeForOsvEcosystem,
  VERSION_SCHEMES,
  VersionError,
  type VersionScheme,
} from './index.js';

/** The raw control characters (C0, DEL, C1) in `text`. */
function controlsIn(text: string): string[] {
  return [...text].filter((ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code <= 0x9f);
  });
}

/** A valid version of each scheme, to pair bad input with. */
const GOOD: Record<VersionScheme, string> = { dpkg: '1.0-1', rpm: '1.0-1.el9', apk: '1.0-r0', semver: '1.0.0' };

describe('compareVersions', () => {
  it('dispatches to each scheme’s own ordering', () => {
    // '1.0~rc1' is older than '1.0' for dpkg and rpm; apk and semver do not accept it.
    expect(compareVersions('dpkg', '1.0~rc1', '1.0')).toBe(-1);
    expect(compareVersions('rpm', '1.0~rc1', '1.0')).toBe(-1);
    expect(compareVersions('apk', '1.0_rc1', '1.0')).toBe(-1);
    expect(compareVersions('semver', '1.0.0-rc.1', '1.0.0')).toBe(-1);
    // The same pair, different answers: dpkg ignores a missing revision, rpm's EVR puts it lower.
    expect(compareVersions('dpkg', '1.0', '1.0-0')).toBe(0);
    expect(compareVersions('rpm', '1.0', '1.0-0')).toBe(-1);
  });

  it('uses the EVR comparison for rpm, epoch first', () => {
    expect(compareVersions('rpm', '1:1.0-1', '2.0-1')).toBe(1);
    expect(compareVersions('rpm', '0:2.0-1.el9', '2.0-1.el9')).toBe(0);
  });

  it('refuses an unknown scheme with VersionError', () => {
    expect(() => compareVersions('pypi' as VersionScheme, '1', '2')).toThrow(VersionError);
    expect(isValidVersion('pypi' as VersionScheme, '1')).toBe(false);
  });

  it('lists the four schemes and recognises exactly them', () => {
    expect([...VERSION_SCHEMES]).toEqual(['dpkg', 'rpm', 'apk', 'semver']);
    expect(VERSION_SCHEMES.every(isVersionScheme)).toBe(true);
    expect(isVersionScheme('Debian')).toBe(false);
    expect(isVersionScheme(undefined)).toBe(false);
  });

  it('is exported from @brier/protocol', () => {
    expect(protocol.compareVersions).toBe(compareVersions);
    expect(protocol.schemeForOsvEcosystem).toBe(schemeForOsvEcosystem);
    expect(protocol.VersionError).toBe(VersionError);
    expect(typeof protocol.compareDpkg).toBe('function');
    expect(typeof protocol.compareRpmEvr).toBe('function');
    expect(typeof protocol.compareApk).toBe('function');
    expect(typeof protocol.satisfiesSemver).toBe('function');
  });
});

describe('bad input', () => {
  const nasty: Array<[string, unknown, RegExp]> = [
    ['an empty string', '', /empty/],
    ['a NUL byte', '1.0\u00001', /NUL/],
    ['a newline', '1.0\n2', /control character \(U\+000A\)/],
    ['an escape sequence', '1.0\u001b[2J', /control character \(U\+001B\)/],
    ['DEL', '1.0\u007f', /control character \(U\+007F\)/],
    ['a C1 control', '1.0\u0085', /control character \(U\+0085\)/],
    ['257 characters', `1.${'0'.repeat(255)}`, /longer than 256/],
    ['a number', 1, /must be a string/],
    ['null', null, /must be a string/],
  ];

  for (const scheme of VERSION_SCHEMES) {
    for (const [what, value, reason] of nasty) {
      it(`${scheme} refuses ${what} on either side with code version-invalid`, () => {
        const bad = value as string;
        for (const call of [() => compareVersions(scheme, bad, GOOD[scheme]), () => compareVersions(scheme, GOOD[scheme], bad)]) {
          let caught: unknown;
          try {
            call();
          } catch (err) {
            caught = err;
          }
          expect(caught).toBeInstanceOf(VersionError);
          const err = caught as VersionError;
          expect(err.code).toBe('version-invalid');
          expect(err.scheme).toBe(scheme);
          expect(err.reason).toMatch(reason);
          expect(err.message).toContain(`invalid ${scheme} version`);
          expect(controlsIn(err.message)).toEqual([]);
        }
        expect(isValidVersion(scheme, bad)).toBe(false);
      });
    }

    it(`${scheme} accepts exactly ${MAX_VERSION_LENGTH} characters when the version is otherwise valid`, () => {
      const long = scheme === 'semver' ? `1.0.0-${'a'.repeat(MAX_VERSION_LENGTH - 6)}` : `1.${'0'.repeat(MAX_VERSION_LENGTH - 2)}`;
      expect(long).toHaveLength(MAX_VERSION_LENGTH);
      expect(isValidVersion(scheme, long)).toBe(true);
      expect(() => compareVersions(scheme, long, GOOD[scheme])).not.toThrow();
    });
  }

  it('escapes bidirectional controls of the input in the error message', () => {
    expect(() => compareVersions('dpkg', '1.0\u202e1-1', '1')).toThrow(
      expect.objectContaining({ message: expect.stringContaining('\\u202e') }),
    );
  });

  it('cuts a long version short in the error message', () => {
    const err = (() => {
      try {
        compareVersions('dpkg', `x${'y'.repeat(1000)}`, '1');
      } catch (e) {
        return e as VersionError;
      }
      throw new Error('expected a VersionError');
    })();
    expect(err.message.length).toBeLessThan(200);
  });

  it.each([
    ['dpkg', 'abc'],
    ['dpkg', '1.0-'],
    ['dpkg', '1:'],
    ['dpkg', '1 2'],
    ['apk', '1.0-1'],
    ['apk', '1.0a1'],
    ['semver', '1.0'],
    ['semver', '1.0.0.0'],
  ] as const)('%s refuses its own kind of invalid version %j', (scheme, version) => {
    expect(isValidVersion(scheme, version)).toBe(false);
    expect(() => compareVersions(scheme, version, GOOD[scheme])).toThrow(VersionError);
  });

  it('rpm accepts anything non-empty and safe, as rpm itself does', () => {
    expect(isValidVersion('rpm', 'anything at all!')).toBe(true);
    expect(isValidVersion('rpm', '1.1.α')).toBe(true);
  });
});

describe('schemeForOsvEcosystem', () => {
  it.each([
    ['Debian', 'dpkg'],
    ['Debian:12', 'dpkg'],
    ['Ubuntu', 'dpkg'],
    ['Ubuntu:22.04:LTS', 'dpkg'],
    ['Ubuntu:Pro:18.04:LTS', 'dpkg'],
    ['Alpine', 'apk'],
    ['Alpine:v3.19', 'apk'],
    ['Wolfi', 'apk'],
    ['Chainguard', 'apk'],
    ['MinimOS', 'apk'],
    ['Alpaquita:23', 'apk'],
    ['Red Hat', 'rpm'],
    ['Red Hat:enterprise_linux:9::appstream', 'rpm'],
    ['Rocky Linux:9', 'rpm'],
    ['AlmaLinux:8', 'rpm'],
    ['SUSE:Linux Enterprise Server 15 SP5', 'rpm'],
    ['openSUSE:Leap 15.5', 'rpm'],
    ['Mageia:9', 'rpm'],
    ['openEuler:22.03-LTS', 'rpm'],
    ['Photon OS:5.0', 'rpm'],
    ['Azure Linux:3', 'rpm'],
    ['npm', 'semver'],
    ['crates.io', 'semver'],
    ['Go', 'semver'],
    ['Hex', 'semver'],
    ['Pub', 'semver'],
    ['Bitnami', 'semver'],
    ['SwiftURL', 'semver'],
  ] as const)('maps %j to %s', (ecosystem, scheme) => {
    expect(schemeForOsvEcosystem(ecosystem)).toBe(scheme);
  });

  it.each([
    'PyPI',
    'Maven',
    'NuGet',
    'RubyGems',
    'Packagist',
    'CRAN',
    'Hackage',
    'GIT',
    'Linux',
    'debian',
    'DEBIAN:12',
    '',
    ':Debian',
    'Debian ',
    'toString',
    '__proto__',
  ])('has no scheme for %j', (ecosystem) => {
    expect(schemeForOsvEcosystem(ecosystem)).toBeUndefined();
  });
});
