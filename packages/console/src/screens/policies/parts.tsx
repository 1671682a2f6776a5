import { ApiError } from '../../api/client';
import { ErrorBox } from '../../ui/ErrorBox';
import { SafeText } from '../../ui/SafeText';
import { type Counts, shares } from './compliance';
import styles from './Policies.module.css';

/** A stacked bar of compliance counts, with the numbers spelt out for screen readers and the legend. */
export function ComplianceBar({ counts, label }: { counts: Counts; label: string }) {
  const parts = shares(counts);
  const text = parts
    .filter((p) => p.count > 0)
    .map((p) => `${p.count} ${p.label.toLowerCase()}`)
    .join(', ');
  return (
    <div className={styles.bar}>
      <div className="progress" role="img" aria-label={`${label}: ${text || 'no hosts'}`}>
        {parts
          .filter((p) => p.percent > 0)
          .map((p) => (
            <span key={p.key} style={{ width: `${p.percent}%`, background: p.color }} title={`${p.label}: ${p.count}`} />
          ))}
      </div>
      <div className="muted">{text || 'no hosts'}</div>
    </div>
  );
}

export function ModeBadge({ mode }: { mode: string }) {
  return (
    <span className={mode === 'enforce' ? 'badge badge-critical' : 'badge badge-info'}>{mode === 'enforce' ? 'enforce' : 'audit'}</span>
  );
}

/** A server refusal, with the list of problems a policy validation reports in `details.problems`. */
export function ServerProblems({ error }: { error: unknown }) {
  if (!error) return null;
  const problems = error instanceof ApiError && Array.isArray(error.details?.problems) ? (error.details.problems as unknown[]) : [];
  const strings = problems.filter((p): p is string => typeof p === 'string');
  if (strings.length === 0) return <ErrorBox error={error} />;
  return (
    <div className="error-box" role="alert">
      <strong>The server refused the policy:</strong>
      <ul className={styles.problems}>
        {strings.map((p, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list from one answer
          <li key={i}>
            <SafeText text={p} />
          </li>
        ))}
      </ul>
    </div>
  );
}
