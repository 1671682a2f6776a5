import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { type FormEvent, useReducer, useRef, useState } from 'react';
import { ApiError, api, call } from '../../api/client';
import { Can } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { QueryState } from '../../ui/ErrorBox';
import { formatBytes, formatCount, formatDate } from '../../ui/format';
import { SafeText } from '../../ui/SafeText';
import { type FeedKindChoice, uploadFeed } from './import-upload';
import { countsText, type ImportRun } from './model';
import { type ImportEvent, type ImportState, type ImportSummary, INITIAL_IMPORT, reduceImport } from './ndjson';
import styles from './Vulns.module.css';

type Action = { type: 'start' } | { type: 'event'; event: ImportEvent } | { type: 'reset' };

function reducer(state: ImportState, action: Action): ImportState {
  switch (action.type) {
    case 'start':
      return { ...INITIAL_IMPORT, phase: 'uploading' };
    case 'reset':
      return INITIAL_IMPORT;
    case 'event':
      return reduceImport(state, action.event);
  }
}

const runColumns: ColumnDef<ImportRun, unknown>[] = [
  { id: 'started', header: 'Started', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.startedAt)}</span> },
  { id: 'kind', header: 'Kind', cell: ({ row }) => <SafeText text={row.original.kind} /> },
  {
    id: 'location',
    header: 'Location',
    cell: ({ row }) => (
      <span className="mono">
        <SafeText text={row.original.location} max={80} />
      </span>
    ),
  },
  {
    id: 'actor',
    header: 'By',
    cell: ({ row }) => (
      <span className="nowrap">
        <SafeText text={row.original.actor} />
      </span>
    ),
  },
  {
    id: 'finished',
    header: 'Finished',
    cell: ({ row }) =>
      row.original.finishedAt ? (
        <span className="nowrap">{formatDate(row.original.finishedAt)}</span>
      ) : (
        <span className="badge badge-info">running</span>
      ),
  },
  { id: 'counts', header: 'Counts', cell: ({ row }) => <SafeText text={countsText(row.original.counts)} /> },
  {
    id: 'error',
    header: 'Error',
    cell: ({ row }) => (row.original.error ? <SafeText text={row.original.error} max={160} /> : <span className="muted">—</span>),
  },
];

function Summary({ result }: { result: ImportSummary }) {
  return (
    <>
      <dl className="kv">
        <dt>Records read</dt>
        <dd>{formatCount(result.read)}</dd>
        <dt>Stored (new or changed)</dt>
        <dd>{formatCount(result.stored)}</dd>
        <dt>Unchanged</dt>
        <dd>{formatCount(result.unchanged)}</dd>
        <dt>Rejected</dt>
        <dd>{formatCount(result.rejected)}</dd>
        <dt>Withdrawn</dt>
        <dd>{formatCount(result.withdrawn)}</dd>
        <dt>Findings</dt>
        <dd>
          {formatCount(result.findings.opened)} opened, {formatCount(result.findings.closed)} closed, {formatCount(result.findings.open)}{' '}
          open now
        </dd>
      </dl>
      {result.rejections.length > 0 ? (
        <>
          <h4>Rejected records (first {result.rejections.length})</h4>
          <DataTable
            label="Rejected records"
            columns={[
              { id: 'id', header: 'Record', cell: ({ row }) => <SafeText text={row.original.id ?? null} /> },
              { id: 'where', header: 'Where', cell: ({ row }) => <SafeText text={row.original.where} max={80} /> },
              { id: 'reason', header: 'Reason', cell: ({ row }) => <SafeText text={row.original.reason} max={200} /> },
            ]}
            data={result.rejections}
          />
        </>
      ) : null}
    </>
  );
}

