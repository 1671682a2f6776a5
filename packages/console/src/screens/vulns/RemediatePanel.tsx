import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, call } from '../../api/client';
import { ErrorBox } from '../../ui/ErrorBox';
import { formatCount } from '../../ui/format';
import { SafeText } from '../../ui/SafeText';
import styles from './Vulns.module.css';

/**
 * The confirmation of "Remediate": says what will happen, takes a name and the approval flags, then
 * POST /vulnerabilities/{record}/remediate creates the deployment and the console opens it.
 */
export function RemediatePanel({ record, hostCount, onCancel }: { record: string; hostCount: number; onCancel: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState(`Remediate ${record}`);
  const [critical, setCritical] = useState(false);
  const [emergency, setEmergency] = useState(false);
  const remediate = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/vulnerabilities/{record}/remediate', {
          params: { path: { record } },
          body: {
            ...(name.trim() === '' ? {} : { name: name.trim() }),
            ...(critical ? { critical: true } : {}),
            ...(emergency ? { emergency: true } : {}),
          },
        }),
      ),
    onSuccess: async (result) => {
      await client.invalidateQueries({ queryKey: ['deployments'] });
      navigate(`/deployments/${encodeURIComponent(result.deployment.id)}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    remediate.mutate();
  };
  return (
    // A dialog in the page's flow (not modal): the question and its answer stay next to the record.
    <div className={`card ${styles.confirm}`} role="dialog" aria-modal="false" aria-labelledby="remediate-title">
      <form className="stack" onSubmit={submit}>
        <h2 id="remediate-title">
          Remediate <SafeText text={record} />
        </h2>
        <p>
          This creates a deployment that upgrades the {formatCount(hostCount)} {hostCount === 1 ? 'host' : 'hosts'} with an open finding of{' '}
          <SafeText text={record} /> to the newest version of the affected packages their repositories offer (at least the fixed version).
          Nothing changes on a host until the deployment runs; a critical, emergency or large one waits for a second person's approval.
        </p>
        <label>
          Deployment name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        </label>
        <label>
          <span>
            <input type="checkbox" checked={critical} onChange={(e) => setCritical(e.target.checked)} /> Critical (needs approval)
          </span>
        </label>
        <label>
          <span>
            <input type="checkbox" checked={emergency} onChange={(e) => setEmergency(e.target.checked)} /> Emergency (ignores maintenance
            windows; needs approval)
          </span>
        </label>
        <ErrorBox error={remediate.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={remediate.isPending}>
            {remediate.isPending ? 'Creating the deployment…' : 'Confirm remediation'}
          </button>
          <button type="button" onClick={onCancel} disabled={remediate.isPending}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
