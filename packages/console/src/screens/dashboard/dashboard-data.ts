/**
 * Pure mapping from GET /api/v1/dashboard to chart series, colours and the links each chart leads
 * to. Kept apart from the React screen so it is unit-tested (dashboard-data.test.ts).
 *
 * The inputs are the minimal shapes this module reads, so the API type can grow without touching
 * them; names here are never rendered: the screen renders them through <SafeText> / visibleText().
 */
import { visibleText } from '../../ui/SafeText';

/** The palette of styles.css (--ok, --warn, --bad, --info, --critical, --muted) for SVG fills. */
export const COLORS = {
  ok: '#1f8a4c',
  okLight: '#7cc79a',
  warn: '#b7791f',
  bad: '#c0392b',
  info: '#2f5bd3',
  critical: '#7b1fa2',
  muted: '#98a2b3',
  line: '#dde1e7',
} as const;

export interface HostCounts {
  total: number;
  approved: number;
  pending: number;
  revoked: number;
  online: number;
}

export interface FleetSlice {
  key: 'online' | 'offline';
  name: string;
  value: number;
  fill: string;
  href: string;
}

export interface Fleet {
  total: number;
  online: number;
  offline: number;
  /** Online share of the hosts that could be online (not revoked), 0..1; null without any. */
  onlineShare: number | null;
  slices: FleetSlice[];
}

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/** Fleet size and the online/offline donut. Revoked hosts are gone from the fleet's point of view. */
export function fleetSeries(hosts: HostCounts): Fleet {
  const total = n(hosts.total);
  const active = Math.max(0, total - n(hosts.revoked));
  const online = Math.min(n(hosts.online), active);
  const offline = active - online;
  return {
    total,
    online,
    offline,
    onlineShare: active > 0 ? online / active : null,
    slices: [
      { key: 'online', name: 'Online', value: online, fill: COLORS.ok, href: '/hosts?online=true' },
      { key: 'offline', name: 'Offline', value: offline, fill: COLORS.muted, href: '/hosts?online=false' },
    ],
  };
}

/** "87 %", "99.5 %" (never rounds a non-full fleet up to 100 %), "—". */
export function formatShare(share: number | null): string {
  if (share === null) return '—';
  const pct = share * 100;
  if (pct >= 100) return '100 %';
  // The epsilon keeps 0.995 * 100 = 99.49999… from showing as 99.4.
  const shown = pct >= 99 ? Math.floor(pct * 10 + 1e-9) / 10 : Math.floor(pct + 1e-9);
  return `${shown} %`;
}

export interface PolicyCompliance {
  policyId: string;
  name: string;
  mode?: string;
  compliant: number;
  noncompliant: number;
  /** Hosts the agent brought back into compliance (a kind of compliant). */
  remediated?: number;
  error: number;
  unknown: number;
}

export interface ComplianceRow {
  policyId: string;
  /** Axis label: the name with invisible characters made visible, cut to `labelMax`. */
  label: string;
  /** The whole name, made visible: for tooltips. */
  fullName: string;
  mode: string;
  compliant: number;
  remediated: number;
  noncompliant: number;
  error: number;
  unknown: number;
  href: string;
}

export const COMPLIANCE_STATUSES = [
  { key: 'compliant', name: 'Compliant', fill: COLORS.ok },
  { key: 'remediated', name: 'Remediated', fill: COLORS.okLight },
  { key: 'noncompliant', name: 'Noncompliant', fill: COLORS.bad },
  { key: 'error', name: 'Error', fill: COLORS.warn },
  { key: 'unknown', name: 'Unknown', fill: COLORS.muted },
] as const;

/**
 * Compliance by policy as stacked-bar rows: the worst policies first (most noncompliant + error
 * hosts, then by share), at most `limit` of them; `hidden` says how many did not fit.
 */
