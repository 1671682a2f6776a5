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

/** A recent feed import (GET /vulnerabilities/imports). */
export type ImportRun = Json<'/api/v1/vulnerabilities/imports', 'get'>['items'][number];

/** "read 10, stored 7, rejected 1" from an import run's counts. */
export function countsText(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts).map(([k, n]) => `${k} ${n.toLocaleString()}`);
  return parts.length === 0 ? '—' : parts.join(', ');
}

/** One record as GET /vulnerabilities/{record} describes it, with its findings' counts and related records. */
export type RecordDetail = Json<'/api/v1/vulnerabilities/{record}', 'get'>;
export type AffectedPackage = RecordDetail['affected'][number];
/** A finding of a record with its host (GET /vulnerabilities/{record}/hosts; open ones first). */
export type AffectedFinding = Json<'/api/v1/vulnerabilities/{record}/hosts', 'get'>['items'][number];

type RangeEvent = AffectedPackage['ranges'][number]['events'][number];

const EVENT_WORDS: ReadonlyArray<[keyof RangeEvent, string]> = [
  ['introduced', 'introduced'],
  ['fixed', 'fixed'],
  ['last_affected', 'last affected'],
  ['limit', 'limit'],
];

/**
 * An affected range as one line, in the feed's order: "ECOSYSTEM: from the first version, fixed
 * 2.1-2" (OSV's "introduced 0" is the first version).
 */
export function rangeText(range: AffectedPackage['ranges'][number]): string {
  const events = range.events.flatMap((e) =>
    EVENT_WORDS.flatMap(([key, word]) => {
      const v = e[key];
      if (v === undefined) return [];
      return [key === 'introduced' && v === '0' ? 'from the first version' : `${word} ${v}`];
    }),
  );
  return `${range.type}: ${events.length > 0 ? events.join(', ') : 'no events'}`;
}

type RecordPackages = Pick<RecordDetail, 'source' | 'id' | 'affected'>;

/** The affected packages of a record and of the records related to it, each row naming its record. */
export function affectedRows(detail: RecordPackages & { related: readonly RecordPackages[] }) {
  return [detail, ...detail.related].flatMap((r) =>
    r.affected.map((a, i) => ({ key: `${r.source}:${r.id}:${i}`, record: `${r.source}: ${r.id}`, ...a })),
  );
}
