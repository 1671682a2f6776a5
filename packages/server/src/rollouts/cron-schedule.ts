import { type CronExpression, CronExpressionParser } from 'cron-parser';
import { fail, ok, type Result } from './errors.js';

/**
 * Fire times of a cron expression read on the wall clock of one time zone. `next` and `prev` throw
 * only if cron-parser's bounded search gives up (an expression firing once in decades); windows.ts
 * turns that into an error value.
 */
export interface CronSchedule {
  readonly expression: string;
  /** The canonical IANA name, e.g. Europe/Berlin for europe/berlin. */
  readonly timeZone: string;
  /** The first fire time strictly after `after`. */
  next(after: Date): Date;
  /** The last fire time strictly before `before`. */
  prev(before: Date): Date;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/**
 * The most a clock change moves the wall clock: 1 h almost everywhere, 30 min on Lord Howe Island,
 * 2 h at Troll station. 3 h covers them all; searches widen by this much only near a change.
 * (Historic one-off jumps of a whole day, like Samoa's in 2011, are not covered.)
 */
const MAX_SHIFT_MS = 3 * HOUR_MS;

/** Bounds the caches below; a fleet has a handful of windows, so this only guards against unbounded growth. */
const CACHE_LIMIT = 1000;
const formatters = new Map<string, Intl.DateTimeFormat>();
const parsed = new Map<string, Result<CronSchedule>>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Zone names already resolved: building an Intl.DateTimeFormat costs far more than a look-up. */
const canonicalNames = new Map<string, string>();

/** The IANA name the runtime knows `timeZone` by, or an error value for anything it does not know. */
export function canonicalTimeZone(timeZone: string): Result<string> {
  if (typeof timeZone !== 'string' || timeZone.trim() === '')
    return fail('invalid_time_zone', 'a time zone is required, e.g. Europe/Berlin', { timeZone });
  const known = canonicalNames.get(timeZone);
  if (known !== undefined) return ok(known);
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
    if (canonicalNames.size >= CACHE_LIMIT) canonicalNames.clear();
    canonicalNames.set(timeZone, name);
    return ok(name);
  } catch (err) {
    return fail(
      'invalid_time_zone',
      `unknown time zone ${JSON.stringify(timeZone)}; use an IANA name such as Europe/Berlin`,
      { timeZone },
      err,
    );
  }
}

/**
 * The wall-clock reading of instant `ms` in `timeZone`, as milliseconds of a UTC date with the same
 * fields ("naive" time): 2025-03-30 03:30 in Berlin is Date.UTC(2025, 2, 30, 3, 30).
 */
export function wallClockOf(ms: number, timeZone: string): number {
  const seconds = Math.floor(ms / 1000) * 1000;
  const f: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(seconds))) if (p.type !== 'literal') f[p.type] = Number(p.value);
  return Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!) + (ms - seconds);
}

function offsetAt(ms: number, timeZone: string): number {
  return wallClockOf(ms, timeZone) - ms;
}

/** A clock change within MAX_SHIFT_MS of `ms`: only then can wall-clock order and instant order disagree. */
function nearClockChange(ms: number, timeZone: string): boolean {
  return offsetAt(ms - MAX_SHIFT_MS, timeZone) !== offsetAt(ms + MAX_SHIFT_MS, timeZone);
}

/**
 * The instants at which the wall clock reads `naive`: one normally, two when the clock is turned
 * back (the repeated hour), none when it is turned forward (the skipped hour). A skipped reading
 * is read with the offset from before the change, i.e. moved later by the size of the jump
 * (02:30 on a spring-forward night in Berlin becomes 03:30 CEST), like Temporal's "compatible".
 */
function instantsOf(naive: number, timeZone: string): { instants: number[]; skipped: boolean } {
  const before = offsetAt(naive - DAY_MS, timeZone);
  const after = offsetAt(naive + DAY_MS, timeZone);
  const instants: number[] = [];
  for (const o of before === after ? [before] : [before, after]) {
    const t = naive - o;
    if (wallClockOf(t, timeZone) === naive) instants.push(t);
  }
  if (instants.length === 0) return { instants: [naive - before], skipped: true };
  instants.sort((a, b) => a - b);
  return { instants, skipped: false };
}

/** cron-parser's aliases that keep whole minutes (@secondly would not). */
const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@weekdays', '@weekends']);
/** Jenkins-style hashed fields (`H`, `H/15`): where they fire depends on a seed nobody sees. */
const HASHED = /(?<![a-z])h(?![a-z])/i;

/**
 * Parses a five-field cron expression (minute hour day-of-month month day-of-week, or an alias
 * such as @daily) for wall-clock time in `timeZone`.
 *
 * cron-parser reads the fields (names, ranges, steps, L, #, the usual "day-of-month OR
 * day-of-week when both are given"), but it only steps through wall-clock readings in UTC, where
 * there are no clock changes. Turning readings into instants is done here, because cron-parser's
 * own time-zone stepping skips or repeats fire times near clock changes depending on where it
 * starts. The rules, after Vixie cron:
 * - a reading the clock skips fires once, moved later by the jump (02:30 becomes 03:30);
 * - a reading the clock repeats fires once, at its first occurrence, unless the hour field is `*`:
 *   then it fires in both occurrences, so "every 20 minutes" stays every 20 minutes.
 * `next` and `prev` are exact inverses on that set of instants.
 */
