import { useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { api, call, type Json } from '../../api/client';
import { severityBadge } from '../../ui/badges';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatDate, formatRelative } from '../../ui/format';
import { SafeText, visibleText } from '../../ui/SafeText';
import styles from './Host.module.css';
import type { HostDetail } from './HostPage';

type Finding = Json<'/api/v1/hosts/{id}/vulnerabilities', 'get'>['items'][number];
type Explanation = Finding['explanation'];

interface Selected {
  record: string;
  package: string;
}

const findingKey = (f: { id: string; package: string }) => `${f.id}\u0000${f.package}`;

/** The host's findings; "Explain" opens why the host is affected (GET /hosts/{id}/vulnerabilities/{record}). */
export function FindingsTab({ host }: { host: HostDetail }) {
  const [closed, setClosed] = useState(false);
  const [selected, setSelected] = useState<Selected | null>(null);
  const findings = useQuery({
    queryKey: ['host', host.id, 'findings', { closed }],
    queryFn: () =>
      call(api.GET('/api/v1/hosts/{id}/vulnerabilities', { params: { path: { id: host.id }, query: closed ? { closed: true } : {} } })),
  });
  const items = findings.data?.items ?? [];
  const open = selected ? items.find((f) => f.id === selected.record && f.package === selected.package) : undefined;

  const columns: ColumnDef<Finding, unknown>[] = [
    {
      id: 'record',
      header: 'Record',
      cell: ({ row }) => (
        <Link to={`/vulnerabilities/${encodeURIComponent(row.original.id)}`} className="nowrap">
          <SafeText text={row.original.id} max={40} />
        </Link>
      ),
    },
    { id: 'package', header: 'Package', cell: ({ row }) => <SafeText text={row.original.package} max={60} /> },
    {
      id: 'installed',
      header: 'Installed',
      cell: ({ row }) => (
        <span className="mono">
          <SafeText text={row.original.installedVersion} max={60} />
        </span>
      ),
    },
    {
      id: 'fixed',
      header: 'Fixed in',
      cell: ({ row }) =>
        row.original.fixedVersion ? (
          <span className="mono">
            <SafeText text={row.original.fixedVersion} max={60} />
          </span>
        ) : (
          <span className="muted">no fix</span>
        ),
    },
    {
      id: 'severity',
      header: 'Severity',
      cell: ({ row }) => (
        <span className={severityBadge(row.original.severity)} title={visibleText(row.original.severityDetail)}>
          {visibleText(row.original.severity)}
        </span>
      ),
    },
    { id: 'tier', header: 'Tier', cell: ({ row }) => row.original.riskTier },
    {
      id: 'due',
      header: 'Due',
      cell: ({ row }) => {
        const f = row.original;
        if (f.closedAt)
          return (
            <span className="nowrap">
              <span className="badge badge-ok">closed</span> {formatDate(f.closedAt)}
            </span>
          );
        return (
          <span className="nowrap" title={formatDate(f.dueAt)}>
            {f.overdue ? <span className="badge badge-bad">overdue</span> : null} {formatRelative(f.dueAt)}
          </span>
        );
      },
    },
    {
      id: 'explain',
      header: '',
      cell: ({ row }) => {
        const f = row.original;
        const isOpen = selected !== null && selected.record === f.id && selected.package === f.package;
        return (
          <button
            type="button"
            aria-expanded={isOpen}
            aria-controls="finding-explanation"
            aria-label={`${isOpen ? 'Hide' : 'Explain'} ${visibleText(f.id)} in ${visibleText(f.package)}`}
            onClick={() => setSelected(isOpen ? null : { record: f.id, package: f.package })}
          >
            {isOpen ? 'Hide' : 'Explain'}
          </button>
        );
      },
    },
  ];

  return (
    <>
      <div className="toolbar">
        <label className={styles.check}>
          <input type="checkbox" checked={closed} onChange={(e) => setClosed(e.target.checked)} /> Include closed findings
        </label>
      </div>
      {findings.error ? <ErrorBox error={findings.error} /> : null}
      {selected ? <ExplanationPanel hostId={host.id} selected={selected} finding={open} onClose={() => setSelected(null)} /> : null}
      <DataTable
        label="Findings"
        columns={columns}
        data={items}
        getRowId={findingKey}
        isLoading={findings.isFetching}
        empty={findings.isLoading ? 'Loading…' : closed ? 'No findings on this host.' : 'No open findings on this host.'}
      />
    </>
  );
}

