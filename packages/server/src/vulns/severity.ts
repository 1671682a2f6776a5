/**
 * Turns what a feed says about a vulnerability's severity (`SeverityInput[]`, see model.ts) into the
 * one rating Brier works with: critical, high, medium or low, plus a sentence that explains it.
 *
 * Precedence, first usable source wins (several inputs of the winning type: the worst one counts):
 *   1. CVSS v4.0 vector  2. CVSS v3.x vector (3.0/3.1)  3. Debian Security Tracker urgency
 *   4. the database's own free-text rating (`database_specific.severity`)  5. CVSS v2 vector  6. none.
 * v2 comes after the feeds' own ratings because its bands are coarse (no critical) and it is only
 * still published for old records, where the distribution's judgement is the better signal.
 *
 * Scores are computed by `ae-cvss-calculator` (it implements FIRST's formulas and the CVSS 4.0
 * macro-vector tables); this module only checks vectors before handing them over and never lets a
 * hostile vector throw out of `scoreSeverity`: a bad input is skipped, noted in `detail`, and the
 * next source is tried.
 *
 * Decisions (the API contract knows only critical/high/medium/low):
 * - A finding whose feed gives no usable rating is rated `low` (`UNRATED_SEVERITY`) with
 *   `source: 'none'`; the API shows `severity: 'low'` and may show "unrated" when `source` is `none`.
 *   Feeds publish ratings later; the importer re-scores on every record update.
 * - A CVSS 3.x/4.0 base score of 0.0 is "None" in the specification; a matched finding still exists,
 *   so Brier rates it `low` and says so in `detail`.
 * - For CVSS 4.0 the base metrics alone (CVSS-B) are scored, as for 3.x: threat and environmental
 *   metrics describe one consumer's situation, not the vulnerability, and are noted when present.
 */
import cvss from 'ae-cvss-calculator';
import type { SeverityInput } from './model.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What a finding is rated when no feed input gives a usable rating (see the module comment). */
export const UNRATED_SEVERITY: Severity = 'low';

export type SeveritySource = 'CVSS_V4' | 'CVSS_V3' | 'CVSS_V2' | 'DEBIAN_URGENCY' | 'DATABASE' | 'none';

export interface SeverityScore {
  severity: Severity;
  /** CVSS base score (0.0-10.0, one decimal) when the rating came from a vector. */
  score?: number;
  /** The vector that was scored, as the feed wrote it (surrounding whitespace and v2 parentheses removed). */
  vector?: string;
  source: SeveritySource;
  /** A human sentence for finding explanations: where the rating came from and what was skipped. */
  detail: string;
}

export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

/** 4 for critical down to 1 for low, for sorting and "worst of" comparisons. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity);
}

/** Negative when `a` is less severe than `b`, so `list.sort(compareSeverity)` puts low first. */
export function compareSeverity(a: Severity, b: Severity): number {
  return severityRank(a) - severityRank(b);
}

/**
 * The rating for a CVSS base score. v3.x and v4.0 share FIRST's qualitative scale (0.1-3.9 low,
 * 4.0-6.9 medium, 7.0-8.9 high, 9.0-10.0 critical; 0.0 "none" becomes low, see above). v2 has only
 * three bands (NVD's: 0.0-3.9 low, 4.0-6.9 medium, 7.0-10.0 high) and never yields critical.
 */
export function ratingFromCvssScore(score: number, version: 2 | 3 | 4): Severity {
  if (!Number.isFinite(score) || score < 0 || score > 10) {
    throw new RangeError(`CVSS score must be a number from 0.0 to 10.0, got ${String(score)}`);
  }
  if (version === 2) {
    if (score >= 7) return 'high';
    if (score >= 4) return 'medium';
    return 'low';
  }
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  return 'low';
}

export interface DebianUrgency {
  severity: Severity;
  /** The tracker marks urgencies it guessed rather than triaged with a `*` or `**` suffix. */
  guessed: boolean;
}

const DEBIAN_URGENCIES: Readonly<Record<string, Severity>> = {
  // "unimportant": the issue does not affect Debian's builds in a way worth an update; still a finding.
  unimportant: 'low',
  low: 'low',
  medium: 'medium',
  high: 'high',
};

/**
 * A Debian Security Tracker urgency (`high`, `low**`, `unimportant`, ...). Returns undefined for
 * values that are not a rating: `not yet assigned`, `end-of-life` (a statement about the release,
 * not the issue), and anything unrecognised.
 */
export function parseDebianUrgency(urgency: string): DebianUrgency | undefined {
  const match = /^([a-z]+)(\*{1,2})?$/.exec(urgency.trim().toLowerCase());
  if (!match) return undefined;
  const severity = Object.hasOwn(DEBIAN_URGENCIES, match[1]!) ? DEBIAN_URGENCIES[match[1]!] : undefined;
  return severity === undefined ? undefined : { severity, guessed: match[2] !== undefined };
}

