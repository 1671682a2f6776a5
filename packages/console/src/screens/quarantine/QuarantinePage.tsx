import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, call } from '../../api/client';
import { Can, useCan } from '../../auth';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatDate, formatRelative } from '../../ui/format';
import { HostPicker } from '../../ui/HostPicker';
import { HostLink } from '../../ui/links';
import { ConfirmButton } from '../../ui/parts';
import { SafeText, visibleText } from '../../ui/SafeText';
import { useUrlState } from '../../ui/url-state';
import styles from './Quarantine.module.css';
import {
  canRelease,
  checkReason,
  isOrderState,
  ORDER_STATES,
  type OrderState,
  type QuarantinedHost,
  type QuarantineRequest,
  type QuarantineView,
  quarantineState,
} from './quarantine';

const REQUESTS_KEY = ['quarantine', 'requests'] as const;
const hostKey = (id: string) => ['quarantine', 'host', id] as const;

function StateBadge({ q }: { q: Pick<QuarantineView, 'state' | 'action'> }) {
  const s = quarantineState(q.state, q.action);
  return <span className={s.badge}>{s.text}</span>;
}

/** A reason field and a submit button, shown in place of the button that opened it. */
function ReasonForm({
  open,
  label,
  submitLabel,
  required,
  pending,
  onSubmit,
  onOpen,
  onCancel,
  danger,
}: {
  open: boolean;
  label: string;
  submitLabel: string;
  required: boolean;
  pending: boolean;
  onSubmit: (reason: string | undefined) => void;
  onOpen: () => void;
  onCancel: () => void;
  danger?: boolean;
}) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState('');
  if (!open)
    return (
      <button type="button" onClick={onOpen} disabled={pending}>
        {label}
      </button>
    );
  return (
    <form
      className={styles.inline}
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        const r = checkReason(text, required);
        if (!r.ok) {
          setProblem(r.problem);
          return;
        }
        setProblem('');
        onSubmit(r.value);
      }}
    >
      <label>
        {required ? 'Reason' : 'Reason (optional)'}
        <input value={text} onChange={(e) => setText(e.target.value)} maxLength={500} required={required} />
      </label>
      <button type="submit" className={danger ? 'danger' : 'primary'} disabled={pending}>
        {submitLabel}
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      {problem ? (
        <span className="error-box" role="alert">
          {problem}
        </span>
      ) : null}
    </form>
  );
}

function useQuarantineActions(hostId: string) {
  const client = useQueryClient();
  const done = async (q: QuarantineView) => {
    client.setQueryData(hostKey(hostId), q);
    await client.invalidateQueries({ queryKey: ['quarantine'] });
  };
  const isolate = useMutation({
    mutationFn: (reason: string) => call(api.POST('/api/v1/hosts/{id}/quarantine', { params: { path: { id: hostId } }, body: { reason } })),
    onSuccess: done,
  });
  const release = useMutation({
    mutationFn: (reason: string | undefined) =>
      call(api.POST('/api/v1/hosts/{id}/release', { params: { path: { id: hostId } }, body: reason === undefined ? {} : { reason } })),
    onSuccess: done,
  });
  return { isolate, release };
}

function ReleaseControl({ hostId, hostname }: { hostId: string; hostname: string }) {
  const [open, setOpen] = useState(false);
  const { release } = useQuarantineActions(hostId);
  return (
    <>
      <ReasonForm
        open={open}
        label="Release"
        submitLabel={`Release ${visibleText(hostname)}`}
        required={false}
        pending={release.isPending}
        onOpen={() => setOpen(true)}
        onCancel={() => setOpen(false)}
        onSubmit={(reason) => release.mutate(reason, { onSuccess: () => setOpen(false) })}
      />
      <ErrorBox error={release.error} />
    </>
  );
}

