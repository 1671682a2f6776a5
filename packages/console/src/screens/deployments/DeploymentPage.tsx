import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, call } from '../../api/client';
import { useLive } from '../../api/live';
import { Can, useCan } from '../../auth';
import { StateBadge, stateLabel } from '../../ui/badges';
import { downloadCsv } from '../../ui/csv';
import { DataTable, Pager } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { SafeText } from '../../ui/SafeText';
import styles from './Deployments.module.css';
import { DEPLOYMENT_LISTS_KEY } from './DeploymentsPage';
import {
  applyProgress,
  availableActions,
  type Deployment,
  type DeploymentAction,
  formatDuration,
  formatPackageSpec,
  HOST_STATES,
  isFinal,
  progressChange,
} from './model';
import { FlagBadges, Person, WaveBar } from './parts';

type HostRow = Deployment['hosts'][number];

/** The query key of one deployment's detail. */
export const deploymentKey = (id: string) => ['deployment', id] as const;

/** While counts move, the per-host rows are re-read at most this often. */
const HOSTS_REFETCH_MS = 2_000;
/** Rows of the per-host table shown at once (the detail carries every host; the table pages them). */
const HOSTS_PAGE = 100;

const ACTION_TEXT: Record<DeploymentAction, string> = {
  approve: 'Approve',
  pause: 'Pause',
  resume: 'Resume',
  retryFailed: 'Retry failed',
  abort: 'Abort',
};

function runAction(id: string, action: DeploymentAction, reason?: string): Promise<Deployment> {
  const params = { params: { path: { id } } };
  switch (action) {
    case 'approve':
      return call(api.POST('/api/v1/deployments/{id}/approve', params));
    case 'pause':
      return call(api.POST('/api/v1/deployments/{id}/pause', params));
    case 'resume':
      return call(api.POST('/api/v1/deployments/{id}/resume', params));
    case 'retryFailed':
      return call(api.POST('/api/v1/deployments/{id}/retry-failed', params));
    case 'abort':
      return call(api.POST('/api/v1/deployments/{id}/abort', { ...params, body: reason ? { reason } : {} }));
  }
}

/**
 * Keeps the cached deployment live: each `deployment.progress` frame updates state, summary and
 * wave counts at once; a state or wave change re-reads the whole detail (per-host rows, timeline),
 * and moving counts re-read it at most every HOSTS_REFETCH_MS.
 */
function useLiveDeployment(id: string) {
  const client = useQueryClient();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const lastRead = useRef(0);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );
  const refetch = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    lastRead.current = Date.now();
    void client.invalidateQueries({ queryKey: deploymentKey(id) });
  };
  useLive({ topic: 'deployment', id }, (m) => {
    if (m.type !== 'deployment.progress' || m.deployment.id !== id) return;
    const current = client.getQueryData<Deployment>(deploymentKey(id));
    if (!current) return refetch();
    const change = progressChange(current, m.deployment);
    if (change === 'none') return;
    client.setQueryData<Deployment>(deploymentKey(id), applyProgress(current, m.deployment));
    if (change === 'all') {
      refetch();
      void client.invalidateQueries({ queryKey: DEPLOYMENT_LISTS_KEY });
    } else if (!timer.current) {
      timer.current = setTimeout(refetch, Math.max(0, lastRead.current + HOSTS_REFETCH_MS - Date.now()));
    }
  });
}

