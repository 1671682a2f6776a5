import { visibleText } from '../../ui/SafeText';
import { isSeverity, PALETTE, SEVERITIES, SEVERITY_COLORS } from './severity';

export type MetricsBy = 'severity' | 'site' | 'tier';

/**
 * GET /vulnerabilities/metrics. The route declares no response schema (so schema.d.ts has no type
 * for it); this is the shape vulns-service.ts `metrics()` returns, read defensively by `toCharts`.
 */
export interface MetricsResponse {
  by: MetricsBy;
  from: string;
  to: string;
  series: Array<{
    key: string;
    meanTimeToRemediateHours: number | null;
    days: Array<{ day: string; exposure: number; opened: number; remediated: number; mttrHours?: number }>;
  }>;
}

export interface SeriesInfo {
  /** The key recharts reads (s0, s1, …): a site name from the database never becomes an object key. */
  dataKey: string;
  /** The legend text: the group's name with invisible characters made visible. */
  name: string;
  color: string;
}

export interface MetricsCharts {
  series: SeriesInfo[];
  /** One row per day: `{day, s0: exposure, s1: …}`. */
  exposure: Array<Record<string, number | string>>;
  /** Mean time to remediate per group, hours (groups that remediated nothing are left out). */
  mttr: Array<{ name: string; hours: number; color: string }>;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function label(by: MetricsBy, key: string): string {
  if (by === 'tier') return `Tier ${visibleText(key)}`;
  return visibleText(key);
}

/** Groups in a stable order: severities worst first, tiers highest first, sites by name. */
function order(by: MetricsBy, keys: string[]): string[] {
  if (by === 'severity') {
    const known = SEVERITIES.filter((s) => keys.includes(s));
    return [...known, ...keys.filter((k) => !isSeverity(k)).sort()];
  }
  if (by === 'tier') return [...keys].sort((a, b) => Number(b) - Number(a) || a.localeCompare(b));
  return [...keys].sort((a, b) => a.localeCompare(b));
}

/** The metrics as chart data (pure; at most `maxSeries` groups, the rest summed as "other"). */
export function toCharts(data: MetricsResponse | null | undefined, maxSeries = 10): MetricsCharts {
  if (!data || !Array.isArray(data.series)) return { series: [], exposure: [], mttr: [] };
  const by = data.by;
  const byKey = new Map(data.series.filter((s) => s && typeof s.key === 'string').map((s) => [s.key, s]));
  const keys = order(by, [...byKey.keys()]);
  const shown = keys.slice(0, maxSeries);
  const rest = keys.slice(maxSeries);
  const series: SeriesInfo[] = shown.map((key, i) => ({
    dataKey: `s${i}`,
    name: label(by, key),
    color: by === 'severity' && isSeverity(key) ? SEVERITY_COLORS[key] : (PALETTE[i % PALETTE.length] ?? '#6b7280'),
  }));
  if (rest.length > 0) series.push({ dataKey: `s${shown.length}`, name: `Other (${rest.length})`, color: '#9ca3af' });

  const rows = new Map<string, Record<string, number | string>>();
  const add = (dataKey: string, key: string) => {
    for (const d of byKey.get(key)?.days ?? []) {
      if (!d || typeof d.day !== 'string') continue;
      let row = rows.get(d.day);
      if (!row) {
        row = { day: d.day };
        for (const s of series) row[s.dataKey] = 0;
        rows.set(d.day, row);
      }
      row[dataKey] = num(row[dataKey]) + num(d.exposure);
    }
  };
  for (const [i, key] of shown.entries()) add(`s${i}`, key);
  for (const key of rest) add(`s${shown.length}`, key);
  const exposure = [...rows.values()].sort((a, b) => String(a.day).localeCompare(String(b.day)));

  const mttr = shown.flatMap((key, i) => {
    const hours = byKey.get(key)?.meanTimeToRemediateHours;
    const info = series[i];
    return typeof hours === 'number' && Number.isFinite(hours) && info
      ? [{ name: info.name, hours: Math.round(hours * 10) / 10, color: info.color }]
      : [];
  });
  return { series, exposure, mttr };
}
