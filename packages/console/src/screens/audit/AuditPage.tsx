import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { type FormEvent, useId, useMemo, useState } from 'react';
import { api, call } from '../../api/client';
import { useCan } from '../../auth';
import { downloadCsv } from '../../ui/csv';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox } from '../../ui/ErrorBox';
import { formatCount, formatDate } from '../../ui/format';
import { SafeText } from '../../ui/SafeText';
import { useUrlState } from '../../ui/url-state';
import styles from './Audit.module.css';
import {
  AUDIT_CSV_COLUMNS,
  AUDIT_EXPORT_MAX,
  AUDIT_PAGE_SIZE,
  type AuditEntry,
  type AuditFilters,
  auditCsvFilename,
  auditCsvRows,
  auditQuery,
  detailLines,
  FILTER_KEYS,
  FILTER_MAX,
  filterProblem,
} from './audit';

const FIELD_LABELS: Record<keyof AuditFilters, { label: string; hint: string }> = {
  actor: { label: 'Actor', hint: 'user or agent:ID' },
  action: { label: 'Action', hint: 'prefix, e.g. host.' },
  target: { label: 'Target', hint: 'id or name' },
  q: { label: 'Search', hint: 'any text' },
};

function fetchAudit(filters: AuditFilters, offset: number, limit: number) {
  return call(api.GET('/api/v1/audit', { params: { query: auditQuery(filters, offset, limit) } }));
}

const columns: ColumnDef<AuditEntry, unknown>[] = [
  {
    id: 'at',
    header: 'Time',
    cell: ({ row }) => (
      <time className="nowrap" dateTime={row.original.at} title={row.original.at}>
        {formatDate(row.original.at)}
      </time>
    ),
  },
  { id: 'actor', header: 'Actor', cell: ({ row }) => <SafeText text={row.original.actor} max={80} /> },
  {
    id: 'action',
    header: 'Action',
    cell: ({ row }) => (
      <span className="mono nowrap">
        <SafeText text={row.original.action} max={80} />
      </span>
    ),
  },
  {
    id: 'target',
    header: 'Target',
    cell: ({ row }) => (
      <span className="mono">
        <SafeText text={row.original.target} max={80} />
      </span>
    ),
  },
  { id: 'detail', header: 'Detail', cell: ({ row }) => <Detail detail={row.original.detail} /> },
];

/** Untrusted JSON as text: one `key: value` line per field, each through SafeText. */
export function Detail({ detail }: { detail: unknown }) {
  const lines = detailLines(detail);
  if (lines.length === 0) return <span className="muted">—</span>;
  return (
    <div className={styles.detail}>
      {lines.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the lines of one entry never reorder
        <div key={i}>
          <SafeText text={line} max={300} />
        </div>
      ))}
    </div>
  );
}

export function AuditPage() {
  const can = useCan();
  const [state, setState] = useUrlState({ actor: '', action: '', target: '', q: '', offset: '0' });
  const filters: AuditFilters = { actor: state.actor, action: state.action, target: state.target, q: state.q };
  const offset = Math.max(0, Number.parseInt(state.offset, 10) || 0);

  const page = useQuery({
    queryKey: ['audit', filters, offset, AUDIT_PAGE_SIZE],
    queryFn: () => fetchAudit(filters, offset, AUDIT_PAGE_SIZE),
    placeholderData: keepPreviousData,
    enabled: can('audit:read'),
  });

  const exportAll = useMutation({
    mutationFn: () => fetchAudit(filters, 0, AUDIT_EXPORT_MAX),
    onSuccess: (data) => downloadCsv(auditCsvFilename(new Date()), AUDIT_CSV_COLUMNS, auditCsvRows(data.items)),
  });

  const items = page.data?.items ?? [];
  const total = page.data?.total ?? 0;

  return (
    <>
      <div className="page-header">
        <h1>Audit log</h1>
        <div className="actions">
          <button
            type="button"
            disabled={items.length === 0}
            onClick={() => downloadCsv(auditCsvFilename(new Date()), AUDIT_CSV_COLUMNS, auditCsvRows(items))}
          >
            Export page (CSV)
          </button>
          <button type="button" disabled={total === 0 || exportAll.isPending} onClick={() => exportAll.mutate()}>
            {exportAll.isPending ? 'Exporting…' : `Export up to ${formatCount(AUDIT_EXPORT_MAX)} rows (CSV)`}
          </button>
        </div>
      </div>
      {can('audit:read') ? null : <p className="notice">Your role cannot read the audit log.</p>}
      <FilterForm
        // A new URL (back button, a shared link) resets what the fields show.
        key={FILTER_KEYS.map((k) => filters[k]).join('\u0000')}
        initial={filters}
        onApply={(next) => setState(next)}
      />
      <ErrorBox error={exportAll.error} />
      <ErrorBox error={page.error} />
      <DataTable
        label="Audit log"
        columns={columns}
        data={items}
        getRowId={(e) => String(e.id)}
        isLoading={page.isFetching}
        empty={page.isLoading ? 'Loading…' : 'No audit entries match.'}
        paging={{
          offset,
          limit: AUDIT_PAGE_SIZE,
          total,
          onOffsetChange: (next) => setState({ offset: String(next) }),
        }}
      />
    </>
  );
}

function FilterForm({ initial, onApply }: { initial: AuditFilters; onApply: (filters: AuditFilters) => void }) {
  const id = useId();
  const [draft, setDraft] = useState<AuditFilters>(initial);
  const problems = useMemo(() => {
    const out: Partial<Record<keyof AuditFilters, string>> = {};
    for (const k of FILTER_KEYS) {
      const p = filterProblem(draft[k]);
      if (p) out[k] = p;
    }
    return out;
  }, [draft]);
  const invalid = Object.keys(problems).length > 0;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (invalid) return;
    onApply({ actor: draft.actor.trim(), action: draft.action.trim(), target: draft.target.trim(), q: draft.q.trim() });
  };
  const clear = () => {
    const empty = { actor: '', action: '', target: '', q: '' };
    setDraft(empty);
    onApply(empty);
  };
  return (
    <form className="toolbar" onSubmit={submit} aria-label="Filter audit log">
      {FILTER_KEYS.map((k) => (
        <div key={k} className={styles.filter}>
          <label htmlFor={`${id}-${k}`}>{FIELD_LABELS[k].label}</label>
          <input
            id={`${id}-${k}`}
            name={k}
            type={k === 'q' ? 'search' : 'text'}
            value={draft[k]}
            maxLength={FILTER_MAX}
            placeholder={FIELD_LABELS[k].hint}
            aria-invalid={problems[k] ? 'true' : undefined}
            aria-describedby={problems[k] ? `${id}-${k}-problem` : undefined}
            onChange={(e) => setDraft({ ...draft, [k]: e.target.value })}
          />
          {problems[k] ? (
            <span id={`${id}-${k}-problem`} className={styles.problem}>
              {problems[k]}
            </span>
          ) : null}
        </div>
      ))}
      <button type="submit" className="primary" disabled={invalid}>
        Apply filters
      </button>
      <button type="button" onClick={clear}>
        Clear
      </button>
    </form>
  );
}
