import { useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useParams } from 'react-router';
import { api, call, type Json } from '../../api/client';
import { DataTable } from '../../ui/DataTable';
import { QueryState } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { SafeText } from '../../ui/SafeText';
import { useUrlState } from '../../ui/url-state';
import { FindingsTab } from './FindingsTab';
import { HostActions, HostSettings } from './HostActions';
import { ComplianceTab, HistoryTab, PackagesTab, UpdatesTab } from './HostTabs';
import { HOST_TABS, hardwareLines, parseTab, quarantineBadge } from './host-logic';
import { hostStatusBadge } from './hosts-query';

export type HostDetail = Json<'/api/v1/hosts/{id}', 'get'>;
export type Quarantine = Json<'/api/v1/hosts/{id}/quarantine', 'get'>;
type Interface = NonNullable<HostDetail['facts']>['network'][number];

/** Query keys of one host's data: invalidating ['host', id] refreshes all of it. */
export const hostKey = (id: string) => ['host', id] as const;

const HOST_URL_DEFAULTS = { tab: 'packages', q: '', offset: '0' };

const interfaceColumns: ColumnDef<Interface, unknown>[] = [
  { id: 'name', header: 'Interface', cell: ({ row }) => <SafeText text={row.original.name} max={40} /> },
  {
    id: 'mac',
    header: 'MAC',
    cell: ({ row }) => (
      <span className="mono">
        <SafeText text={row.original.mac ?? null} />
      </span>
    ),
  },
  { id: 'ipv4', header: 'IPv4', cell: ({ row }) => <AddressList addresses={row.original.ipv4} /> },
  { id: 'ipv6', header: 'IPv6', cell: ({ row }) => <AddressList addresses={row.original.ipv6} /> },
];

function AddressList({ addresses }: { addresses: readonly string[] }) {
  if (addresses.length === 0) return <span className="muted">—</span>;
  return (
    <span className="mono">
      {addresses.slice(0, 8).map((a, i) => (
        <span key={a}>
          {i > 0 ? ', ' : ''}
          <SafeText text={a} max={64} />
        </span>
      ))}
      {addresses.length > 8 ? <span className="muted"> +{addresses.length - 8}</span> : null}
    </span>
  );
}