export function complianceSeries(
  policies: readonly PolicyCompliance[],
  limit = 8,
  labelMax = 24,
): { rows: ComplianceRow[]; hidden: number } {
  const rows = policies.map((p) => {
    const fullName = visibleText(p.name);
    return {
      policyId: p.policyId,
      label: fullName.length > labelMax ? `${fullName.slice(0, labelMax - 1)}…` : fullName,
      fullName,
      mode: p.mode ?? '',
      compliant: n(p.compliant),
      remediated: n(p.remediated),
      noncompliant: n(p.noncompliant),
      error: n(p.error),
      unknown: n(p.unknown),
      href: `/policies/${encodeURIComponent(p.policyId)}`,
    };
  });
  const bad = (r: ComplianceRow) => r.noncompliant + r.error;
  const share = (r: ComplianceRow) => {
    const t = r.compliant + r.remediated + r.noncompliant + r.error + r.unknown;
    return t === 0 ? 0 : bad(r) / t;
  };
  rows.sort((a, b) => bad(b) - bad(a) || share(b) - share(a) || a.fullName.localeCompare(b.fullName));
  return { rows: rows.slice(0, limit), hidden: Math.max(0, rows.length - limit) };
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SEVERITY_COLORS: Record<Severity, string> = {
  critical: COLORS.critical,
  high: COLORS.bad,
  medium: COLORS.warn,
  low: COLORS.info,
};

export interface CountBar {
  key: string;
  name: string;
  count: number;
  fill: string;
  href: string;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Open findings by severity, most severe first, each linking to the filtered vulnerability list;
 * findings whose record rates no severity come last, only when there are any.
 */
export function findingsSeries(findings: Partial<Record<Severity | 'unknown', number>>): CountBar[] {
  const bars: CountBar[] = SEVERITIES.map((severity) => ({
    key: severity,
    name: capitalise(severity),
    count: n(findings[severity]),
    fill: SEVERITY_COLORS[severity],
    href: `/vulnerabilities?severity=${severity}`,
  }));
  const unknown = n(findings.unknown);
  if (unknown > 0) bars.push({ key: 'unknown', name: 'Unrated', count: unknown, fill: COLORS.muted, href: '/vulnerabilities' });
  return bars;
}

export const TIERS = [1, 2, 3, 4, 5] as const;

/** Tier 5 is the most important (PUT /hosts/{id}/risk): it gets the hottest colour. */
const TIER_COLORS = [COLORS.info, COLORS.info, COLORS.warn, COLORS.bad, COLORS.critical] as const;

/**
 * Overdue findings by risk tier: always the five tiers in order (a missing tier is 0); entries the
 * server sends for other tiers are ignored, duplicates add up.
 */
export function overdueSeries(overdue: ReadonlyArray<{ tier: number; count: number }>): CountBar[] {
  const counts = new Map<number, number>();
  for (const row of overdue) {
    if (!TIERS.includes(row.tier as (typeof TIERS)[number])) continue;
    counts.set(row.tier, (counts.get(row.tier) ?? 0) + n(row.count));
  }
  return TIERS.map((tier, i) => ({
    key: String(tier),
    name: `Tier ${tier}`,
    count: counts.get(tier) ?? 0,
    fill: TIER_COLORS[i] ?? COLORS.info,
    href: `/vulnerabilities?overdue=true&tier=${tier}`,
  }));
}

export interface RemediationDay {
  day: string;
  opened: number;
  closed: number;
  medianHoursToRemediate: number | null;
}

export interface RemediationPoint {
  day: string;
  /** "27 Nov": the x-axis label (UTC day, as the server buckets them). */
  label: string;
  opened: number;
  closed: number;
  /** Median hours to remediate the findings closed that day; null draws a gap. */
  median: number | null;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2026-11-27" or an ISO instant -> "27 Nov" (no time zone shift: the day is the server's UTC day). */
export function dayLabel(day: string): string {
  const m = DAY.exec(day);
  if (!m) return visibleText(day);
  const month = MONTHS[Number(m[2]) - 1];
  return month ? `${Number(m[3])} ${month}` : visibleText(day);
}

/** The time-to-remediate trend, oldest day first; a median that is not a finite number is a gap. */
export function remediationSeries(days: readonly RemediationDay[]): RemediationPoint[] {
  return [...days]
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
    .map((d) => ({
      day: d.day,
      label: dayLabel(d.day),
      opened: n(d.opened),
      closed: n(d.closed),
      median:
        typeof d.medianHoursToRemediate === 'number' && Number.isFinite(d.medianHoursToRemediate) && d.medianHoursToRemediate >= 0
          ? Math.round(d.medianHoursToRemediate * 10) / 10
          : null,
    }));
}

/** Whether the trend has anything to draw. */
export function hasRemediationActivity(points: readonly RemediationPoint[]): boolean {
  return points.some((p) => p.opened > 0 || p.closed > 0 || p.median !== null);
}

/** The latest median (the last day that had one), for the card's headline. */
export function latestMedian(points: readonly RemediationPoint[]): number | null {
  for (let i = points.length - 1; i >= 0; i--) {
    const m = points[i]?.median;
    if (m !== null && m !== undefined) return m;
  }
  return null;
}

export interface DeploymentSummaryCounts {
  total: number;
  succeeded: number;
  failed: number;
  expired: number;
  unreached: number;
  inProgress: number;
}

export interface ProgressSegment {
  key: 'succeeded' | 'failed' | 'unreached' | 'inProgress' | 'pending';
  name: string;
  count: number;
  /** Width in percent of the bar, 0..100; the segments of one bar add up to 100 (or 0 without hosts). */
  percent: number;
  color: string;
}

/**
 * A deployment's hosts as progress-bar segments: succeeded, failed, unreached (expired +
 * unreached), in progress, and the rest still pending. Counts the server over-reports are clamped
 * so the bar never overflows.
 */
export function progressSegments(summary: DeploymentSummaryCounts): ProgressSegment[] {
  const total = n(summary.total);
  let left = total;
  const take = (v: number) => {
    const t = Math.min(n(v), left);
    left -= t;
    return t;
  };
  const counts = {
    succeeded: take(summary.succeeded),
    failed: take(summary.failed),
    unreached: take(n(summary.expired) + n(summary.unreached)),
    inProgress: take(summary.inProgress),
  };
  const pending = left;
  const pct = (v: number) => (total === 0 ? 0 : (v / total) * 100);
  return [
    { key: 'succeeded', name: 'Succeeded', count: counts.succeeded, percent: pct(counts.succeeded), color: COLORS.ok },
    { key: 'failed', name: 'Failed', count: counts.failed, percent: pct(counts.failed), color: COLORS.bad },
    { key: 'unreached', name: 'Unreached', count: counts.unreached, percent: pct(counts.unreached), color: COLORS.warn },
    { key: 'inProgress', name: 'In progress', count: counts.inProgress, percent: pct(counts.inProgress), color: COLORS.info },
    { key: 'pending', name: 'Pending', count: pending, percent: pct(pending), color: COLORS.line },
  ];
}

/** "12 of 40 done, 1 failed": the bar's text for screen readers and the tooltip. */
export function progressText(segments: readonly ProgressSegment[]): string {
  const get = (k: ProgressSegment['key']) => segments.find((s) => s.key === k)?.count ?? 0;
  const total = segments.reduce((sum, s) => sum + s.count, 0);
  const done = get('succeeded') + get('failed') + get('unreached');
  const parts = [`${done} of ${total} done`];
  if (get('failed') > 0) parts.push(`${get('failed')} failed`);
  if (get('unreached') > 0) parts.push(`${get('unreached')} unreached`);
  if (get('inProgress') > 0) parts.push(`${get('inProgress')} in progress`);
  return parts.join(', ');
}

/**
 * " · wave 2 of 3 (canary)": where a deployment is, from its waves as the server sends them (an
 * array of {index, name, state}, or a count); nothing when that cannot be told.
 */
export function waveText(waves: unknown): string {
  if (typeof waves === 'number' && Number.isInteger(waves) && waves > 0) return ` · ${waves} ${waves === 1 ? 'wave' : 'waves'}`;
  if (!Array.isArray(waves) || waves.length === 0) return '';
  const states = waves.map((w: unknown) =>
    w && typeof w === 'object' ? (w as { state?: unknown; name?: unknown }) : ({} as { state?: unknown; name?: unknown }),
  );
  const current = states.findIndex((w) => w.state === 'running' || w.state === 'halted');
  if (current < 0) return ` · ${waves.length} ${waves.length === 1 ? 'wave' : 'waves'}`;
  const name = states[current]?.name;
  return ` · wave ${current + 1} of ${waves.length}${typeof name === 'string' && name ? ` (${visibleText(name)})` : ''}`;
}

/** "Updated just now", "Updated 2 min ago": when the dashboard's data was fetched. */
export function updatedText(fetchedAtMs: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - fetchedAtMs) / 1000));
  if (s < 10) return 'Updated just now';
  if (s < 60) return `Updated ${s} s ago`;
  return `Updated ${Math.round(s / 60)} min ago`;
}
