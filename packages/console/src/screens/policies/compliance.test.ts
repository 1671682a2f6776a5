import { describe, expect, it } from 'vitest';
import { complianceChartRows, compliantPercent, shares } from './compliance';

const counts = (compliant: number, remediated: number, noncompliant: number, error: number, unknown: number) => ({
  compliant,
  remediated,
  noncompliant,
  error,
  unknown,
});

describe('compliance figures', () => {
  it('splits counts into shares that the bar draws', () => {
    expect(shares(counts(2, 1, 1, 0, 0)).map((s) => [s.key, s.percent])).toEqual([
      ['compliant', 50],
      ['remediated', 25],
      ['noncompliant', 25],
      ['error', 0],
      ['unknown', 0],
    ]);
    expect(shares(counts(0, 0, 0, 0, 0)).every((s) => s.percent === 0)).toBe(true);
    expect(shares(counts(-5, 1, 0, 0, 0))[1]?.percent).toBe(100);
  });

  it('counts remediated as compliant and leaves unknown hosts out of the percentage', () => {
    expect(compliantPercent(counts(1, 1, 1, 1, 10))).toBe(50);
    expect(compliantPercent(counts(0, 0, 0, 0, 3))).toBeNull();
  });

  it('orders chart rows worst first and makes invisible characters in names visible', () => {
    const rows = complianceChartRows([
      { policy: { id: 'a', name: 'Baseline' }, hosts: counts(5, 0, 0, 0, 0) },
      { policy: { id: 'b', name: 'SSH\u202E' }, hosts: counts(1, 0, 3, 1, 0) },
      { policy: { id: 'c', name: 'x'.repeat(60) }, hosts: counts(0, 0, 1, 0, 0) },
    ]);
    expect(rows.map((r) => r.id)).toEqual(['b', 'c', 'a']);
    expect(rows[0]?.name).toBe('SSH⟨U+202E⟩');
    expect(rows[1]?.name).toBe(`${'x'.repeat(40)}…`);
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual(['compliant', 'error', 'id', 'name', 'noncompliant', 'remediated', 'unknown']);
  });
});
