import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEVERITIES, type Severity } from './severity.js';
import {
  bucketByDay,
  DEFAULT_RISK_TIER,
  DEFAULT_SLA_MATRIX,
  dueAt,
  exposure,
  isOverdue,
  isRiskTier,
  MAX_BUCKET_DAYS,
  meanTimeToRemediateHours,
  type RemediationTimes,
  RISK_TIERS,
  type RiskTier,
  SlaError,
  type SlaMatrix,
  validateSlaMatrix,
} from './sla.js';

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;

/** The default matrix as an operator would send it: parsed JSON, tiers as string keys. */
const asJson = (matrix: SlaMatrix): Record<string, Record<string, unknown>> => JSON.parse(JSON.stringify(matrix));

function slaError(fn: () => unknown): SlaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SlaError) return error;
    throw error;
  }
  throw new Error('expected an SlaError');
}

describe('DEFAULT_SLA_MATRIX', () => {
  it('gives 24 hours for a critical finding on a tier-5 host', () => {
    expect(DEFAULT_SLA_MATRIX.critical[5]).toBe(24);
  });

  it('never shortens the deadline as severity or tier goes down', () => {
    for (const tier of RISK_TIERS) {
      const bySeverity = SEVERITIES.map((severity) => DEFAULT_SLA_MATRIX[severity][tier]);
      expect(bySeverity, `tier ${tier}`).toEqual([...bySeverity].sort((a, b) => a - b));
    }
    for (const severity of SEVERITIES) {
      const byTier = [5, 4, 3, 2, 1].map((tier) => DEFAULT_SLA_MATRIX[severity][tier as RiskTier]);
      expect(byTier, severity).toEqual([...byTier].sort((a, b) => a - b));
    }
  });

  it('passes its own validation and cannot be changed', () => {
    expect(validateSlaMatrix(asJson(DEFAULT_SLA_MATRIX))).toEqual(DEFAULT_SLA_MATRIX);
    expect(Object.isFrozen(DEFAULT_SLA_MATRIX)).toBe(true);
    expect(Object.isFrozen(DEFAULT_SLA_MATRIX.high)).toBe(true);
  });

  it('puts an unclassified host in the middle tier', () => {
    expect(DEFAULT_RISK_TIER).toBe(3);
    expect(isRiskTier(DEFAULT_RISK_TIER)).toBe(true);
  });
});

