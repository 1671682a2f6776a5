import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MaintenanceWindow } from './types.js';
import { earliestStart, isOpen, nextOpening, openPeriod, validateWindow, windowsForHost } from './windows.js';

const at = (iso: string) => new Date(iso);

function value<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const open = (w: MaintenanceWindow, iso: string) => value(isOpen(w, at(iso)));

describe('isOpen and nextOpening', () => {
  const weekdayNights: MaintenanceWindow = { cron: '0 22 * * 1-5', durationMinutes: 240, timeZone: 'Europe/Berlin' };

  it('is open from the opening instant up to, not including, the closing instant', () => {
    // 2025-06-10 is a Tuesday; 22:00 CEST is 20:00Z.
    expect(open(weekdayNights, '2025-06-10T19:59:59.999Z')).toBe(false);
    expect(open(weekdayNights, '2025-06-10T20:00:00Z')).toBe(true);
    expect(open(weekdayNights, '2025-06-10T23:59:59.999Z')).toBe(true);
    expect(open(weekdayNights, '2025-06-11T00:00:00Z')).toBe(false);
  });

  it('gives now while the window is open, else its next opening', () => {
    expect(value(nextOpening(weekdayNights, at('2025-06-10T21:00:00Z'))).toISOString()).toBe('2025-06-10T21:00:00.000Z');
    expect(value(nextOpening(weekdayNights, at('2025-06-11T00:00:00Z'))).toISOString()).toBe('2025-06-11T20:00:00.000Z');
    // Friday night's window closes Saturday 02:00; the next opens Monday.
    expect(value(nextOpening(weekdayNights, at('2025-06-14T00:00:00Z'))).toISOString()).toBe('2025-06-16T20:00:00.000Z');
  });

  it('keeps a window that crosses midnight open into the next day', () => {
    const saturdayNight: MaintenanceWindow = { cron: '0 22 * * 6', durationMinutes: 360, timeZone: 'Europe/Berlin' };
    expect(value(openPeriod(saturdayNight, at('2025-06-08T01:00:00Z')))).toEqual({
      openedAt: at('2025-06-07T20:00:00Z'),
      closesAt: at('2025-06-08T02:00:00Z'),
    });
    expect(value(openPeriod(saturdayNight, at('2025-06-08T02:00:00Z')))).toBeNull();
  });

  it('merges openings that overlap or touch into one period', () => {
    const lateEvening: MaintenanceWindow = { cron: '0 22,23 * * *', durationMinutes: 60, timeZone: 'UTC' };
    expect(value(openPeriod(lateEvening, at('2025-06-10T22:30:00Z')))).toEqual({
      openedAt: at('2025-06-10T22:00:00Z'),
      closesAt: at('2025-06-11T00:00:00Z'),
    });
    const always: MaintenanceWindow = { cron: '* * * * *', durationMinutes: 5, timeZone: 'UTC' };
    const p = value(openPeriod(always, at('2025-06-10T12:00:30Z')));
    expect(p?.closesAt.getTime()).toBeGreaterThan(at('2025-06-10T13:00:00Z').getTime());
  });
});