export function parseCronSchedule(expression: string, timeZone: string): Result<CronSchedule> {
  // Windows are evaluated on every engine tick with the same few expressions: parse each once.
  const key = `${timeZone}\n${expression}`;
  const cached = parsed.get(key);
  if (cached) return cached;
  const result = parseUncached(expression, timeZone);
  if (parsed.size >= CACHE_LIMIT) parsed.clear();
  parsed.set(key, result);
  return result;
}

function parseUncached(expression: string, timeZone: string): Result<CronSchedule> {
  const zone = canonicalTimeZone(timeZone);
  if (!zone.ok) return zone;
  if (typeof expression !== 'string' || expression.trim() === '')
    return fail('invalid_cron', 'a cron expression is required, e.g. "0 22 * * 1-5" for 22:00 on weekdays', { expression });
  const text = expression.trim().replace(/\s+/g, ' ');
  const quoted = JSON.stringify(text);
  const isAlias = text.startsWith('@');
  if (isAlias ? !ALIASES.has(text.toLowerCase()) : text.split(' ').length !== 5)
    return fail(
      'invalid_cron',
      `cron expression ${quoted} must have five fields (minute hour day-of-month month day-of-week) or be one of ${[...ALIASES].join(', ')}`,
      { expression },
    );
  if (!isAlias && HASHED.test(text))
    return fail('invalid_cron', `cron expression ${quoted} uses a hashed field (H); a window must open at a time people can read`, {
      expression,
    });
  const source = isAlias ? text.toLowerCase() : text;
  let iterator: CronExpression;
  try {
    iterator = CronExpressionParser.parse(source, { tz: 'UTC' });
  } catch (err) {
    return fail(
      'invalid_cron',
      `cron expression ${quoted} does not parse: ${err instanceof Error ? err.message : String(err)}`,
      { expression },
      err,
    );
  }
  const tz = zone.value;
  const hourIsWildcard = iterator.fields.hour.isWildcard;

  /**
   * Wall-clock readings the expression matches, walking forward (or back) from just past `naive`.
   * One iterator is reset for every walk (parsing again costs more than the walk); walks never
   * nest and everything here is synchronous, so they cannot interleave.
   */
  function readings(naive: number, backwards: boolean): () => number {
    iterator.reset(new Date(naive));
    return backwards ? () => iterator.prev().getTime() : () => iterator.next().getTime();
  }

  function firesAt(naive: number): number[] {
    const { instants, skipped } = instantsOf(naive, tz);
    return skipped || hourIsWildcard ? instants : instants.slice(0, 1);
  }

  const schedule: CronSchedule = {
    expression: text,
    timeZone: tz,
    next(after) {
      const afterMs = after.getTime();
      // Readings up to MAX_SHIFT_MS before now's reading may still fall after `after` near a clock change.
      const slack = nearClockChange(afterMs, tz) ? MAX_SHIFT_MS : 0;
      const step = readings(wallClockOf(afterMs, tz) - slack, false);
      let best = Number.POSITIVE_INFINITY;
      let stopAfter = Number.POSITIVE_INFINITY;
      for (let naive = step(); naive <= stopAfter; naive = step()) {
        for (const t of firesAt(naive)) if (t > afterMs && t < best) best = t;
        // A later reading can only fire earlier than `best` if it is within a clock change of it.
        if (best !== Number.POSITIVE_INFINITY && stopAfter === Number.POSITIVE_INFINITY)
          stopAfter = naive + (nearClockChange(best, tz) ? MAX_SHIFT_MS : 0);
      }
      return new Date(best);
    },
    prev(before) {
      const beforeMs = before.getTime();
      const slack = nearClockChange(beforeMs, tz) ? MAX_SHIFT_MS : 0;
      const step = readings(wallClockOf(beforeMs, tz) + slack, true);
      let best = Number.NEGATIVE_INFINITY;
      let stopBefore = Number.NEGATIVE_INFINITY;
      for (let naive = step(); naive >= stopBefore; naive = step()) {
        for (const t of firesAt(naive)) if (t < beforeMs && t > best) best = t;
        if (best !== Number.NEGATIVE_INFINITY && stopBefore === Number.NEGATIVE_INFINITY)
          stopBefore = naive - (nearClockChange(best, tz) ? MAX_SHIFT_MS : 0);
      }
      return new Date(best);
    },
  };

  // cron-parser gives up after a bounded search; an expression it cannot find a fire time for from
  // a fixed reference instant would fail later on every use, so refuse it now.
  try {
    schedule.next(new Date(Date.UTC(2000, 0, 1)));
  } catch (err) {
    return fail('invalid_cron', `cron expression ${quoted} practically never fires`, { expression }, err);
  }
  return ok(schedule);
}
