import { describe, expect, it } from 'vitest';
import { formatMinutes, windowFromForm } from './windows';

const good = { group: 'web', cron: '0 2 * * 6', durationMinutes: '120', timeZone: 'Europe/Berlin' };

describe('maintenance window form', () => {
  it('builds the POST body, trimmed, with minutes as a number', () => {
    expect(windowFromForm({ ...good, group: ' web ', cron: ' 0  2 * *   6 ' })).toEqual({
      ok: true,
      body: { group: 'web', cron: '0 2 * * 6', durationMinutes: 120, timeZone: 'Europe/Berlin' },
    });
  });

  it('names each problem instead of sending', () => {
    const r = windowFromForm({ group: '', cron: '0 2 * *', durationMinutes: '0', timeZone: '' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.problems).sort()).toEqual(['cron', 'durationMinutes', 'group', 'timeZone']);
  });

  it('refuses control characters, non-ASCII schedules, fractions and overlong windows', () => {
    const bad = [
      { ...good, group: 'we\u0000b' },
      { ...good, cron: '0 2 * * ６' },
      { ...good, durationMinutes: '1.5' },
      { ...good, durationMinutes: '44641' },
      { ...good, timeZone: 'Europe/ Berlin' },
    ];
    for (const form of bad) expect(windowFromForm(form).ok).toBe(false);
    expect(windowFromForm({ ...good, durationMinutes: '44640' }).ok).toBe(true);
  });

  it('shows durations in days, hours and minutes', () => {
    expect(formatMinutes(45)).toBe('45 min');
    expect(formatMinutes(120)).toBe('2 h');
    expect(formatMinutes(90)).toBe('1 h 30 min');
    expect(formatMinutes(3 * 1440 + 240)).toBe('3 d 4 h');
  });
});
