import { describe, expect, it } from 'vitest';
import { loadSemverFixture, scalibrCases } from './__fixtures__/oracles.js';
import { compareSemver, isValidSemver, satisfiesSemver } from './semver.js';
import { VersionError } from './version-error.js';

/** node-semver fixtures pass `true`, a number, or an options object as their third element. */
type FixtureOptions = boolean | number | { loose?: unknown; includePrerelease?: boolean } | undefined;

function isLoose(options: FixtureOptions): boolean {
  if (typeof options === 'object') return Boolean(options.loose);
  return Boolean(options);
}

function includePrerelease(options: FixtureOptions): boolean {
  return typeof options === 'object' && options.includePrerelease === true;
}

/**
 * Brier parses SemVer strictly only. A fixture case marked loose must therefore either give the
 * fixture's answer (when both sides are strict SemVer too) or be refused with VersionError; it may
 * never give a different answer.
 */
function expectStrictOrRefused(loose: boolean, run: () => unknown, expected: unknown): void {
  if (!loose) {
    expect(run()).toBe(expected);
    return;
  }
  let result: unknown;
  try {
    result = run();
  } catch (err) {
    expect(err).toBeInstanceOf(VersionError);
    return;
  }
  expect(result).toBe(expected);
}

describe('semver oracle: node-semver test/fixtures', () => {
  const comparisons = loadSemverFixture<Array<[string, string, FixtureOptions?]>>('comparisons.js');
  const equality = loadSemverFixture<Array<[string, string, FixtureOptions?]>>('equality.js');
  const valid = loadSemverFixture<Array<[string, number, number, number, unknown[], unknown[]]>>('valid-versions.js');
  const invalid = loadSemverFixture<Array<[unknown, string, FixtureOptions?]>>('invalid-versions.js');

  it('loads every fixture', () => {
    expect(comparisons).toHaveLength(31);
    expect(equality).toHaveLength(37);
    expect(valid).toHaveLength(22);
    expect(invalid).toHaveLength(10);
  });

  describe('comparisons.js: the first is greater', () => {
    comparisons.forEach(([a, b, options], index) => {
      it(`case ${index}: ${a} is greater than ${b}${isLoose(options) ? ' (loose in node-semver)' : ''}`, () => {
        expectStrictOrRefused(isLoose(options), () => compareSemver(a, b), 1);
        expectStrictOrRefused(isLoose(options), () => compareSemver(b, a), -1);
      });
    });
  });

  describe('equality.js: the two are equal', () => {
    equality.forEach(([a, b, options], index) => {
      it(`case ${index}: ${JSON.stringify(a)} equals ${JSON.stringify(b)}${isLoose(options) ? ' (loose in node-semver)' : ''}`, () => {
        expectStrictOrRefused(isLoose(options), () => compareSemver(a, b), 0);
      });
    });
  });

  describe('valid-versions.js', () => {
    for (const [version, major, minor, patch] of valid) {
      it(`accepts ${version} and orders it against its own release ${major}.${minor}.${patch}`, () => {
        expect(isValidSemver(version)).toBe(true);
        expect(compareSemver(version, version)).toBe(0);
        const release = `${major}.${minor}.${patch}`;
        expect(compareSemver(version, release)).toBe(/^v?\d+\.\d+\.\d+-/.test(version) ? -1 : 0);
      });
    }
  });

  describe('invalid-versions.js', () => {
    invalid.forEach(([value, reason], index) => {
      it(`case ${index} (${reason}) is refused with VersionError`, () => {
        expect(isValidSemver(value as string)).toBe(false);
        expect(() => compareSemver(value as string, '1.0.0')).toThrow(VersionError);
      });
    });
  });

  describe('range-include.js and range-exclude.js', () => {
    const include = loadSemverFixture<Array<[string, unknown, FixtureOptions?]>>('range-include.js');
    const exclude = loadSemverFixture<Array<[string, unknown, FixtureOptions?]>>('range-exclude.js');

    it('loads both range fixtures whole', () => {
      expect(include).toHaveLength(126);
      expect(exclude).toHaveLength(98);
    });

    include.forEach(([range, version, options], index) => {
      it(`include case ${index}: ${JSON.stringify(version)} satisfies ${JSON.stringify(range)}`, () => {
        const opts = { includePrerelease: includePrerelease(options) };
        expectStrictOrRefused(isLoose(options), () => satisfiesSemver(version as string, range, opts), true);
      });
    });

    exclude.forEach(([range, version, options], index) => {
      it(`exclude case ${index}: ${JSON.stringify(version)} does not satisfy ${JSON.stringify(range)}`, () => {
        const opts = { includePrerelease: includePrerelease(options) };
        if (!isLoose(options) && (typeof version !== 'string' || !isValidSemver(version))) {
          // range-exclude.js: "invalid versions never satisfy, but shouldn't throw". Brier throws on
          // purpose: an unreadable installed version must surface as an error, never as "not affected".
          expect(() => satisfiesSemver(version as string, range, opts)).toThrow(VersionError);
          return;
        }
        expectStrictOrRefused(isLoose(options), () => satisfiesSemver(version as string, range, opts), false);
      });
    });
  });
});

