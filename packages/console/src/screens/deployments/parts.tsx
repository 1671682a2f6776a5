import type { ReactNode } from 'react';
import { ApiError } from '../../api/client';
import { stateLabel } from '../../ui/badges';
import { ErrorBox } from '../../ui/ErrorBox';
import { SafeText } from '../../ui/SafeText';
import styles from './Deployments.module.css';
import { waveProgress } from './model';

/** The critical / emergency marks of a deployment. */
export function FlagBadges({ critical, emergency }: { critical: boolean; emergency: boolean }) {
  return (
    <>
      {critical ? <span className="badge badge-critical">critical</span> : null}
      {emergency ? <span className="badge badge-bad">emergency</span> : null}
    </>
  );
}

/** A wave's progress: one bar split by host state, and the counts in words. */
export function WaveBar({ label, counts, hostCount }: { label: string; counts: Record<string, number>; hostCount: number }) {
  const p = waveProgress(counts, hostCount);
  return (
    <div>
      <div
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={p.total}
        aria-valuenow={p.done}
        aria-valuetext={`${p.done} of ${p.total} hosts done`}
      >
        {p.segments.map((s) => (
          <span key={s.state} className={styles[`seg-${s.state}`]} style={{ width: `${s.percent}%` }} title={`${s.state}: ${s.count}`} />
        ))}
      </div>
      <div className={styles.legend}>
        <span>
          {p.done} of {p.total} done ({p.percentDone}%)
        </span>
        {Object.entries(counts)
          .filter(([, n]) => n > 0)
          .map(([state, n]) => (
            <span key={state}>
              <span className={`${styles.swatch} ${styles[`seg-${state}`] ?? ''}`} />
              {stateLabel(state)} {n}
            </span>
          ))}
      </div>
    </div>
  );
}

/** A failed request; with the server's list of problems (details.problems) as a list. */
export function ProblemBox({ error }: { error: unknown }) {
  if (!error) return null;
  const problems =
    error instanceof ApiError && Array.isArray(error.details?.problems)
      ? (error.details.problems as unknown[]).filter((p): p is string => typeof p === 'string')
      : [];
  if (problems.length <= 1) return <ErrorBox error={error} />;
  return (
    <div className="error-box" role="alert">
      <strong>The server refused it:</strong>
      <ul className={styles.problems}>
        {problems.map((p) => (
          <li key={p}>
            <SafeText text={p} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Problems found in the browser, before anything was sent. */
export function LocalProblems({ problems, title }: { problems: readonly string[]; title: ReactNode }) {
  if (problems.length === 0) return null;
  return (
    <div className="error-box" role="alert">
      <strong>{title}</strong>
      <ul className={styles.problems}>
        {problems.map((p) => (
          <li key={p}>
            <SafeText text={p} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A user, as the API names them: {id, username}. */
export function Person({ person }: { person: { username: string } | null | undefined }) {
  return person ? <SafeText text={person.username} /> : <span className="muted">—</span>;
}