/** One host: its facts, what an operator can do to it, and its inventory, findings, compliance, updates and history. */
export function HostPage() {
  const { id = '' } = useParams();
  const [state, setState] = useUrlState(HOST_URL_DEFAULTS);
  const tab = parseTab(state.tab);
  const host = useQuery({
    queryKey: hostKey(id),
    queryFn: () => call(api.GET('/api/v1/hosts/{id}', { params: { path: { id } } })),
  });
  const quarantine = useQuery({
    queryKey: [...hostKey(id), 'quarantine'],
    queryFn: () => call(api.GET('/api/v1/hosts/{id}/quarantine', { params: { path: { id } } })),
    enabled: host.isSuccess,
  });

  const h = host.data;
  if (!h)
    return (
      <>
        <h1>Host</h1>
        <QueryState isLoading={host.isLoading} error={host.error} />
      </>
    );

  const facts = h.facts;
  const q = quarantine.data;
  return (
    <>
      <div className="page-header">
        <h1>
          <SafeText text={h.hostname} max={120} />
        </h1>
        <HostActions host={h} quarantine={q} />
      </div>
      <div className="grid-2">
        <section className="card" aria-label="Facts">
          <h2>Facts</h2>
          <dl className="kv">
            <dt>Status</dt>
            <dd>
              <span className={hostStatusBadge(h.status)}>{h.status}</span>
            </dd>
            <dt>Online</dt>
            <dd>{h.online ? <span className="badge badge-ok">online</span> : <span className="muted">offline</span>}</dd>
            <dt>Last seen</dt>
            <dd title={formatDate(h.lastSeenAt)}>{formatRelative(h.lastSeenAt)}</dd>
            <dt>OS</dt>
            <dd>
              <SafeText text={[h.os.distro, h.os.release, h.os.codename ? `(${h.os.codename})` : ''].filter(Boolean).join(' ') || null} />
              {h.os.platform ? (
                <span className="muted">
                  {' · '}
                  <SafeText text={h.os.platform} />
                </span>
              ) : null}
            </dd>
            <dt>Kernel</dt>
            <dd>
              <SafeText text={h.os.kernel} />
            </dd>
            <dt>Architecture</dt>
            <dd>
              <SafeText text={h.os.arch} />
            </dd>
            <dt>Hardware</dt>
            <dd>
              {hardwareLines(facts?.hardware).length === 0 ? (
                <span className="muted">—</span>
              ) : (
                hardwareLines(facts?.hardware).map((line) => (
                  <div key={line}>
                    <SafeText text={line} max={120} />
                  </div>
                ))
              )}
            </dd>
            <dt>Agent</dt>
            <dd>
              <SafeText text={facts?.agentVersion ?? null} />
            </dd>
            <dt>Site</dt>
            <dd>
              <SafeText text={h.site} />
            </dd>
            <dt>Groups</dt>
            <dd>
              {h.groups.length === 0 ? (
                <span className="muted">—</span>
              ) : (
                h.groups.map((g, i) => (
                  <span key={g}>
                    {i > 0 ? ', ' : ''}
                    <SafeText text={g} />
                  </span>
                ))
              )}
            </dd>
            <dt>Risk tier</dt>
            <dd>
              {h.tier} <span className="muted">{h.riskTier === null ? '(from its groups)' : '(set on the host)'}</span>
            </dd>
            <dt>Packages</dt>
            <dd>
              {formatCount(h.packageCount)}
              {h.inventoryAt ? <span className="muted"> (inventory {formatRelative(h.inventoryAt)})</span> : null}
            </dd>
            <dt>Open findings</dt>
            <dd>{formatCount(h.openFindings)}</dd>
            <dt>Enrolled</dt>
            <dd>{formatDate(h.enrolledAt)}</dd>
            <dt>Quarantine</dt>
            <dd>
              {q && q.state !== 'none' ? (
                <>
                  <span className={quarantineBadge(q.state)}>
                    {q.action === 'release' && q.state === 'released' ? 'released' : q.state}
                  </span>{' '}
                  {q.reason ? <SafeText text={q.reason} max={120} /> : null}
                  {q.detail ? (
                    <span className="muted">
                      {' '}
                      (<SafeText text={q.detail} max={200} />)
                    </span>
                  ) : null}
                </>
              ) : (
                <span className="muted">not quarantined</span>
              )}
            </dd>
          </dl>
        </section>
        <div className="stack">
          <section aria-label="Network interfaces">
            <h2>Network interfaces</h2>
            <DataTable
              label="Network interfaces"
              columns={interfaceColumns}
              data={facts?.network ?? []}
              empty="The agent has not reported its interfaces yet."
            />
          </section>
          <HostSettings key={h.id} host={h} />
        </div>
      </div>

      <div className="tabs" role="tablist" aria-label="Host details">
        {HOST_TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`host-tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls="host-tabpanel"
            onClick={() => setState({ tab: t.id, q: '' })}
          >
            {t.name}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="host-tabpanel" aria-labelledby={`host-tab-${tab}`}>
        {tab === 'packages' ? (
          <PackagesTab
            host={h}
            q={state.q}
            offset={state.offset}
            onSearch={(value) => setState({ q: value })}
            onOffset={(offset) => setState({ offset: String(offset) })}
          />
        ) : tab === 'findings' ? (
          <FindingsTab host={h} />
        ) : tab === 'compliance' ? (
          <ComplianceTab host={h} offset={state.offset} onOffset={(offset) => setState({ offset: String(offset) })} />
        ) : tab === 'updates' ? (
          <UpdatesTab host={h} />
        ) : (
          <HistoryTab host={h} offset={state.offset} onOffset={(offset) => setState({ offset: String(offset) })} />
        )}
      </div>
    </>
  );
}
