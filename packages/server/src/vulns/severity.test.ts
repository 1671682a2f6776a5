import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SeverityInput } from './model.js';
import {
  compareSeverity,
  isSeverity,
  parseDatabaseSeverity,
  parseDebianUrgency,
  ratingFromCvssScore,
  SEVERITIES,
  type Severity,
  scoreSeverity,
  severityRank,
} from './severity.js';

const oracles = new URL('../../../../test/oracles/', import.meta.url);
const readJson = (path: string): unknown => JSON.parse(readFileSync(new URL(path, oracles), 'utf8'));

const v3 = (score: string): SeverityInput => ({ type: 'CVSS_V3', score });
const v4 = (score: string): SeverityInput => ({ type: 'CVSS_V4', score });
const v2 = (score: string): SeverityInput => ({ type: 'CVSS_V2', score });
const debian = (score: string): SeverityInput => ({ type: 'DEBIAN_URGENCY', score });
const database = (score: string): SeverityInput => ({ type: 'DATABASE', score });

describe('CVSS base scores agree with published scores', () => {
  // Each score is the one FIRST's own calculators and NVD publish for the vector.
  const v3Cases: [string, number, Severity][] = [
    // The most common NVD vector (network, no privileges, full impact), e.g. CVE-2019-13589 in the GHSA sample.
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8, 'critical'],
    // FIRST CVSS v3.1 examples document: phpMyAdmin reflected XSS (CVE-2013-1937).
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1, 'medium'],
    // NVD's local privilege escalation score, e.g. countless kernel CVEs.
    ['CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8, 'high'],
    // NVD for CVE-2018-5407 (PortSmash), the vector in the osv-linter sample.
    ['CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N', 4.7, 'medium'],
    ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', 8.1, 'high'],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N', 5.3, 'medium'],
  ];
  it.each(v3Cases)('scores %s as %d', (vector, score, severity) => {
    const result = scoreSeverity([v3(vector)]);
    expect(result).toMatchObject({ score, severity, vector, source: 'CVSS_V3' });
    expect(result.detail).toBe(`${vector.slice(0, 8)} base score ${score.toFixed(1)} (${severity}) from vector ${vector}`);
  });

  // CVSS 4.0: the first three are the specification's reference points (all high = 10.0, the
  // network-reachable full-impact vulnerability = 9.3, its local low-privilege variant = 8.5); the rest
  // are from Red Hat's tests/vectors_simple4 (RedHatProductSecurity/cvss), generated with the
  // FIRST/Red Hat CVSS 4.0 reference calculator.
  const v4Cases: [string, number, Severity][] = [
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H', 10, 'critical'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3, 'critical'],
    ['CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 8.5, 'high'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:H/SA:L', 9.2, 'critical'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:H', 7.9, 'high'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:L/SA:N', 6.9, 'medium'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:N/VA:N/SC:L/SI:N/SA:L', 5.3, 'medium'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N', 5.1, 'medium'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:P/VC:L/VI:L/VA:N/SC:L/SI:N/SA:N', 4.8, 'medium'],
    ['CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N', 4.0, 'medium'],
    ['CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:N', 2.1, 'low'],
    ['CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:L/VA:L/SC:L/SI:N/SA:N', 1.8, 'low'],
    ['CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:L/SA:N', 9.5, 'critical'],
    ['CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:N/VA:N/SC:L/SI:L/SA:H', 9.0, 'critical'],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:H/VI:L/VA:L/SC:L/SI:L/SA:L', 7.0, 'high'],
  ];
  it.each(v4Cases)('scores %s as %d', (vector, score, severity) => {
    const result = scoreSeverity([v4(vector)]);
    expect(result).toMatchObject({ score, severity, vector, source: 'CVSS_V4' });
    expect(result.detail).toBe(`CVSS:4.0 base score ${score.toFixed(1)} (${severity}) from vector ${vector}`);
  });

  // NVD's CVSS v2 scores for these classic vectors.
  const v2Cases: [string, number, Severity][] = [
    ['AV:N/AC:L/Au:N/C:C/I:C/A:C', 10, 'high'],
    ['AV:N/AC:L/Au:N/C:P/I:P/A:P', 7.5, 'high'],
    ['AV:N/AC:L/Au:N/C:N/I:N/A:P', 5.0, 'medium'],
    ['AV:N/AC:M/Au:N/C:N/I:P/A:N', 4.3, 'medium'],
    ['AV:L/AC:L/Au:N/C:P/I:N/A:N', 2.1, 'low'],
  ];
  it.each(v2Cases)('scores the CVSS v2 vector %s as %d', (vector, score, severity) => {
    const result = scoreSeverity([v2(vector)]);
    expect(result).toMatchObject({ score, severity, vector, source: 'CVSS_V2' });
    expect(result.detail).toContain(`CVSS:2.0 base score ${score.toFixed(1)} (${severity}) from vector ${vector}`);
  });

  it('accepts a CVSS v2 vector in NVD parentheses and reports it without them', () => {
    expect(scoreSeverity([v2('(AV:N/AC:L/Au:N/C:P/I:P/A:P)')])).toMatchObject({ score: 7.5, vector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' });
  });

  it('agrees with every CVSS score and rating in the GitHub advisory sample', () => {
    const dir = new URL('osv-schema/ghsa-testdata/', oracles);
    const files = readdirSync(dir).filter((name) => name.endsWith('.json') && !name.endsWith('.osv.json'));
    let withVector = 0;
    for (const name of files) {
      // GitHub's API format: a free-text severity and, when scored, cvss.vectorString and cvss.score.
      const record = readJson(`osv-schema/ghsa-testdata/${name}`) as {
        severity: string;
        cvss: { score: number; vectorString: string | null };
      };
      const rated = parseDatabaseSeverity(record.severity);
      if (record.cvss.vectorString === null) {
        expect(scoreSeverity([database(record.severity)]), name).toMatchObject({ severity: rated, source: 'DATABASE' });
        continue;
      }
      withVector++;
      const result = scoreSeverity([v3(record.cvss.vectorString), database(record.severity)]);
      expect(result, name).toMatchObject({ score: record.cvss.score, severity: rated, source: 'CVSS_V3' });
    }
    expect(withVector).toBe(6);
  });

  it('scores only the base metrics of a CVSS 4.0 vector and says what threat metrics would change', () => {
    const vector = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U';
    const result = scoreSeverity([v4(vector)]);
    expect(result).toMatchObject({ score: 10, severity: 'critical' });
    // 9.1 is the CVSS-BT score Red Hat's vectors_threat4 publishes for this vector.
    expect(result.detail).toContain('score 9.1 with them');
  });

  it('scores only the base metrics of a CVSS 3.1 vector with temporal and environmental metrics', () => {
    expect(scoreSeverity([v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C/MAV:L')])).toMatchObject({ score: 9.8 });
  });

  it('rates a base score of 0.0 low and says CVSS calls it none', () => {
    const result = scoreSeverity([v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N')]);
    expect(result).toMatchObject({ score: 0, severity: 'low' });
    expect(result.detail).toContain('0.0 (none in CVSS, rated low)');
    expect(scoreSeverity([v4('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N')])).toMatchObject({
      score: 0,
      severity: 'low',
    });
  });
});

describe('ratingFromCvssScore', () => {
  it.each([
    [0, 'low'],
    [0.1, 'low'],
    [3.9, 'low'],
    [4.0, 'medium'],
    [6.9, 'medium'],
    [7.0, 'high'],
    [8.9, 'high'],
    [9.0, 'critical'],
    [10.0, 'critical'],
  ] as const)('puts the CVSS 3.x and 4.0 score %d in %s', (score, severity) => {
    expect(ratingFromCvssScore(score, 3)).toBe(severity);
    expect(ratingFromCvssScore(score, 4)).toBe(severity);
  });

  it.each([
    [0, 'low'],
    [3.9, 'low'],
    [4.0, 'medium'],
    [6.9, 'medium'],
    [7.0, 'high'],
    [9.0, 'high'],
    [10.0, 'high'],
  ] as const)('puts the CVSS v2 score %d in %s, never critical', (score, severity) => {
    expect(ratingFromCvssScore(score, 2)).toBe(severity);
  });

  it.each([Number.NaN, -0.1, 10.1, Number.POSITIVE_INFINITY])('refuses the score %d', (score) => {
    expect(() => ratingFromCvssScore(score, 3)).toThrow(RangeError);
  });
});

describe('precedence', () => {
  const all: SeverityInput[] = [
    v2('AV:N/AC:L/Au:N/C:N/I:N/A:P'), // 5.0 medium
    database('LOW'),
    debian('high'),
    v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N'), // 6.1 medium
    v4('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'), // 9.3 critical
  ];
  const without = (...types: SeverityInput['type'][]) => all.filter((input) => !types.includes(input.type));

  it('takes CVSS v4, then v3, then the Debian urgency, then the database rating, then CVSS v2', () => {
    expect(scoreSeverity(all)).toMatchObject({ source: 'CVSS_V4', severity: 'critical' });
    expect(scoreSeverity(without('CVSS_V4'))).toMatchObject({ source: 'CVSS_V3', severity: 'medium' });
    expect(scoreSeverity(without('CVSS_V4', 'CVSS_V3'))).toMatchObject({ source: 'DEBIAN_URGENCY', severity: 'high' });
    expect(scoreSeverity(without('CVSS_V4', 'CVSS_V3', 'DEBIAN_URGENCY'))).toMatchObject({ source: 'DATABASE', severity: 'low' });
    expect(scoreSeverity(without('CVSS_V4', 'CVSS_V3', 'DEBIAN_URGENCY', 'DATABASE'))).toMatchObject({
      source: 'CVSS_V2',
      severity: 'medium',
    });
    expect(scoreSeverity([])).toMatchObject({ source: 'none', severity: 'low' });
  });

  it('does not depend on the order of the inputs', () => {
    expect(scoreSeverity([...all].reverse())).toEqual(scoreSeverity(all));
  });

  it('takes the worst of several inputs of the winning type', () => {
    const result = scoreSeverity([v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N'), v3('CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H')]);
    expect(result).toMatchObject({ score: 7.8, severity: 'high', vector: 'CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H' });
    expect(scoreSeverity([debian('low'), debian('medium**'), debian('unimportant')])).toMatchObject({ severity: 'medium' });
    expect(scoreSeverity([database('low'), database('Critical')])).toMatchObject({ severity: 'critical' });
  });

  it('rates a finding with no rating low, source none, and says so', () => {
    const result = scoreSeverity([debian('not yet assigned'), debian('end-of-life')]);
    expect(result).toMatchObject({ severity: 'low', source: 'none' });
    expect(result.score).toBeUndefined();
    expect(result.detail).toMatch(/^No severity rating in the feed; rated low/);
    expect(result.detail).toContain('"not yet assigned": not a rating');
  });
});

describe('hostile and invalid vectors', () => {
  const fallback = database('MODERATE');
  const bad: [string, SeverityInput, string][] = [
    ['garbage', v3('garbage'), 'not a CVSS:3.0/'],
    ['an empty string', v3(''), 'not a CVSS:3.0/'],
    ['a NUL byte', v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\u0000'), 'not a CVSS:3.0/'],
    ['10 kB of metrics', v3(`CVSS:3.1/${'AV:N/'.repeat(2048)}AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`), 'longer than 512'],
    ['a missing mandatory metric', v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H'), 'mandatory base metric is missing'],
    ['an undefined base metric', v3('CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 'mandatory base metric is missing'],
    ['a v4 metric in a v3 vector', v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AT:N'), 'rejected by the CVSS parser'],
    ['an unknown metric value', v3('CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 'rejected by the CVSS parser'],
    ['a v4 vector labelled v3', v3('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'), 'not a CVSS:3.0/'],
    ['a v3 vector labelled v4', v4('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 'not a CVSS:4.0/'],
    [
      'a v3 metric in a v4 vector',
      v4('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:U'),
      'rejected by the CVSS parser',
    ],
    ['a v4 vector missing SA', v4('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N'), 'mandatory base metric is missing'],
    ['a repeated metric', v3('CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 'metric AV appears twice'],
    ['lower case', v3('cvss:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h'), 'not a CVSS:3.0/'],
    ['a trailing slash', v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/'), 'not a CVSS:3.0/'],
    ['an unknown CVSS version', v3('CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 'not a CVSS:3.0/'],
    ['a prototype key', v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/__proto__:X'), 'not a CVSS:3.0/'],
  ];

  it.each(bad)('skips %s, falls through to the next source and says why', (_label, input, reason) => {
    const result = scoreSeverity([input, fallback]);
    expect(result).toMatchObject({ severity: 'medium', source: 'DATABASE' });
    expect(result.detail).toContain('Skipped:');
    expect(result.detail).toContain(reason);
    // The explanation is shown to people: no control characters and no 10 kB echo of the input.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
    expect(result.detail).not.toMatch(/[\u0000-\u001f]/);
    expect(result.detail.length).toBeLessThan(400);
  });

  // CVSS v2 comes last, so a bad v2 vector falls through to "no rating".
  it.each([
    ['a v3 vector labelled v2', v2('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 'not a AV:'],
    ['a v2 vector missing Au', v2('AV:N/AC:L/C:P/I:P/A:P'), 'mandatory base metric is missing'],
    ['a v2 vector with an unknown value', v2('AV:N/AC:L/Au:N/C:P/I:P/A:Q'), 'rejected by the CVSS parser'],
  ])('skips %s and says why', (_label, input, reason) => {
    const result = scoreSeverity([input]);
    expect(result).toMatchObject({ severity: 'low', source: 'none' });
    expect(result.detail).toContain(reason);
  });

  it('never throws on inputs that break the declared types', () => {
    const junk = [
      { type: 'CVSS_V3', score: 9.8 },
      { type: 'CVSS_V3', score: null },
      { type: 'SOMETHING_ELSE', score: 'x' },
      null,
      'CVSS:3.1/AV:N',
    ] as unknown as SeverityInput[];
    const result = scoreSeverity(junk);
    expect(result).toMatchObject({ severity: 'low', source: 'none' });
    expect(result.detail).toContain('unknown severity type SOMETHING_ELSE');
    expect(scoreSeverity(undefined as unknown as SeverityInput[])).toMatchObject({ source: 'none' });
  });

  it('still uses a good vector of the same type next to a bad one', () => {
    const result = scoreSeverity([v3('garbage'), v3('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')]);
    expect(result).toMatchObject({ source: 'CVSS_V3', score: 9.8 });
    expect(result.detail).toContain('Skipped: CVSS_V3 "garbage"');
  });
});

describe('Debian Security Tracker urgencies', () => {
  function urgenciesIn(value: unknown, found: Set<string>): Set<string> {
    if (Array.isArray(value)) for (const item of value) urgenciesIn(item, found);
    else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'urgency' && typeof child === 'string') found.add(child);
        else urgenciesIn(child, found);
      }
    }
    return found;
  }

  // Every urgency in the tracker sample, and what Brier makes of it (undefined: not a rating).
  const expected: Record<string, { severity: Severity; guessed: boolean } | undefined> = {
    unimportant: { severity: 'low', guessed: false },
    'low**': { severity: 'low', guessed: true },
    medium: { severity: 'medium', guessed: false },
    'high**': { severity: 'high', guessed: true },
    'not yet assigned': undefined,
    'end-of-life': undefined,
  };

  it('maps every urgency that occurs in the tracker sample', () => {
    const found = urgenciesIn(readJson('debian-security-tracker/vunnel-debian.json'), new Set());
    expect([...found].sort()).toEqual(Object.keys(expected).sort());
    for (const urgency of found) expect(parseDebianUrgency(urgency), urgency).toEqual(expected[urgency]);
  });

  it('keeps the fact that an urgency was guessed in the explanation', () => {
    const result = scoreSeverity([debian('high**')]);
    expect(result).toMatchObject({ severity: 'high', source: 'DEBIAN_URGENCY' });
    expect(result.detail).toBe('Debian Security Tracker urgency "high**" (high, marked as guessed by the tracker rather than triaged)');
    expect(scoreSeverity([debian('medium')]).detail).toBe('Debian Security Tracker urgency "medium" (medium)');
  });

  it('reads the plain urgencies and their single-star form', () => {
    expect(parseDebianUrgency('low')).toEqual({ severity: 'low', guessed: false });
    expect(parseDebianUrgency('high')).toEqual({ severity: 'high', guessed: false });
    expect(parseDebianUrgency('medium*')).toEqual({ severity: 'medium', guessed: true });
    expect(parseDebianUrgency('unimportant**')).toEqual({ severity: 'low', guessed: true });
    expect(parseDebianUrgency('low***')).toBeUndefined();
    expect(parseDebianUrgency('critical')).toBeUndefined();
    expect(parseDebianUrgency('')).toBeUndefined();
  });
});

describe('OSV records', () => {
  // What each sample record's `severity` and `database_specific.severity` should come to.
  const expected: Record<string, { severity: Severity; source: string; score?: number }> = {
    'osv-linter-testdata/CVE-2018-5407.json': { severity: 'medium', source: 'CVSS_V3', score: 4.7 },
    'osv-linter-testdata/nondistinct-CVE-2018-5407.json': { severity: 'medium', source: 'CVSS_V3', score: 4.7 },
    'osv-linter-testdata/CVE-2023-41045.json': { severity: 'medium', source: 'CVSS_V3', score: 5.3 },
    'osv-linter-testdata/nointroduced-CVE-2023-41045.json': { severity: 'medium', source: 'CVSS_V3', score: 5.3 },
    'osv-linter-testdata/GHSA-9v2f-6vcg-3hgv.json': { severity: 'critical', source: 'CVSS_V3', score: 9.8 },
    'osv-linter-testdata/nopackage-GHSA-9v2f-6vcg-3hgv.json': { severity: 'critical', source: 'CVSS_V3', score: 9.8 },
    'osv-linter-testdata/RHSA-2022_0216.json': { severity: 'high', source: 'CVSS_V3', score: 8.1 },
  };

  const records = [
    ...readdirSync(new URL('osv-schema/osv-linter-testdata/', oracles)).map((name) => `osv-linter-testdata/${name}`),
    ...readdirSync(new URL('osv-schema/ghsa-testdata/', oracles))
      .filter((name) => name.endsWith('.osv.json'))
      .map((name) => `ghsa-testdata/${name}`),
  ].filter((path) => path.endsWith('.json'));

  it.each(records)('rates %s', (path) => {
    const record = readJson(`osv-schema/${path}`) as {
      severity?: { type: SeverityInput['type']; score: string }[];
      database_specific?: { severity?: string };
    };
    const inputs: SeverityInput[] = (record.severity ?? []).map(({ type, score }) => ({ type, score }));
    if (record.database_specific?.severity !== undefined) inputs.push(database(record.database_specific.severity));
    const result = scoreSeverity(inputs);
    expect(result).toMatchObject(expected[path] ?? { severity: 'low', source: 'none' });
    if (record.database_specific?.severity !== undefined) {
      // Where GitHub's own rating is there too, it agrees with the CVSS rating.
      expect(parseDatabaseSeverity(record.database_specific.severity)).toBe(result.severity);
    }
  });

  it('covers the sample records that carry a severity', () => {
    expect(records.filter((path) => path in expected)).toHaveLength(Object.keys(expected).length);
  });
});

describe('database ratings and helpers', () => {
  it.each([
    ['CRITICAL', 'critical'],
    ['High', 'high'],
    ['important', 'high'],
    ['MODERATE', 'medium'],
    ['medium', 'medium'],
    [' Low ', 'low'],
    ['NEGLIGIBLE', 'low'],
  ] as const)('reads the database rating %s as %s', (text, severity) => {
    expect(parseDatabaseSeverity(text)).toBe(severity);
    expect(scoreSeverity([database(text)])).toMatchObject({ severity, source: 'DATABASE' });
  });

  it.each(['UNKNOWN', '', 'constructor', '9.8', 'hasOwnProperty'])('does not read %j as a rating', (text) => {
    expect(parseDatabaseSeverity(text)).toBeUndefined();
  });

  it('orders severities from low to critical', () => {
    expect([...SEVERITIES].sort(compareSeverity)).toEqual(['low', 'medium', 'high', 'critical']);
    expect(severityRank('critical')).toBe(4);
    expect(severityRank('low')).toBe(1);
    expect(isSeverity('high')).toBe(true);
    expect(isSeverity('unknown')).toBe(false);
  });
});