describe('windows across clock changes', () => {
  it('Europe/Berlin spring forward: a 02:00 window opens at 03:00 CEST and still lasts two hours', () => {
    const w: MaintenanceWindow = { cron: '0 2 * * *', durationMinutes: 120, timeZone: 'Europe/Berlin' };
    expect(value(nextOpening(w, at('2025-03-29T23:00:00Z'))).toISOString()).toBe('2025-03-30T01:00:00.000Z');
    expect(open(w, '2025-03-30T00:59:59Z')).toBe(false);
    expect(open(w, '2025-03-30T01:00:00Z')).toBe(true);
    expect(open(w, '2025-03-30T02:59:59Z')).toBe(true);
    expect(open(w, '2025-03-30T03:00:00Z')).toBe(false);
  });

  it('Europe/Berlin fall back: a 01:00 window of three hours ends at 03:00 CET, three elapsed hours later', () => {
    const w: MaintenanceWindow = { cron: '0 1 * * *', durationMinutes: 180, timeZone: 'Europe/Berlin' };
    expect(value(openPeriod(w, at('2025-10-26T01:30:00Z')))).toEqual({
      openedAt: at('2025-10-25T23:00:00Z'),
      closesAt: at('2025-10-26T02:00:00Z'),
    });
    expect(open(w, '2025-10-26T02:00:00Z')).toBe(false);
    expect(value(nextOpening(w, at('2025-10-26T02:00:00Z'))).toISOString()).toBe('2025-10-27T00:00:00.000Z');
  });

  it('Europe/Berlin fall back: a window at the repeated 02:30 opens once', () => {
    const w: MaintenanceWindow = { cron: '30 2 * * *', durationMinutes: 30, timeZone: 'Europe/Berlin' };
    expect(open(w, '2025-10-26T00:45:00Z')).toBe(true);
    expect(open(w, '2025-10-26T01:45:00Z')).toBe(false);
  });

  it('America/New_York fall back: a window from 01:00 EDT stays open through the repeated hour', () => {
    const w: MaintenanceWindow = { cron: '0 1 * * *', durationMinutes: 120, timeZone: 'America/New_York' };
    expect(open(w, '2025-11-02T05:00:00Z')).toBe(true);
    expect(open(w, '2025-11-02T06:30:00Z')).toBe(true); // 01:30 EST, the second 01:30
    expect(open(w, '2025-11-02T07:00:00Z')).toBe(false);
    expect(value(nextOpening(w, at('2025-11-02T07:00:00Z'))).toISOString()).toBe('2025-11-03T06:00:00.000Z');
  });

  it('America/New_York spring forward: a window at the skipped 02:30 opens at 03:30 EDT', () => {
    const w: MaintenanceWindow = { cron: '30 2 * * *', durationMinutes: 60, timeZone: 'America/New_York' };
    expect(value(nextOpening(w, at('2025-03-09T05:00:00Z'))).toISOString()).toBe('2025-03-09T07:30:00.000Z');
    expect(open(w, '2025-03-09T08:29:00Z')).toBe(true);
    expect(open(w, '2025-03-09T08:30:00Z')).toBe(false);
  });

  it('agree with each other near any clock change: open exactly when the next opening is now, closed until it', () => {
    const windows: MaintenanceWindow[] = [
      { cron: '30 2 * * *', durationMinutes: 45, timeZone: 'Europe/Berlin' },
      { cron: '0 1 * * *', durationMinutes: 180, timeZone: 'America/New_York' },
      { cron: '*/30 * * * *', durationMinutes: 10, timeZone: 'America/New_York' },
      { cron: '0 2 * * 0', durationMinutes: 90, timeZone: 'Europe/Berlin' },
    ];
    const changes = ['2025-03-30T01:00:00Z', '2025-10-26T01:00:00Z', '2025-03-09T07:00:00Z', '2025-11-02T06:00:00Z'].map(Date.parse);
    fc.assert(
      fc.property(
        fc.constantFrom(...windows),
        fc.constantFrom(...changes),
        fc.integer({ min: -36 * 3_600_000, max: 36 * 3_600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (w, change, offsetMs, fraction) => {
          const now = new Date(change + offsetMs);
          const opening = value(nextOpening(w, now));
          expect(opening.getTime()).toBeGreaterThanOrEqual(now.getTime());
          expect(value(isOpen(w, now))).toBe(opening.getTime() === now.getTime());
          expect(value(isOpen(w, opening))).toBe(true);
          const between = new Date(now.getTime() + Math.floor((opening.getTime() - now.getTime()) * fraction));
          if (between.getTime() > now.getTime()) expect(value(isOpen(w, between))).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('earliestStart', () => {
  const saturday: MaintenanceWindow = { cron: '0 22 * * 6', durationMinutes: 360, timeZone: 'Europe/Berlin' };
  const nightly: MaintenanceWindow = { cron: '0 3 * * *', durationMinutes: 60, timeZone: 'America/New_York' };
  const wednesdayNoon = at('2025-06-11T12:00:00Z');

  it('takes the earliest opening of any window (a union, as for a host in several groups)', () => {
    expect(value(earliestStart([saturday, nightly], wednesdayNoon, { emergency: false })).toISOString()).toBe('2025-06-12T07:00:00.000Z');
    expect(value(earliestStart([saturday], wednesdayNoon, { emergency: false })).toISOString()).toBe('2025-06-14T20:00:00.000Z');
  });

  it('starts now for an emergency, or when a host has no windows', () => {
    expect(value(earliestStart([saturday], wednesdayNoon, { emergency: true }))).toBe(wednesdayNoon);
    expect(value(earliestStart([], wednesdayNoon, { emergency: false }))).toBe(wednesdayNoon);
  });

  it('answers with an error value, not a guess, when a window is invalid', () => {
    const r = earliestStart([nightly, { cron: '0 3 * * *', durationMinutes: 60, timeZone: 'Atlantis/Capital' }], wednesdayNoon, {
      emergency: false,
    });
    expect(r.ok ? r.value : r.error.code).toBe('invalid_time_zone');
  });
});

describe('validateWindow', () => {
  it('normalises the cron and the zone name', () => {
    expect(validateWindow({ cron: ' 0  22 * * 1-5', durationMinutes: 60, timeZone: 'europe/berlin' })).toEqual({
      ok: true,
      value: { cron: '0 22 * * 1-5', durationMinutes: 60, timeZone: 'Europe/Berlin' },
    });
  });

  it('refuses durations that are not whole minutes from 1 to 31 days', () => {
    for (const durationMinutes of [0, -5, 1.5, 44_641, Number.NaN, Number.POSITIVE_INFINITY]) {
      const r = validateWindow({ cron: '0 2 * * *', durationMinutes, timeZone: 'UTC' });
      expect(r.ok ? r.value : r.error.code, String(durationMinutes)).toBe('invalid_window');
    }
    expect(validateWindow({ cron: '0 2 * * *', durationMinutes: 44_640, timeZone: 'UTC' }).ok).toBe(true);
  });

  it('passes on cron and zone errors from every function', () => {
    const badCron: MaintenanceWindow = { cron: '0 2 * *', durationMinutes: 60, timeZone: 'UTC' };
    const now = at('2025-06-11T12:00:00Z');
    for (const r of [
      isOpen(badCron, now),
      nextOpening(badCron, now),
      openPeriod(badCron, now),
      earliestStart([badCron], now, { emergency: false }),
    ])
      expect(r.ok ? r.value : r.error.code).toBe('invalid_cron');
  });
});

describe('windowsForHost', () => {
  it('collects the windows of every group the host is in, once per group', () => {
    const a: MaintenanceWindow = { cron: '0 1 * * *', durationMinutes: 60, timeZone: 'UTC' };
    const b: MaintenanceWindow = { cron: '0 2 * * *', durationMinutes: 60, timeZone: 'UTC' };
    const byGroup = new Map([
      ['web', [a]],
      ['db', [b]],
    ]);
    expect(windowsForHost(['web', 'db', 'web', 'other'], byGroup)).toEqual([a, b]);
    expect(windowsForHost([], byGroup)).toEqual([]);
  });
});
