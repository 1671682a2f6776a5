/**
 * Pure logic of the Hosts screens: URL state -> server query (anything a hand-edited URL gets
 * wrong is dropped here rather than sent for a 400), CSV rows, small formatters.
 * Tested in hosts-query.test.ts.
 */
import { visibleText } from '../../ui/SafeText';

export const HOSTS_PAGE_SIZE = 50;

export const HOST_STATUSES = ['pending', 'approved', 'revoked'] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];

export const HOSTS_SORTABLE = ['hostname', 'lastSeenAt', 'tier'] as const;
export type HostsSort = (typeof HOSTS_SORTABLE)[number];

/** What the Hosts screen keeps in the URL (all strings; '' is "any"). */
export const HOSTS_URL_DEFAULTS = {
  q: '',
  site: '',
  group: '',
  os: '',
  tier: '',
  status: '',
  online: '',
  sort: 'hostname',
  order: 'asc',
  offset: '0',
};
export type HostsUrlState = typeof HOSTS_URL_DEFAULTS;

export interface HostsQuery {
  limit: number;
  offset: number;
  q?: string;
  site?: string;
  group?: string;
  os?: string;
  tier?: number;
  status?: HostStatus;
  online?: boolean;
  sort?: HostsSort;
  order?: 'asc' | 'desc';
}

/** The server's bound on offsets (schemas.ts Offset). */
const MAX_OFFSET = 10_000_000;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** A paging offset from the URL: a non-negative integer within the server's bound, else 0. */
export function parseOffset(value: string | null | undefined): number {
  if (!value || !/^\d{1,8}$/.test(value)) return 0;
  const n = Number(value);
  return n <= MAX_OFFSET ? n : 0;
}

/**
 * Free text for a filter the server bounds (search 200, names 100 characters, no control
 * characters): control characters are removed, the rest cut to the bound; undefined when empty.
 */
export function cleanText(value: string | null | undefined, max: number): string | undefined {
  if (!value) return undefined;
  const cleaned = value.replace(CONTROL, '').trim().slice(0, max);
  return cleaned.length > 0 ? cleaned : undefined;
}

/** A risk tier 1-5 from the URL, else undefined. */
export function parseTier(value: string | null | undefined): number | undefined {
  return value && /^[1-5]$/.test(value) ? Number(value) : undefined;
}

/** URL state -> the GET /api/v1/hosts query; invalid values are left out. */
export function hostsQuery(state: Partial<HostsUrlState>, limit = HOSTS_PAGE_SIZE): HostsQuery {
  const query: HostsQuery = { limit, offset: parseOffset(state.offset) };
  const q = cleanText(state.q, 200);
  if (q) query.q = q;
  const site = cleanText(state.site, 100);
  if (site) query.site = site;
  const group = cleanText(state.group, 100);
  if (group) query.group = group;
  const os = cleanText(state.os, 100);
  if (os) query.os = os;
  const tier = parseTier(state.tier);
  if (tier !== undefined) query.tier = tier;
  if (HOST_STATUSES.includes(state.status as HostStatus)) query.status = state.status as HostStatus;
  if (state.online === 'true') query.online = true;
  else if (state.online === 'false') query.online = false;
  if (HOSTS_SORTABLE.includes(state.sort as HostsSort)) query.sort = state.sort as HostsSort;
  if (state.order === 'asc' || state.order === 'desc') query.order = state.order;
  return query;
}

/** Whether any filter (not paging or sorting) is set. */
export function hasFilters(state: Partial<HostsUrlState>): boolean {
  return (['q', 'site', 'group', 'os', 'tier', 'status', 'online'] as const).some((k) => (state[k] ?? '') !== '');
}

export interface HostRow {
  id: string;
  hostname: string;
  status: string;
  online: boolean;
  lastSeenAt: string | null;
  os: { distro: string; release: string };
  site: string | null;
  groups: string[];
  tier: number;
  openFindings: number;
  packageCount: number;
}

export const HOSTS_CSV_COLUMNS = [
  'id',
  'hostname',
  'status',
  'online',
  'os',
  'site',
  'groups',
  'tier',
  'open findings',
  'packages',
  'last seen',
] as const;

/**
 * The current page as CSV rows. Hostnames and other agent-reported text have invisible characters
 * written visibly (toCsv then neutralises formulas).
 */
export function hostsCsvRows(items: readonly HostRow[]): string[][] {
  return items.map((h) => [
    h.id,
    visibleText(h.hostname),
    h.status,
    h.online ? 'yes' : 'no',
    visibleText(osLabel(h.os)),
    h.site === null ? '' : visibleText(h.site),
    h.groups.map(visibleText).join('; '),
    String(h.tier),
    String(h.openFindings),
    String(h.packageCount),
    h.lastSeenAt ?? '',
  ]);
}

/** "debian 12" (distro and release, as the OS filter takes it). */
export function osLabel(os: { distro: string; release: string }): string {
  return [os.distro, os.release].filter((s) => s.length > 0).join(' ');
}

/** The badge class of a host status. */
export function hostStatusBadge(status: string): string {
  return status === 'approved'
    ? 'badge badge-ok'
    : status === 'pending'
      ? 'badge badge-warn'
      : status === 'revoked'
        ? 'badge badge-bad'
        : 'badge';
}
