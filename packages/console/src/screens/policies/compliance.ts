import { visibleText } from '../../ui/SafeText';

/** Compliance statuses in the order bars, charts and exports show them, with their colours. */
export const STATUSES = [
  { key: 'compliant', label: 'Compliant', color: '#1f8a4c' },
  { key: 'remediated', label: 'Remediated', color: '#2f5bd3' },
  { key: 'noncompliant', label: 'Noncompliant', color: '#c0392b' },
  { key: 'error', label: 'Error', color: '#b7791f' },
  { key: 'unknown', label: 'Unknown', color: '#9ca3af' },
] as const;

export type StatusKey = (typeof STATUSES)[number]['key'];
export type Counts = Record<StatusKey, number>;

/** Each status's share of the total, in percent (rounded to one decimal; 0 when there is nothing). */
export function shares(counts: Counts): Array<{ key: StatusKey; label: string; color: string; count: number; percent: number }> {
  const total = STATUSES.reduce((n, s) => n + Math.max(0, counts[s.key] || 0), 0);
  return STATUSES.map((s) => {
    const count = Math.max(0, counts[s.key] || 0);
    return { key: s.key, label: s.label, color: s.color, count, percent: total === 0 ? 0 : Math.round((count / total) * 1000) / 10 };
  });
}

/** Compliant share of the hosts that reported (remediated counts as compliant now); null when none did. */
export function compliantPercent(counts: Counts): number | null {
  const reported = counts.compliant + counts.remediated + counts.noncompliant + counts.error;
  if (reported <= 0) return null;
  return Math.round(((counts.compliant + counts.remediated) / reported) * 1000) / 10;
}

/**
 * Rows for the per-policy stacked bar chart: the status counts under fixed keys, the policy's name
 * (invisible characters made visible: recharts draws it as SVG text) under `name`, worst first.
 */
export function complianceChartRows(
  items: ReadonlyArray<{ policy: { id: string; name: string }; hosts: Counts }>,
  max = 20,
): Array<Counts & { id: string; name: string }> {
  return [...items]
    .sort(
      (a, b) => b.hosts.noncompliant + b.hosts.error - (a.hosts.noncompliant + a.hosts.error) || a.policy.name.localeCompare(b.policy.name),
    )
    .slice(0, max)
    .map((i) => ({
      id: i.policy.id,
      name: visibleText(i.policy.name.length > 40 ? `${i.policy.name.slice(0, 40)}…` : i.policy.name),
      compliant: i.hosts.compliant,
      remediated: i.hosts.remediated,
      noncompliant: i.hosts.noncompliant,
      error: i.hosts.error,
      unknown: i.hosts.unknown,
    }));
}
