import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Link, useNavigate } from 'react-router';
import { api, call } from '../../api/client';
import { useLive } from '../../api/live';
import { Can } from '../../auth';
import { StateBadge, stateLabel } from '../../ui/badges';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { QueryState } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { SafeText } from '../../ui/SafeText';
import { useUrlState } from '../../ui/url-state';
import { DEPLOYMENT_STATES, type DeploymentListItem, type DeploymentState } from './model';
import { FlagBadges, Person } from './parts';

const LIMIT = 50;

/** Query key prefix of every deployment list; live `deployments.changed` frames invalidate it. */
export const DEPLOYMENT_LISTS_KEY = ['deployments'] as const;

const columns: ColumnDef<DeploymentListItem, unknown>[] = [
  {
    id: 'name',
    header: 'Name',
    cell: ({ row }) => (
      <>
        <Link to={`/deployments/${row.original.id}`}>
          <SafeText text={row.original.name} max={80} />
        </Link>{' '}
        <FlagBadges critical={row.original.critical} emergency={row.original.emergency} />
      </>
    ),
  },
  {
    id: 'state',
    header: 'State',
    cell: ({ row }) => (
      <>
        <StateBadge state={row.original.state} />
        <div className="muted">
          <SafeText text={row.original.stateReason} max={120} />
        </div>
      </>
    ),
  },
  { id: 'hosts', header: 'Hosts', cell: ({ row }) => formatCount(row.original.hostCount) },
  {
    id: 'created',
    header: 'Created',
    cell: ({ row }) => (
      <>
        <span className="nowrap" title={formatDate(row.original.createdAt)}>
          {formatRelative(row.original.createdAt)}
        </span>
        <div className="muted">
          by <Person person={row.original.createdBy} />
        </div>
      </>
    ),
  },
  { id: 'approvedBy', header: 'Approved by', cell: ({ row }) => <Person person={row.original.approvedBy} /> },
  {
    id: 'started',
    header: 'Started',
    cell: ({ row }) =>
      row.original.startedAt ? (
        <span className="nowrap">{formatDate(row.original.startedAt)}</span>
      ) : row.original.startAt ? (
        <span className="nowrap muted">at {formatDate(row.original.startAt)}</span>
      ) : (
        <span className="muted">—</span>
      ),
  },
  { id: 'finished', header: 'Finished', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.finishedAt)}</span> },
];

function exportCsv(items: readonly DeploymentListItem[]) {
  downloadCsv(
    'deployments.csv',
    [
      'id',
      'name',
      'state',
      'reason',
      'critical',
      'emergency',
      'hosts',
      'created_at',
      'created_by',
      'approved_by',
      'start_at',
      'started_at',
      'finished_at',
    ],
    items.map((d) => [
      d.id,
      d.name,
      d.state,
      d.stateReason,
      d.critical,
      d.emergency,
      d.hostCount,
      d.createdAt,
      d.createdBy.username,
      d.approvedBy?.username ?? '',
      d.startAt ?? '',
      d.startedAt ?? '',
      d.finishedAt ?? '',
    ]),
  );
}

export function DeploymentsPage() {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [state, setState] = useUrlState({ state: '', offset: '0' });
  const offset = Math.max(0, Number.parseInt(state.offset, 10) || 0);
  const filter = (DEPLOYMENT_STATES as readonly string[]).includes(state.state) ? (state.state as DeploymentState) : undefined;
  const list = useQuery({
    queryKey: [...DEPLOYMENT_LISTS_KEY, 'list', { state: filter ?? null, offset }],
    queryFn: () =>
      call(api.GET('/api/v1/deployments', { params: { query: { limit: LIMIT, offset, ...(filter ? { state: filter } : {}) } } })),
    placeholderData: keepPreviousData,
  });
  useLive({ topic: 'deployments' }, (m) => {
    if (m.type === 'deployments.changed') void client.invalidateQueries({ queryKey: DEPLOYMENT_LISTS_KEY });
  });
  const items = list.data?.items ?? [];

  return (
    <>
      <div className="page-header">
        <h1>Deployments</h1>
        <div className="actions">
          <button type="button" onClick={() => exportCsv(items)} disabled={items.length === 0}>
            Export CSV
          </button>
          <Can permission="deployments:manage">
            <button type="button" className="primary" onClick={() => navigate('/deployments/new')}>
              New deployment
            </button>
          </Can>
        </div>
      </div>
      <div className="toolbar">
        <label>
          State
          <select value={filter ?? ''} onChange={(e) => setState({ state: e.target.value })}>
            <option value="">Any state</option>
            {DEPLOYMENT_STATES.map((s) => (
              <option key={s} value={s}>
                {stateLabel(s)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <QueryState isLoading={list.isLoading} error={list.error} />
      <DataTable
        label="Deployments"
        columns={columns}
        data={items}
        getRowId={(d) => d.id}
        isLoading={list.isFetching}
        empty={filter ? `No deployment is ${stateLabel(filter)}.` : 'No deployments yet.'}
        paging={{ offset, limit: LIMIT, total: list.data?.total ?? 0, onOffsetChange: (o) => setState({ offset: String(o) }) }}
      />
    </>
  );
}
