import type { Json } from '../../api/client';

export type VulnerabilityItem = Json<'/api/v1/vulnerabilities', 'get'>['items'][number];
export type OverdueFinding = Json<'/api/v1/vulnerabilities/overdue', 'get'>['items'][number];
export type Explanation = Json<'/api/v1/hosts/{id}/vulnerabilities/{record}', 'get'>;
export type HostFinding = Explanation['findings'][number];
export type FeedSchedule = Json<'/api/v1/vulnerabilities/feeds', 'get'>['items'][number];

/** The server's record id grammar (vulns-routes.ts RecordId): checked before it goes into a URL. */
export const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export function isRecordId(s: string): boolean {
  return s.length >= 1 && s.length <= 128 && RECORD_ID.test(s);
}

/** GET /vulnerabilities/imports (the route declares no response schema): vulns-repository ImportRunRow. */
export interface ImportRun {
  id: string;
  kind: string;
  location: string;
  actor: string;
  startedAt: string;
  finishedAt: string | null;
  counts: Record<string, unknown>;
  error: string | null;
}

/** The import runs of an untyped answer, dropping anything malformed. */
export function importRuns(body: unknown): ImportRun[] {
  const items = body && typeof body === 'object' ? (body as { items?: unknown }).items : undefined;
  if (!Array.isArray(items)) return [];
  return items.filter(
    (i): i is ImportRun =>
      !!i && typeof i === 'object' && typeof (i as ImportRun).id === 'string' && typeof (i as ImportRun).startedAt === 'string',
  );
}

/** "read 10, stored 7, rejected 1" from an import run's counts (keys and numbers only). */
export function countsText(counts: Record<string, unknown> | null | undefined): string {
  if (!counts || typeof counts !== 'object') return '—';
  const parts = Object.entries(counts)
    .filter(([, n]) => typeof n === 'number')
    .map(([k, n]) => `${k} ${(n as number).toLocaleString()}`);
  return parts.length === 0 ? '—' : parts.join(', ');
}

/** Whether a value has the shape of an affected host's finding (an OverdueFinding: a finding plus its host). */
export function isAffectedFinding(v: unknown): v is OverdueFinding {
  if (!v || typeof v !== 'object') return false;
  const f = v as Record<string, unknown>;
  return (
    typeof f.hostId === 'string' &&
    typeof f.hostname === 'string' &&
    typeof f.id === 'string' &&
    typeof f.package === 'string' &&
    typeof f.installedVersion === 'string' &&
    (f.fixedVersion === undefined || typeof f.fixedVersion === 'string') &&
    typeof f.dueAt === 'string' &&
    typeof f.overdue === 'boolean' &&
    typeof f.severity === 'string'
  );
}

/** A page of affected hosts from an answer the console has no type for, malformed items dropped. */
export function affectedPage(body: unknown): { total: number; items: OverdueFinding[] } {
  const b = body && typeof body === 'object' ? (body as { total?: unknown; items?: unknown }) : {};
  const items = Array.isArray(b.items) ? b.items.filter(isAffectedFinding) : [];
  const total = typeof b.total === 'number' && Number.isFinite(b.total) && b.total >= 0 ? b.total : items.length;
  return { total, items };
}
