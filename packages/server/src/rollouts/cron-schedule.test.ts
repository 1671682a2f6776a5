import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CronSchedule, canonicalTimeZone, parseCronSchedule, wallClockOf } from './cron-schedule.js';

function schedule(expression: string, timeZone: string): CronSchedule {
  const r = parseCronSchedule(expression, timeZone);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const at = (iso: string) => new Date(iso);

/** The next `n` fire times after `from`, as ISO strings. */
function fires(s: CronSchedule, from: string, n: number): string[] {
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    t = s.next(t);
    out.push(t.toISOString());
  }
  return out;
}

function firesBack(s: CronSchedule, from: string, n: number): string[] {
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    t = s.prev(t);
    out.push(t.toISOString());
  }
  return out;
}

describe('parseCronSchedule', () => {
  it('refuses expressions that do not parse, with the expression in the message', () => {
    for (const expression of ['nope * * * *', '61 * * * *', '0 25 * * *', '0 0 30 2 *', '0 0 * 13 *']) {
      const r = parseCronSchedule(expression, 'UTC');
      expect(r.ok, expression).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('invalid_cron');
      expect(r.error.message).toContain(JSON.stringify(expression));
      expect(r.error.cause).toBeInstanceOf(Error);
    }
  });

  it('refuses an empty expression, seconds or a missing field, hashed fields and sub-minute aliases', () => {
    for (const expression of ['', '   ', '0 0 2 * * *', '0 2 * *', 'H 2 * * *', '0 H(0-3) * * *', '@secondly', '@every_minute']) {
      const r = parseCronSchedule(expression, 'UTC');
      expect(r.ok ? r.value : r.error.code, JSON.stringify(expression)).toBe('invalid_cron');
    }
    const six = parseCronSchedule('0 0 2 * * *', 'UTC');
    expect(six.ok ? six.value : six.error.message).toBe(
      'cron expression "0 0 2 * * *" must have five fields (minute hour day-of-month month day-of-week) or be one of @yearly, @annually, @monthly, @weekly, @daily, @hourly, @weekdays, @weekends',
    );
  });

  it('accepts names, ranges, steps, L, #, and aliases in any case', () => {
    for (const expression of [
      '0 22 * * MON-FRI',
      '30 1 L * *',
      '0 2 * * 5L',
      '0 2 * * 1#2',
      '*/15 0-6 * JAN,JUL *',
      '@DAILY',
      '@weekly',
      '0 3 ? * thu',
    ])
      expect(parseCronSchedule(expression, 'UTC').ok, expression).toBe(true);
  });

  it('refuses unknown time zones and names the zone', () => {
    for (const zone of ['Mars/Olympus_Mons', '', 'Europe/Berlinn', '+25:00']) {
      const r = parseCronSchedule('0 2 * * *', zone);
      expect(r.ok ? r.value : r.error.code, zone).toBe('invalid_time_zone');
    }
    const r = parseCronSchedule('0 2 * * *', 'Mars/Olympus_Mons');
    expect(r.ok ? r.value : r.error.message).toBe('unknown time zone "Mars/Olympus_Mons"; use an IANA name such as Europe/Berlin');
  });

  it('keeps the canonical zone name and a tidy expression', () => {
    expect(canonicalTimeZone('europe/berlin')).toEqual({ ok: true, value: 'Europe/Berlin' });
    const s = schedule('  0   22 * *   1-5 ', 'america/new_york');
    expect([s.expression, s.timeZone]).toEqual(['0 22 * * 1-5', 'America/New_York']);
  });

  it('reads fire times on the wall clock of the zone', () => {
    expect(fires(schedule('0 22 * * 1-5', 'Europe/Berlin'), '2025-01-10T12:00:00Z', 2)).toEqual([
      '2025-01-10T21:00:00.000Z',
      '2025-01-13T21:00:00.000Z',
    ]);
    expect(fires(schedule('0 22 * * 1-5', 'Europe/Berlin'), '2025-07-10T12:00:00Z', 1)).toEqual(['2025-07-10T20:00:00.000Z']);
    expect(fires(schedule('30 1 L * *', 'Asia/Kolkata'), '2025-02-01T00:00:00Z', 2)).toEqual([
      '2025-02-27T20:00:00.000Z',
      '2025-03-30T20:00:00.000Z',
    ]);
  });
});

