import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Link } from 'react-router';
import { api, call, type Json } from '../../api/client';
import { Can } from '../../auth';
import { complianceBadge } from '../../ui/badges';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { SafeText, visibleText } from '../../ui/SafeText';
import { SearchBox } from '../../ui/SearchBox';
import type { HostDetail } from './HostPage';
import { deployUpdatesHref } from './host-logic';
import { cleanText, parseOffset } from './hosts-query';

const PACKAGES_PAGE = 100;
/** The most packages one CSV export asks the server for (the API's page bound). */
const PACKAGES_CSV_MAX = 1000;
const HISTORY_PAGE = 50;
const REMEDIATIONS_PAGE = 25;

type Software = Json<'/api/v1/hosts/{id}/software', 'get'>['items'][number];
type Compliance = Json<'/api/v1/hosts/{id}/compliance', 'get'>['items'][number];
type Remediation = Json<'/api/v1/hosts/{id}/remediations', 'get'>['items'][number];
type Update = Json<'/api/v1/hosts/{id}/updates', 'get'>['items'][number];
type HistoryItem = Json<'/api/v1/hosts/{id}/history', 'get'>['items'][number];

const hostPath = (host: HostDetail) => ({ path: { id: host.id } });

const softwareColumns: ColumnDef<Software, unknown>[] = [
  { id: 'name', header: 'Package', cell: ({ row }) => <SafeText text={row.original.name} max={80} /> },
  {
    id: 'version',
    header: 'Version',
    cell: ({ row }) => (
      <span className="mono">
        <SafeText text={row.original.version} max={80} />
      </span>
    ),
  },
  { id: 'arch', header: 'Arch', cell: ({ row }) => <SafeText text={row.original.arch} max={20} /> },
  { id: 'ecosystem', header: 'Ecosystem', cell: ({ row }) => <SafeText text={row.original.ecosystem} max={20} /> },
  {
    id: 'source',
    header: 'Source',
    cell: ({ row }) =>
      row.original.source ? (
        <>
          <SafeText text={row.original.source} max={60} />
          {row.original.sourceVersion ? (
            <span className="muted mono">
              {' '}
              <SafeText text={row.original.sourceVersion} max={60} />
            </span>
          ) : null}
        </>
      ) : (
        <span className="muted">—</span>
      ),
  },
];

const SOFTWARE_CSV_COLUMNS = ['name', 'version', 'arch', 'ecosystem', 'source', 'source version'] as const;

/** Installed packages, searched and paged on the server (a host can have thousands). */
export function PackagesTab({
  host,
  q,
  offset,
  onSearch,
  onOffset,
}: {
  host: HostDetail;
  q: string;
  offset: string;
  onSearch: (q: string) => void;
  onOffset: (offset: number) => void;
}) {
  const search = cleanText(q, 200);
  const query = { limit: PACKAGES_PAGE, offset: parseOffset(offset), ...(search ? { q: search } : {}) };
  const software = useQuery({
    queryKey: ['host', host.id, 'software', query],
    queryFn: () => call(api.GET('/api/v1/hosts/{id}/software', { params: { ...hostPath(host), query } })),
    placeholderData: keepPreviousData,
  });
  const exportCsv = useMutation({
    mutationFn: () =>
      call(
        api.GET('/api/v1/hosts/{id}/software', {
          params: { ...hostPath(host), query: { limit: PACKAGES_CSV_MAX, offset: 0, ...(search ? { q: search } : {}) } },
        }),
      ),
    onSuccess: (page) =>
      downloadCsv(
        `${
          visibleText(host.hostname)
            .replace(/[^A-Za-z0-9._-]+/g, '_')
            .slice(0, 64) || 'host'
        }-packages.csv`,
        SOFTWARE_CSV_COLUMNS,
        page.items.map((s) => [s.name, s.version, s.arch, s.ecosystem, s.source ?? '', s.sourceVersion ?? ''].map(visibleText)),
      ),
  });
  const total = software.data?.total ?? 0;
  return (
    <>
      <search className="toolbar" aria-label="Package search">
        <SearchBox label="Search packages" value={q} onChange={onSearch} placeholder="Name, source or version" />
        <button type="button" onClick={() => exportCsv.mutate()} disabled={exportCsv.isPending || total === 0}>
          Export CSV
        </button>
        {total > PACKAGES_CSV_MAX ? <span className="muted">exports the first {formatCount(PACKAGES_CSV_MAX)}</span> : null}
      </search>
      {software.error ? <ErrorBox error={software.error} /> : null}
      {exportCsv.error ? <ErrorBox error={exportCsv.error} /> : null}
      <DataTable
        label="Packages"
        columns={softwareColumns}
        data={software.data?.items ?? []}
        getRowId={(s) => `${s.ecosystem}\u0000${s.name}\u0000${s.arch}\u0000${s.version}`}
        isLoading={software.isFetching}
        empty={software.isLoading ? 'Loading…' : search ? 'No package matches.' : 'The agent has not reported an inventory yet.'}
        paging={{ offset: query.offset, limit: PACKAGES_PAGE, total, onOffsetChange: onOffset }}
      />
    </>
  );
}

