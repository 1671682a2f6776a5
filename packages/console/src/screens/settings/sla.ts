import type { Body, Json } from '../../api/client';

export type SlaMatrix = Json<'/api/v1/vulnerabilities/sla', 'get'>;
export type SlaBody = Body<'/api/v1/vulnerabilities/sla', 'put'>;

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** Columns most important first, as the server documents the matrix. */
export const TIERS = [5, 4, 3, 2, 1] as const;
export type Tier = (typeof TIERS)[number];

/** The server's bounds for one cell (vulns/sla.ts): whole hours from 1 to ten years. */
export const SLA_MIN_HOURS = 1;
export const SLA_MAX_HOURS = 87_600;

/** What the form edits: the text of each cell, by severity and tier. */
export type SlaGrid = Record<Severity, Record<Tier, string>>;

export interface CellProblem {
  severity: Severity;
  tier: Tier;
  message: string;
}

/** The form's cells from the server's matrix (tiers are the JSON keys "1".."5"); a missing cell is empty. */
export function gridFromSla(matrix: SlaMatrix): SlaGrid {
  const grid = {} as SlaGrid;
  for (const severity of SEVERITIES) {
    const row = (matrix as Record<string, Record<string, number> | undefined>)[severity] ?? {};
    const cells = {} as Record<Tier, string>;
    for (const tier of TIERS) {
      const hours = row[String(tier)];
      cells[tier] = typeof hours === 'number' ? String(hours) : '';
    }
    grid[severity] = cells;
  }
  return grid;
}

/** Why one cell's text is not a valid number of hours, or null. */
export function cellProblem(text: string): string | null {
  const t = text.trim();
  if (t === '') return 'required';
  if (!/^\d+$/.test(t)) return 'whole hours';
  const n = Number(t);
  if (n < SLA_MIN_HOURS || n > SLA_MAX_HOURS) return `${SLA_MIN_HOURS}–${SLA_MAX_HOURS.toLocaleString('en')} h`;
  return null;
}

/** The PUT body from the form's cells (every severity × tier 1-5), or the cells that are wrong. */
export function slaFromGrid(grid: SlaGrid): { ok: true; body: SlaBody } | { ok: false; problems: CellProblem[] } {
  const problems: CellProblem[] = [];
  const body = { critical: {}, high: {}, medium: {}, low: {} } as Record<Severity, Record<string, number>>;
  for (const severity of SEVERITIES) {
    for (const tier of [...TIERS].reverse()) {
      const text = grid[severity][tier];
      const message = cellProblem(text);
      if (message) problems.push({ severity, tier, message });
      else body[severity][String(tier)] = Number(text.trim());
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, body };
}

export function gridsEqual(a: SlaGrid, b: SlaGrid): boolean {
  return SEVERITIES.every((s) => TIERS.every((t) => a[s][t].trim() === b[s][t].trim()));
}

/** "3 d", "1 d 12 h": a reading aid beside the hours (nothing under a day, where hours say it). */
export function hoursAsDays(text: string): string {
  if (cellProblem(text)) return '';
  const h = Number(text.trim());
  const d = Math.floor(h / 24);
  const rest = h % 24;
  if (d === 0) return '';
  return rest === 0 ? `${d} d` : `${d} d ${rest} h`;
}