describe('semver oracle: osv-scalibr semver-versions.txt', () => {
  const cases = scalibrCases('osv-scalibr/semver-versions.txt');
  /*
   * Three lines are not SemVer and node-semver (which Brier uses, strict) refuses them:
   *  - `999999999999999999999999999991 < 999999999999999999999999999999`: one bare number, not X.Y.Z;
   *  - the X.Y.Z line with thirty-digit parts: node-semver's own invalid-versions.js marks numbers past
   *    MAX_SAFE_INTEGER "too big";
   *  - `1.1.3.4.5 = 1.1.3.4.5`, which the file itself qualifies: "anything after the first three
   *    components in semver is considered part of the build string" (osv-scalibr's lenient reading,
   *    not SemVer 2.0.0).
   * They must be refused with VersionError; every other line must match.
   */
  const notSemver = new Set([
    '999999999999999999999999999991',
    '999999999999999999999999999991.999999999999999999999999999991.999999999999999999999999999991',
    '1.1.3.4.5',
  ]);

  it('has every comparison of the file, three of them not SemVer', () => {
    expect(cases.length).toBeGreaterThan(80);
    expect(cases.filter(({ a }) => notSemver.has(a))).toHaveLength(3);
  });

  for (const { line, a, b, expected } of cases) {
    if (notSemver.has(a)) {
      it(`line ${line}: ${a} is refused as not SemVer`, () => {
        expect(() => compareSemver(a, b)).toThrow(VersionError);
      });
      continue;
    }
    it(`line ${line}: ${a} compared with ${b} is ${expected}`, () => {
      expect(compareSemver(a, b)).toBe(expected);
      expect(compareSemver(b, a)).toBe(-expected || 0);
    });
  }
});

describe('semver strictness', () => {
  it.each(['=1.2.3', '1.2', '1.2.3beta', '01.2.3', '1.2.3-01', 'v 1.2.3'])('refuses the loose form %j', (v) => {
    expect(() => compareSemver(v, '1.0.0')).toThrow(expect.objectContaining({ code: 'version-invalid', scheme: 'semver' }));
  });

  it('refuses an invalid range instead of answering false', () => {
    expect(() => satisfiesSemver('1.0.0', '>=1.0.0 <<2')).toThrow(VersionError);
    expect(satisfiesSemver('1.5.0', '>=1.0.0 <2.0.0')).toBe(true);
    expect(satisfiesSemver('2.0.0-rc.1', '^1.0.0', { includePrerelease: true })).toBe(false);
    expect(satisfiesSemver('1.9.0-rc.1', '^1.0.0', { includePrerelease: true })).toBe(true);
  });
});
