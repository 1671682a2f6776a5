import type { Body, Json } from '../../api/client';

export type JoinToken = Json<'/api/v1/enrollment-tokens', 'get'>['items'][number];
export type JoinTokenBody = Body<'/api/v1/enrollment-tokens', 'post'>;

export interface JoinTokenForm {
  autoApprove: boolean;
  expiresInHours: string;
  maxUses: string;
}

/** The server's bounds (enrollment-routes.ts): up to a year; 1 to a million uses, or unlimited. */
export const MAX_TOKEN_HOURS = 24 * 365;
export const MAX_TOKEN_USES = 1_000_000;

/** The POST body, or what is wrong. Empty max uses means unlimited. */
export function joinTokenFromForm(form: JoinTokenForm): { ok: true; body: JoinTokenBody } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const hoursText = form.expiresInHours.trim();
  const hours = Number(hoursText);
  if (!/^\d+$/.test(hoursText) || hours < 1 || hours > MAX_TOKEN_HOURS)
    problems.push(`expires in: whole hours from 1 to ${MAX_TOKEN_HOURS.toLocaleString('en')}`);
  const usesText = form.maxUses.trim();
  const uses = Number(usesText);
  if (usesText !== '' && (!/^\d+$/.test(usesText) || uses < 1 || uses > MAX_TOKEN_USES))
    problems.push(`max uses: empty (unlimited) or 1 to ${MAX_TOKEN_USES.toLocaleString('en')}`);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    body: { autoApprove: form.autoApprove, expiresInHours: hours, ...(usesText === '' ? {} : { maxUses: uses }) },
  };
}

export type JoinTokenState = 'active' | 'revoked' | 'expired' | 'used up';

/** Whether a listed token still enrols machines, and if not why. */
export function joinTokenState(t: Pick<JoinToken, 'revokedAt' | 'expiresAt' | 'maxUses' | 'uses'>, now: number): JoinTokenState {
  if (t.revokedAt) return 'revoked';
  if (new Date(t.expiresAt).getTime() <= now) return 'expired';
  if (t.maxUses !== null && t.uses >= t.maxUses) return 'used up';
  return 'active';
}