describe('clock changes in Europe/Berlin (2025-03-30 02:00 CET -> 03:00 CEST, 2025-10-26 03:00 CEST -> 02:00 CET)', () => {
  it('moves a skipped 02:30 to 03:30 CEST, wherever the search starts', () => {
    const s = schedule('30 2 * * *', 'Europe/Berlin');
    expect(fires(s, '2025-03-29T12:00:00Z', 3)).toEqual([
      '2025-03-30T01:30:00.000Z',
      '2025-03-31T00:30:00.000Z',
      '2025-04-01T00:30:00.000Z',
    ]);
    // From 03:00 CEST, right after the jump: cron-parser's own zone stepping skips this day here.
    expect(s.next(at('2025-03-30T01:00:00Z')).toISOString()).toBe('2025-03-30T01:30:00.000Z');
    expect(s.prev(at('2025-03-30T02:00:00Z')).toISOString()).toBe('2025-03-30T01:30:00.000Z');
    expect(firesBack(s, '2025-03-31T12:00:00Z', 3)).toEqual([
      '2025-03-31T00:30:00.000Z',
      '2025-03-30T01:30:00.000Z',
      '2025-03-29T01:30:00.000Z',
    ]);
  });

  it('fires a repeated 02:30 once, at its first occurrence, in both directions', () => {
    const s = schedule('30 2 * * *', 'Europe/Berlin');
    expect(fires(s, '2025-10-25T12:00:00Z', 2)).toEqual(['2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z']);
    expect(s.next(at('2025-10-26T01:00:00Z')).toISOString()).toBe('2025-10-27T01:30:00.000Z');
    expect(firesBack(s, '2025-10-27T12:00:00Z', 3)).toEqual([
      '2025-10-27T01:30:00.000Z',
      '2025-10-26T00:30:00.000Z',
      '2025-10-25T00:30:00.000Z',
    ]);
  });

  it('keeps an hourly cron hourly: the repeated 02:00 fires twice, the skipped one does not double 03:00', () => {
    const s = schedule('0 * * * *', 'Europe/Berlin');
    expect(fires(s, '2025-10-25T23:30:00Z', 4)).toEqual([
      '2025-10-26T00:00:00.000Z',
      '2025-10-26T01:00:00.000Z',
      '2025-10-26T02:00:00.000Z',
      '2025-10-26T03:00:00.000Z',
    ]);
    expect(fires(s, '2025-03-29T23:30:00Z', 3)).toEqual([
      '2025-03-30T00:00:00.000Z',
      '2025-03-30T01:00:00.000Z',
      '2025-03-30T02:00:00.000Z',
    ]);
  });

  it('moves both readings of a skipped hour later and keeps their order', () => {
    expect(fires(schedule('0,30 2 * * *', 'Europe/Berlin'), '2025-03-29T12:00:00Z', 3)).toEqual([
      '2025-03-30T01:00:00.000Z',
      '2025-03-30T01:30:00.000Z',
      '2025-03-31T00:00:00.000Z',
    ]);
  });

  it('fires a weekly Sunday 02:15 on the changeover Sundays once each', () => {
    const s = schedule('15 2 * * 0', 'Europe/Berlin');
    expect(fires(s, '2025-03-29T00:00:00Z', 2)).toEqual(['2025-03-30T01:15:00.000Z', '2025-04-06T00:15:00.000Z']);
    expect(fires(s, '2025-10-25T00:00:00Z', 2)).toEqual(['2025-10-26T00:15:00.000Z', '2025-11-02T01:15:00.000Z']);
  });
});

