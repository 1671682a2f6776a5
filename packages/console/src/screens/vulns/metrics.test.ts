import { describe, expect, it } from 'vitest';
import { type MetricsResponse, toCharts } from './metrics';

const day = (d: string, exposure: number) => ({
  day: d,
  start: `${d}T00:00:00.000Z`,
  end: `${d}T23:59:59.999Z`,
  exposure,
  opened: 0,
  remediated: 0,
});

describe('toCharts', () => {
  it('builds one exposure row per day and the mean time to remediate per group, severities worst first', () => {
    const data: MetricsResponse = {
      by: 'severity',
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-03T00:00:00.000Z',
      series: [
        { key: 'low', meanTimeToRemediateHours: null, days: [day('2026-11-01', 1), day('2026-11-02', 2)] },
        { key: 'critical', meanTimeToRemediateHours: 12.345, days: [day('2026-11-02', 4), day('2026-11-01', 3)] },
      ],
    };
    const c = toCharts(data);
    expect(c.series.map((s) => [s.dataKey, s.name])).toEqual([
      ['s0', 'critical'],
      ['s1', 'low'],
    ]);
    expect(c.exposure).toEqual([
      { day: '2026-11-01', s0: 3, s1: 1 },
      { day: '2026-11-02', s0: 4, s1: 2 },
    ]);
    expect(c.mttr).toEqual([{ name: 'critical', hours: 12.3, color: '#7b1fa2' }]);
  });

  it('never uses a group name as an object key and shows invisible characters in names', () => {
    const data: MetricsResponse = {
      by: 'site',
      from: '',
      to: '',
      series: [
        { key: '__proto__', meanTimeToRemediateHours: 1, days: [day('2026-11-01', 5)] },
        { key: 'b\u202Eevil', meanTimeToRemediateHours: 2, days: [day('2026-11-01', 6)] },
      ],
    };
    const c = toCharts(data);
    expect(c.series.map((s) => s.name)).toEqual(['__proto__', 'b⟨U+202E⟩evil']);
    expect(c.exposure).toEqual([{ day: '2026-11-01', s0: 5, s1: 6 }]);
    expect(Object.getPrototypeOf(c.exposure[0])).toBe(Object.prototype);
  });

  it('sums the groups past the limit as "other" and orders tiers highest first', () => {
    const series = ['1', '2', '3', '4', '5'].map((key, i) => ({ key, meanTimeToRemediateHours: i, days: [day('2026-11-01', i + 1)] }));
    const c = toCharts({ by: 'tier', from: '', to: '', series }, 3);
    expect(c.series.map((s) => s.name)).toEqual(['Tier 5', 'Tier 4', 'Tier 3', 'Other (2)']);
    expect(c.exposure).toEqual([{ day: '2026-11-01', s0: 5, s1: 4, s2: 3, s3: 3 }]);
  });

  it('draws nothing before the answer or for an empty period', () => {
    expect(toCharts(undefined)).toEqual({ series: [], exposure: [], mttr: [] });
    expect(toCharts({ by: 'site', from: '', to: '', series: [] })).toEqual({ series: [], exposure: [], mttr: [] });
  });
});