export function DeploymentPage() {
  const { id = '' } = useParams();
  const client = useQueryClient();
  const can = useCan();
  const detail = useQuery({
    queryKey: deploymentKey(id),
    queryFn: () => call(api.GET('/api/v1/deployments/{id}', { params: { path: { id } } })),
    // A backstop for a lost socket: the live frames do the real work.
    refetchInterval: (q) => (q.state.data && !isFinal(q.state.data.state) ? 30_000 : false),
  });
  useLiveDeployment(id);
  const [confirmAbort, setConfirmAbort] = useState(false);
  const [abortReason, setAbortReason] = useState('');
  const act = useMutation({
    mutationFn: (v: { action: DeploymentAction; reason?: string }) => runAction(id, v.action, v.reason),
    onSuccess: (d) => {
      client.setQueryData(deploymentKey(id), d);
      setConfirmAbort(false);
      setAbortReason('');
      void client.invalidateQueries({ queryKey: DEPLOYMENT_LISTS_KEY });
    },
  });

  const d = detail.data;
  // An action's refusal is about the state it was tried in: a new state clears it.
  const shownState = d?.state;
  const resetAction = act.reset;
  useEffect(() => {
    if (shownState !== undefined) resetAction();
  }, [shownState, resetAction]);
  if (!d)
    return (
      <>
        <h1>Deployment</h1>
        <QueryState isLoading={detail.isLoading} error={detail.error} />
      </>
    );

  const actions = availableActions(d.state, d.summary.failed, can);
  const submitAbort = (e: FormEvent) => {
    e.preventDefault();
    act.mutate({ action: 'abort', reason: abortReason.trim() || undefined });
  };

  return (
    <>
      <div className="page-header">
        <h1>
          <SafeText text={d.name} />
        </h1>
        <div className="actions">
          {actions
            .filter((a) => a !== 'abort')
            .map((a) => (
              <button
                key={a}
                type="button"
                className={a === 'approve' ? 'primary' : undefined}
                disabled={act.isPending}
                onClick={() => act.mutate({ action: a })}
              >
                {ACTION_TEXT[a]}
              </button>
            ))}
          {actions.includes('abort') ? (
            <button type="button" className="danger" disabled={act.isPending || confirmAbort} onClick={() => setConfirmAbort(true)}>
              Abort
            </button>
          ) : null}
        </div>
      </div>
      <p role="status" aria-label="Deployment state">
        <StateBadge state={d.state} testId="deployment-state" /> <FlagBadges critical={d.critical} emergency={d.emergency} />{' '}
        <span className="muted">
          <SafeText text={d.stateReason} />
        </span>
      </p>
      {confirmAbort ? (
        <div role="dialog" aria-label="Abort deployment" className="notice">
          <form className="stack" onSubmit={submitAbort}>
            <strong>Abort this deployment?</strong>
            <span>No further work is offered; work already running on hosts finishes. This cannot be undone.</span>
            <label>
              Reason
              <input
                value={abortReason}
                maxLength={1000}
                onChange={(e) => setAbortReason(e.target.value)}
                placeholder="aborted by an operator"
              />
            </label>
            <div className="actions">
              <button type="submit" className="danger" disabled={act.isPending}>
                Confirm abort
              </button>
              <button type="button" onClick={() => setConfirmAbort(false)}>
                Cancel
              </button>
            </div>
          </form>
        </div>
      ) : null}
      {act.error ? <ErrorBox error={act.error} /> : null}
      {detail.error ? <ErrorBox error={detail.error} /> : null}

      {isFinal(d.state) ? <FinalReport d={d} /> : null}

      <div className={`grid-2 ${styles.section}`}>
        <section className="card" aria-labelledby="dep-waves">
          <h2 id="dep-waves">Waves</h2>
          {d.waves.length === 0 ? <p className="muted">The waves are planned when the deployment starts.</p> : null}
          {d.waves.map((w) => (
            <div key={w.index} className={styles['wave-block']}>
              <div className={styles['wave-head']}>
                <h3>
                  Wave {w.index + 1}: <SafeText text={w.name} />
                </h3>
                <StateBadge state={w.state} />
                <span className="muted">{formatCount(w.hostCount)} hosts</span>
              </div>
              <WaveBar label={`Wave ${w.index + 1} progress`} counts={w.counts} hostCount={w.hostCount} />
              {w.haltedReason ? (
                <p className="error-box">
                  Halted: <SafeText text={w.haltedReason} />
                </p>
              ) : null}
              <p className={styles.hint}>
                {w.startedAt ? `started ${formatDate(w.startedAt)}` : 'not started'}
                {w.passedAt ? ` · passed ${formatDate(w.passedAt)}` : ''}
              </p>
            </div>
          ))}
        </section>
        <section className="card" aria-labelledby="dep-details">
          <h2 id="dep-details">Details</h2>
          <dl className="kv">
            <dt>Packages</dt>
            <dd>
              {d.packages.map((p, i) => (
                <span key={p.name}>
                  {i > 0 ? ', ' : ''}
                  <SafeText text={formatPackageSpec(p)} />
                </span>
              ))}
            </dd>
            <dt>Ecosystem</dt>
            <dd>
              <SafeText text={d.ecosystem} />
            </dd>
            <dt>Reboot policy</dt>
            <dd>
              <SafeText text={d.rebootPolicy} />
            </dd>
            <dt>Created</dt>
            <dd>
              {formatDate(d.createdAt)} by <Person person={d.createdBy} />
            </dd>
            <dt>Approved by</dt>
            <dd>
              <Person person={d.approvedBy} />
            </dd>
            {d.startAt ? (
              <>
                <dt>Start at</dt>
                <dd>{formatDate(d.startAt)}</dd>
              </>
            ) : null}
            <dt>Started</dt>
            <dd>{formatDate(d.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{formatDate(d.finishedAt)}</dd>
            <dt>Deadline</dt>
            <dd>{d.deadlineAt ? `${formatDate(d.deadlineAt)} (${formatRelative(d.deadlineAt)})` : 'none'}</dd>
            <dt>Hosts</dt>
            <dd>
              {formatCount(d.summary.total)} ({formatCount(d.summary.inProgress)} in progress, {formatCount(d.summary.succeeded)} succeeded,{' '}
              {formatCount(d.summary.failed)} failed)
            </dd>
          </dl>
        </section>
      </div>

      <HostsSection d={d} />
      <Timeline d={d} />
      <Postmortem d={d} />
    </>
  );
}

function FinalReport({ d }: { d: Deployment }) {
  const failures = d.hosts.filter((h) => h.state === 'failed' || h.state === 'expired');
  const s = d.summary;
  const stats: Array<[string, number]> = [
    ['Hosts', s.total],
    ['Succeeded', s.succeeded],
    ['Verified', s.verified],
    ['Failed', s.failed],
    ['Expired', s.expired],
    ['Unreached', s.unreached],
    ['Reboot pending', s.rebootPending],
  ];
  return (
    <section className={`card ${styles.section}`} aria-labelledby="dep-report">
      <h2 id="dep-report">Final report</h2>
      <div className={styles.stats}>
        {stats.map(([label, n]) => (
          <div key={label}>
            <div className="stat">{formatCount(n)}</div>
            <div className="stat-label">{label}</div>
          </div>
        ))}
      </div>
      {failures.length > 0 ? (
        <>
          <h3>Failed and expired hosts</h3>
          <ul>
            {failures.slice(0, 50).map((h) => (
              <li key={h.hostId}>
                <Link to={`/hosts/${h.hostId}`}>
                  <SafeText text={h.hostname} />
                </Link>{' '}
                <StateBadge state={h.state} /> <SafeText text={h.reason} max={300} />
                {h.code ? (
                  <>
                    {' '}
                    <code>
                      <SafeText text={h.code} />
                    </code>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
          {failures.length > 50 ? (
            <p className="muted">and {formatCount(failures.length - 50)} more: filter the hosts below by state.</p>
          ) : null}
        </>
      ) : (
        <p className="muted">No host failed.</p>
      )}
    </section>
  );
}

function hostColumns(waveName: (index: number) => string): ColumnDef<HostRow, unknown>[] {
  return [
    {
      id: 'host',
      header: 'Host',
      cell: ({ row }) => (
        <Link to={`/hosts/${row.original.hostId}`}>
          <SafeText text={row.original.hostname} max={80} />
        </Link>
      ),
    },
    {
      id: 'wave',
      header: 'Wave',
      cell: ({ row }) => (
        <span className="nowrap">
          {row.original.wave + 1} · <SafeText text={waveName(row.original.wave)} />
        </span>
      ),
    },
    { id: 'state', header: 'State', cell: ({ row }) => <StateBadge state={row.original.state} /> },
    { id: 'reason', header: 'Reason', cell: ({ row }) => <SafeText text={row.original.reason} max={200} /> },
    {
      id: 'code',
      header: 'Code',
      cell: ({ row }) =>
        row.original.code ? (
          <code>
            <SafeText text={row.original.code} />
          </code>
        ) : (
          <span className="muted">—</span>
        ),
    },
    {
      id: 'installed',
      header: 'Installed',
      cell: ({ row }) =>
        row.original.installed && row.original.installed.length > 0 ? (
          row.original.installed.map((p) => (
            <div key={`${p.name}=${p.version}`} className="mono">
              <SafeText text={p.name} /> <SafeText text={p.version} />
            </div>
          ))
        ) : (
          <span className="muted">—</span>
        ),
    },
    {
      id: 'reboot',
      header: 'Reboot required',
      cell: ({ row }) =>
        row.original.rebootRequired === null ? (
          <span className="muted">—</span>
        ) : row.original.rebootRequired ? (
          <span className="badge badge-warn">yes</span>
        ) : (
          'no'
        ),
    },
    {
      id: 'verified',
      header: 'Verified',
      cell: ({ row }) => (row.original.verified ? <span className="badge badge-ok">verified</span> : <span className="muted">no</span>),
    },
    {
      id: 'updated',
      header: 'Updated',
      cell: ({ row }) => (
        <span className="nowrap" title={formatDate(row.original.updatedAt)}>
          {formatRelative(row.original.updatedAt)}
        </span>
      ),
    },
  ];
}

function HostsSection({ d }: { d: Deployment }) {
  const [state, setState] = useState('');
  const [wave, setWave] = useState('');
  const [offset, setOffset] = useState(0);
  const names = useMemo(() => new Map(d.waves.map((w) => [w.index, w.name])), [d.waves]);
  const columns = useMemo(() => hostColumns((i) => names.get(i) ?? `wave ${i + 1}`), [names]);
  // The deployment detail holds its hosts; this narrows the one resource already fetched.
  const rows = useMemo(
    () => d.hosts.filter((h) => (state === '' || h.state === state) && (wave === '' || String(h.wave) === wave)),
    [d.hosts, state, wave],
  );
  const start = offset < rows.length ? offset : 0;
  const counts = useMemo(() => {
    const c = new Map<string, number>();
    for (const h of d.hosts) c.set(h.state, (c.get(h.state) ?? 0) + 1);
    return c;
  }, [d.hosts]);
  const exportHosts = () =>
    downloadCsv(
      'deployment-hosts.csv',
      ['host_id', 'hostname', 'wave', 'state', 'reason', 'code', 'installed', 'reboot_required', 'verified', 'updated_at'],
      rows.map((h) => [
        h.hostId,
        h.hostname,
        names.get(h.wave) ?? h.wave + 1,
        h.state,
        h.reason ?? '',
        h.code ?? '',
        (h.installed ?? []).map((p) => `${p.name}=${p.version}`).join(' '),
        h.rebootRequired === null ? '' : h.rebootRequired,
        h.verified,
        h.updatedAt ?? '',
      ]),
    );
  return (
    <section className={styles.section} aria-labelledby="dep-hosts">
      <h2 id="dep-hosts">Hosts</h2>
      <div className="toolbar">
        <label>
          Host state
          <select
            value={state}
            onChange={(e) => {
              setState(e.target.value);
              setOffset(0);
            }}
          >
            <option value="">Any state ({formatCount(d.hosts.length)})</option>
            {HOST_STATES.map((s) => (
              <option key={s} value={s}>
                {stateLabel(s)} ({formatCount(counts.get(s) ?? 0)})
              </option>
            ))}
          </select>
        </label>
        {d.waves.length > 1 ? (
          <label>
            Wave
            <select
              value={wave}
              onChange={(e) => {
                setWave(e.target.value);
                setOffset(0);
              }}
            >
              <option value="">Every wave</option>
              {d.waves.map((w) => (
                <option key={w.index} value={String(w.index)}>
                  {w.index + 1}: {w.name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <button type="button" onClick={exportHosts} disabled={rows.length === 0}>
          Export hosts CSV
        </button>
      </div>
      <DataTable
        label="Hosts in deployment"
        columns={columns}
        data={rows.slice(start, start + HOSTS_PAGE)}
        getRowId={(h) => h.hostId}
        empty={d.hosts.length === 0 ? 'No hosts are assigned yet: they are when the deployment starts.' : 'No host matches.'}
      />
      {rows.length > HOSTS_PAGE ? <Pager offset={start} limit={HOSTS_PAGE} total={rows.length} onOffsetChange={setOffset} /> : null}
    </section>
  );
}

function Timeline({ d }: { d: Deployment }) {
  const entries = d.timeline.entries;
  const inState = Object.entries(d.timeline.timeInStateMs).filter(([, ms]) => ms > 0);
  return (
    <section className={`card ${styles.section}`} aria-labelledby="dep-timeline">
      <h2 id="dep-timeline">Timeline</h2>
      {inState.length > 0 ? (
        <p className="muted">
          Time in state:{' '}
          {inState.map(([s, ms], i) => (
            <span key={s}>
              {i > 0 ? ', ' : ''}
              {stateLabel(s)} {formatDuration(ms)}
            </span>
          ))}
        </p>
      ) : null}
      {entries.length === 0 ? <p className="muted">Nothing recorded yet.</p> : null}
      <ol className={styles.timeline} aria-label="Timeline">
        {entries.map((e, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: entries are append-only and never reorder
          <li key={i}>
            <span className="muted nowrap">{formatDate(e.at)}</span>
            <span>
              <strong>
                <SafeText text={e.title} />
              </strong>
              {e.actor ? (
                <span className="muted">
                  {' '}
                  by <SafeText text={e.actor} />
                </span>
              ) : null}
              <br />
              <SafeText text={e.reason} max={500} />
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Postmortem({ d }: { d: Deployment }) {
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
  const save = useMutation({
    mutationFn: (value: string) =>
      call(api.PUT('/api/v1/deployments/{id}/postmortem', { params: { path: { id: d.id } }, body: { text: value } })),
    onSuccess: (next) => {
      client.setQueryData(deploymentKey(d.id), next);
      setEditing(false);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(text);
  };
  return (
    <section className={`card ${styles.section}`} aria-labelledby="dep-postmortem">
      <h2 id="dep-postmortem">Post-mortem</h2>
      {editing ? (
        <form className="stack" onSubmit={submit}>
          <div className={styles.field}>
            <label htmlFor={`postmortem-${d.id}`}>Post-mortem note</label>
            <textarea id={`postmortem-${d.id}`} value={text} maxLength={20_000} rows={8} onChange={(e) => setText(e.target.value)} />
          </div>
          <ErrorBox error={save.error} />
          <div className="actions">
            <button type="submit" className="primary" disabled={save.isPending}>
              Save post-mortem
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          {d.postmortem ? (
            <p className={styles.note}>
              <SafeText text={d.postmortem} />
            </p>
          ) : (
            <p className="muted">
              {isFinal(d.state) ? 'No post-mortem recorded yet.' : 'Record what happened once the deployment is done.'}
            </p>
          )}
          <Can permission="deployments:manage">
            <button
              type="button"
              onClick={() => {
                setText(d.postmortem ?? '');
                save.reset();
                setEditing(true);
              }}
            >
              Edit post-mortem
            </button>
          </Can>
        </>
      )}
    </section>
  );
}