describe('clock changes in America/New_York (2025-03-09 02:00 EST -> 03:00 EDT, 2025-11-02 02:00 EDT -> 01:00 EST)', () => {
  it('moves a skipped 02:30 to 03:30 EDT', () => {
    expect(fires(schedule('30 2 * * *', 'America/New_York'), '2025-03-08T12:00:00Z', 2)).toEqual([
      '2025-03-09T07:30:00.000Z',
      '2025-03-10T06:30:00.000Z',
    ]);
    expect(schedule('30 2 * * *', 'America/New_York').next(at('2025-03-09T07:00:00Z')).toISOString()).toBe('2025-03-09T07:30:00.000Z');
  });

  it('fires a repeated 01:30 once, at 01:30 EDT', () => {
    const s = schedule('30 1 * * *', 'America/New_York');
    expect(fires(s, '2025-11-01T12:00:00Z', 2)).toEqual(['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z']);
    expect(s.prev(at('2025-11-02T07:00:00Z')).toISOString()).toBe('2025-11-02T05:30:00.000Z');
  });

  it('keeps every-20-minutes at 20 minutes of elapsed time through both changes', () => {
    const s = schedule('*/20 * * * *', 'America/New_York');
    for (const from of ['2025-11-02T04:50:00Z', '2025-03-09T06:10:00Z']) {
      const times = fires(s, from, 10).map((t) => Date.parse(t));
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(20 * 60_000);
    }
  });
});

describe('next and prev', () => {
  const TRANSITIONS = [
    ['Europe/Berlin', '2025-03-30T01:00:00Z'],
    ['Europe/Berlin', '2025-10-26T01:00:00Z'],
    ['America/New_York', '2025-03-09T07:00:00Z'],
    ['America/New_York', '2025-11-02T06:00:00Z'],
    ['Australia/Lord_Howe', '2025-04-05T15:00:00Z'],
    ['Australia/Lord_Howe', '2025-10-04T15:30:00Z'],
  ] as const;
  const EXPRESSIONS = ['30 2 * * *', '0 * * * *', '*/20 * * * *', '0,30 1-3 * * *', '15 2 * * 0', '0 0 L * *', '45 1,2 * * 1-5'];
  const DAY_MS = 86_400_000;

  it('are exact inverses around clock changes: no fire time lies between an instant and its next or previous one', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TRANSITIONS),
        fc.constantFrom(...EXPRESSIONS),
        fc.integer({ min: -2 * DAY_MS, max: 2 * DAY_MS }),
        ([zone, change], expression, offsetMs) => {
          const s = schedule(expression, zone);
          const t = new Date(Date.parse(change) + offsetMs);
          const n = s.next(t);
          expect(n.getTime()).toBeGreaterThan(t.getTime());
          expect(s.prev(n).getTime()).toBeLessThanOrEqual(t.getTime());
          expect(s.next(s.prev(n)).getTime()).toBe(n.getTime());
          const p = s.prev(t);
          expect(p.getTime()).toBeLessThan(t.getTime());
          expect(s.next(p).getTime()).toBeGreaterThanOrEqual(t.getTime());
          expect(s.prev(s.next(p)).getTime()).toBe(p.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('match a minute-by-minute scan in zones without clock changes', () => {
    const zones = [
      ['UTC', 0],
      ['Asia/Tokyo', 9 * 60],
      ['Asia/Kolkata', 5.5 * 60],
    ] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
        ([zone, offsetMinutes], mins, hours, days, t) => {
          const s = schedule(`${mins.join(',')} ${hours.join(',')} * * ${days.join(',')}`, zone);
          const matches = (ms: number) => {
            const local = new Date(ms + offsetMinutes * 60_000);
            return mins.includes(local.getUTCMinutes()) && hours.includes(local.getUTCHours()) && days.includes(local.getUTCDay());
          };
          let want = Math.floor(t / 60_000) * 60_000 + 60_000;
          while (!matches(want)) want += 60_000;
          expect(s.next(new Date(t)).getTime()).toBe(want);
          let back = Math.ceil(t / 60_000) * 60_000 - 60_000;
          while (!matches(back)) back -= 60_000;
          expect(s.prev(new Date(t)).getTime()).toBe(back);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('wallClockOf', () => {
  it('reads the local clock, including the repeated hour', () => {
    expect(new Date(wallClockOf(Date.parse('2025-10-26T00:30:00Z'), 'Europe/Berlin')).toISOString()).toBe('2025-10-26T02:30:00.000Z');
    expect(new Date(wallClockOf(Date.parse('2025-10-26T01:30:00.250Z'), 'Europe/Berlin')).toISOString()).toBe('2025-10-26T02:30:00.250Z');
  });
});
