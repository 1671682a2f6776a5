import type { Json } from '../../api/client';

export type QuarantineView = Json<'/api/v1/hosts/{id}/quarantine', 'get'>;
export type QuarantineRequest = Json<'/api/v1/quarantine/requests', 'get'>['items'][number];
export type QuarantinedHost = Json<'/api/v1/quarantine', 'get'>['items'][number];

/** The order states GET /quarantine filters by (what an order can be once given). */
export const ORDER_STATES = ['pending', 'isolated', 'failed', 'refused', 'released'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

export function isOrderState(s: string): s is OrderState {
  return (ORDER_STATES as readonly string[]).includes(s);
}

/** How a host's quarantine state reads, and its badge. */
export function quarantineState(state: QuarantineView['state'], action: QuarantineView['action']): { text: string; badge: string } {
  switch (state) {
    case 'isolated':
      return { text: 'isolated', badge: 'badge badge-critical' };
    case 'pending':
      return { text: action === 'release' ? 'release pending' : 'isolation pending', badge: 'badge badge-warn' };
    case 'failed':
      return { text: action === 'release' ? 'release failed' : 'isolation failed', badge: 'badge badge-bad' };
    case 'refused':
      return { text: 'refused by the agent', badge: 'badge badge-bad' };
    case 'released':
      return { text: 'released', badge: 'badge badge-ok' };
    default:
      return { text: 'not quarantined', badge: 'badge' };
  }
}

/** Whether Release applies: the last order isolated the host (delivered or not). */
export function canRelease(q: Pick<QuarantineView, 'state' | 'action'>): boolean {
  return q.action === 'isolate' && q.state !== 'none' && q.state !== 'released';
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A reason as the server takes it (1 to 500 characters, no control characters), or what is wrong. */
export function checkReason(text: string, required: boolean): { ok: true; value: string | undefined } | { ok: false; problem: string } {
  const t = text.trim();
  if (t === '') return required ? { ok: false, problem: 'Give a reason.' } : { ok: true, value: undefined };
  if (Array.from(t).length > 500) return { ok: false, problem: 'A reason is at most 500 characters.' };
  if (CONTROL.test(t)) return { ok: false, problem: 'A reason cannot hold control characters or line breaks.' };
  return { ok: true, value: t };
}
