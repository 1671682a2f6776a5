/**
 * Remediation deadlines and the metrics built on them. A finding's due date is the moment it was
 * first seen plus the hours the SLA matrix gives for its severity and its host's risk tier; the
 * dashboards show exposure (findings open at an instant) and mean time to remediate over time.
 * Everything here is pure: time comes in as arguments.
 */
import { isSeverity, SEVERITIES, type Severity } from './severity.js';

/** How much a host matters, 1 (least) to 5 (most: crown jewels, internet-facing). */
export const RISK_TIERS = [1, 2, 3, 4, 5] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

/** The tier of a host nobody has classified: the middle, so it is neither ignored nor rushed. */
export const DEFAULT_RISK_TIER: RiskTier = 3;

export function isRiskTier(value: unknown): value is RiskTier {
  return typeof value === 'number' && (RISK_TIERS as readonly number[]).includes(value);
}

/** Hours from first sight to the due date, per severity and risk tier. */
export type SlaMatrix = Record<Severity, Record<RiskTier, number /* hours */>>;

/** Bounds of one SLA cell in whole hours: at least an hour, at most ten years (87 600 h). */
export const SLA_MIN_HOURS = 1;
export const SLA_MAX_HOURS = 87_600;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function freezeMatrix(matrix: SlaMatrix): SlaMatrix {
  for (const severity of SEVERITIES) Object.freeze(matrix[severity]);
  return Object.freeze(matrix);
}

/**
 * The default deadlines, in hours (days in brackets). Critical on a tier-5 host is 24 h (the product
 * contract). Deadlines never shrink as severity or tier goes down. Critical is days, high up to a
 * month, medium one to three months, low three to six months; even tier 1 stays within CISA BOD 19-02
 * (15 days for critical, 30 for high on internet-facing systems):
 *
 *             tier 5      tier 4      tier 3       tier 2       tier 1
 *   critical  24 (1)      48 (2)      72 (3)       168 (7)      336 (14)
 *   high      72 (3)      168 (7)     336 (14)     720 (30)     720 (30)
 *   medium    720 (30)    1080 (45)   1440 (60)    2160 (90)    2160 (90)
 *   low       2160 (90)   2880 (120)  3600 (150)   4320 (180)   4320 (180)
 */
export const DEFAULT_SLA_MATRIX: SlaMatrix = freezeMatrix({
  critical: { 5: 24, 4: 48, 3: 72, 2: 168, 1: 336 },
  high: { 5: 72, 4: 168, 3: 336, 2: 720, 1: 720 },
  medium: { 5: 720, 4: 1080, 3: 1440, 2: 2160, 1: 2160 },
  low: { 5: 2160, 4: 2880, 3: 3600, 2: 4320, 1: 4320 },
});

/** `sla-invalid`: an SLA matrix that breaks a rule. `sla-bad-input`: a bad date, tier or severity. */
export type SlaErrorCode = 'sla-invalid' | 'sla-bad-input';

export class SlaError extends Error {
  override name = 'SlaError';
  readonly code: SlaErrorCode;
  /** Machine-readable facts, e.g. the severity and tier of the bad cell. */
  readonly details: Record<string, unknown>;

