import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Link } from 'react-router';
import { api, call } from '../../api/client';
import { useLive } from '../../api/live';
import { Can, useMe } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { SafeText } from '../../ui/SafeText';
import { useUrlState } from '../../ui/url-state';
import { deploymentKey } from './DeploymentPage';
import styles from './Deployments.module.css';
import { DEPLOYMENT_LISTS_KEY } from './DeploymentsPage';
import { type DeploymentListItem, formatPackageSpec } from './model';
import { FlagBadges, Person } from './parts';

const LIMIT = 20;

/** What would change: the packages the list item carries (waves and timing are on the deployment's page). */
function WhatCell({ item }: { item: DeploymentListItem }) {
  return (
    <>
      <div>
        {item.packages.map((p, i) => (
          <span key={p.name}>
            {i > 0 ? ', ' : ''}
            <code>
              <SafeText text={formatPackageSpec(p)} />
            </code>
          </span>
        ))}
      </div>
      {item.startAt ? <div className="muted">starts {formatDate(item.startAt)}</div> : null}
    </>
  );
}

/** Approve, with the server's refusal (e.g. one's own deployment) shown beside the button. */
function ApproveCell({ item }: { item: DeploymentListItem }) {
  const client = useQueryClient();
  const me = useMe().data;
  const approve = useMutation({
    mutationFn: () => call(api.POST('/api/v1/deployments/{id}/approve', { params: { path: { id: item.id } } })),
    onSuccess: (d) => {
      client.setQueryData(deploymentKey(item.id), d);
      void client.invalidateQueries({ queryKey: DEPLOYMENT_LISTS_KEY });
    },
  });
  const own = me?.id === item.createdBy.id;
  return (
    <div className={styles.approval}>
      <div className="actions">
        <Can permission="deployments:approve">
          <button type="button" className="primary" disabled={approve.isPending || approve.isSuccess} onClick={() => approve.mutate()}>
            {approve.isSuccess ? 'Approved' : 'Approve'}
          </button>
        </Can>
        <Link to={`/deployments/${item.id}`}>Open</Link>
      </div>
      {own && !approve.error ? <span className={styles.hint}>Your own: a second person must approve it.</span> : null}
      <ErrorBox error={approve.error} />
    </div>
  );
}

const columns: ColumnDef<DeploymentListItem, unknown>[] = [
  {
    id: 'deployment',
    header: 'Deployment',
    cell: ({ row }) => (
      <>
        <Link to={`/deployments/${row.original.id}`}>
          <SafeText text={row.original.name} max={80} />
        </Link>{' '}
        <FlagBadges critical={row.original.critical} emergency={row.original.emergency} />
        <div className="muted">
          <SafeText text={row.original.stateReason} max={200} />
        </div>
      </>
    ),
  },
  { id: 'what', header: 'What', cell: ({ row }) => <WhatCell item={row.original} /> },
  {
    id: 'who',
    header: 'Requested by',
    cell: ({ row }) => (
      <>
        <Person person={row.original.createdBy} />
        <div className="muted nowrap" title={formatDate(row.original.createdAt)}>
          {formatRelative(row.original.createdAt)}
        </div>
      </>
    ),
  },
  { id: 'targets', header: 'Hosts', cell: ({ row }) => formatCount(row.original.hostCount) },
  { id: 'actions', header: 'Decision', cell: ({ row }) => <ApproveCell item={row.original} /> },
];

/** Deployments that wait for a second person: what, who, how many hosts, and the Approve button. */
export function ApprovalsPage() {
  const [state, setState] = useUrlState({ offset: '0' });
  const offset = Math.max(0, Number.parseInt(state.offset, 10) || 0);
  const client = useQueryClient();
  const list = useQuery({
    queryKey: [...DEPLOYMENT_LISTS_KEY, 'list', { state: 'awaiting_approval', offset, limit: LIMIT }],
    queryFn: () => call(api.GET('/api/v1/deployments', { params: { query: { state: 'awaiting_approval', limit: LIMIT, offset } } })),
    placeholderData: keepPreviousData,
  });
  useLive({ topic: 'deployments' }, (m) => {
    if (m.type === 'deployments.changed') void client.invalidateQueries({ queryKey: DEPLOYMENT_LISTS_KEY });
  });
  return (
    <>
      <div className="page-header">
        <h1>Approvals</h1>
      </div>
      <p className="muted">
        Critical, emergency and large deployments wait here for a second person. Nobody approves their own deployment.
      </p>
      <QueryState isLoading={list.isLoading} error={list.error} />
      <DataTable
        label="Deployments awaiting approval"
        columns={columns}
        data={list.data?.items ?? []}
        getRowId={(d) => d.id}
        isLoading={list.isFetching}
        empty="No deployment is waiting for approval."
        paging={{ offset, limit: LIMIT, total: list.data?.total ?? 0, onOffsetChange: (o) => setState({ offset: String(o) }) }}
      />
    </>
  );
}
