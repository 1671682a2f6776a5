import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, call } from '../../api/client';
import { useCan } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatDate } from '../../ui/format';
import { ConfirmButton, FormProblems } from '../../ui/parts';
import { SafeText } from '../../ui/SafeText';
import { ComplianceBar, ModeBadge, ServerProblems } from './parts';
import { RuleEditor } from './RuleEditor';
import {
  DEFAULT_INTERVAL_MINUTES,
  describeRule,
  emptyRule,
  formToPolicy,
  MAX_QUARANTINE_AFTER_MINUTES,
  MAX_RULES,
  newPolicyForm,
  type Policy,
  type PolicyBody,
  type PolicyForm,
  policyToForm,
  RULE_KINDS,
} from './rule-form';
import { TargetsEditor } from './TargetsEditor';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function RuleCompliance({ policy }: { policy: Policy }) {
  const rows = policy.compliance.rules.map((r) => ({ ...r, rule: policy.rules[r.index] }));
  return (
    <DataTable
      label="Rule compliance"
      columns={[
        { id: 'n', header: '#', cell: ({ row }) => row.original.index + 1 },
        {
          id: 'rule',
          header: 'Rule',
          cell: ({ row }) =>
            row.original.rule ? (
              <SafeText text={describeRule(row.original.rule)} max={160} />
            ) : (
              <SafeText text={RULE_KINDS.find((k) => k.kind === row.original.kind)?.label ?? row.original.kind} />
            ),
        },
        {
          id: 'hosts',
          header: 'Hosts',
          cell: ({ row }) => <ComplianceBar counts={row.original} label={`Rule ${row.original.index + 1}`} />,
        },
      ]}
      data={rows}
      getRowId={(r) => String(r.index)}
      empty="No results yet."
    />
  );
}