describe('validateSlaMatrix', () => {
  it('returns a frozen copy with numeric tier keys, not the input', () => {
    const input = asJson(DEFAULT_SLA_MATRIX);
    input.low!['1'] = 8760;
    const matrix = validateSlaMatrix(input);
    expect(matrix.low[1]).toBe(8760);
    expect(matrix).not.toBe(input);
    expect(Object.isFrozen(matrix.low)).toBe(true);
    input.low!['1'] = 1;
    expect(matrix.low[1]).toBe(8760);
  });

  it('accepts the bounds 1 and 87600 hours', () => {
    const input = asJson(DEFAULT_SLA_MATRIX);
    input.critical!['5'] = 1;
    input.low!['1'] = 87_600;
    expect(validateSlaMatrix(input)).toMatchObject({ critical: { 5: 1 }, low: { 1: 87_600 } });
  });

  const badCells: [string, unknown, string][] = [
    ['a negative number', -24, 'got -24'],
    ['zero', 0, 'got 0'],
    ['NaN', Number.NaN, 'got NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'got Infinity'],
    ['a fraction', 1.5, 'got 1.5'],
    ['a string', '24', 'got "24"'],
    ['1e9', 1e9, 'got 1000000000'],
    ['87601', 87_601, 'got 87601'],
    ['null', null, 'got null'],
    ['an object', { hours: 24 }, 'got a value of type object'],
  ];
  it.each(badCells)('refuses %s in a cell and names the cell', (_label, value, got) => {
    const input = asJson(DEFAULT_SLA_MATRIX);
    input.high!['4'] = value;
    const error = slaError(() => validateSlaMatrix(input));
    expect(error.code).toBe('sla-invalid');
    expect(error.message).toBe(`SLA matrix cell high × tier 4 must be a whole number of hours from 1 to 87600, ${got}`);
    expect(error.details).toEqual({ severity: 'high', tier: 4 });
  });

  it('refuses a missing cell and names it', () => {
    const input = asJson(DEFAULT_SLA_MATRIX);
    delete input.medium!['2'];
    const error = slaError(() => validateSlaMatrix(input));
    expect(error).toMatchObject({ code: 'sla-invalid', message: 'SLA matrix cell medium × tier 2 is missing' });
  });

  it('refuses a missing row, an unknown severity and an unknown tier', () => {
    const noRow = asJson(DEFAULT_SLA_MATRIX);
    delete noRow.low;
    expect(slaError(() => validateSlaMatrix(noRow)).message).toBe('SLA matrix is missing the row for low');

    const extraSeverity = { ...asJson(DEFAULT_SLA_MATRIX), urgent: { 1: 1 } };
    expect(slaError(() => validateSlaMatrix(extraSeverity)).message).toBe('SLA matrix has an unknown severity "urgent"');

    for (const tier of ['6', '0', '03', 'x']) {
      const extraTier = asJson(DEFAULT_SLA_MATRIX);
      extraTier.critical![tier] = 1;
      expect(slaError(() => validateSlaMatrix(extraTier)).message).toBe(`SLA matrix row critical has an unknown risk tier "${tier}"`);
    }

    const badRow = { ...asJson(DEFAULT_SLA_MATRIX), high: [24, 48, 72, 168, 336] };
    expect(slaError(() => validateSlaMatrix(badRow)).message).toBe('SLA matrix row high must be an object keyed by risk tier 1-5');
  });

  it.each([[null], [undefined], [42], ['matrix'], [[]], [new Map()]])('refuses %j as a matrix', (input) => {
    expect(slaError(() => validateSlaMatrix(input))).toMatchObject({ code: 'sla-invalid' });
  });

  it('ignores nothing inherited: a prototype-polluting key is an unknown severity', () => {
    const input = JSON.parse(`{"__proto__": {"5": 1}, ${JSON.stringify(asJson(DEFAULT_SLA_MATRIX)).slice(1)}`);
    expect(slaError(() => validateSlaMatrix(input)).message).toBe('SLA matrix has an unknown severity "__proto__"');
  });
});

describe('dueAt', () => {
  it('adds the matrix hours for the severity and tier to the first sighting', () => {
    const seen = at('2025-03-01T10:00:00Z');
    expect(dueAt(seen, 'critical', 5).toISOString()).toBe('2025-03-02T10:00:00.000Z');
    expect(dueAt(seen, 'critical', 1).toISOString()).toBe('2025-03-15T10:00:00.000Z');
    expect(dueAt(seen, 'low', DEFAULT_RISK_TIER).toISOString()).toBe('2025-07-29T10:00:00.000Z');
  });

  it('uses the matrix it is given', () => {
    const input = asJson(DEFAULT_SLA_MATRIX);
    input.high!['3'] = 5;
    expect(dueAt(at('2025-03-01T00:00:00Z'), 'high', 3, validateSlaMatrix(input)).toISOString()).toBe('2025-03-01T05:00:00.000Z');
  });

  it('counts hours, so a daylight-saving change does not move the deadline', () => {
    // Europe changed clocks on 2025-03-30; 24 hours later is still 24 hours later in UTC.
    expect(dueAt(at('2025-03-29T23:30:00Z'), 'critical', 5).toISOString()).toBe('2025-03-30T23:30:00.000Z');
  });

  it('refuses an invalid date, an unknown severity and an unknown tier', () => {
    expect(slaError(() => dueAt(new Date(Number.NaN), 'high', 3))).toMatchObject({
      code: 'sla-bad-input',
      message: 'firstSeenAt is not a valid date',
    });
    expect(slaError(() => dueAt(at('2025-01-01T00:00:00Z'), 'urgent' as Severity, 3))).toMatchObject({ code: 'sla-bad-input' });
    expect(slaError(() => dueAt(at('2025-01-01T00:00:00Z'), 'high', 6 as RiskTier))).toMatchObject({
      code: 'sla-bad-input',
      message: 'risk tier must be 1-5, got 6',
    });
  });
});

describe('isOverdue', () => {
  const due = at('2025-03-02T10:00:00Z');

  it('is not overdue up to and including the due instant, and overdue after it while open', () => {
    expect(isOverdue(due, at('2025-03-02T09:59:59Z'))).toBe(false);
    expect(isOverdue(due, due)).toBe(false);
    expect(isOverdue(due, at('2025-03-02T10:00:00.001Z'))).toBe(true);
    expect(isOverdue(due, at('2025-03-02T10:00:01Z'))).toBe(true);
  });

  it('is never overdue when remediated in time, and stays overdue when remediated late', () => {
    expect(isOverdue(due, at('2025-06-01T00:00:00Z'), at('2025-03-02T09:00:00Z'))).toBe(false);
    expect(isOverdue(due, at('2025-06-01T00:00:00Z'), due)).toBe(false);
    expect(isOverdue(due, at('2025-06-01T00:00:00Z'), at('2025-03-03T00:00:00Z'))).toBe(true);
  });

  it('treats a remediation after now as not yet happened', () => {
    expect(isOverdue(due, at('2025-03-05T00:00:00Z'), at('2025-03-06T00:00:00Z'))).toBe(true);
    expect(isOverdue(due, at('2025-03-01T00:00:00Z'), at('2025-03-06T00:00:00Z'))).toBe(false);
    expect(isOverdue(due, at('2025-03-05T00:00:00Z'), null)).toBe(true);
  });

  it('refuses invalid dates', () => {
    expect(slaError(() => isOverdue(new Date('nope'), due))).toMatchObject({ code: 'sla-bad-input', message: 'dueAt is not a valid date' });
    expect(slaError(() => isOverdue(due, due, new Date(Number.NaN)))).toMatchObject({ message: 'remediatedAt is not a valid date' });
  });
});

describe('meanTimeToRemediateHours and exposure', () => {
  const findings: RemediationTimes[] = [
    { firstSeenAt: at('2025-01-01T00:00:00Z'), remediatedAt: at('2025-01-02T00:00:00Z') }, // 24 h
    { firstSeenAt: at('2025-01-01T12:00:00Z'), remediatedAt: at('2025-01-01T18:00:00Z') }, // 6 h
    { firstSeenAt: at('2025-01-03T00:00:00Z') }, // open
    { firstSeenAt: at('2025-01-01T00:00:00Z'), remediatedAt: null }, // open
  ];

  it('averages the time to remediate over remediated findings only', () => {
    expect(meanTimeToRemediateHours(findings)).toBe(15);
  });

  it('is undefined when nothing was remediated', () => {
    expect(meanTimeToRemediateHours([])).toBeUndefined();
    expect(meanTimeToRemediateHours([{ firstSeenAt: at('2025-01-01T00:00:00Z') }])).toBeUndefined();
  });

  it('counts a remediation recorded before the first sighting as immediate', () => {
    const skewed = [{ firstSeenAt: at('2025-01-01T00:00:10Z'), remediatedAt: at('2025-01-01T00:00:00Z') }];
    expect(meanTimeToRemediateHours(skewed)).toBe(0);
    expect(exposure(skewed, at('2025-01-01T00:00:05Z'))).toBe(0);
    expect(exposure(skewed, at('2025-01-01T00:00:10Z'))).toBe(0);
  });

  it('counts findings open at an instant: seen at or before it, not yet remediated', () => {
    expect(exposure(findings, at('2024-12-31T23:59:59Z'))).toBe(0);
    expect(exposure(findings, at('2025-01-01T00:00:00Z'))).toBe(2);
    expect(exposure(findings, at('2025-01-01T12:00:00Z'))).toBe(3);
    expect(exposure(findings, at('2025-01-01T18:00:00Z'))).toBe(2);
    expect(exposure(findings, at('2025-01-02T00:00:00Z'))).toBe(1);
    expect(exposure(findings, at('2025-01-03T00:00:00Z'))).toBe(2);
  });

  it('refuses a finding with an invalid date and says which', () => {
    const bad = [...findings, { firstSeenAt: 'yesterday' as unknown as Date }];
    expect(slaError(() => exposure(bad, at('2025-01-01T00:00:00Z'))).message).toBe('findings[4].firstSeenAt is not a valid date');
    expect(
      slaError(() => meanTimeToRemediateHours([{ firstSeenAt: at('2025-01-01T00:00:00Z'), remediatedAt: new Date('x') }])).message,
    ).toBe('findings[0].remediatedAt is not a valid date');
    expect(slaError(() => exposure(findings, new Date('x'))).message).toBe('at is not a valid date');
  });
});

describe('bucketByDay', () => {
  const findings: RemediationTimes[] = [
    { firstSeenAt: at('2025-01-01T06:00:00Z'), remediatedAt: at('2025-01-02T06:00:00Z') }, // 24 h, remediated on day 2
    { firstSeenAt: at('2025-01-01T12:00:00Z'), remediatedAt: at('2025-01-01T18:00:00Z') }, // 6 h, remediated on day 1
    { firstSeenAt: at('2025-01-02T00:00:00Z') },
    { firstSeenAt: at('2024-12-30T00:00:00Z'), remediatedAt: at('2025-01-03T00:00:00Z') }, // 96 h, remediated on day 3
  ];

  it('gives exposure, openings, remediations and MTTR for every UTC day', () => {
    const series = bucketByDay(findings, at('2025-01-01T00:00:00Z'), at('2025-01-04T00:00:00Z'));
    expect(series.map((b) => b.day)).toEqual(['2025-01-01', '2025-01-02', '2025-01-03']);
    expect(series.map((b) => b.exposure)).toEqual([3, 1, 1]);
    expect(series.map((b) => b.opened)).toEqual([2, 1, 0]);
    expect(series.map((b) => b.remediated)).toEqual([1, 1, 1]);
    expect(series.map((b) => b.mttrHours)).toEqual([6, 24, 96]);
    expect(series[0]).toMatchObject({ start: at('2025-01-01T00:00:00Z'), end: at('2025-01-02T00:00:00Z') });
  });

  it('clips the first and last day to the range', () => {
    const series = bucketByDay(findings, at('2025-01-01T10:00:00Z'), at('2025-01-02T07:00:00Z'));
    expect(series.map((b) => [b.day, b.start.toISOString(), b.end.toISOString()])).toEqual([
      ['2025-01-01', '2025-01-01T10:00:00.000Z', '2025-01-02T00:00:00.000Z'],
      ['2025-01-02', '2025-01-02T00:00:00.000Z', '2025-01-02T07:00:00.000Z'],
    ]);
    // The 06:00 finding was seen before the range starts: not an opening inside it.
    expect(series[0]).toMatchObject({ opened: 1, remediated: 1, mttrHours: 6 });
    expect(series[1]).toMatchObject({ opened: 1, remediated: 1, mttrHours: 24, exposure: 2 });
  });

  it('gives days without remediations an undefined MTTR', () => {
    const series = bucketByDay([{ firstSeenAt: at('2025-01-01T00:00:00Z') }], at('2025-01-01T00:00:00Z'), at('2025-01-03T00:00:00Z'));
    expect(series.map((b) => [b.exposure, b.mttrHours])).toEqual([
      [1, undefined],
      [1, undefined],
    ]);
  });

  it('refuses an empty or reversed range, too long a range and invalid dates', () => {
    const day = at('2025-01-01T00:00:00Z');
    expect(slaError(() => bucketByDay([], day, day))).toMatchObject({ code: 'sla-bad-input', message: 'to must be after from' });
    expect(slaError(() => bucketByDay([], at('2025-01-02T00:00:00Z'), day))).toMatchObject({ code: 'sla-bad-input' });
    expect(slaError(() => bucketByDay([], at('2000-01-01T00:00:00Z'), day))).toMatchObject({
      code: 'sla-bad-input',
      details: { days: 9132 },
    });
    expect(bucketByDay([], day, new Date(day.getTime() + MAX_BUCKET_DAYS * 24 * HOUR))).toHaveLength(MAX_BUCKET_DAYS);
    expect(slaError(() => bucketByDay([], new Date('x'), day)).message).toBe('from is not a valid date');
  });

  it('agrees with exposure() and with counting by hand for any findings and range', () => {
    const base = Date.UTC(2025, 0, 1);
    const time = fc.integer({ min: 0, max: 10 * 24 * HOUR });
    const finding = fc.record({ first: time, done: fc.option(time, { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(finding, { maxLength: 30 }), time, fc.integer({ min: 1, max: 5 * 24 * HOUR }), (raw, fromOffset, length) => {
        const list: RemediationTimes[] = raw.map(({ first, done }) => ({
          firstSeenAt: new Date(base + first),
          ...(done === undefined ? {} : { remediatedAt: new Date(base + done) }),
        }));
        const from = new Date(base + fromOffset);
        const to = new Date(base + fromOffset + length);
        const series = bucketByDay(list, from, to);
        expect(series[0]!.start).toEqual(from);
        expect(series[series.length - 1]!.end).toEqual(to);
        for (const bucket of series) {
          const s = bucket.start.getTime();
          const e = bucket.end.getTime();
          expect(bucket.exposure).toBe(exposure(list, bucket.end));
          expect(bucket.opened).toBe(list.filter((f) => f.firstSeenAt.getTime() >= s && f.firstSeenAt.getTime() < e).length);
          const closed = list.filter((f) => {
            if (!f.remediatedAt) return false;
            const when = Math.max(f.remediatedAt.getTime(), f.firstSeenAt.getTime());
            return when >= s && when < e;
          });
          expect(bucket.remediated).toBe(closed.length);
          const mttr = meanTimeToRemediateHours(closed);
          if (mttr === undefined) expect(bucket.mttrHours).toBeUndefined();
          else expect(bucket.mttrHours).toBeCloseTo(mttr, 9);
        }
      }),
    );
  });
});
