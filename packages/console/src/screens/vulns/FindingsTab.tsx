import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useState } from 'react';
import { api, call } from '../../api/client';
import { severityBadge } from '../../ui/badges';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { RecordLink } from '../../ui/links';
import { SafeText } from '../../ui/SafeText';
import { SearchBox } from '../../ui/SearchBox';
import { cleanText, parseTier } from '../hosts/hosts-query';
import { MetricsStrip } from './MetricsStrip';
import type { MetricsBy } from './metrics';
import { isRecordId, type VulnerabilityItem } from './model';
import { isSeverity, SEVERITIES, type Severity } from './severity';

const LIMIT = 50;
const EXPORT_LIMIT = 1000;

export interface FindingsFilters {
  severity: string;
  overdue: string;
  id: string;
  tier: string;
  q: string;
  offset: string;
  by: string;
}

type Query = { limit: number; offset: number; severity?: Severity; overdue?: boolean; id?: string; tier?: number; q?: string };

/** URL state -> the GET /vulnerabilities query; values the server would refuse are left out. */
export function findingsQuery(f: FindingsFilters, limit: number, offset: number): Query {
  const tier = parseTier(f.tier);
  const q = cleanText(f.q, 200);
  return {
    limit,
    offset,
    ...(isSeverity(f.severity) ? { severity: f.severity } : {}),
    ...(f.overdue === 'true' ? { overdue: true } : {}),
    ...(f.id !== '' && isRecordId(f.id) ? { id: f.id } : {}),
    ...(tier !== undefined ? { tier } : {}),
    ...(q ? { q } : {}),
  };
}

const columns: ColumnDef<VulnerabilityItem, unknown>[] = [
  {
    id: 'record',
    header: 'Record',
    cell: ({ row }) => (
      <>
        <RecordLink id={row.original.id} />
        {row.original.aliases.length > 0 ? (
          <div className="muted">
            <SafeText text={row.original.aliases.join(', ')} max={80} />
          </div>
        ) : null}
      </>
    ),
  },
  {
    id: 'severity',
    header: 'Severity',
    cell: ({ row }) => (
      <span className={severityBadge(row.original.severity)}>
        <SafeText text={row.original.severity} />
      </span>
    ),
  },
  { id: 'summary', header: 'Summary', cell: ({ row }) => <SafeText text={row.original.summary} max={160} /> },
  { id: 'hosts', header: 'Hosts', cell: ({ row }) => formatCount(row.original.hostCount) },
  {
    id: 'overdueHosts',
    header: 'Overdue hosts',
    cell: ({ row }) =>
      row.original.overdueHostCount > 0 ? <span className="badge badge-bad">{formatCount(row.original.overdueHostCount)}</span> : '0',
  },
  {
    id: 'due',
    header: 'Earliest due',
    cell: ({ row }) => (
      <span className="nowrap" title={formatDate(row.original.dueAt)}>
        {formatRelative(row.original.dueAt)}
      </span>
    ),
  },
  { id: 'source', header: 'Source', cell: ({ row }) => <SafeText text={row.original.source} /> },
];

function exportRows(items: readonly VulnerabilityItem[]) {
  downloadCsv(
    'vulnerabilities.csv',
    ['id', 'aliases', 'severity', 'severity_source', 'summary', 'hosts', 'overdue_hosts', 'earliest_due', 'source'],
    items.map((v) => [
      v.id,
      v.aliases.join(' '),
      v.severity,
      v.severitySource,
      v.summary,
      v.hostCount,
      v.overdueHostCount,
      v.dueAt,
      v.source,
    ]),
  );
}

/** Vulnerabilities with open findings, worst first; filtered and paged by the server. */
export function FindingsTab({ filters, update }: { filters: FindingsFilters; update: (patch: Partial<FindingsFilters>) => void }) {
  const client = useQueryClient();
  const offset = Math.max(0, Number.parseInt(filters.offset, 10) || 0);
  const idInvalid = filters.id !== '' && !isRecordId(filters.id);
  const query = findingsQuery(filters, LIMIT, offset);
  const list = useQuery({
    queryKey: ['vulns', 'list', query],
    queryFn: () => call(api.GET('/api/v1/vulnerabilities', { params: { query } })),
    placeholderData: keepPreviousData,
    enabled: !idInvalid,
  });
  const [exporting, setExporting] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const exportCsv = async () => {
    setExporting({ busy: true, error: null });
    try {
      const q = findingsQuery(filters, EXPORT_LIMIT, 0);
      const page = await client.fetchQuery({
        queryKey: ['vulns', 'list', q],
        queryFn: () => call(api.GET('/api/v1/vulnerabilities', { params: { query: q } })),
      });
      exportRows(page.items);
      setExporting({ busy: false, error: null });
    } catch (error) {
      setExporting({ busy: false, error });
    }
  };
  const by: MetricsBy = filters.by === 'site' || filters.by === 'tier' ? filters.by : 'severity';
  const total = list.data?.total ?? 0;
  return (
    <>
      <MetricsStrip by={by} onByChange={(b) => update({ by: b, offset: filters.offset })} />
      <div className="toolbar">
        <label>
          Severity
          <select value={isSeverity(filters.severity) ? filters.severity : ''} onChange={(e) => update({ severity: e.target.value })}>
            <option value="">All</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>
            <input
              type="checkbox"
              checked={filters.overdue === 'true'}
              onChange={(e) => update({ overdue: e.target.checked ? 'true' : '' })}
            />{' '}
            Overdue only
          </span>
        </label>
        <label>
          Tier
          <select value={parseTier(filters.tier) === undefined ? '' : filters.tier} onChange={(e) => update({ tier: e.target.value })}>
            <option value="">Any</option>
            {[5, 4, 3, 2, 1].map((t) => (
              <option key={t} value={String(t)}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <SearchBox label="Search" value={filters.q} onChange={(q) => update({ q })} placeholder="record, alias, package or host" />
        <SearchBox label="Record id or alias" value={filters.id} onChange={(id) => update({ id: id.trim() })} placeholder="CVE-2024-1234" />
        <span className="actions">
          <button type="button" onClick={() => void exportCsv()} disabled={exporting.busy || total === 0}>
            {exporting.busy ? 'Exporting…' : 'Export CSV'}
          </button>
        </span>
      </div>
      {idInvalid ? (
        <p className="error-box" role="alert">
          A record id is letters, digits and . _ : - (e.g. CVE-2024-1234, GHSA-…, DSA-5555-1).
        </p>
      ) : null}
      <ErrorBox error={exporting.error} />
      <QueryState isLoading={false} error={list.error} />
      <DataTable
        label="Vulnerabilities"
        columns={columns}
        data={idInvalid ? [] : (list.data?.items ?? [])}
        getRowId={(v) => `${v.source}:${v.id}`}
        isLoading={list.isLoading}
        empty={idInvalid ? 'Fix the record id to search.' : 'No open findings match.'}
        paging={{ offset, limit: LIMIT, total, onOffsetChange: (o) => update({ offset: String(o) }) }}
      />
      {total > EXPORT_LIMIT ? (
        <p className="muted">
          CSV export holds the first {formatCount(EXPORT_LIMIT)} of {formatCount(total)} matching records.
        </p>
      ) : null}
    </>
  );
}
