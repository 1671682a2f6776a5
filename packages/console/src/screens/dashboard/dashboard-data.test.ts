import { describe, expect, it } from 'vitest';
import {
  COLORS,
  complianceSeries,
  dayLabel,
  findingsSeries,
  fleetSeries,
  formatShare,
  hasRemediationActivity,
  latestMedian,
  overdueSeries,
  progressSegments,
  progressText,
  remediationSeries,
  updatedText,
  waveText,
} from './dashboard-data';

describe('fleetSeries', () => {
  it('splits the non-revoked fleet into online and offline, linking to the filtered host list', () => {
    const fleet = fleetSeries({ total: 10, approved: 7, pending: 1, revoked: 2, online: 6 });
    expect(fleet.total).toBe(10);
    expect(fleet.online).toBe(6);
    expect(fleet.offline).toBe(2);
    expect(fleet.onlineShare).toBeCloseTo(0.75);
    expect(fleet.slices.map((s) => [s.name, s.value, s.href])).toEqual([
      ['Online', 6, '/hosts?online=true'],
      ['Offline', 2, '/hosts?online=false'],
    ]);
  });

  it('has no share for an empty fleet and never lets bad counts go negative or over the fleet', () => {
    expect(fleetSeries({ total: 0, approved: 0, pending: 0, revoked: 0, online: 0 }).onlineShare).toBeNull();
    const odd = fleetSeries({ total: 3, approved: 3, pending: 0, revoked: -4, online: 99 });
    expect(odd.online).toBe(3);
    expect(odd.offline).toBe(0);
    const nan = fleetSeries({ total: Number.NaN, approved: 0, pending: 0, revoked: 0, online: 5 });
    expect(nan.total).toBe(0);
    expect(nan.online).toBe(0);
  });
});

describe('formatShare', () => {
  it('never rounds a fleet that is not all online up to 100 %', () => {
    expect(formatShare(null)).toBe('—');
    expect(formatShare(1)).toBe('100 %');
    expect(formatShare(0.9999)).toBe('99.9 %');
    expect(formatShare(0.995)).toBe('99.5 %');
    expect(formatShare(0.876)).toBe('87 %');
    expect(formatShare(0)).toBe('0 %');
  });
});

describe('complianceSeries', () => {
  const policy = (name: string, compliant: number, noncompliant: number, error = 0, unknown = 0) => ({
    policyId: `id-${name}`,
    name,
    mode: 'enforce',
    compliant,
    noncompliant,
    error,
    unknown,
  });

  it('puts the worst policies first and links each to its policy page', () => {
    const { rows, hidden } = complianceSeries([policy('ok', 10, 0), policy('bad', 2, 8), policy('errors', 5, 1, 4)]);
    expect(rows.map((r) => r.label)).toEqual(['bad', 'errors', 'ok']);
    expect(rows[0]?.href).toBe('/policies/id-bad');
    expect(hidden).toBe(0);
  });

  it('counts remediated hosts apart and in the share', () => {
    const { rows } = complianceSeries([
      { ...policy('a', 0, 1), remediated: 9 },
      { ...policy('b', 1, 1), remediated: 0 },
    ]);
    expect(rows.map((r) => [r.label, r.remediated])).toEqual([
      ['b', 0],
      ['a', 9],
    ]);
  });

  it('keeps at most `limit` rows and says how many are hidden', () => {
    const many = Array.from({ length: 12 }, (_, i) => policy(`p${i}`, 1, i));
    const { rows, hidden } = complianceSeries(many, 5);
    expect(rows).toHaveLength(5);
    expect(hidden).toBe(7);
    expect(rows[0]?.label).toBe('p11');
  });

  it('shows invisible characters in names visibly and cuts long labels, keeping the whole for tooltips', () => {
    const { rows } = complianceSeries([policy(`ssh\u202Ehardening${'x'.repeat(40)}`, 1, 0)], 8, 20);
    expect(rows[0]?.label).toHaveLength(20);
    expect(rows[0]?.label.endsWith('…')).toBe(true);
    expect(rows[0]?.fullName).toContain('⟨U+202E⟩');
    expect(rows[0]?.fullName).not.toContain('\u202E');
  });

  it('encodes the policy id in the link', () => {
    const { rows } = complianceSeries([{ ...policy('x', 1, 0), policyId: '../admin?x=1' }]);
    expect(rows[0]?.href).toBe('/policies/..%2Fadmin%3Fx%3D1');
  });
});

describe('findingsSeries', () => {
  it('lists every severity, most severe first, with its colour and filtered link', () => {
    const bars = findingsSeries({ critical: 2, high: 5, low: 1 });
    expect(bars.map((b) => [b.name, b.count])).toEqual([
      ['Critical', 2],
      ['High', 5],
      ['Medium', 0],
      ['Low', 1],
    ]);
    expect(bars[0]?.href).toBe('/vulnerabilities?severity=critical');
    expect(bars[0]?.fill).toBe(COLORS.critical);
  });

  it('adds unrated findings last, only when there are any', () => {
    expect(findingsSeries({ critical: 1, unknown: 0 })).toHaveLength(4);
    const bars = findingsSeries({ critical: 1, unknown: 3 });
    expect(bars.map((b) => b.key)).toEqual(['critical', 'high', 'medium', 'low', 'unknown']);
    expect(bars[4]?.count).toBe(3);
  });
});

