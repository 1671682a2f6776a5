import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useMemo, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { api, call } from '../../api/client';
import { useCan } from '../../auth';
import { formatDate } from '../../ui/format';
import { deploymentKey } from './DeploymentPage';
import styles from './Deployments.module.css';
import { DEPLOYMENT_LISTS_KEY } from './DeploymentsPage';
import {
  buildCreateBody,
  type CreateBody,
  canaryWaves,
  type DeploymentForm,
  ECOSYSTEMS,
  type Ecosystem,
  formFromQuery,
  MAX_WAVES,
  moveWave,
  newWave,
  REBOOT_POLICIES,
  type RebootPolicy,
  type WaveForm,
} from './form';
import { type Preview, PreviewResult } from './PreviewResult';
import { LocalProblems, ProblemBox } from './parts';
import { PackagePicker, TargetPicker, WindowsNote } from './pickers';

const REBOOT_TEXT: Record<RebootPolicy, string> = {
  never: 'Never reboot',
  'if-required': 'Reboot if the package manager says so',
  always: 'Always reboot after the change',
};

function WavesEditor({ waves, onChange }: { waves: WaveForm[]; onChange: (next: WaveForm[]) => void }) {
  const set = (i: number, patch: Partial<WaveForm>) => onChange(waves.map((w, j) => (j === i ? { ...w, ...patch } : w)));
  return (
    <fieldset>
      <legend>Waves</legend>
      {waves.length === 0 ? (
        <p className={styles.hint}>
          One wave over every target, without bake time. Add waves to roll out in steps (a pilot group, then shares).
        </p>
      ) : (
        <p className={styles.hint}>
          Shares are cumulative over the hosts left after group waves (10, 50, 100: a tenth, then half, then all); the last share wave must
          be 100. A wave goes on when its success threshold is met, after its bake time.
        </p>
      )}
      {waves.map((w, i) => (
        <fieldset key={w.key} className={styles.wave}>
          <legend>Wave {i + 1}</legend>
          <div className={styles.row}>
            <label>
              Wave name
              <input
                value={w.name}
                maxLength={100}
                placeholder={w.mode === 'group' && w.group ? w.group : `wave ${i + 1}`}
                onChange={(e) => set(i, { name: e.target.value })}
              />
            </label>
            <label>
              Wave takes
              <select value={w.mode} onChange={(e) => set(i, { mode: e.target.value === 'group' ? 'group' : 'percent' })}>
                <option value="percent">a share of the hosts</option>
                <option value="group">a group's hosts</option>
              </select>
            </label>
            {w.mode === 'percent' ? (
              <label>
                Share (%)
                <input inputMode="decimal" value={w.percent} size={6} onChange={(e) => set(i, { percent: e.target.value })} />
              </label>
            ) : (
              <label>
                Wave group
                <input value={w.group} maxLength={100} onChange={(e) => set(i, { group: e.target.value })} />
              </label>
            )}
          </div>
          <div className={styles.row}>
            <label>
              Bake time (minutes)
              <input inputMode="numeric" value={w.bakeMinutes} size={6} onChange={(e) => set(i, { bakeMinutes: e.target.value })} />
            </label>
            <label>
              Success threshold (%)
              <input
                inputMode="decimal"
                value={w.successThreshold}
                size={6}
                onChange={(e) => set(i, { successThreshold: e.target.value })}
              />
            </label>
            <div className="actions">
              <button
                type="button"
                aria-label={`Move wave ${i + 1} up`}
                disabled={i === 0}
                onClick={() => onChange(moveWave(waves, i, -1))}
              >
                ↑
              </button>
              <button
                type="button"
                aria-label={`Move wave ${i + 1} down`}
                disabled={i === waves.length - 1}
                onClick={() => onChange(moveWave(waves, i, 1))}
              >
                ↓
              </button>
              <button type="button" aria-label={`Remove wave ${i + 1}`} onClick={() => onChange(waves.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          </div>
        </fieldset>
      ))}
      <div className="actions">
        <button type="button" disabled={waves.length >= MAX_WAVES} onClick={() => onChange([...waves, newWave()])}>
          Add wave
        </button>
        {waves.length === 0 ? (
          <button type="button" onClick={() => onChange(canaryWaves())}>
            Canary, then the rest
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}

/** The last preview: for which body (its JSON) and what the server answered. */
interface PreviewState {
  key: string;
  preview: Preview;
}

export function NewDeploymentPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const can = useCan();
  // The link's prefills are read once; after that the form is the operator's.
  const [initial] = useState(() => formFromQuery(params));
  const [form, setForm] = useState<DeploymentForm>(initial.form);
  const [shown, setShown] = useState<PreviewState | null>(null);
  const set = <K extends keyof DeploymentForm>(key: K, value: DeploymentForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  const built = useMemo(() => buildCreateBody(form), [form]);
  const key = built.ok ? JSON.stringify(built.body) : null;
  const [tried, setTried] = useState(false);

  const preview = useMutation({
    mutationFn: (v: { key: string; body: CreateBody }) =>
      call(api.POST('/api/v1/deployments/preview', { body: v.body })).then((p) => ({ key: v.key, preview: p })),
    onSuccess: (r) => setShown(r),
  });
  const create = useMutation({
    mutationFn: (body: CreateBody) => call(api.POST('/api/v1/deployments', { body })),
    onSuccess: (d) => {
      client.setQueryData(deploymentKey(d.id), d);
      void client.invalidateQueries({ queryKey: DEPLOYMENT_LISTS_KEY });
      navigate(`/deployments/${d.id}`);
    },
  });

  const current = shown !== null && key !== null && shown.key === key;
  const canCreate = current && !preview.isPending && !create.isPending && built.ok;
  const runPreview = () => {
    setTried(true);
    create.reset();
    if (built.ok && key !== null) preview.mutate({ key, body: built.body });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!canCreate || !built.ok || !shown) return;
    create.mutate({ ...built.body, previewId: shown.preview.previewId });
  };
  const manage = can('deployments:manage');
  const minStart = formatLocal(new Date());

  return (
    <>
      <div className="page-header">
        <h1>New deployment</h1>
      </div>
      {!manage ? <p className="notice">Your role cannot draft deployments (it needs deployments:manage).</p> : null}
      <LocalProblems problems={initial.problems} title="Some of the link's prefills could not be used:" />
      <form className="stack" onSubmit={submit} aria-label="New deployment" noValidate>
        <label className={styles.field}>
          Name
          <input
            value={form.name}
            maxLength={200}
            onChange={(e) => set('name', e.target.value)}
            placeholder="What the change is, for the record"
          />
        </label>
        <PackagePicker value={form.packages} onChange={(v) => set('packages', v)} />
        <TargetPicker
          hostIds={form.hostIds}
          groups={form.groups}
          onHostsChange={(v) => set('hostIds', v)}
          onGroupsChange={(v) => set('groups', v)}
        />
        <WavesEditor waves={form.waves} onChange={(v) => set('waves', v)} />
        <fieldset>
          <legend>Options</legend>
          <div className={styles.row}>
            <label>
              Package ecosystem
              <select value={form.ecosystem} onChange={(e) => set('ecosystem', e.target.value as Ecosystem)}>
                {ECOSYSTEMS.map((x) => (
                  <option key={x} value={x}>
                    {x}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Reboot policy
              <select value={form.rebootPolicy} onChange={(e) => set('rebootPolicy', e.target.value as RebootPolicy)}>
                {REBOOT_POLICIES.map((x) => (
                  <option key={x} value={x}>
                    {REBOOT_TEXT[x]}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className={styles.row}>
            <label>
              Start at
              <input type="datetime-local" value={form.startAt} min={minStart} onChange={(e) => set('startAt', e.target.value)} />
            </label>
            <label>
              Deadline (hours after creation)
              <input
                inputMode="decimal"
                value={form.deadlineHours}
                size={8}
                placeholder="none"
                onChange={(e) => set('deadlineHours', e.target.value)}
              />
            </label>
          </div>
          <p className={styles.hint}>
            Start at: empty starts as soon as it is approved (your time zone). Deadline: work not done by then is reported expired
            {deadlineHint(form.deadlineHours)}.
          </p>
          <div className={styles.row}>
            <label className={styles.check}>
              <input type="checkbox" checked={form.critical} onChange={(e) => set('critical', e.target.checked)} /> Critical
            </label>
            <label className={styles.check}>
              <input type="checkbox" checked={form.emergency} onChange={(e) => set('emergency', e.target.checked)} /> Emergency
            </label>
          </div>
          <p className={styles.hint}>
            Critical and emergency deployments, and those over the approval threshold of hosts, wait for a second person's approval. An
            emergency ignores maintenance windows and bake times.
          </p>
          <WindowsNote
            groups={[...form.groups, ...form.waves.filter((w) => w.mode === 'group').map((w) => w.group.trim())]}
            emergency={form.emergency}
          />
        </fieldset>

        {tried && !built.ok ? <LocalProblems problems={built.problems} title="Fix these first:" /> : null}
        <ProblemBox error={preview.error} />
        <ProblemBox error={create.error} />
        <div className="actions">
          {manage ? (
            <>
              <button type="button" onClick={runPreview} disabled={preview.isPending}>
                Preview
              </button>
              <button type="submit" className="primary" disabled={!canCreate}>
                Create deployment
              </button>
              {preview.isPending ? <span className={styles.hint}>Previewing…</span> : null}
              {create.isPending ? <span className={styles.hint}>Creating…</span> : null}
              {!current && !preview.isPending ? <span className={styles.hint}>Preview the deployment to create it.</span> : null}
            </>
          ) : null}
        </div>
      </form>
      {shown ? <PreviewResult preview={shown.preview} stale={!current} /> : null}
    </>
  );
}

/** A datetime-local value for an instant, in the browser's time zone. */
function formatLocal(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function deadlineHint(hours: string): string {
  const h = Number(hours);
  if (hours.trim() === '' || !Number.isFinite(h) || h <= 0) return '';
  return ` (about ${formatDate(new Date(Date.now() + h * 3_600_000).toISOString())} if created now)`;
}