function ExplanationPanel({
  hostId,
  selected,
  finding,
  onClose,
}: {
  hostId: string;
  selected: Selected;
  finding: Finding | undefined;
  onClose: () => void;
}) {
  const explain = useQuery({
    queryKey: ['host', hostId, 'explain', selected.record],
    queryFn: () =>
      call(api.GET('/api/v1/hosts/{id}/vulnerabilities/{record}', { params: { path: { id: hostId, record: selected.record } } })),
  });
  const ref = useRef<HTMLElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when another finding is opened
  useEffect(() => {
    ref.current?.scrollIntoView?.({ block: 'nearest' });
  }, [selected.record, selected.package]);

  const data = explain.data;
  const record = data?.records.find((r) => r.id === selected.record || r.aliases.includes(selected.record));
  const fromServer = data?.findings.find((f) => f.package === selected.package);
  const e: Explanation | undefined = fromServer?.explanation ?? finding?.explanation;
  const notAffected = (data?.notAffected ?? []).filter((n) => n.record === selected.record);
  return (
    <section ref={ref} id="finding-explanation" className="card" aria-label={`Explanation of ${visibleText(selected.record)}`}>
      <div className="page-header">
        <h3>
          Why <SafeText text={selected.record} /> affects <SafeText text={selected.package} />
        </h3>
        <div className="actions">
          <Link to={`/vulnerabilities/${encodeURIComponent(selected.record)}`}>
            Open <SafeText text={selected.record} />
          </Link>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
      <QueryState isLoading={explain.isLoading && !e} error={explain.error} />
      {record?.summary ? (
        <p>
          <SafeText text={record.summary} max={500} />
        </p>
      ) : null}
      {e ? (
        <dl className="kv">
          <dt>Record</dt>
          <dd>
            <SafeText text={e.record} /> <span className="muted">({visibleText(e.source)})</span>
            {record && record.aliases.length > 0 ? (
              <span className="muted">
                {' '}
                also <SafeText text={record.aliases.join(', ')} max={200} />
              </span>
            ) : null}
            {record?.withdrawn ? <span className="badge badge-warn"> withdrawn {formatDate(record.withdrawn)}</span> : null}
          </dd>
          <dt>Package</dt>
          <dd>
            <SafeText text={e.package} /> <span className="muted">({visibleText(e.ecosystem)})</span>
          </dd>
          <dt>Matched by</dt>
          <dd>
            <SafeText text={e.matchedBy} />
          </dd>
          <dt>Affected range</dt>
          <dd className="mono">
            <SafeText text={e.range} max={500} />
          </dd>
          <dt>Compared version</dt>
          <dd className="mono">
            <SafeText text={e.comparedVersion} />
          </dd>
          <dt>Deciding comparison</dt>
          <dd className="mono">
            <SafeText text={e.decision} max={500} />
          </dd>
          <dt>Fix</dt>
          <dd>
            {e.fixedVersion ? (
              <>
                upgrade to{' '}
                <span className="mono">
                  <SafeText text={e.fixedVersion} />
                </span>{' '}
                or later
              </>
            ) : e.endOfLife ? (
              <span className="badge badge-bad">no fix: end of life</span>
            ) : (
              <span className="muted">no fixed version published yet</span>
            )}
          </dd>
        </dl>
      ) : null}
      {notAffected.length > 0 ? (
        <>
          <h3>Not affected</h3>
          <ul>
            {notAffected.slice(0, 20).map((n) => (
              <li key={`${n.package}\u0000${n.installedVersion}`}>
                <SafeText text={n.package} />{' '}
                <span className="mono">
                  <SafeText text={n.installedVersion} />
                </span>
                : <SafeText text={n.reason} max={300} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