  constructor(code: SlaErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function shown(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}

/**
 * Checks an operator-supplied matrix (parsed JSON: tiers may be the keys "1".."5") and returns a
 * fresh, frozen copy. Every severity row and every tier cell must be there, nothing else may be, and
 * each cell is a whole number of hours from 1 to 87 600. Throws `SlaError` with code `sla-invalid`
 * naming the first bad row or cell.
 */
export function validateSlaMatrix(input: unknown): SlaMatrix {
  const invalid = (message: string, details: Record<string, unknown> = {}) => new SlaError('sla-invalid', message, details);
  if (!isPlainObject(input)) throw invalid(`SLA matrix must be an object with one row per severity (${SEVERITIES.join(', ')})`);
  for (const key of Object.keys(input)) {
    if (!isSeverity(key)) throw invalid(`SLA matrix has an unknown severity ${shown(key)}`, { severity: key });
  }
  const result = {} as SlaMatrix;
  for (const severity of SEVERITIES) {
    if (!Object.hasOwn(input, severity)) throw invalid(`SLA matrix is missing the row for ${severity}`, { severity });
    const row = input[severity];
    if (!isPlainObject(row)) throw invalid(`SLA matrix row ${severity} must be an object keyed by risk tier 1-5`, { severity });
    for (const key of Object.keys(row)) {
      if (!isRiskTier(Number(key)) || String(Number(key)) !== key) {
        throw invalid(`SLA matrix row ${severity} has an unknown risk tier ${shown(key)}`, { severity, tier: key });
      }
    }
    const cells = {} as Record<RiskTier, number>;
    for (const tier of RISK_TIERS) {
      if (!Object.hasOwn(row, String(tier))) throw invalid(`SLA matrix cell ${severity} × tier ${tier} is missing`, { severity, tier });
      const hours = row[String(tier)];
      if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < SLA_MIN_HOURS || hours > SLA_MAX_HOURS) {
        throw invalid(
          `SLA matrix cell ${severity} × tier ${tier} must be a whole number of hours from ${SLA_MIN_HOURS} to ${SLA_MAX_HOURS}, got ${shown(hours)}`,
          { severity, tier },
        );
      }
      cells[tier] = hours;
    }
    result[severity] = cells;
  }
  return freezeMatrix(result);
}

function instant(date: unknown, what: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new SlaError('sla-bad-input', `${what} is not a valid date`, { field: what });
  return ms;
}

/** When a finding first seen at `firstSeenAt` must be remediated. */
export function dueAt(firstSeenAt: Date, severity: Severity, tier: RiskTier, matrix: SlaMatrix = DEFAULT_SLA_MATRIX): Date {
  const start = instant(firstSeenAt, 'firstSeenAt');
  if (!isSeverity(severity)) throw new SlaError('sla-bad-input', `unknown severity ${shown(severity)}`, { severity });
  if (!isRiskTier(tier)) throw new SlaError('sla-bad-input', `risk tier must be 1-5, got ${shown(tier)}`, { tier });
  const hours = matrix[severity]?.[tier];
  if (typeof hours !== 'number' || !Number.isFinite(hours)) {
    throw new SlaError('sla-invalid', `SLA matrix cell ${severity} × tier ${tier} is missing`, { severity, tier });
  }
  return new Date(start + hours * HOUR_MS);
}

/**
 * Whether the finding missed its due date as of `now`: still open after `dueAt`, or remediated after
 * it (late). A finding remediated by its due date is never overdue; being due exactly now is not yet
 * overdue. A `remediatedAt` later than `now` has not happened yet, so the finding counts as open.
 */
export function isOverdue(due: Date, now: Date, remediatedAt?: Date | null): boolean {
  const dueMs = instant(due, 'dueAt');
  const nowMs = instant(now, 'now');
  if (remediatedAt !== undefined && remediatedAt !== null) {
    const doneMs = instant(remediatedAt, 'remediatedAt');
    if (doneMs <= nowMs) return doneMs > dueMs;
  }
  return nowMs > dueMs;
}

/** What the metrics need of a finding. */
export interface RemediationTimes {
  firstSeenAt: Date;
  /** Unset (or null) while the finding is open. */
  remediatedAt?: Date | null;
}

interface Span {
  first: number;
  /**
   * When it was remediated; never before `first`: clocks on agents and server can disagree by a
   * moment, and a remediation recorded before the first sighting counts as immediate (0 h).
   */
  done: number | undefined;
}

function spans(findings: readonly RemediationTimes[]): Span[] {
  if (!Array.isArray(findings)) throw new SlaError('sla-bad-input', 'findings must be an array');
  return findings.map((finding, index) => {
    const first = instant(finding?.firstSeenAt, `findings[${index}].firstSeenAt`);
    const remediatedAt = finding.remediatedAt;
    const done = remediatedAt === undefined || remediatedAt === null ? undefined : instant(remediatedAt, `findings[${index}].remediatedAt`);
    return { first, done: done === undefined ? undefined : Math.max(done, first) };
  });
}

/** Mean hours from first sight to remediation over the remediated findings; undefined when there are none. */
export function meanTimeToRemediateHours(findings: readonly RemediationTimes[]): number | undefined {
  let total = 0;
  let count = 0;
  for (const span of spans(findings)) {
    if (span.done === undefined) continue;
    total += span.done - span.first;
    count++;
  }
  return count === 0 ? undefined : total / count / HOUR_MS;
}

/** How many findings were open at the instant `at`: first seen at or before it, not remediated by then. */
export function exposure(findings: readonly RemediationTimes[], at: Date): number {
  const atMs = instant(at, 'at');
  let open = 0;
  for (const span of spans(findings)) {
    if (span.first <= atMs && (span.done === undefined || span.done > atMs)) open++;
  }
  return open;
}

/** One UTC day of the time series. */
export interface DayBucket {
  /** The UTC calendar day, `YYYY-MM-DD`. */
  day: string;
  /** The part of the day inside the requested range: [start, end). */
  start: Date;
  end: Date;
  /** Findings open at `end` (the same as `exposure(findings, end)`). */
  exposure: number;
  /** Findings first seen in [start, end). */
  opened: number;
  /** Findings remediated in [start, end). */
  remediated: number;
  /** Mean time to remediate, in hours, of the findings remediated in [start, end); undefined if none. */
  mttrHours: number | undefined;
}

/** The longest series `bucketByDay` builds (about ten years), so a bad range cannot exhaust memory. */
export const MAX_BUCKET_DAYS = 3660;

/** Number of sorted values below `x` (strict) or, with `inclusive`, at most `x`. */
function countBelow(sorted: readonly number[], x: number, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const value = sorted[mid]!;
    if (value < x || (inclusive && value === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Exposure and mean time to remediate per UTC day over [from, to), for the dashboards ("per
 * severity, site and tier over time": the caller filters the findings, this builds the series).
 * The first and last buckets are clipped to the range. Runs in O(n log n + days).
 */
export function bucketByDay(findings: readonly RemediationTimes[], from: Date, to: Date): DayBucket[] {
  const fromMs = instant(from, 'from');
  const toMs = instant(to, 'to');
  if (toMs <= fromMs) throw new SlaError('sla-bad-input', 'to must be after from', { from: from.toISOString(), to: to.toISOString() });
  const firstDay = Math.floor(fromMs / DAY_MS);
  const days = Math.ceil(toMs / DAY_MS) - firstDay;
  if (days > MAX_BUCKET_DAYS)
    throw new SlaError('sla-bad-input', `a series is at most ${MAX_BUCKET_DAYS} days, asked for ${days}`, { days });

  const all = spans(findings);
  const firsts = all.map((span) => span.first).sort((a, b) => a - b);
  const done = all.filter((span) => span.done !== undefined).sort((a, b) => a.done! - b.done!);
  const doneAt = done.map((span) => span.done!);
  // durationPrefix[i]: total time to remediate of the first i findings in `done` order.
  const durationPrefix = [0];
  for (const span of done) durationPrefix.push(durationPrefix[durationPrefix.length - 1]! + (span.done! - span.first));

  const buckets: DayBucket[] = [];
  for (let i = 0; i < days; i++) {
    const dayStart = (firstDay + i) * DAY_MS;
    const start = Math.max(dayStart, fromMs);
    const end = Math.min(dayStart + DAY_MS, toMs);
    // Every remediation counted at or before `end` belongs to a finding first seen at or before it (done >= first).
    const open = countBelow(firsts, end, true) - countBelow(doneAt, end, true);
    const opened = countBelow(firsts, end, false) - countBelow(firsts, start, false);
    const lo = countBelow(doneAt, start, false);
    const hi = countBelow(doneAt, end, false);
    const remediated = hi - lo;
    buckets.push({
      day: new Date(dayStart).toISOString().slice(0, 10),
      start: new Date(start),
      end: new Date(end),
      exposure: open,
      opened,
      remediated,
      mttrHours: remediated === 0 ? undefined : (durationPrefix[hi]! - durationPrefix[lo]!) / remediated / HOUR_MS,
    });
  }
  return buckets;
}
