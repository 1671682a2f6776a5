import { api, call } from '../../api/client';

/** Which findings of a record the "Affected hosts" table lists (GET /vulnerabilities/{record}/hosts?status). */
export const AFFECTED_STATUSES = { open: 'Open findings', closed: 'Closed findings', all: 'All findings' } as const;
export type AffectedStatus = keyof typeof AFFECTED_STATUSES;

export function isAffectedStatus(s: string): s is AffectedStatus {
  return Object.hasOwn(AFFECTED_STATUSES, s);
}

/** A page of a record's findings with their hosts, open ones first, then by due date. */
export function fetchAffectedHosts(record: string, status: AffectedStatus, limit: number, offset: number) {
  const query = { limit, offset, ...(status === 'all' ? {} : { status }) };
  return call(api.GET('/api/v1/vulnerabilities/{record}/hosts', { params: { path: { record }, query } }));
}