describe('overdueSeries', () => {
  it('always has tiers 1-5 in order, ignores unknown tiers and adds up duplicates', () => {
    const bars = overdueSeries([
      { tier: 5, count: 3 },
      { tier: 2, count: 1 },
      { tier: 9, count: 100 },
      { tier: 5, count: 2 },
      { tier: 0, count: 7 },
    ]);
    expect(bars.map((b) => b.count)).toEqual([0, 1, 0, 0, 5]);
    expect(bars[4]?.href).toBe('/vulnerabilities?overdue=true&tier=5');
    expect(bars[4]?.name).toBe('Tier 5');
  });
});

describe('remediationSeries', () => {
  it('sorts days, labels them without a time-zone shift and keeps missing medians as gaps', () => {
    const points = remediationSeries([
      { day: '2026-11-02', opened: 1, closed: 3, medianHoursToRemediate: 30.04 },
      { day: '2026-11-01', opened: 4, closed: 0, medianHoursToRemediate: null },
      { day: '2026-11-03', opened: 0, closed: 0, medianHoursToRemediate: Number.NaN },
    ]);
    expect(points.map((p) => p.label)).toEqual(['1 Nov', '2 Nov', '3 Nov']);
    expect(points.map((p) => p.median)).toEqual([null, 30, null]);
    expect(latestMedian(points)).toBe(30);
    expect(hasRemediationActivity(points)).toBe(true);
  });

  it('has no activity when nothing was opened or closed', () => {
    const points = remediationSeries([{ day: '2026-11-01', opened: 0, closed: 0, medianHoursToRemediate: null }]);
    expect(hasRemediationActivity(points)).toBe(false);
    expect(latestMedian(points)).toBeNull();
  });

  it('labels a day it cannot parse as visible text', () => {
    expect(dayLabel('2026-01-09T00:00:00.000Z')).toBe('9 Jan');
    expect(dayLabel('nonsense\u200B')).toBe('nonsense⟨U+200B⟩');
    expect(dayLabel('2026-13-01')).toBe('2026-13-01');
  });
});

describe('progressSegments', () => {
  it('splits a deployment into segments that add up to 100 %', () => {
    const segments = progressSegments({ total: 10, succeeded: 4, failed: 1, expired: 1, unreached: 1, inProgress: 2 });
    expect(segments.map((s) => [s.key, s.count])).toEqual([
      ['succeeded', 4],
      ['failed', 1],
      ['unreached', 2],
      ['inProgress', 2],
      ['pending', 1],
    ]);
    expect(segments.reduce((sum, s) => sum + s.percent, 0)).toBeCloseTo(100);
    expect(progressText(segments)).toBe('7 of 10 done, 1 failed, 2 unreached, 2 in progress');
  });

  it('clamps counts the server over-reports so the bar never overflows', () => {
    const segments = progressSegments({ total: 4, succeeded: 3, failed: 3, expired: 0, unreached: 0, inProgress: 5 });
    expect(segments.map((s) => s.count)).toEqual([3, 1, 0, 0, 0]);
    expect(segments.reduce((sum, s) => sum + s.percent, 0)).toBeCloseTo(100);
  });

  it('draws nothing for a deployment without hosts', () => {
    const segments = progressSegments({ total: 0, succeeded: 0, failed: 0, expired: 0, unreached: 0, inProgress: 0 });
    expect(segments.every((s) => s.percent === 0)).toBe(true);
    expect(progressText(segments)).toBe('0 of 0 done');
  });
});

describe('deployment states and waves', () => {
  it('says which wave is running, from a count or the wave list', () => {
    expect(waveText(3)).toBe(' · 3 waves');
    expect(waveText(1)).toBe(' · 1 wave');
    expect(waveText(null)).toBe('');
    expect(waveText([])).toBe('');
    expect(
      waveText([
        { index: 0, name: 'canary', state: 'passed' },
        { index: 1, name: 'rest\u202E', state: 'running' },
      ]),
    ).toBe(' · wave 2 of 2 (rest⟨U+202E⟩)');
    expect(waveText([{ state: 'pending' }, 'junk'])).toBe(' · 2 waves');
  });
});

describe('updatedText', () => {
  it('says how long ago the data was fetched, never in the future', () => {
    expect(updatedText(1_000_000, 1_000_000)).toBe('Updated just now');
    expect(updatedText(1_000_500, 1_000_000)).toBe('Updated just now');
    expect(updatedText(1_000_000, 1_030_000)).toBe('Updated 30 s ago');
    expect(updatedText(1_000_000, 1_000_000 + 125_000)).toBe('Updated 2 min ago');
  });
});
