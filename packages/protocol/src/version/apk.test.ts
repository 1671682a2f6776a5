import { describe, expect, it } from 'vitest';
import { scalibrCases } from './__fixtures__/oracles.js';
import { compareApk, isValidApk } from './apk.js';
import { VersionError } from './version-error.js';

describe('apk oracle: osv-scalibr alpine-versions.txt', () => {
  const cases = scalibrCases('osv-scalibr/alpine-versions.txt');
  const valid = cases.filter(({ a, b }) => isValidApk(a) && isValidApk(b));
  const invalid = cases.filter(({ a, b }) => !isValidApk(a) || !isValidApk(b));

  it('has every comparison of the file', () => {
    expect(cases).toHaveLength(778);
    expect(valid).toHaveLength(741);
  });

  for (const { line, a, b, expected } of valid) {
    it(`line ${line}: ${a} compared with ${b} is ${expected}`, () => {
      expect(compareApk(a, b)).toBe(expected);
      expect(compareApk(b, a)).toBe(-expected || 0);
    });
  }

  /*
   * The remaining 37 lines, all in the hand-written block at the top of the file (lines 2-74), compare
   * versions that apk-tools' own apk_version_validate() refuses. The file marks them itself:
   *   "# letters (invalid) - note on latest apk these are "<" but on 3.x line they're ">"",
   *   "# invalid", "# on latest apk this is ">" but on 3.x they're "<"",
   *   "# technically invalid, but "apk version -t" still accepts them",
   *   "# todo: this might be invalid?", "# invalid. do string sort",
   * and the versions in lines 2-5 and 15-24 (`1-r`, `1-r-0`, `0.r1`, `0..1..0`, `0.8.21.r2`) are of the
   * same kinds that apk-tools' test/unit/version.data lists as invalid (`!0.1-r`, `!0.1-r2-r3`,
   * `!0.1a.1`, `!.1`). For such input the expected answers are not an apk ordering: they changed
   * between apk releases (the file's own comments) and where both sides are invalid osv-scalibr falls
   * back to plain string comparison. Brier refuses these versions instead of inventing an order, so
   * each such line must throw VersionError, and must do so because of the side apk calls invalid.
   */
  it('lists exactly the 37 lines with an apk-invalid version, all in the annotated block', () => {
    expect(invalid.map(({ line }) => line)).toEqual([
      2, 4, 5, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 27, 28, 31, 32, 33, 34, 38, 40, 43, 44, 45, 47, 48, 50, 58, 59, 62, 63, 64, 65, 66,
      67, 72, 74,
    ]);
  });

  for (const { line, a, b } of invalid) {
    it(`line ${line}: ${a} compared with ${b} is refused because apk calls a side invalid`, () => {
      expect(() => compareApk(a, b)).toThrow(VersionError);
      expect(() => compareApk(b, a)).toThrow(VersionError);
    });
  }
});

describe('apk validity, from apk-tools test/unit/version.data', () => {
  // The validity rows of apk-tools' own test data: a bare version is valid, "!version" invalid.
  it.each(['1.2', '0.1_pre2', '0.1_pre2~1234abcd', '0.1_p1_pre2', '0.1_alpha1_pre2', '0.1_git20240101_pre1', '1.0-r0', '2.12r-r4'])(
    'accepts %j',
    (v) => {
      expect(isValidApk(v)).toBe(true);
    },
  );

  it.each([
    '',
    '0.1bc',
    '0.1bc1',
    '0.1a1',
    '0.1a.1',
    '0.1_pre2~',
    '0.1_pre2~1234xbcd',
    '0.1_pre2~1234ABCD',
    '0.1_pre2~1234abcd_pre1',
    '0.1_pre2-r1~1234xbcd',
    '0.1_foobar',
    '0.1_foobar1',
    '0.1-pre1.1',
    '0.1-r',
    '0.1-r2_pre1',
    '0.1-r2_p3_pre1',
    '0.1-r2-r3',
    '0.1-r2.1',
    '.1',
    'a',
    '_pre1',
    '-r1',
    '0.1_',
    '0.1_-r0',
    '0.1__alpha',
    '0.1_1_alpha',
    '1.0 ',
    'v1.0',
  ])('refuses %j', (v) => {
    expect(isValidApk(v)).toBe(false);
    expect(() => compareApk(v, '1.0')).toThrow(expect.objectContaining({ code: 'version-invalid', scheme: 'apk' }));
  });
});

describe('apk ordering, from apk-tools test/unit/version.data', () => {
  it.each([
    ['6.0_pre1', '6.0', -1],
    ['6.1_pre1', '6.1', -1],
    ['6.0_p1', '6.0', 1],
    ['8.2.0', '8.2.001', -1],
    ['8.2.0015', '8.2.002', -1],
    ['1.0~1234', '1.0~2345', -1],
    ['1.0~1234-r1', '1.0~2345-r0', -1],
    ['1.0~1234-r1', '1.0~1234-r0', 1],
    ['0.1.0_alpha_pre2', '0.1.0_alpha', -1],
    ['1.0.0_pre20191002222144-r0', '1.0.0_pre20210530193627-r0', -1],
  ] as const)('compares %j with %j as %i', (a, b, expected) => {
    expect(compareApk(a, b)).toBe(expected);
    expect(compareApk(b, a)).toBe(-expected || 0);
  });

  it('orders suffixes alpha < beta < pre < rc < none < cvs < svn < git < hg < p', () => {
    const sorted = ['1.0_alpha', '1.0_beta', '1.0_pre', '1.0_rc', '1.0', '1.0_cvs', '1.0_svn', '1.0_git', '1.0_hg', '1.0_p', '1.0a'];
    expect([...sorted].reverse().sort(compareApk)).toEqual(sorted);
  });

  it('wraps numbers modulo 2^64 as apk_blob_pull_uint does', () => {
    expect(compareApk('18446744073709551616', '0')).toBe(0);
    expect(compareApk('1.18446744073709551617', '1.1')).toBe(0);
  });
});
