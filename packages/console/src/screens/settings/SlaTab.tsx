import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, call } from '../../api/client';
import { useCan } from '../../auth';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { FormProblems } from '../../ui/parts';
import styles from './Settings.module.css';
import {
  cellProblem,
  gridFromSla,
  gridsEqual,
  hoursAsDays,
  SEVERITIES,
  type SlaBody,
  type SlaGrid,
  type SlaMatrix,
  slaFromGrid,
  TIERS,
} from './sla';

const KEY = ['vulnerabilities', 'sla'] as const;

export function SlaTab() {
  const can = useCan();
  // No refetch on focus: a matrix changed elsewhere would otherwise replace a draft being edited.
  const sla = useQuery({ queryKey: KEY, queryFn: () => call(api.GET('/api/v1/vulnerabilities/sla')), refetchOnWindowFocus: false });
  const [saved, setSaved] = useState(false);
  return (
    <section className={styles.section} aria-labelledby="settings-sla">
      <h2 id="settings-sla">SLA matrix</h2>
      <p className="muted">
        Hours from a vulnerability’s first sighting on a host to its due date, by severity and the host’s risk tier (5 matters most). Saving
        gives every open finding a new due date.
      </p>
      <QueryState isLoading={sla.isLoading} error={sla.error} />
      {sla.data ? (
        // A new matrix from the server (saved here or elsewhere) starts a fresh draft.
        <SlaEditor
          key={JSON.stringify(sla.data)}
          matrix={sla.data}
          editable={can('settings:manage')}
          onEdit={() => setSaved(false)}
          onSaved={() => setSaved(true)}
        />
      ) : null}
      {saved ? (
        <p className="notice" role="status">
          Saved. Open findings have new due dates.
        </p>
      ) : null}
    </section>
  );
}

function SlaEditor({
  matrix,
  editable,
  onEdit,
  onSaved,
}: {
  matrix: SlaMatrix;
  editable: boolean;
  onEdit: () => void;
  onSaved: () => void;
}) {
  const client = useQueryClient();
  const saved = gridFromSla(matrix);
  const [grid, setGrid] = useState<SlaGrid>(saved);
  const [problems, setProblems] = useState<string[]>([]);
  const save = useMutation({
    mutationFn: (body: SlaBody) => call(api.PUT('/api/v1/vulnerabilities/sla', { body })),
    onSuccess: (next) => {
      // Before the new data remounts this editor (its own per-call callbacks would then not run).
      onSaved();
      client.setQueryData(KEY, next);
      // Due dates moved: overdue lists and counts are stale.
      void client.invalidateQueries({ queryKey: ['vulnerabilities'], predicate: (q) => q.queryKey[1] !== 'sla' });
      void client.invalidateQueries({ queryKey: ['dashboard'] });
    },
  });
  const changed = !gridsEqual(grid, saved);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = slaFromGrid(grid);
    setProblems(result.ok ? [] : result.problems.map((p) => `${p.severity}, tier ${p.tier}: ${p.message}`));
    if (result.ok) save.mutate(result.body);
  };
  const table = (
    <div className="table-wrap">
      <table aria-label="SLA matrix">
        <thead>
          <tr>
            <th>Severity</th>
            {TIERS.map((t) => (
              <th key={t}>Tier {t}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {SEVERITIES.map((severity) => (
            <tr key={severity}>
              <th scope="row">{severity}</th>
              {TIERS.map((tier) => {
                const text = grid[severity][tier];
                if (!editable)
                  return (
                    <td key={tier}>
                      {text ? `${text} h` : '—'} <span className={styles.hint}>{hoursAsDays(text)}</span>
                    </td>
                  );
                const problem = cellProblem(text);
                return (
                  <td key={tier}>
                    <input
                      className={`${styles.slaCell} ${problem ? styles.slaInvalid : ''}`}
                      aria-label={`${severity}, tier ${tier} (hours)`}
                      aria-invalid={problem ? 'true' : undefined}
                      inputMode="numeric"
                      value={text}
                      onChange={(e) => {
                        onEdit();
                        setGrid({ ...grid, [severity]: { ...grid[severity], [tier]: e.target.value } });
                      }}
                    />
                    <span className={styles.hint}>{problem ?? hoursAsDays(text)}</span>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
  if (!editable)
    return (
      <>
        {table}
        <p className="muted">Only an admin can change the matrix.</p>
      </>
    );
  return (
    <form onSubmit={submit} aria-label="Edit SLA matrix" noValidate>
      {table}
      <FormProblems problems={problems} />
      <ErrorBox error={save.error} />
      <div className="toolbar">
        <button type="submit" className="primary" disabled={!changed || save.isPending}>
          {save.isPending ? 'Saving…' : 'Save SLA matrix'}
        </button>
        <button
          type="button"
          disabled={!changed || save.isPending}
          onClick={() => {
            setGrid(saved);
            setProblems([]);
          }}
        >
          Discard changes
        </button>
      </div>
    </form>
  );
}