function Progress({ state, size }: { state: ImportState; size: number }) {
  if (state.phase === 'idle') return null;
  return (
    <section className={`card ${styles.progress}`} aria-labelledby="import-progress" aria-live="polite">
      <h3 id="import-progress">
        {state.phase === 'uploading'
          ? `Uploading ${formatBytes(size)}…`
          : state.phase === 'importing'
            ? 'Importing…'
            : state.phase === 'done'
              ? 'Import finished'
              : 'Import failed'}
      </h3>
      {state.progress && state.phase !== 'done' ? (
        <p role="status">
          Read {formatCount(state.progress.read)} records: {formatCount(state.progress.stored)} stored,{' '}
          {formatCount(state.progress.rejected)} rejected.
        </p>
      ) : null}
      {state.error ? (
        <div className="error-box" role="alert">
          <SafeText text={state.error.detail} /> <span className="muted">({state.error.code})</span>
        </div>
      ) : null}
      {state.result ? <Summary result={state.result} /> : null}
      {state.unknown.length > 0 ? (
        <details>
          <summary>{state.unknown.length} lines the console did not understand</summary>
          <div className={styles.unknownLines}>
            {state.unknown.map((line, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: lines only append
              <div key={i}>
                <SafeText text={line} />
              </div>
            ))}
          </div>
        </details>
      ) : null}
    </section>
  );
}

/** Upload a feed file and watch it import; recent imports below. */
export function ImportTab() {
  const client = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [kind, setKind] = useState<FeedKindChoice>('auto');
  const [state, dispatch] = useReducer(reducer, INITIAL_IMPORT);
  const abort = useRef<AbortController | null>(null);
  const runs = useQuery({
    queryKey: ['vulns', 'imports'],
    queryFn: () => call(api.GET('/api/v1/vulnerabilities/imports', { params: { query: { limit: 20 } } })),
  });
  const upload = useMutation({
    mutationFn: async (f: File) => {
      const controller = new AbortController();
      abort.current = controller;
      dispatch({ type: 'start' });
      await uploadFeed(f, { kind, signal: controller.signal }, (event) => dispatch({ type: 'event', event }));
    },
    onError: (error) => {
      const aborted = error instanceof DOMException && error.name === 'AbortError';
      const code = aborted ? 'cancelled' : error instanceof ApiError ? error.code : 'upload_failed';
      const detail = aborted ? 'cancelled in the console' : error instanceof Error ? error.message : String(error);
      dispatch({ type: 'event', event: { type: 'error', code, detail } });
    },
    onSettled: async () => {
      abort.current = null;
      await client.invalidateQueries({ queryKey: ['vulns'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (file) upload.mutate(file);
  };
  return (
    <>
      <Can permission="vulns:manage">
        <form className="card stack" onSubmit={submit} aria-label="Import a feed">
          <h3>Import a feed file</h3>
          <p className="muted">
            An OSV record or array (.json), an osv.dev ecosystem archive (.zip), or the Debian security tracker's JSON. Large archives take
            a while; progress shows as the server reads them.
          </p>
          <label>
            Feed file
            <input
              type="file"
              accept=".json,.zip,application/json,application/zip"
              onChange={(e) => {
                setFile(e.target.files?.[0] ?? null);
                dispatch({ type: 'reset' });
              }}
            />
          </label>
          <label>
            Feed kind
            <select value={kind} onChange={(e) => setKind(e.target.value as FeedKindChoice)}>
              <option value="auto">Detect automatically</option>
              <option value="osv">OSV</option>
              <option value="debian-tracker">Debian security tracker</option>
            </select>
          </label>
          <div className="actions">
            <button type="submit" className="primary" disabled={!file || upload.isPending}>
              {upload.isPending ? 'Importing…' : 'Import feed'}
            </button>
            {upload.isPending ? (
              <button type="button" onClick={() => abort.current?.abort()}>
                Cancel
              </button>
            ) : null}
          </div>
        </form>
        <Progress state={state} size={file?.size ?? 0} />
      </Can>
      <h3>Recent imports</h3>
      <QueryState isLoading={false} error={runs.error} />
      <DataTable
        label="Recent imports"
        columns={runColumns}
        data={runs.data?.items ?? []}
        getRowId={(r) => r.id}
        isLoading={runs.isLoading}
        empty="No imports yet."
      />
    </>
  );
}