const complianceColumns: ColumnDef<Compliance, unknown>[] = [
  {
    id: 'policy',
    header: 'Policy',
    cell: ({ row }) => (
      <Link to={`/policies/${encodeURIComponent(row.original.policy.id)}`}>
        <SafeText text={row.original.policy.name} max={60} />
      </Link>
    ),
  },
  {
    id: 'rule',
    header: 'Rule',
    cell: ({ row }) => (
      <span className="nowrap">
        #{row.original.rule.index + 1} {row.original.rule.kind}
      </span>
    ),
  },
  {
    id: 'status',
    header: 'Status',
    cell: ({ row }) => <span className={complianceBadge(row.original.status)}>{row.original.status}</span>,
  },
  { id: 'detail', header: 'Detail', cell: ({ row }) => <SafeText text={row.original.detail} max={200} /> },
  {
    id: 'checkedAt',
    header: 'Checked',
    cell: ({ row }) => (
      <span className="nowrap" title={formatDate(row.original.checkedAt)}>
        {formatRelative(row.original.checkedAt)}
      </span>
    ),
  },
  {
    id: 'sinceAt',
    header: 'Since',
    cell: ({ row }) => <span className="nowrap">{formatDate(row.original.sinceAt)}</span>,
  },
];

/** The latest result of every policy rule on the host, and the remediations its agent attempted. */
export function ComplianceTab({ host, offset, onOffset }: { host: HostDetail; offset: string; onOffset: (offset: number) => void }) {
  const compliance = useQuery({
    queryKey: ['host', host.id, 'compliance'],
    queryFn: () => call(api.GET('/api/v1/hosts/{id}/compliance', { params: hostPath(host) })),
  });
  const query = { limit: REMEDIATIONS_PAGE, offset: parseOffset(offset) };
  const remediations = useQuery({
    queryKey: ['host', host.id, 'remediations', query],
    queryFn: () => call(api.GET('/api/v1/hosts/{id}/remediations', { params: { ...hostPath(host), query } })),
    placeholderData: keepPreviousData,
  });
  const policyNames = new Map((compliance.data?.items ?? []).map((c) => [c.policy.id, c.policy.name]));
  const remediationColumns: ColumnDef<Remediation, unknown>[] = [
    {
      id: 'receivedAt',
      header: 'When',
      cell: ({ row }) => <span className="nowrap">{formatDate(row.original.receivedAt)}</span>,
    },
    {
      id: 'policy',
      header: 'Policy',
      cell: ({ row }) => (
        <Link to={`/policies/${encodeURIComponent(row.original.policyId)}`}>
          <SafeText text={policyNames.get(row.original.policyId) ?? row.original.policyId} max={60} />
        </Link>
      ),
    },
    { id: 'rule', header: 'Rule', cell: ({ row }) => `#${row.original.rule + 1}` },
    { id: 'action', header: 'Action', cell: ({ row }) => <SafeText text={row.original.action} max={80} /> },
    {
      id: 'ok',
      header: 'Result',
      cell: ({ row }) => (row.original.ok ? <span className="badge badge-ok">ok</span> : <span className="badge badge-bad">failed</span>),
    },
    {
      id: 'change',
      header: 'Before → after',
      cell: ({ row }) => (
        <>
          <SafeText text={row.original.before} max={80} /> → <SafeText text={row.original.after} max={80} />
        </>
      ),
    },
  ];
  return (
    <>
      <h2>Policy rules</h2>
      {compliance.error ? <ErrorBox error={compliance.error} /> : null}
      <DataTable
        label="Compliance"
        columns={complianceColumns}
        data={compliance.data?.items ?? []}
        getRowId={(c) => `${c.policy.id}:${c.rule.index}`}
        isLoading={compliance.isFetching}
        empty={compliance.isLoading ? 'Loading…' : 'No policy targets this host, or its agent has not reported yet.'}
      />
      <h2>Remediations</h2>
      {remediations.error ? <ErrorBox error={remediations.error} /> : null}
      <DataTable
        label="Remediations"
        columns={remediationColumns}
        data={remediations.data?.items ?? []}
        getRowId={(r) => String(r.id)}
        isLoading={remediations.isFetching}
        empty={remediations.isLoading ? 'Loading…' : 'The agent has not remediated anything on this host.'}
        paging={{ offset: query.offset, limit: REMEDIATIONS_PAGE, total: remediations.data?.total ?? 0, onOffsetChange: onOffset }}
      />
    </>
  );
}

