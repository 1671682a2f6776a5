import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, call } from '../../api/client';
import { Can } from '../../auth';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatCount } from '../../ui/format';
import { SafeText, visibleText } from '../../ui/SafeText';
import { useUrlState } from '../../ui/url-state';
import { useDebounced } from '../../ui/use-debounced';
import styles from '../deployments/Deployments.module.css';
import { type CatalogueEntry, deployTarget, entryKey } from './selection';

const LIMIT = 50;
/** The bounded server query a CSV export makes (the API's largest page). */
const EXPORT_LIMIT = 1000;

const CSV_COLUMNS = [
  'ecosystem',
  'manager',
  'kind',
  'name',
  'candidate_version',
  'security',
  'hosts',
  'origins',
  'advisories',
  'reboot_likely',
  'title',
];

function csvRow(e: CatalogueEntry): unknown[] {
  return [
    e.ecosystem,
    e.manager,
    e.kind,
    e.name,
    e.candidateVersion,
    e.security,
    e.hostCount,
    e.suites.join(' '),
    e.advisories.join(' '),
    e.rebootLikely,
    e.title ?? '',
  ];
}

export function PatchesPage() {
  const navigate = useNavigate();
  const [state, setState] = useUrlState({ q: '', security: '', offset: '0' });
  const [search, setSearch] = useState(state.q);
  const q = useDebounced(search.trim());
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a settled search changes the URL
  useEffect(() => {
    if (q !== state.q) setState({ q });
  }, [q]);
  const offset = Math.max(0, Number.parseInt(state.offset, 10) || 0);
  const securityOnly = state.security === '1';
  const query = { limit: LIMIT, offset, ...(state.q ? { q: state.q } : {}), ...(securityOnly ? { security: true } : {}) };
  const list = useQuery({
    queryKey: ['patches', 'catalogue', query],
    queryFn: () => call(api.GET('/api/v1/patches', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  // Selected rows survive paging and searching: a deployment may gather packages from several pages.
  const [selected, setSelected] = useState<Map<string, CatalogueEntry>>(new Map());
  const [atLeast, setAtLeast] = useState(false);
  const [exporting, setExporting] = useState<unknown>(null);
  const items = list.data?.items ?? [];

  const toggle = (e: CatalogueEntry, on: boolean) =>
    setSelected((prev) => {
      const next = new Map(prev);
      if (on) next.set(entryKey(e), e);
      else next.delete(entryKey(e));
      return next;
    });
  const pageKeys = items.map(entryKey);
  const allOnPage = pageKeys.length > 0 && pageKeys.every((k) => selected.has(k));

  const columns: ColumnDef<CatalogueEntry, unknown>[] = [
    {
      id: 'select',
      header: () => (
        <input
          type="checkbox"
          aria-label="Select all on this page"
          checked={allOnPage}
          onChange={(ev) => {
            for (const e of items) toggle(e, ev.target.checked);
          }}
        />
      ),
      cell: ({ row }) => (
        <input
          type="checkbox"
          aria-label={`Select ${visibleText(row.original.name)} ${visibleText(row.original.candidateVersion)}`}
          checked={selected.has(entryKey(row.original))}
          onChange={(ev) => toggle(row.original, ev.target.checked)}
        />
      ),
    },
    {
      id: 'name',
      header: 'Package',
      cell: ({ row }) => (
        <>
          <code>
            <SafeText text={row.original.name} max={80} />
          </code>
          {row.original.title ? (
            <div className="muted">
              <SafeText text={row.original.title} max={120} />
            </div>
          ) : null}
        </>
      ),
    },
    { id: 'version', header: 'Candidate version', cell: ({ row }) => <SafeText text={row.original.candidateVersion} max={60} /> },
    { id: 'hosts', header: 'Hosts', cell: ({ row }) => formatCount(row.original.hostCount) },
    {
      id: 'origin',
      header: 'Origin',
      cell: ({ row }) => (
        <>
          {row.original.security ? <span className="badge badge-bad">security</span> : null}{' '}
          {row.original.suites.map((s) => (
            <span key={s} className="badge">
              <SafeText text={s} max={40} />
            </span>
          ))}
        </>
      ),
    },
    {
      id: 'advisories',
      header: 'Advisories',
      cell: ({ row }) =>
        row.original.advisories.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <SafeText text={row.original.advisories.join(', ')} max={80} />
        ),
    },
    {
      id: 'reboot',
      header: 'Reboot',
      cell: ({ row }) => (row.original.rebootLikely ? <span className="badge badge-warn">likely</span> : <span className="muted">—</span>),
    },
    {
      id: 'ecosystem',
      header: 'Ecosystem',
      cell: ({ row }) => (
        <span className="nowrap">
          <SafeText text={row.original.ecosystem} />{' '}
          <span className="muted">
            (<SafeText text={row.original.manager} />)
          </span>
        </span>
      ),
    },
  ];

  const target = deployTarget([...selected.values()], { atLeast });

  const exportCsv = async () => {
    setExporting(null);
    try {
      const all = await call(
        api.GET('/api/v1/patches', {
          params: {
            query: { limit: EXPORT_LIMIT, offset: 0, ...(state.q ? { q: state.q } : {}), ...(securityOnly ? { security: true } : {}) },
          },
        }),
      );
      downloadCsv('patches.csv', CSV_COLUMNS, all.items.map(csvRow));
    } catch (err) {
      setExporting(err);
    }
  };

  return (
    <>
      <div className="page-header">
        <h1>Patches</h1>
        <div className="actions">
          <button type="button" onClick={() => void exportCsv()} disabled={(list.data?.total ?? 0) === 0}>
            Export CSV
          </button>
        </div>
      </div>
      <p className="muted">Updates the fleet's agents report as pending, one row per package and candidate version.</p>
      <div className="toolbar">
        <label>
          Search
          <input
            type="search"
            value={search}
            maxLength={200}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="Package, title or advisory"
          />
        </label>
        <label className={styles.check}>
          <input type="checkbox" checked={securityOnly} onChange={(e) => setState({ security: e.target.checked ? '1' : '' })} /> Security
          updates only
        </label>
      </div>
      <Can permission="deployments:manage">
        <div className="toolbar">
          <span>
            {formatCount(selected.size)} selected{' '}
            {selected.size > 0 ? (
              <button type="button" className="link-button" onClick={() => setSelected(new Map())}>
                (clear)
              </button>
            ) : null}
          </span>
          <label className={styles.check}>
            <input type="checkbox" checked={atLeast} onChange={(e) => setAtLeast(e.target.checked)} /> Require at least the selected
            versions
          </label>
          <button type="button" className="primary" disabled={!target.ok} onClick={() => target.ok && navigate(target.href)}>
            Deploy selected
          </button>
          {!target.ok && selected.size > 0 ? (
            <span className="error-box">
              <SafeText text={target.reason} />
            </span>
          ) : null}
        </div>
      </Can>
      <ErrorBox error={exporting} />
      <QueryState isLoading={list.isLoading} error={list.error} />
      <DataTable
        label="Patches"
        columns={columns}
        data={items}
        getRowId={entryKey}
        isLoading={list.isFetching}
        empty={state.q || securityOnly ? 'No pending update matches.' : 'No pending updates reported.'}
        paging={{ offset, limit: LIMIT, total: list.data?.total ?? 0, onOffsetChange: (o) => setState({ offset: String(o) }) }}
      />
    </>
  );
}
