import { type CronSchedule, parseCronSchedule } from './cron-schedule.js';
import { fail, ok, type Result } from './errors.js';
import type { MaintenanceWindow } from './types.js';

const MINUTE_MS = 60_000;
/** 31 days: a longer window is "always open" and is better said by having no window. */
export const MAX_WINDOW_MINUTES = 31 * 24 * 60;
/** How many back-to-back openings `openPeriod` merges when looking for the close (an every-minute cron never closes). */
const MAX_MERGED_OPENINGS = 100;

interface Compiled {
  window: MaintenanceWindow;
  schedule: CronSchedule;
  durationMs: number;
}

function compile(window: MaintenanceWindow): Result<Compiled> {
  const d = window.durationMinutes;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_WINDOW_MINUTES)
    return fail('invalid_window', `a window lasts a whole number of minutes from 1 to ${MAX_WINDOW_MINUTES}, not ${String(d)}`, {
      durationMinutes: d,
    });
  const schedule = parseCronSchedule(window.cron, window.timeZone);
  if (!schedule.ok) return schedule;
  return ok({
    window: { cron: schedule.value.expression, durationMinutes: d, timeZone: schedule.value.timeZone },
    schedule: schedule.value,
    durationMs: d * MINUTE_MS,
  });
}

/**
 * Runs schedule arithmetic that cannot fail for a validated expression, except when cron-parser
 * gives up searching (an expression that fires once in decades); that becomes an error value too.
 */
function guarded<T>(c: Compiled, f: () => T): Result<T> {
  try {
    return ok(f());
  } catch (err) {
    return fail(
      'invalid_cron',
      `cron expression ${JSON.stringify(c.window.cron)} has no fire time near this date`,
      { cron: c.window.cron },
      err,
    );
  }
}

/** The window with its cron normalised and its time zone canonical, or why it is not valid. */
export function validateWindow(window: MaintenanceWindow): Result<MaintenanceWindow> {
  const c = compile(window);
  return c.ok ? ok(c.value.window) : c;
}

export interface OpenPeriod {
  /** The latest opening at or before now. */
  openedAt: Date;
  /** When work must stop: openings that overlap or touch are merged (at most 100 ahead). */
  closesAt: Date;
}

/**
 * The period the window is open around `now`, or null when it is closed. A window opens at each
 * fire time of its cron (wall clock of its time zone; see parseCronSchedule for clock changes) and
 * stays open `durationMinutes` of elapsed time, so a clock change inside a window neither shortens
 * nor lengthens it. Open means openedAt <= now < closesAt.
 */
export function openPeriod(window: MaintenanceWindow, now: Date): Result<OpenPeriod | null> {
  const c = compile(window);
  if (!c.ok) return c;
  const { schedule, durationMs } = c.value;
  return guarded(c.value, () => {
    // Every opening lasts as long, so the latest one at or before now is the one that closes last.
    const opened = schedule.prev(new Date(now.getTime() + 1));
    let closes = opened.getTime() + durationMs;
    if (now.getTime() >= closes) return null;
    let last = opened;
    for (let i = 0; i < MAX_MERGED_OPENINGS; i++) {
      const n = schedule.next(last);
      if (n.getTime() > closes) break;
      closes = Math.max(closes, n.getTime() + durationMs);
      last = n;
    }
    return { openedAt: opened, closesAt: new Date(closes) };
  });
}

export function isOpen(window: MaintenanceWindow, now: Date): Result<boolean> {
  const c = compile(window);
  if (!c.ok) return c;
  const { schedule, durationMs } = c.value;
  // Every opening lasts as long, so only the latest one at or before now can still be open.
  return guarded(c.value, () => now.getTime() < schedule.prev(new Date(now.getTime() + 1)).getTime() + durationMs);
}

/** The earliest instant at or after `now` when the window is open: `now` itself while it is open. */
export function nextOpening(window: MaintenanceWindow, now: Date): Result<Date> {
  const c = compile(window);
  if (!c.ok) return c;
  const { schedule, durationMs } = c.value;
  return guarded(c.value, () => {
    const opened = schedule.prev(new Date(now.getTime() + 1));
    if (now.getTime() < opened.getTime() + durationMs) return now;
    return schedule.next(now);
  });
}

/**
 * When work on a host may begin. Its windows are combined as a union (open when any is open), as
 * Configuration Manager does for a device in several collections: a host in two groups gets both
 * groups' windows, not only their overlap, which may never happen. No windows: any time. An
 * emergency ignores windows altogether. The first invalid window makes the answer an error rather
 * than a guess.
 */
export function earliestStart(windows: readonly MaintenanceWindow[], now: Date, options: { emergency: boolean }): Result<Date> {
  if (options.emergency || windows.length === 0) return ok(now);
  let earliest: Date | undefined;
  for (const w of windows) {
    const opening = nextOpening(w, now);
    if (!opening.ok) return opening;
    if (earliest === undefined || opening.value.getTime() < earliest.getTime()) earliest = opening.value;
  }
  return ok(earliest!);
}

/** The windows that apply to a host: those of all its groups (see earliestStart for how they combine). */
export function windowsForHost(
  groups: readonly string[],
  windowsByGroup: ReadonlyMap<string, readonly MaintenanceWindow[]>,
): MaintenanceWindow[] {
  return [...new Set(groups)].flatMap((g) => windowsByGroup.get(g) ?? []);
}