const DATABASE_RATINGS: Readonly<Record<string, Severity>> = {
  critical: 'critical',
  // Red Hat's name for its second level.
  important: 'high',
  high: 'high',
  // GitHub's name for its third level.
  moderate: 'medium',
  medium: 'medium',
  low: 'low',
  // Ubuntu's lowest priority.
  negligible: 'low',
};

/** A database's free-text rating (GitHub `MODERATE`, `CRITICAL`, ...; case-insensitive), else undefined. */
export function parseDatabaseSeverity(rating: string): Severity | undefined {
  const key = rating.trim().toLowerCase();
  return Object.hasOwn(DATABASE_RATINGS, key) ? DATABASE_RATINGS[key] : undefined;
}

/**
 * Longer than any legitimate vector (a CVSS 4.0 vector with every optional metric is about 200
 * characters); refusing longer input keeps a hostile 10 kB string away from the parser.
 */
const MAX_VECTOR_LENGTH = 512;

// Metric grammar per version. v3 values are single letters; v4's Provider Urgency takes words
// (`U:Amber`); v2 has values like `POC`, `ND` and the mixed-case metric `Au`.
const V3_VECTOR = /^CVSS:3\.[01](?:\/[A-Z]{1,3}:[A-Z])+$/;
const V4_VECTOR = /^CVSS:4\.0(?:\/[A-Z]{1,3}:[A-Za-z]{1,5})+$/;
const V2_VECTOR = /^[A-Za-z]{1,3}:[A-Z]{1,3}(?:\/[A-Za-z]{1,3}:[A-Z]{1,3})*$/;

type CvssType = 'CVSS_V4' | 'CVSS_V3' | 'CVSS_V2';

