import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Link } from 'react-router';
import { api, call, type Json } from '../../api/client';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { HostLink } from '../../ui/links';
import { SafeText, visibleText } from '../../ui/SafeText';
import { SearchBox } from '../../ui/SearchBox';
import { useUrlState } from '../../ui/url-state';
import {
  HOST_STATUSES,
  HOSTS_CSV_COLUMNS,
  HOSTS_PAGE_SIZE,
  HOSTS_SORTABLE,
  HOSTS_URL_DEFAULTS,
  hasFilters,
  hostStatusBadge,
  hostsCsvRows,
  hostsQuery,
  osLabel,
} from './hosts-query';

type Host = Json<'/api/v1/hosts', 'get'>['items'][number];
type Facets = Json<'/api/v1/hosts/facets', 'get'>;

const MAX_GROUPS_SHOWN = 3;

export const hostColumns: ColumnDef<Host, unknown>[] = [
  {
    id: 'hostname',
    header: 'Hostname',
    cell: ({ row }) => <HostLink id={row.original.id} hostname={row.original.hostname} max={64} />,
  },
  {
    id: 'status',
    header: 'Status',
    cell: ({ row }) => <span className={hostStatusBadge(row.original.status)}>{row.original.status}</span>,
  },
  {
    id: 'online',
    header: 'Online',
    cell: ({ row }) => (row.original.online ? <span className="badge badge-ok">online</span> : <span className="muted">offline</span>),
  },
  { id: 'os', header: 'OS', cell: ({ row }) => <SafeText text={osLabel(row.original.os) || null} max={40} /> },
  { id: 'site', header: 'Site', cell: ({ row }) => <SafeText text={row.original.site} max={40} /> },
  {
    id: 'groups',
    header: 'Groups',
    cell: ({ row }) => {
      const groups = row.original.groups;
      if (groups.length === 0) return <span className="muted">—</span>;
      return (
        <span title={groups.map(visibleText).join(', ')}>
          {groups.slice(0, MAX_GROUPS_SHOWN).map((g, i) => (
            <span key={g}>
              {i > 0 ? ', ' : ''}
              <SafeText text={g} max={30} />
            </span>
          ))}
          {groups.length > MAX_GROUPS_SHOWN ? <span className="muted"> +{groups.length - MAX_GROUPS_SHOWN}</span> : null}
        </span>
      );
    },
  },
  { id: 'tier', header: 'Tier', cell: ({ row }) => row.original.tier },
  {
    id: 'openFindings',
    header: 'Open findings',
    cell: ({ row }) =>
      row.original.openFindings > 0 ? (
        <Link to={`/hosts/${encodeURIComponent(row.original.id)}?tab=findings`}>{formatCount(row.original.openFindings)}</Link>
      ) : (
        <span className="muted">0</span>
      ),
  },
  { id: 'packages', header: 'Packages', cell: ({ row }) => formatCount(row.original.packageCount) },
  {
    id: 'lastSeenAt',
    header: 'Last seen',
    cell: ({ row }) => (
      <span className="nowrap" title={formatDate(row.original.lastSeenAt)}>
        {formatRelative(row.original.lastSeenAt)}
      </span>
    ),
  },
];

/** The fleet, one server page at a time: search, filters and sorting are all done by the server. */
export function HostsPage() {
  const [state, setState] = useUrlState(HOSTS_URL_DEFAULTS);
  const query = hostsQuery(state);
  const hosts = useQuery({
    queryKey: ['hosts', 'list', query],
    queryFn: () => call(api.GET('/api/v1/hosts', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const facets = useQuery({
    queryKey: ['hosts', 'facets'],
    queryFn: () => call(api.GET('/api/v1/hosts/facets')),
    staleTime: 60_000,
  });
  const items = hosts.data?.items ?? [];

  return (
    <>
      <div className="page-header">
        <h1>Hosts</h1>
        <div className="actions">
          <button
            type="button"
            disabled={items.length === 0}
            onClick={() =>
              downloadCsv(`hosts-${query.offset + 1}-${query.offset + items.length}.csv`, HOSTS_CSV_COLUMNS, hostsCsvRows(items))
            }
          >
            Export CSV
          </button>
        </div>
      </div>
      <search className="toolbar" aria-label="Host filters">
        <SearchBox label="Search" value={state.q} onChange={(q) => setState({ q })} placeholder="Hostname" />
        <FacetSelect label="Site" value={state.site} options={facets.data?.sites} onChange={(site) => setState({ site })} />
        <FacetSelect label="Group" value={state.group} options={facets.data?.groups} onChange={(group) => setState({ group })} />
        <FacetSelect label="OS" value={state.os} options={facets.data?.os} onChange={(os) => setState({ os })} />
        <label>
          Tier
          <select value={state.tier} onChange={(e) => setState({ tier: e.target.value })}>
            <option value="">Any</option>
            {[5, 4, 3, 2, 1].map((t) => (
              <option key={t} value={String(t)}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={state.status} onChange={(e) => setState({ status: e.target.value })}>
            <option value="">Any</option>
            {HOST_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Online
          <select value={state.online} onChange={(e) => setState({ online: e.target.value })}>
            <option value="">Any</option>
            <option value="true">Online</option>
            <option value="false">Offline</option>
          </select>
        </label>
        {hasFilters(state) ? (
          <button type="button" onClick={() => setState({ q: '', site: '', group: '', os: '', tier: '', status: '', online: '' })}>
            Clear filters
          </button>
        ) : null}
      </search>
      {hosts.error ? <ErrorBox error={hosts.error} /> : null}
      {facets.error ? <ErrorBox error={facets.error} /> : null}
      <DataTable
        label="Hosts"
        columns={hostColumns}
        data={items}
        getRowId={(h) => h.id}
        isLoading={hosts.isFetching}
        empty={
          hosts.isLoading
            ? 'Loading…'
            : hasFilters(state)
              ? 'No host matches these filters.'
              : 'No hosts yet. Enrol an agent: Settings → Join tokens.'
        }
        paging={{
          offset: query.offset,
          limit: HOSTS_PAGE_SIZE,
          total: hosts.data?.total ?? 0,
          onOffsetChange: (offset) => setState({ offset: String(offset) }),
        }}
        sort={{
          sortable: HOSTS_SORTABLE,
          by: query.sort ?? 'hostname',
          order: query.order ?? 'asc',
          onChange: (sort, order) => setState({ sort, order }),
        }}
      />
    </>
  );
}

/** A filter filled from GET /api/v1/hosts/facets; a value in the URL that is not a facet still shows. */
function FacetSelect({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string;
  options: Facets['sites'] | undefined;
  onChange: (value: string) => void;
}) {
  const list = options ?? [];
  const known = value === '' || list.some((o) => o.name === value);
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        {known ? null : <option value={value}>{visibleText(value)}</option>}
        {list.map((o) => (
          <option key={o.name} value={o.name}>
            {visibleText(o.name)} ({formatCount(o.count)})
          </option>
        ))}
      </select>
    </label>
  );
}
