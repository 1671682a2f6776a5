import { describe, expect, it } from 'vitest';
import { cellProblem, gridFromSla, gridsEqual, hoursAsDays, type SlaMatrix, slaFromGrid } from './sla';

const DEFAULT: SlaMatrix = {
  critical: { '5': 24, '4': 48, '3': 72, '2': 168, '1': 336 },
  high: { '5': 72, '4': 168, '3': 336, '2': 720, '1': 720 },
  medium: { '5': 720, '4': 1080, '3': 1440, '2': 2160, '1': 2160 },
  low: { '5': 2160, '4': 2880, '3': 3600, '2': 4320, '1': 4320 },
};

describe('SLA grid <-> API body', () => {
  it('round-trips the server matrix unchanged', () => {
    const grid = gridFromSla(DEFAULT);
    expect(grid.critical[5]).toBe('24');
    expect(grid.low[1]).toBe('4320');
    const back = slaFromGrid(grid);
    expect(back).toEqual({ ok: true, body: DEFAULT });
  });

  it('sends edited cells as whole numbers keyed by tier "1".."5", nothing else', () => {
    const grid = gridFromSla(DEFAULT);
    grid.critical[5] = ' 12 ';
    const back = slaFromGrid(grid);
    if (!back.ok) throw new Error('expected a body');
    expect(back.body.critical).toEqual({ '1': 336, '2': 168, '3': 72, '4': 48, '5': 12 });
    expect(Object.keys(back.body).sort()).toEqual(['critical', 'high', 'low', 'medium']);
  });

  it('names every bad cell instead of sending a partial matrix', () => {
    const grid = gridFromSla(DEFAULT);
    grid.critical[5] = '';
    grid.high[3] = '1.5';
    grid.medium[1] = '0';
    grid.low[2] = '87601';
    grid.low[4] = '-3';
    grid.low[5] = '1e3';
    const back = slaFromGrid(grid);
    expect(back.ok).toBe(false);
    if (back.ok) return;
    expect(back.problems.map((p) => `${p.severity}/${p.tier}: ${p.message}`)).toEqual([
      'critical/5: required',
      'high/3: whole hours',
      'medium/1: 1–87,600 h',
      'low/2: 1–87,600 h',
      'low/4: whole hours',
      'low/5: whole hours',
    ]);
  });

  it('leaves a cell the server did not send empty (so saving asks for it)', () => {
    const grid = gridFromSla({ ...DEFAULT, high: { '5': 72 } });
    expect(grid.high[4]).toBe('');
    expect(slaFromGrid(grid).ok).toBe(false);
  });

  it('accepts the bounds', () => {
    expect(cellProblem('1')).toBeNull();
    expect(cellProblem('87600')).toBeNull();
  });

  it('compares grids ignoring whitespace, and shows hours as days', () => {
    const a = gridFromSla(DEFAULT);
    const b = gridFromSla(DEFAULT);
    b.high[2] = ' 720';
    expect(gridsEqual(a, b)).toBe(true);
    b.high[2] = '721';
    expect(gridsEqual(a, b)).toBe(false);
    expect(hoursAsDays('24')).toBe('1 d');
    expect(hoursAsDays('36')).toBe('1 d 12 h');
    expect(hoursAsDays('12')).toBe('');
    expect(hoursAsDays('x')).toBe('');
  });
});