function Editor({ policy, canEdit }: { policy: Policy | null; canEdit: boolean }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [form, setForm] = useState<PolicyForm>(() => (policy ? policyToForm(policy) : newPolicyForm()));
  const [problems, setProblems] = useState<string[]>([]);
  const [saved, setSaved] = useState(false);
  // A newer version from the server (after saving) replaces the form.
  const version = policy?.version;
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a new version resets the form
  useEffect(() => {
    if (policy) setForm(policyToForm(policy));
  }, [policy?.id, version]);
  const set = (patch: Partial<PolicyForm>) => {
    setSaved(false);
    setForm((f) => ({ ...f, ...patch }));
  };
  const save = useMutation({
    mutationFn: (body: PolicyBody) =>
      policy
        ? call(api.PUT('/api/v1/policies/{id}', { params: { path: { id: policy.id } }, body }))
        : call(api.POST('/api/v1/policies', { body })),
    onSuccess: async (result) => {
      client.setQueryData(['policies', 'one', result.id], result);
      await client.invalidateQueries({ queryKey: ['policies', 'list'] });
      await client.invalidateQueries({ queryKey: ['compliance'] });
      setSaved(true);
      if (!policy) navigate(`/policies/${encodeURIComponent(result.id)}`, { replace: true });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/v1/policies/{id}', { params: { path: { id } } })),
    onSuccess: async (_, id) => {
      // The deleted policy's own query would refetch into a 404.
      client.removeQueries({ queryKey: ['policies', 'one', id] });
      navigate('/policies');
      await client.invalidateQueries({ queryKey: ['policies', 'list'] });
      await client.invalidateQueries({ queryKey: ['compliance'] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const converted = formToPolicy(form);
    setProblems(converted.ok ? [] : converted.problems);
    if (converted.ok) save.mutate(converted.value);
  };
  const readOnly = !canEdit;
  const hasAntivirus = form.rules.some((r) => r.kind === 'antivirus');
  return (
    <form className="stack" onSubmit={submit} aria-label="Policy" noValidate>
      <label>
        Name
        <input value={form.name} onChange={(e) => set({ name: e.target.value })} maxLength={200} required readOnly={readOnly} />
      </label>
      <fieldset disabled={readOnly}>
        <legend>Mode</legend>
        <label>
          <span>
            <input type="radio" name="mode" value="audit" checked={form.mode === 'audit'} onChange={() => set({ mode: 'audit' })} /> Audit:
            hosts report, nothing is changed
          </span>
        </label>
        <br />
        <label>
          <span>
            <input type="radio" name="mode" value="enforce" checked={form.mode === 'enforce'} onChange={() => set({ mode: 'enforce' })} />{' '}
            Enforce: the agent also puts things right
          </span>
        </label>
      </fieldset>
      <label>
        Check every (minutes)
        <input
          type="number"
          min={1}
          max={1440}
          step={1}
          value={form.intervalMinutes}
          onChange={(e) => set({ intervalMinutes: e.target.value })}
          placeholder={String(DEFAULT_INTERVAL_MINUTES)}
          readOnly={readOnly}
        />
      </label>
      <label>
        Quarantine after (minutes of unhealthy antivirus)
        <input
          type="number"
          min={1}
          max={MAX_QUARANTINE_AFTER_MINUTES}
          step={1}
          value={form.quarantineAfterMinutes}
          onChange={(e) => set({ quarantineAfterMinutes: e.target.value })}
          placeholder="never"
          readOnly={readOnly}
        />
        <span className="muted">
          {hasAntivirus
            ? 'Empty: never. Otherwise a host whose antivirus stays unhealthy this long is put in the quarantine approval queue.'
            : 'Needs an antivirus rule.'}
        </span>
      </label>
      <TargetsEditor hostIds={form.hostIds} groups={form.groups} readOnly={readOnly} onChange={(t) => set(t)} />
      <h2>Rules</h2>
      {form.rules.map((rule, i) => (
        <RuleEditor
          // biome-ignore lint/suspicious/noArrayIndexKey: rules have no identity of their own; the index is their name
          key={i}
          index={i}
          count={form.rules.length}
          rule={rule}
          readOnly={readOnly}
          onChange={(r) => set({ rules: form.rules.map((x, j) => (j === i ? r : x)) })}
          onRemove={() => set({ rules: form.rules.filter((_, j) => j !== i) })}
          onMove={(delta) => {
            const to = i + delta;
            if (to < 0 || to >= form.rules.length) return;
            const rules = [...form.rules];
            const [moved] = rules.splice(i, 1);
            if (moved) rules.splice(to, 0, moved);
            set({ rules });
          }}
        />
      ))}
      {readOnly ? null : (
        <div className="actions">
          <button type="button" onClick={() => set({ rules: [...form.rules, emptyRule()] })} disabled={form.rules.length >= MAX_RULES}>
            Add rule
          </button>
        </div>
      )}
      <FormProblems problems={problems} />
      <ServerProblems error={save.error} />
      <ErrorBox error={remove.error} />
      {saved && !save.isPending ? (
        <p className="notice" role="status">
          Saved: version {policy?.version}. The targeted hosts get a new signed bundle.
        </p>
      ) : null}
      {readOnly ? null : (
        <div className="actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : policy ? 'Save policy' : 'Create policy'}
          </button>
          {policy ? (
            <ConfirmButton
              label="Delete"
              question={
                <>
                  Delete <SafeText text={policy.name} max={60} />? Its hosts get bundles without it.
                </>
              }
              confirmLabel="Delete policy"
              disabled={remove.isPending}
              onConfirm={() => remove.mutate(policy.id)}
            />
          ) : null}
        </div>
      )}
    </form>
  );
}

/** /policies/:id (and /policies/new): a policy's compliance and its editor. */
export function PolicyPage() {
  const id = useParams().id ?? '';
  const isNew = id === 'new';
  const valid = isNew || UUID.test(id);
  const can = useCan();
  const canEdit = can('policies:manage');
  const policy = useQuery({
    queryKey: ['policies', 'one', id],
    queryFn: () => call(api.GET('/api/v1/policies/{id}', { params: { path: { id } } })),
    enabled: valid && !isNew,
  });
  if (!valid)
    return (
      <>
        <h1>Policy</h1>
        <p className="error-box" role="alert">
          No such policy.
        </p>
      </>
    );
  if (isNew)
    return (
      <>
        <div className="page-header">
          <h1>New policy</h1>
          <span className="actions">
            <Link to="/policies">All policies</Link>
          </span>
        </div>
        {canEdit ? <Editor policy={null} canEdit /> : <p className="error-box">Your role may not create policies.</p>}
      </>
    );
  const p = policy.data;
  return (
    <>
      <div className="page-header">
        <h1>{p ? <SafeText text={p.name} /> : 'Policy'}</h1>
        <span className="actions">
          <Link to="/policies">All policies</Link>
        </span>
      </div>
      <QueryState isLoading={policy.isLoading} error={policy.error} />
      {p ? (
        <>
          <section className="card" aria-label="Summary">
            <dl className="kv">
              <dt>Mode</dt>
              <dd>
                <ModeBadge mode={p.mode} />
              </dd>
              <dt>Version</dt>
              <dd>{p.version}</dd>
              <dt>Created</dt>
              <dd>
                {formatDate(p.createdAt)} by <SafeText text={p.createdBy} />
              </dd>
              <dt>Updated</dt>
              <dd>{formatDate(p.updatedAt)}</dd>
              <dt>Hosts</dt>
              <dd>
                <ComplianceBar counts={p.compliance.hosts} label="Hosts" />
              </dd>
            </dl>
          </section>
          <h2>Compliance by rule</h2>
          <RuleCompliance policy={p} />
          <h2>{canEdit ? 'Edit' : 'Definition'}</h2>
          <Editor key={p.id} policy={p} canEdit={canEdit} />
        </>
      ) : null}
    </>
  );
}
