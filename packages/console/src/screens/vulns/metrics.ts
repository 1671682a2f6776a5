import type { Json } from '../../api/client';
import { visibleText } from '../../ui/SafeText';
import { isSeverity, PALETTE, SEVERITIES, SEVERITY_COLORS } from './severity';

/** GET /vulnerabilities/metrics: exposure and time to remediate per day and group. */
export type MetricsResponse = Json<'/api/v1/vulnerabilities/metrics', 'get'>;
export type MetricsBy = MetricsResponse['by'];

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
  if (!data) return { series: [], exposure: [], mttr: [] };
  const by = data.by;
  const byKey = new Map(data.series.map((s) => [s.key, s]));
  const keys = order(by, [...byKey.keys()]);
  const shown = keys.slice(0, maxSeries);
  const rest = keys.slice(maxSeries);
  const series: SeriesInfo[] = shown.map((key, i) => ({
    dataKey: `s${i}`,
    name: label(by, key),
    color: by === 'severity' && isSeverity(key) ? SEVERITY_COLORS[key] : (PALETTE[i % PALETTE.length] ?? '#6b7280'),
  }));
  if (rest.length > 0) series.push({ dataKey: `s${shown.length}`, name: `Other (${rest.length})`, color: '#9ca3af' });

  // Per day, per series key: the summed exposure.
  const totals = new Map<string, Map<string, number>>();
  const add = (dataKey: string, key: string) => {
    for (const d of byKey.get(key)?.days ?? []) {
      let sums = totals.get(d.day);
      if (!sums) {
        sums = new Map(series.map((s) => [s.dataKey, 0]));
        totals.set(d.day, sums);
      }
      sums.set(dataKey, (sums.get(dataKey) ?? 0) + d.exposure);
    }
  };
  for (const [i, key] of shown.entries()) add(`s${i}`, key);
  for (const key of rest) add(`s${shown.length}`, key);
  const exposure = [...totals.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, values]) => ({ day, ...Object.fromEntries(values) }));

  const mttr = shown.flatMap((key, i) => {
    const hours = byKey.get(key)?.meanTimeToRemediateHours;
    const info = series[i];
    return hours != null && info ? [{ name: info.name, hours: Math.round(hours * 10) / 10, color: info.color }] : [];
  });
  return { series, exposure, mttr };
}
