import type { ColumnDef } from '@tanstack/react-table';
import { useState } from 'react';
import { Link } from 'react-router';
import type { Json } from '../../api/client';
import { DataTable } from '../../ui/DataTable';
import { formatCount } from '../../ui/format';
import { SafeText } from '../../ui/SafeText';
import styles from './Deployments.module.css';

export type Preview = Json<'/api/v1/deployments/preview', 'post'>;
type PreviewHost = Preview['waves'][number]['hosts'][number];

/** Hosts of a wave shown before "Show all" (a preview may cover thousands). */
const SHOWN = 100;

const columns: ColumnDef<PreviewHost, unknown>[] = [
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
    id: 'packages',
    header: 'Changes',
    cell: ({ row }) =>
      row.original.packages.length === 0 ? (
        <span className="muted">—</span>
      ) : (
        row.original.packages.map((p) => (
          <div key={p.name} className="mono">
            <SafeText text={p.name} /> <SafeText text={p.from ?? '(none)'} /> → <SafeText text={p.to ?? '(latest)'} />
          </div>
        ))
      ),
  },
  {
    id: 'skipped',
    header: 'Skipped',
    cell: ({ row }) => (row.original.skipped ? <SafeText text={row.original.skipped} max={300} /> : <span className="muted">—</span>),
  },
];

function PreviewWave({ wave }: { wave: Preview['waves'][number] }) {
  const [all, setAll] = useState(false);
  const changing = wave.hosts.filter((h) => !h.skipped).length;
  const rows = all ? wave.hosts : wave.hosts.slice(0, SHOWN);
  return (
    <div>
      <h3>
        Wave {wave.index + 1}: <SafeText text={wave.name} />{' '}
        <span className="muted">
          ({formatCount(wave.hosts.length)} hosts, {formatCount(changing)} with changes)
        </span>
      </h3>
      <DataTable
        label={`Preview of wave ${wave.index + 1}`}
        columns={columns}
        data={rows}
        getRowId={(h) => h.hostId}
        empty="No host in this wave."
      />
      {wave.hosts.length > SHOWN ? (
        <button type="button" className="link-button" onClick={() => setAll(!all)}>
          {all ? 'Show fewer' : `Show all ${formatCount(wave.hosts.length)} hosts`}
        </button>
      ) : null}
    </div>
  );
}

/** What creating the deployment would do: totals, approval, warnings and per wave each host's changes. */
export function PreviewResult({ preview, stale }: { preview: Preview; stale: boolean }) {
  const t = preview.totals;
  return (
    <section className="card" aria-labelledby="preview-heading" aria-describedby={stale ? 'preview-stale' : undefined}>
      <h2 id="preview-heading">Preview</h2>
      {stale ? (
        <p id="preview-stale" className="notice" role="status">
          The form changed since this preview: preview again before creating the deployment.
        </p>
      ) : null}
      <div className={styles.stats}>
        <div>
          <div className="stat">{formatCount(t.targeted)}</div>
          <div className="stat-label">Hosts targeted</div>
        </div>
        <div>
          <div className="stat">{formatCount(t.hosts)}</div>
          <div className="stat-label">Hosts with changes</div>
        </div>
        <div>
          <div className="stat">{formatCount(t.skipped)}</div>
          <div className="stat-label">Hosts skipped</div>
        </div>
        <div>
          <div className="stat">{formatCount(t.packages)}</div>
          <div className="stat-label">Package changes</div>
        </div>
      </div>
      <p>
        {preview.approval.required ? (
          <span className="badge badge-warn">needs approval</span>
        ) : (
          <span className="badge badge-ok">no approval needed</span>
        )}{' '}
        <SafeText text={preview.approval.why.join('; ')} />
      </p>
      {preview.warnings.length > 0 ? (
        <div className="notice">
          <strong>Warnings</strong>
          <ul aria-label="Preview warnings">
            {preview.warnings.map((w) => (
              <li key={w}>
                <SafeText text={w} />
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {preview.waves.map((w) => (
        <PreviewWave key={w.index} wave={w} />
      ))}
    </section>
  );
}