/** One host's quarantine, with Isolate / Release for a role that may. */
function HostQuarantine({ host }: { host: { id: string; hostname: string } }) {
  const [isolating, setIsolating] = useState(false);
  const q = useQuery({
    queryKey: hostKey(host.id),
    queryFn: () => call(api.GET('/api/v1/hosts/{id}/quarantine', { params: { path: { id: host.id } } })),
  });
  const { isolate } = useQuarantineActions(host.id);
  const v = q.data;
  return (
    <section className="card" aria-label={`Quarantine of ${visibleText(host.hostname)}`}>
      <h3>
        <HostLink id={host.id} hostname={host.hostname} max={80} /> {v ? <StateBadge q={v} /> : null}
      </h3>
      <QueryState isLoading={q.isLoading} error={q.error} />
      {v && v.state !== 'none' ? (
        <dl className="kv">
          <dt>Last order</dt>
          <dd>{v.action ?? '—'}</dd>
          <dt>Reason</dt>
          <dd>
            <SafeText text={v.reason} max={500} />
          </dd>
          <dt>Requested</dt>
          <dd>
            {formatDate(v.requestedAt)} by <SafeText text={v.requestedBy} />
          </dd>
          <dt>Agent says</dt>
          <dd>
            <SafeText text={v.detail} max={500} />
          </dd>
          <dt>Updated</dt>
          <dd>{formatDate(v.updatedAt)}</dd>
          {v.state === 'pending' ? (
            <>
              <dt>Order valid until</dt>
              <dd>{formatDate(v.notAfter)}</dd>
            </>
          ) : null}
          <dt>Still reachable</dt>
          <dd className="mono">
            <SafeText text={v.allow.length > 0 ? v.allow.join(', ') : null} />
            {v.ports.length > 0 ? ` (TCP ${v.ports.join(', ')})` : ''}
          </dd>
        </dl>
      ) : null}
      {v ? (
        <Can permission="quarantine:manage">
          <div className="actions">
            {canRelease(v) ? <ReleaseControl hostId={host.id} hostname={host.hostname} /> : null}
            {v.action !== 'isolate' || v.state === 'released' || v.state === 'none' ? (
              <ReasonForm
                open={isolating}
                label="Isolate"
                submitLabel={`Isolate ${visibleText(host.hostname)}`}
                required
                danger
                pending={isolate.isPending}
                onOpen={() => setIsolating(true)}
                onCancel={() => setIsolating(false)}
                onSubmit={(reason) => reason && isolate.mutate(reason, { onSuccess: () => setIsolating(false) })}
              />
            ) : null}
          </div>
          <ErrorBox error={isolate.error} />
        </Can>
      ) : null}
    </section>
  );
}

const HOST_LIMIT = 50;