interface VectorScore {
  score: number;
  severity: Severity;
  vector: string;
  version: string;
  /** CVSS 4.0 only: the score with the vector's threat/environmental metrics, when they change it. */
  fullScore?: number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function hasDuplicateMetric(parts: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const part of parts) {
    const name = part.slice(0, part.indexOf(':'));
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

function scoreVector(type: CvssType, raw: string): Outcome<VectorScore> {
  if (raw.length > MAX_VECTOR_LENGTH) return { ok: false, reason: `vector longer than ${MAX_VECTOR_LENGTH} characters` };
  let vector = raw.trim();
  if (type === 'CVSS_V2' && vector.startsWith('(') && vector.endsWith(')')) vector = vector.slice(1, -1);
  const grammar = type === 'CVSS_V4' ? V4_VECTOR : type === 'CVSS_V3' ? V3_VECTOR : V2_VECTOR;
  if (!grammar.test(vector)) {
    const expected = type === 'CVSS_V4' ? 'CVSS:4.0/…' : type === 'CVSS_V3' ? 'CVSS:3.0/… or CVSS:3.1/…' : 'AV:…/AC:…/Au:…';
    return { ok: false, reason: `not a ${expected} vector` };
  }
  const parts = vector.split('/');
  const duplicate = hasDuplicateMetric(type === 'CVSS_V2' ? parts : parts.slice(1));
  if (duplicate !== undefined) return { ok: false, reason: `metric ${duplicate} appears twice` };

  try {
    if (type === 'CVSS_V4') {
      const parsed = new cvss.Cvss4P0(vector);
      if (!parsed.isBaseFullyDefined()) return { ok: false, reason: 'a mandatory base metric is missing' };
      const scores = parsed.calculateScores();
      const base = scores.baseMetricsOnly;
      if (base === undefined || !Number.isFinite(base) || base < 0 || base > 10) return { ok: false, reason: 'no base score' };
      const score = round1(base);
      const result: VectorScore = { score, severity: ratingFromCvssScore(score, 4), vector, version: 'CVSS:4.0' };
      const full = scores.overall;
      if (Number.isFinite(full) && round1(full) !== score) result.fullScore = round1(full);
      return { ok: true, value: result };
    }
    const parsed =
      type === 'CVSS_V2' ? new cvss.Cvss2(vector) : vector.startsWith('CVSS:3.0/') ? new cvss.Cvss3P0(vector) : new cvss.Cvss3P1(vector);
    if (!parsed.isBaseFullyDefined()) return { ok: false, reason: 'a mandatory base metric is missing' };
    const base = parsed.calculateScores().base;
    if (base === undefined || !Number.isFinite(base) || base < 0 || base > 10) return { ok: false, reason: 'no base score' };
    const score = round1(base);
    const version = type === 'CVSS_V2' ? 'CVSS:2.0' : vector.slice(0, 8);
    return { ok: true, value: { score, severity: ratingFromCvssScore(score, type === 'CVSS_V2' ? 2 : 3), vector, version } };
  } catch (error) {
    // The calculator throws on unknown metrics or values (e.g. a v4 metric in a v3 vector).
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `rejected by the CVSS parser (${printable(message)})` };
  }
}

/** A short, printable rendering of feed text for `detail`: no control characters, at most 60 characters. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 57)}...` : clean;
}

function describeInput(input: SeverityInput): string {
  return `${printable(String(input.type))} "${printable(typeof input.score === 'string' ? input.score : String(input.score))}"`;
}

function vectorDetail(result: VectorScore, type: CvssType): string {
  const rating = result.score === 0 && type !== 'CVSS_V2' ? 'none in CVSS, rated low' : result.severity;
  let detail = `${result.version} base score ${result.score.toFixed(1)} (${rating}) from vector ${result.vector}`;
  if (type === 'CVSS_V2') detail += ' (CVSS v2 has no critical rating)';
  if (result.fullScore !== undefined) {
    detail += `; its threat/environmental metrics (score ${result.fullScore.toFixed(1)} with them) are not applied`;
  }
  return detail;
}

const PRECEDENCE: readonly Exclude<SeveritySource, 'none'>[] = ['CVSS_V4', 'CVSS_V3', 'DEBIAN_URGENCY', 'DATABASE', 'CVSS_V2'];

function withNotes(detail: string, notes: readonly string[]): string {
  return notes.length === 0 ? detail : `${detail}. Skipped: ${notes.join('; ')}`;
}

/**
 * The rating of one advisory from everything its feed said about severity. Never throws: inputs it
 * cannot use are skipped and listed in `detail`.
 */
export function scoreSeverity(inputs: readonly SeverityInput[]): SeverityScore {
  const notes: string[] = [];
  const list = Array.isArray(inputs) ? inputs : [];
  for (const input of list) {
    if (input === null || typeof input !== 'object' || !(PRECEDENCE as readonly string[]).includes(input.type)) {
      notes.push(`unknown severity type ${input !== null && typeof input === 'object' ? printable(String(input.type)) : 'input'}`);
    } else if (typeof input.score !== 'string') {
      notes.push(`${printable(input.type)} without a text score`);
    }
  }

  for (const type of PRECEDENCE) {
    const candidates = list.filter(
      (input): input is SeverityInput =>
        input !== null && typeof input === 'object' && input.type === type && typeof input.score === 'string',
    );
    if (candidates.length === 0) continue;

    if (type === 'CVSS_V4' || type === 'CVSS_V3' || type === 'CVSS_V2') {
      let best: VectorScore | undefined;
      for (const input of candidates) {
        const outcome = scoreVector(type, input.score);
        if (!outcome.ok) notes.push(`${describeInput(input)}: ${outcome.reason}`);
        else if (best === undefined || outcome.value.score > best.score) best = outcome.value;
      }
      if (best !== undefined) {
        const detail = withNotes(vectorDetail(best, type), notes);
        return { severity: best.severity, score: best.score, vector: best.vector, source: type, detail };
      }
      continue;
    }

    if (type === 'DEBIAN_URGENCY') {
      let best: { urgency: DebianUrgency; raw: string } | undefined;
      for (const input of candidates) {
        const urgency = parseDebianUrgency(input.score);
        if (urgency === undefined) notes.push(`${describeInput(input)}: not a rating`);
        else if (best === undefined || severityRank(urgency.severity) > severityRank(best.urgency.severity)) {
          best = { urgency, raw: input.score.trim() };
        }
      }
      if (best !== undefined) {
        const guessed = best.urgency.guessed ? ', marked as guessed by the tracker rather than triaged' : '';
        const detail = `Debian Security Tracker urgency "${printable(best.raw)}" (${best.urgency.severity}${guessed})`;
        return { severity: best.urgency.severity, source: type, detail: withNotes(detail, notes) };
      }
      continue;
    }

    let best: { severity: Severity; raw: string } | undefined;
    for (const input of candidates) {
      const severity = parseDatabaseSeverity(input.score);
      if (severity === undefined) notes.push(`${describeInput(input)}: not a known rating`);
      else if (best === undefined || severityRank(severity) > severityRank(best.severity)) best = { severity, raw: input.score.trim() };
    }
    if (best !== undefined) {
      const detail = `Advisory database rating "${printable(best.raw)}" (${best.severity})`;
      return { severity: best.severity, source: type, detail: withNotes(detail, notes) };
    }
  }

  return {
    severity: UNRATED_SEVERITY,
    source: 'none',
    detail: withNotes(`No severity rating in the feed; rated ${UNRATED_SEVERITY} until one is published`, notes),
  };
}