const updateColumns: ColumnDef<Update, unknown>[] = [
  { id: 'name', header: 'Package', cell: ({ row }) => <SafeText text={row.original.name} max={80} /> },
  {
    id: 'installed',
    header: 'Installed',
    cell: ({ row }) => (
      <span className="mono">
        <SafeText text={row.original.installedVersion ?? null} max={60} />
      </span>
    ),
  },
  {
    id: 'candidate',
    header: 'Available',
    cell: ({ row }) => (
      <span className="mono">
        <SafeText text={row.original.candidateVersion} max={60} />
      </span>
    ),
  },
  {
    id: 'security',
    header: 'Security',
    cell: ({ row }) => (row.original.security ? <span className="badge badge-bad">security</span> : <span className="muted">—</span>),
  },
  {
    id: 'origin',
    header: 'Origin',
    cell: ({ row }) => <SafeText text={[row.original.origin, row.original.suite].filter(Boolean).join(' / ') || null} max={60} />,
  },
  {
    id: 'advisories',
    header: 'Advisories',
    cell: ({ row }) => <SafeText text={(row.original.advisories ?? []).join(', ') || null} max={80} />,
  },
  {
    id: 'reboot',
    header: 'Reboot',
    cell: ({ row }) => (row.original.rebootLikely ? <span className="badge badge-warn">likely</span> : <span className="muted">—</span>),
  },
];

/** Updates the agent last reported as installable, with the link that deploys them to this host. */
export function UpdatesTab({ host }: { host: HostDetail }) {
  const updates = useQuery({
    queryKey: ['host', host.id, 'updates'],
    queryFn: () => call(api.GET('/api/v1/hosts/{id}/updates', { params: hostPath(host) })),
  });
  const items = updates.data?.items ?? [];
  const all = deployUpdatesHref(host.id, items);
  const securityItems = items.filter((u) => u.security);
  const security = securityItems.length > 0 && securityItems.length < items.length ? deployUpdatesHref(host.id, securityItems) : null;
  return (
    <>
      <div className="toolbar">
        <span className="muted">
          {updates.data?.updatesAt ? `Reported ${formatRelative(updates.data.updatesAt)}` : 'The agent has not reported updates yet.'}
        </span>
        <Can permission="deployments:manage">
          {all ? (
            <Link className="button primary" to={all}>
              Deploy updates
            </Link>
          ) : null}
          {security ? (
            <Link className="button" to={security}>
              Deploy security updates
            </Link>
          ) : null}
        </Can>
      </div>
      {updates.error ? <ErrorBox error={updates.error} /> : null}
      <DataTable
        label="Updates"
        columns={updateColumns}
        data={items}
        getRowId={(u) => `${u.manager}\u0000${u.name}\u0000${u.arch}`}
        isLoading={updates.isFetching}
        empty={updates.isLoading ? 'Loading…' : updates.data?.updatesAt ? 'No pending updates: the host is up to date.' : 'No report yet.'}
      />
    </>
  );
}

const historyBadge: Record<string, string> = {
  audit: 'badge',
  deployment: 'badge badge-info',
  remediation: 'badge badge-ok',
  quarantine: 'badge badge-bad',
};

const historyColumns: ColumnDef<HistoryItem, unknown>[] = [
  { id: 'at', header: 'When', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.at)}</span> },
  {
    id: 'kind',
    header: 'Kind',
    cell: ({ row }) => <span className={historyBadge[row.original.kind] ?? 'badge'}>{row.original.kind}</span>,
  },
  { id: 'summary', header: 'What', cell: ({ row }) => <SafeText text={row.original.summary} max={300} /> },
  { id: 'actor', header: 'By', cell: ({ row }) => <SafeText text={row.original.actor} max={60} /> },
  {
    id: 'ref',
    header: 'Ref',
    cell: ({ row }) => {
      const { kind, ref } = row.original;
      if (!ref) return <span className="muted">—</span>;
      if (kind === 'deployment')
        return (
          <Link to={`/deployments/${encodeURIComponent(ref)}`}>
            <span className="mono">{visibleText(ref).slice(0, 8)}</span>
          </Link>
        );
      return (
        <span className="mono">
          <SafeText text={ref} max={40} />
        </span>
      );
    },
  },
];

/** Everything that happened to the host, newest first, paged on the server. */
export function HistoryTab({ host, offset, onOffset }: { host: HostDetail; offset: string; onOffset: (offset: number) => void }) {
  const query = { limit: HISTORY_PAGE, offset: parseOffset(offset) };
  const history = useQuery({
    queryKey: ['host', host.id, 'history', query],
    queryFn: () => call(api.GET('/api/v1/hosts/{id}/history', { params: { ...hostPath(host), query } })),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      {history.error ? <ErrorBox error={history.error} /> : null}
      <DataTable
        label="History"
        columns={historyColumns}
        data={history.data?.items ?? []}
        isLoading={history.isFetching}
        empty={history.isLoading ? 'Loading…' : 'Nothing has happened to this host yet.'}
        paging={{ offset: query.offset, limit: HISTORY_PAGE, total: history.data?.total ?? 0, onOffsetChange: onOffset }}
      />
    </>
  );
}
