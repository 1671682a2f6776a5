import { describe, expect, it } from 'vitest';
import { evaluateAffected, evaluateRange } from './affected.js';
import { AffectedIndex, matchSoftware, type SoftwareEntry } from './matcher.js';
import type { AffectedPackage, AffectedRange } from './model.js';
import { ecosystemApplies, hostEcosystem } from './os-ecosystem.js';

const range = (...events: AffectedRange['events']): AffectedRange => ({ type: 'ECOSYSTEM', events });

describe('OSV range evaluation', () => {
  it('treats introduced 0 as the first version and fixed as the first unaffected one', () => {
    const r = range({ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' });
    expect(evaluateRange('dpkg', r, '3.0.11-1~deb12u2')).toMatchObject({
      affected: true,
      fixedVersion: '3.0.13-1~deb12u1',
      decision: 'introduced 0; dpkg: 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1 (fixed)',
      range: 'introduced 0, fixed 3.0.13-1~deb12u1',
    });
    expect(evaluateRange('dpkg', r, '3.0.13-1~deb12u1').affected).toBe(false);
    expect(evaluateRange('dpkg', r, '3.0.13-1').affected).toBe(false);
    // Tilde sorts before everything: the backport is older than the fix.
    expect(evaluateRange('dpkg', r, '3.0.13-1~deb12u0').affected).toBe(true);
  });

  it('closes a range after last_affected, inclusive of it', () => {
    const r = range({ introduced: '1.2' }, { last_affected: '1.4' });
    expect(evaluateRange('dpkg', r, '1.1').affected).toBe(false);
    expect(evaluateRange('dpkg', r, '1.2').affected).toBe(true);
    expect(evaluateRange('dpkg', r, '1.4')).toMatchObject({
      affected: true,
      fixedVersion: null,
      decision: expect.stringContaining('1.4 = 1.4 (last affected)'),
    });
    expect(evaluateRange('dpkg', r, '1.4.1').affected).toBe(false);
  });

  it('handles several introduced/fixed pairs in one range, in any order', () => {
    const r = range({ fixed: '2.3' }, { introduced: '2.0' }, { fixed: '1.2' }, { introduced: '0' });
    expect(['1.0', '1.2', '1.9', '2.0', '2.2', '2.3', '3'].map((v) => evaluateRange('dpkg', r, v).affected)).toEqual([
      true,
      false,
      false,
      true,
      true,
      false,
      false,
    ]);
    expect(evaluateRange('dpkg', r, '2.1')).toMatchObject({ fixedVersion: '2.3' });
  });

  it('excludes versions at or above a limit, and ignores limit *', () => {
    expect(evaluateRange('semver', range({ introduced: '0' }, { limit: '2.0.0' }), '1.9.9').affected).toBe(true);
    expect(evaluateRange('semver', range({ introduced: '0' }, { limit: '2.0.0' }), '2.0.0').affected).toBe(false);
    expect(evaluateRange('semver', range({ introduced: '0' }, { limit: '*' }), '9.0.0').affected).toBe(true);
  });

  it('never matches GIT ranges against package versions', () => {
    expect(evaluateRange('dpkg', { type: 'GIT', events: [{ introduced: '0' }] }, '1.0').affected).toBe(false);
  });

  it('matches explicitly listed versions, and a range whose feed versions do not parse never matches everything', () => {
    const entry: AffectedPackage = {
      ecosystem: 'Debian:12',
      name: 'x',
      keyedBy: 'source',
      versions: ['1.0-1'],
      ranges: [range({ introduced: 'not a version!' }, { fixed: '2.0' })],
    };
    expect(evaluateAffected('dpkg', entry, '1.0-1')).toMatchObject({ affected: true, range: 'listed versions' });
    expect(evaluateAffected('dpkg', entry, '1.5').affected).toBe(false);
    // The installed version itself is refused by dpkg: no finding rather than a wrong one.
    expect(evaluateAffected('dpkg', entry, 'abc').affected).toBe(false);
  });
});

describe('host ecosystems', () => {
  it('maps reported OS facts to OSV ecosystem names', () => {
    expect(hostEcosystem({ distro: 'Debian GNU/Linux', release: '12', codename: 'bookworm' })).toBe('Debian:12');
    expect(hostEcosystem({ distro: 'Debian GNU/Linux', release: 'trixie/sid', codename: 'trixie' })).toBe('Debian:13');
    expect(hostEcosystem({ distro: 'Ubuntu', release: '22.04.4 LTS' })).toBe('Ubuntu:22.04');
    expect(hostEcosystem({ distro: 'Alpine Linux', release: '3.19.1' })).toBe('Alpine:v3.19');
    expect(hostEcosystem({ distro: 'Rocky Linux', release: '9.3' })).toBe('Rocky Linux:9');
    expect(hostEcosystem({ distro: 'Microsoft Windows 11 Pro', release: '10.0.22631' })).toBeUndefined();
  });

  it('applies a feed ecosystem to the right releases only', () => {
    expect(ecosystemApplies('Debian:12', 'Debian:12')).toBe(true);
    expect(ecosystemApplies('Debian:11', 'Debian:12')).toBe(false);
    expect(ecosystemApplies('Debian', 'Debian:12')).toBe(true);
    expect(ecosystemApplies('Ubuntu:22.04:LTS', 'Ubuntu:22.04')).toBe(true);
    expect(ecosystemApplies('Ubuntu:Pro:22.04:LTS', 'Ubuntu:22.04')).toBe(true);
    expect(ecosystemApplies('Ubuntu:20.04:LTS', 'Ubuntu:22.04')).toBe(false);
    expect(ecosystemApplies('npm', 'Debian:12')).toBe(false);
  });
});

describe('matching catalogue entries', () => {
  const software = (over: Partial<SoftwareEntry>): SoftwareEntry => ({
    id: 1,
    ecosystem: 'dpkg',
    name: 'libssl3',
    version: '3.0.11-1~deb12u2',
    source: 'openssl',
    sourceVersion: '3.0.11-1~deb12u2',
    ...over,
  });
  const entry = (over: Partial<AffectedPackage> = {}) => ({
    source: 'osv',
    advisoryId: 'DEBIAN-CVE-2024-0001',
    ecosystem: 'Debian:12',
    name: 'openssl',
    keyedBy: 'source' as const,
    versions: [],
    ranges: [range({ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' })],
    ...over,
  });

  it('matches a binary package through its source package and source version, with the explanation', () => {
    const matches = matchSoftware([software({})], new AffectedIndex([entry()]), ['Debian:12']);
    expect(matches).toEqual([
      {
        softwareId: 1,
        osEcosystem: 'Debian:12',
        source: 'osv',
        advisoryId: 'DEBIAN-CVE-2024-0001',
        fixedVersion: '3.0.13-1~deb12u1',
        explanation: {
          record: 'DEBIAN-CVE-2024-0001',
          source: 'osv',
          ecosystem: 'Debian:12',
          package: 'openssl',
          matchedBy: 'source',
          comparedVersion: '3.0.11-1~deb12u2',
          range: 'introduced 0, fixed 3.0.13-1~deb12u1',
          decision: 'introduced 0; dpkg: 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1 (fixed)',
          fixedVersion: '3.0.13-1~deb12u1',
          endOfLife: false,
        },
      },
    ]);
  });

  it('compares the source version, not the binary one, for source-keyed feeds (binNMU +b1)', () => {
    const binNmu = software({ name: 'libfoo1', source: 'foo', version: '1.0-1+b1', sourceVersion: '1.0-1' });
    const e = entry({ name: 'foo', ranges: [range({ introduced: '0' }, { fixed: '1.0-1+b0' })] });
    const [m] = matchSoftware([binNmu], new AffectedIndex([e]), ['Debian:12']);
    expect(m?.explanation.comparedVersion).toBe('1.0-1');
  });

  it('does not match another release, another package manager, or a binary name against a source-keyed entry', () => {
    const index = new AffectedIndex([entry()]);
    expect(matchSoftware([software({})], index, ['Debian:11'])).toEqual([]);
    expect(matchSoftware([software({ ecosystem: 'rpm' })], index, ['Debian:12'])).toEqual([]);
    expect(matchSoftware([software({ name: 'openssl-dev', source: 'openssl-other' })], index, ['Debian:12'])).toEqual([]);
  });

  it('counts installed versions the ordering refuses instead of matching them', () => {
    const stats = { evaluated: 0, matches: 0, invalidVersions: 0 };
    expect(matchSoftware([software({ sourceVersion: 'bogus' })], new AffectedIndex([entry()]), ['Debian:12'], stats)).toEqual([]);
    expect(stats).toEqual({ evaluated: 1, matches: 0, invalidVersions: 1 });
  });
});
