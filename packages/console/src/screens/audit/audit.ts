import type { Json } from '../../api/client';

export type AuditPage = Json<'/api/v1/audit', 'get'>;
export type AuditEntry = AuditPage['items'][number];

/** Rows per page on the screen, and the most one CSV export asks the server for (its own limit). */
export const AUDIT_PAGE_SIZE = 50;
export const AUDIT_EXPORT_MAX = 1000;

/** The server's bound on filter text (SearchText): 200 characters, no control characters. */
export const FILTER_MAX = 200;
// biome-ignore lint/suspicious/noControlCharactersInRegex: this is the check for them
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface AuditFilters {
  actor: string;
  action: string;
  target: string;
  q: string;
}

export const FILTER_KEYS = ['actor', 'action', 'target', 'q'] as const satisfies ReadonlyArray<keyof AuditFilters>;

/** Why a filter value cannot be sent, or null when it can. */
export function filterProblem(value: string): string | null {
  if (value.length > FILTER_MAX) return `at most ${FILTER_MAX} characters`;
  if (CONTROL.test(value)) return 'no control characters';
  return null;
}

/**
 * The query string for GET /api/v1/audit: filters trimmed, empty ones left out (an empty `actor=`
 * would match nobody), paging as numbers.
 */
export function auditQuery(filters: AuditFilters, offset: number, limit: number) {
  const query: { limit: number; offset: number } & Partial<AuditFilters> = {
    limit,
    offset: Number.isSafeInteger(offset) && offset > 0 ? offset : 0,
  };
  for (const key of FILTER_KEYS) {
    const v = filters[key].trim();
    if (v) query[key] = v;
  }
  return query;
}

const MAX_DETAIL_LINES = 40;

/**
 * An entry's detail (untrusted JSON, whatever the action recorded) as plain text lines, one per
 * top-level key: `key: value`, strings as they are, anything else as compact JSON. Never markup:
 * the lines go through <SafeText>.
 */
export function detailLines(detail: unknown): string[] {
  if (detail === null || detail === undefined) return [];
  if (typeof detail !== 'object' || Array.isArray(detail)) return [compact(detail)];
  const entries = Object.entries(detail as Record<string, unknown>);
  const lines = entries.slice(0, MAX_DETAIL_LINES).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : compact(v)}`);
  if (entries.length > MAX_DETAIL_LINES) lines.push(`… ${entries.length - MAX_DETAIL_LINES} more`);
  return lines;
}

function compact(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export const AUDIT_CSV_COLUMNS = ['time', 'actor', 'action', 'target', 'detail'] as const;

/** CSV rows for entries: ISO time, and the detail as JSON (toCsv makes every cell formula-safe). */
export function auditCsvRows(items: readonly AuditEntry[]): string[][] {
  return items.map((e) => [e.at, e.actor, e.action, e.target ?? '', e.detail === null ? '' : compact(e.detail)]);
}

/** `audit-2026-11-27T09-14-00.csv`: a file name from the export time, safe on every OS. */
export function auditCsvFilename(at: Date): string {
  return `audit-${at.toISOString().slice(0, 19).replace(/:/g, '-')}.csv`;
}
