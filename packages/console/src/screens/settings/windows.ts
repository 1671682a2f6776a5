import type { Body } from '../../api/client';

export type WindowBody = Body<'/api/v1/maintenance-windows', 'post'>;

/** The server's longest window (rollouts/windows.ts): 31 days. */
export const MAX_WINDOW_MINUTES = 31 * 24 * 60;

export interface WindowForm {
  group: string;
  cron: string;
  durationMinutes: string;
  timeZone: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: this is the check for them
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A light check before the server's own (which parses the cron and the zone): required fields,
 * five cron fields, a whole number of minutes in range. Returns the body or the problem per field.
 */
export function windowFromForm(
  form: WindowForm,
): { ok: true; body: WindowBody } | { ok: false; problems: Partial<Record<keyof WindowForm, string>> } {
  const problems: Partial<Record<keyof WindowForm, string>> = {};
  const group = form.group.trim();
  if (!group) problems.group = 'required';
  else if (group.length > 100 || CONTROL.test(group)) problems.group = 'at most 100 characters, no control characters';
  const cron = form.cron.trim().replace(/\s+/g, ' ');
  if (!cron) problems.cron = 'required';
  else if (!/^[\x20-\x7e]+$/.test(cron) || cron.length > 200) problems.cron = 'plain ASCII, at most 200 characters';
  else if (cron.split(' ').length !== 5) problems.cron = 'five fields: minute hour day-of-month month day-of-week';
  const minutesText = form.durationMinutes.trim();
  const minutes = Number(minutesText);
  if (!/^\d+$/.test(minutesText) || minutes < 1 || minutes > MAX_WINDOW_MINUTES)
    problems.durationMinutes = `whole minutes from 1 to ${MAX_WINDOW_MINUTES.toLocaleString('en')}`;
  const timeZone = form.timeZone.trim();
  if (!timeZone) problems.timeZone = 'required';
  else if (!/^[\x21-\x7e]+$/.test(timeZone) || timeZone.length > 100) problems.timeZone = 'an IANA name such as Europe/Berlin';
  if (Object.keys(problems).length > 0) return { ok: false, problems };
  return { ok: true, body: { group, cron, durationMinutes: minutes, timeZone } };
}

/** "45 min", "2 h", "1 h 30 min", "3 d 4 h". */
export function formatMinutes(total: number): string {
  const d = Math.floor(total / 1440);
  const h = Math.floor((total % 1440) / 60);
  const m = total % 60;
  const parts = [d ? `${d} d` : '', h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : '0 min';
}