/** The hosts with a quarantine order (GET /quarantine): by default all but confirmed releases, or one state. */
function QuarantinedHosts({
  state,
  offset,
  update,
}: {
  state: OrderState | null;
  offset: number;
  update: (patch: { qstate?: string; offset?: string }) => void;
}) {
  const can = useCan();
  const query = { limit: HOST_LIMIT, offset, ...(state ? { state } : {}) };
  const list = useQuery({
    queryKey: ['quarantine', 'hosts', query],
    queryFn: () => call(api.GET('/api/v1/quarantine', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const columns: ColumnDef<QuarantinedHost, unknown>[] = [
    {
      id: 'host',
      header: 'Host',
      cell: ({ row }) => (
        <>
          <HostLink id={row.original.hostId} hostname={row.original.hostname} max={60} />{' '}
          {row.original.online ? <span className="badge badge-ok">online</span> : <span className="badge">offline</span>}
        </>
      ),
    },
    { id: 'state', header: 'State', cell: ({ row }) => <StateBadge q={row.original} /> },
    { id: 'reason', header: 'Reason', cell: ({ row }) => <SafeText text={row.original.reason} max={160} /> },
    {
      id: 'requestedBy',
      header: 'Ordered by',
      cell: ({ row }) => <SafeText text={row.original.requestedBy} max={60} />,
    },
    { id: 'detail', header: 'Agent says', cell: ({ row }) => <SafeText text={row.original.detail} max={160} /> },
    {
      id: 'since',
      header: 'Since',
      cell: ({ row }) => (
        <span className="nowrap" title={formatDate(row.original.updatedAt ?? row.original.requestedAt)}>
          {formatRelative(row.original.updatedAt ?? row.original.requestedAt)}
        </span>
      ),
    },
    ...(can('quarantine:manage')
      ? [
          {
            id: 'actions',
            header: '',
            cell: ({ row }) =>
              canRelease(row.original) ? <ReleaseControl hostId={row.original.hostId} hostname={row.original.hostname} /> : null,
          } satisfies ColumnDef<QuarantinedHost, unknown>,
        ]
      : []),
  ];
  return (
    <>
      <div className="toolbar">
        <label>
          Quarantine state
          <select value={state ?? ''} onChange={(e) => update({ qstate: e.target.value })}>
            <option value="">Current (all but released)</option>
            {ORDER_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <QueryState isLoading={false} error={list.error} />
      <DataTable
        label="Quarantined hosts"
        columns={columns}
        data={list.data?.items ?? []}
        getRowId={(r) => r.hostId}
        isLoading={list.isLoading}
        empty={state ? 'No host in this state.' : 'No host is isolated or has a quarantine order on its way.'}
        paging={{ offset, limit: HOST_LIMIT, total: list.data?.total ?? 0, onOffsetChange: (o) => update({ offset: String(o) }) }}
      />
    </>
  );
}

function RequestActions({ request }: { request: QuarantineRequest }) {
  const client = useQueryClient();
  const [rejecting, setRejecting] = useState(false);
  const settle = async () => {
    await client.invalidateQueries({ queryKey: ['quarantine'] });
  };
  const approve = useMutation({
    mutationFn: () => call(api.POST('/api/v1/quarantine/requests/{id}/approve', { params: { path: { id: request.id } } })),
    onSuccess: settle,
  });
  const reject = useMutation({
    mutationFn: (reason: string | undefined) =>
      call(
        api.POST('/api/v1/quarantine/requests/{id}/reject', {
          params: { path: { id: request.id } },
          body: reason === undefined ? {} : { reason },
        }),
      ),
    onSuccess: settle,
  });
  return (
    <div className="actions">
      {rejecting ? null : (
        <ConfirmButton
          label="Approve"
          question={
            <>
              Cut <SafeText text={request.hostname} max={40} /> off the network (all but the Brier server)?
            </>
          }
          confirmLabel="Approve and isolate"
          disabled={approve.isPending}
          onConfirm={() => approve.mutate()}
        />
      )}
      <ReasonForm
        open={rejecting}
        label="Reject"
        submitLabel="Reject request"
        required={false}
        pending={reject.isPending}
        onOpen={() => setRejecting(true)}
        onCancel={() => setRejecting(false)}
        onSubmit={(reason) => reject.mutate(reason)}
      />
      <ErrorBox error={approve.error ?? reject.error} />
    </div>
  );
}

const STATE_FILTERS = ['pending', 'approved', 'rejected', 'cancelled'] as const;
type RequestState = (typeof STATE_FILTERS)[number];

/** /quarantine: who is cut off, the requests policies made, and a host's quarantine on demand. */
export function QuarantinePage() {
  const can = useCan();
  const [filters, update] = useUrlState({ history: '', qstate: '', offset: '0' });
  const orderState = isOrderState(filters.qstate) ? filters.qstate : null;
  const hostsOffset = Math.max(0, Number.parseInt(filters.offset, 10) || 0);
  const [host, setHost] = useState<{ id: string; hostname: string } | null>(null);
  const all = useQuery({ queryKey: [...REQUESTS_KEY, 'all'], queryFn: () => call(api.GET('/api/v1/quarantine/requests')) });
  const requests = all.data?.items ?? [];
  const pending = requests.filter((r) => r.state === 'pending');
  const historyState = (STATE_FILTERS as readonly string[]).includes(filters.history) ? (filters.history as RequestState) : null;
  const history = useQuery({
    queryKey: [...REQUESTS_KEY, historyState],
    queryFn: () => call(api.GET('/api/v1/quarantine/requests', { params: { query: historyState ? { state: historyState } : {} } })),
    enabled: historyState !== null,
  });
  const historyRows = historyState ? (history.data?.items ?? []) : requests;
  const requestColumns = (withActions: boolean): ColumnDef<QuarantineRequest, unknown>[] => [
    {
      id: 'host',
      header: 'Host',
      cell: ({ row }) => <HostLink id={row.original.hostId} hostname={row.original.hostname} max={60} />,
    },
    {
      id: 'policy',
      header: 'Policy',
      cell: ({ row }) => (
        <Link to={`/policies/${encodeURIComponent(row.original.policy.id)}`}>
          <SafeText text={row.original.policy.name ?? '(deleted policy)'} max={60} />
        </Link>
      ),
    },
    { id: 'reason', header: 'Reason', cell: ({ row }) => <SafeText text={row.original.reason} max={200} /> },
    {
      id: 'requested',
      header: 'Requested',
      cell: ({ row }) => (
        <span className="nowrap" title={formatDate(row.original.requestedAt)}>
          {formatRelative(row.original.requestedAt)}
        </span>
      ),
    },
    ...(withActions
      ? [
          { id: 'actions', header: '', cell: ({ row }) => <RequestActions request={row.original} /> } satisfies ColumnDef<
            QuarantineRequest,
            unknown
          >,
        ]
      : [
          {
            id: 'state',
            header: 'State',
            cell: ({ row }) => (
              <span
                className={
                  row.original.state === 'approved'
                    ? 'badge badge-critical'
                    : row.original.state === 'pending'
                      ? 'badge badge-warn'
                      : 'badge'
                }
              >
                {row.original.state}
              </span>
            ),
          } satisfies ColumnDef<QuarantineRequest, unknown>,
          {
            id: 'decided',
            header: 'Decided',
            cell: ({ row }) =>
              row.original.decidedAt ? (
                <>
                  {formatDate(row.original.decidedAt)} by <SafeText text={row.original.decidedBy} />
                </>
              ) : (
                <span className="muted">—</span>
              ),
          } satisfies ColumnDef<QuarantineRequest, unknown>,
        ]),
  ];
  const exportCsv = () =>
    downloadCsv(
      'quarantine-requests.csv',
      ['id', 'host_id', 'hostname', 'policy_id', 'policy', 'reason', 'state', 'requested_at', 'decided_by', 'decided_at'],
      historyRows.map((r) => [
        r.id,
        r.hostId,
        r.hostname,
        r.policy.id,
        r.policy.name,
        r.reason,
        r.state,
        r.requestedAt,
        r.decidedBy,
        r.decidedAt,
      ]),
    );
  return (
    <>
      <div className="page-header">
        <h1>Quarantine</h1>
      </div>
      <QueryState isLoading={all.isLoading} error={all.error} />
      <h2>Approval queue</h2>
      <p className="muted">
        Policies ask for a host to be isolated when its antivirus stays unhealthy longer than they allow. Approving cuts the host off the
        network except for the Brier server{can('quarantine:approve') ? '' : '; an approver decides'}.
      </p>
      <DataTable
        label="Quarantine requests"
        columns={requestColumns(can('quarantine:approve'))}
        data={pending}
        getRowId={(r) => r.id}
        isLoading={all.isLoading}
        empty="No requests waiting."
      />
      <h2>Isolated and pending hosts</h2>
      <QuarantinedHosts state={orderState} offset={hostsOffset} update={update} />
      <h2>A host's quarantine</h2>
      <div className="card">
        <HostPicker label="Host" pickLabel="Show" onPick={(h) => setHost({ id: h.id, hostname: h.hostname })} />
      </div>
      {host ? <HostQuarantine key={host.id} host={host} /> : null}
      <h2>Request history</h2>
      <div className="toolbar">
        <label>
          State
          <select value={historyState ?? ''} onChange={(e) => update({ history: e.target.value })}>
            <option value="">All</option>
            {STATE_FILTERS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span className="actions">
          <button type="button" onClick={exportCsv} disabled={historyRows.length === 0}>
            Export CSV
          </button>
        </span>
      </div>
      <QueryState isLoading={false} error={history.error} />
      <DataTable
        label="Request history"
        columns={requestColumns(false)}
        data={historyRows}
        getRowId={(r) => r.id}
        isLoading={historyState ? history.isLoading : all.isLoading}
        empty="No requests."
      />
    </>
  );
}
