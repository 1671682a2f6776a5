import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useState } from 'react';
import { api, call } from '../../api/client';
import { severityBadge } from '../../ui/badges';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { HostLink, RecordLink } from '../../ui/links';
import { SafeText } from '../../ui/SafeText';
import type { OverdueFinding } from './model';

const LIMIT = 50;
const EXPORT_LIMIT = 1000;

const columns: ColumnDef<OverdueFinding, unknown>[] = [
  {
    id: 'host',
    header: 'Host',
    cell: ({ row }) => <HostLink id={row.original.hostId} hostname={row.original.hostname} max={60} />,
  },
  {
    id: 'record',
    header: 'Record',
    cell: ({ row }) => <RecordLink id={row.original.id} />,
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
  { id: 'package', header: 'Package', cell: ({ row }) => <SafeText text={row.original.package} /> },
  { id: 'installed', header: 'Installed', cell: ({ row }) => <SafeText text={row.original.installedVersion} max={40} /> },
  { id: 'fixed', header: 'Fixed in', cell: ({ row }) => <SafeText text={row.original.fixedVersion ?? null} max={40} /> },
  { id: 'tier', header: 'Tier', cell: ({ row }) => row.original.riskTier },
  {
    id: 'due',
    header: 'Due',
    cell: ({ row }) => (
      <span className="nowrap badge badge-bad" title={formatDate(row.original.dueAt)}>
        {formatRelative(row.original.dueAt)}
      </span>
    ),
  },
  { id: 'firstSeen', header: 'First seen', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.firstSeenAt)}</span> },
];

function exportRows(items: readonly OverdueFinding[]) {
  downloadCsv(
    'overdue-findings.csv',
    ['host_id', 'hostname', 'record', 'severity', 'package', 'installed', 'fixed', 'tier', 'due_at', 'first_seen_at'],
    items.map((f) => [
      f.hostId,
      f.hostname,
      f.id,
      f.severity,
      f.package,
      f.installedVersion,
      f.fixedVersion,
      f.riskTier,
      f.dueAt,
      f.firstSeenAt,
    ]),
  );
}

/** Open findings past their due date, most overdue first (one row per host and record). */
export function OverdueTab({ offset, onOffsetChange }: { offset: number; onOffsetChange: (offset: number) => void }) {
  const client = useQueryClient();
  const overdue = useQuery({
    queryKey: ['vulns', 'overdue', LIMIT, offset],
    queryFn: () => call(api.GET('/api/v1/vulnerabilities/overdue', { params: { query: { limit: LIMIT, offset } } })),
    placeholderData: keepPreviousData,
  });
  const [exporting, setExporting] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const exportCsv = async () => {
    setExporting({ busy: true, error: null });
    try {
      const page = await client.fetchQuery({
        queryKey: ['vulns', 'overdue', EXPORT_LIMIT, 0],
        queryFn: () => call(api.GET('/api/v1/vulnerabilities/overdue', { params: { query: { limit: EXPORT_LIMIT, offset: 0 } } })),
      });
      exportRows(page.items);
      setExporting({ busy: false, error: null });
    } catch (error) {
      setExporting({ busy: false, error });
    }
  };
  const total = overdue.data?.total ?? 0;
  return (
    <>
      <div className="toolbar">
        <span className="muted">{overdue.data ? `${formatCount(total)} open findings are past their due date.` : ' '}</span>
        <span className="actions">
          <button type="button" onClick={() => void exportCsv()} disabled={exporting.busy || total === 0}>
            {exporting.busy ? 'Exporting…' : 'Export CSV'}
          </button>
        </span>
      </div>
      <ErrorBox error={exporting.error} />
      <QueryState isLoading={false} error={overdue.error} />
      <DataTable
        label="Overdue findings"
        columns={columns}
        data={overdue.data?.items ?? []}
        getRowId={(f) => `${f.hostId}:${f.source}:${f.id}:${f.package}`}
        isLoading={overdue.isLoading}
        empty="Nothing is overdue."
        paging={{ offset, limit: LIMIT, total, onOffsetChange }}
      />
    </>
  );
}
