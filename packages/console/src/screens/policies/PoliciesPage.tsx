import { useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Link } from 'react-router';
import { api, call, type Json } from '../../api/client';
import { Can } from '../../auth';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { QueryState } from '../../ui/ErrorBox';
import { formatCount, formatDate } from '../../ui/format';
import { SafeText } from '../../ui/SafeText';
import type { Counts } from './compliance';
import { ComplianceBar, ModeBadge } from './parts';

type Policy = Json<'/api/v1/policies', 'get'>['items'][number];
type Row = Policy & { hosts: (Counts & { total: number }) | null };

export function targetsText(targets: { hostIds: readonly string[]; groups: readonly string[] }): string {
  const parts: string[] = [];
  if (targets.groups.length > 0) parts.push(`${targets.groups.length === 1 ? 'group' : 'groups'} ${targets.groups.join(', ')}`);
  if (targets.hostIds.length > 0) parts.push(`${formatCount(targets.hostIds.length)} ${targets.hostIds.length === 1 ? 'host' : 'hosts'}`);
  return parts.length === 0 ? 'no targets' : parts.join(' and ');
}

const columns: ColumnDef<Row, unknown>[] = [
  {
    id: 'name',
    header: 'Name',
    cell: ({ row }) => (
      <Link to={`/policies/${encodeURIComponent(row.original.id)}`}>
        <SafeText text={row.original.name} max={80} />
      </Link>
    ),
  },
  { id: 'mode', header: 'Mode', cell: ({ row }) => <ModeBadge mode={row.original.mode} /> },
  { id: 'version', header: 'Version', cell: ({ row }) => row.original.version },
  { id: 'rules', header: 'Rules', cell: ({ row }) => formatCount(row.original.rules.length) },
  { id: 'targets', header: 'Targets', cell: ({ row }) => <SafeText text={targetsText(row.original.targets)} max={120} /> },
  {
    id: 'compliance',
    header: 'Compliance',
    cell: ({ row }) =>
      row.original.hosts ? (
        <ComplianceBar counts={row.original.hosts} label={`Compliance of ${row.original.name}`} />
      ) : (
        <span className="muted">—</span>
      ),
  },
  { id: 'interval', header: 'Every', cell: ({ row }) => <span className="nowrap">{row.original.intervalMinutes} min</span> },
  { id: 'updated', header: 'Updated', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.updatedAt)}</span> },
];

/** /policies: every policy with its mode, version, targets and how compliant its hosts are. */
export function PoliciesPage() {
  const policies = useQuery({ queryKey: ['policies', 'list'], queryFn: () => call(api.GET('/api/v1/policies')) });
  const compliance = useQuery({ queryKey: ['compliance', 'fleet'], queryFn: () => call(api.GET('/api/v1/compliance')) });
  const byPolicy = new Map((compliance.data?.items ?? []).map((c) => [c.policy.id, c.hosts]));
  const rows: Row[] = (policies.data?.items ?? []).map((p) => ({ ...p, hosts: byPolicy.get(p.id) ?? null }));
  const exportCsv = () =>
    downloadCsv(
      'policies.csv',
      [
        'id',
        'name',
        'mode',
        'version',
        'rules',
        'groups',
        'host_ids',
        'interval_minutes',
        'hosts',
        'compliant',
        'remediated',
        'noncompliant',
        'error',
        'unknown',
        'updated_at',
      ],
      rows.map((r) => [
        r.id,
        r.name,
        r.mode,
        r.version,
        r.rules.length,
        r.targets.groups.join(' '),
        r.targets.hostIds.length,
        r.intervalMinutes,
        r.hosts?.total,
        r.hosts?.compliant,
        r.hosts?.remediated,
        r.hosts?.noncompliant,
        r.hosts?.error,
        r.hosts?.unknown,
        r.updatedAt,
      ]),
    );
  return (
    <>
      <div className="page-header">
        <h1>Policies</h1>
        <span className="actions">
          <button type="button" onClick={exportCsv} disabled={rows.length === 0}>
            Export CSV
          </button>
          <Can permission="policies:manage">
            <Link className="button primary" to="/policies/new">
              New policy
            </Link>
          </Can>
        </span>
      </div>
      <p className="muted">
        A policy is a set of rules hosts must keep true: in audit mode they report, in enforce mode the agent also puts things right. See{' '}
        <Link to="/compliance">Compliance</Link> for the fleet's state.
      </p>
      <QueryState isLoading={false} error={policies.error ?? compliance.error} />
      <DataTable
        label="Policies"
        columns={columns}
        data={rows}
        getRowId={(r) => r.id}
        isLoading={policies.isLoading}
        empty="No policies yet."
      />
    </>
  );
}
