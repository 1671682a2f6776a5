import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { type FormEvent, useState } from 'react';
import { api, call, type Json } from '../../api/client';
import { useCan } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox } from '../../ui/ErrorBox';
import { formatCount, formatDate, formatRelative } from '../../ui/format';
import { CodeBlock, ConfirmButton, CopyButton, Field, FormProblems } from '../../ui/parts';
import { SafeText } from '../../ui/SafeText';
import { enrolCommands } from './enrol-command';
import {
  type JoinToken,
  type JoinTokenBody,
  type JoinTokenForm,
  joinTokenFromForm,
  joinTokenState,
  MAX_TOKEN_HOURS,
  MAX_TOKEN_USES,
} from './join-tokens';
import styles from './Settings.module.css';
import { USERS_KEY } from './UsersTab';

type CreatedJoinToken = Json<'/api/v1/enrollment-tokens', 'post'>;

const KEY = ['enrollment-tokens'] as const;

const STATE_BADGE = { active: 'badge-ok', revoked: 'badge-bad', expired: 'badge-warn', 'used up': 'badge-warn' } as const;

export function JoinTokensTab() {
  const client = useQueryClient();
  const can = useCan();
  const tokens = useQuery({ queryKey: KEY, queryFn: () => call(api.GET('/api/v1/enrollment-tokens')) });
  // Who created each token: ids become names when the role may list users (admins).
  const users = useQuery({ queryKey: USERS_KEY, queryFn: () => call(api.GET('/api/v1/users')), enabled: can('users:manage') });
  const names = new Map((users.data?.items ?? []).map((u) => [u.id, u.username]));
  const revoke = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/v1/enrollment-tokens/{id}', { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: KEY }),
  });
  const now = Date.now();
  const columns: ColumnDef<JoinToken, unknown>[] = [
    { id: 'createdAt', header: 'Created', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.createdAt)}</span> },
    {
      id: 'expiresAt',
      header: 'Expires',
      cell: ({ row }) => (
        <span className="nowrap" title={formatDate(row.original.expiresAt)}>
          {formatRelative(row.original.expiresAt, now)}
        </span>
      ),
    },
    {
      id: 'uses',
      header: 'Uses',
      cell: ({ row }) => (
        <span className="nowrap">
          {formatCount(row.original.uses)} / {row.original.maxUses === null ? 'unlimited' : formatCount(row.original.maxUses)}
        </span>
      ),
    },
    { id: 'autoApprove', header: 'Auto-approve', cell: ({ row }) => (row.original.autoApprove ? 'yes' : 'no') },
    {
      id: 'state',
      header: 'State',
      cell: ({ row }) => {
        const state = joinTokenState(row.original, now);
        return <span className={`badge ${STATE_BADGE[state]}`}>{state}</span>;
      },
    },
    {
      id: 'createdBy',
      header: 'Created by',
      cell: ({ row }) => {
        const id = row.original.createdBy;
        if (id === null) return <span className="muted">—</span>;
        const name = names.get(id);
        return name !== undefined ? (
          <SafeText text={name} />
        ) : (
          <span className="mono">
            <SafeText text={id} />
          </span>
        );
      },
    },
    {
      id: 'actions',
      header: 'Actions',
      cell: ({ row }) =>
        row.original.revokedAt ? null : (
          <ConfirmButton
            label="Revoke"
            question="Revoke this join token? Machines already enrolled stay."
            confirmLabel="Yes, revoke"
            disabled={revoke.isPending}
            onConfirm={() => revoke.mutate(row.original.id)}
          />
        ),
    },
  ];
  return (
    <section className={styles.section} aria-labelledby="settings-join-tokens">
      <h2 id="settings-join-tokens">Join tokens</h2>
      <p className="muted">
        A join token lets an agent enrol a machine. It carries this server’s key fingerprint, so the agent pins the right server. The secret
        is shown once, when the token is created.
      </p>
      <ErrorBox error={tokens.error} />
      <ErrorBox error={revoke.error} />
      <CreateJoinToken />
      <h3>Issued tokens</h3>
      <DataTable
        label="Join tokens"
        columns={columns}
        data={tokens.data?.items ?? []}
        getRowId={(t) => t.id}
        isLoading={tokens.isLoading}
        empty="No join tokens yet: create one to enrol the first machine."
      />
    </section>
  );
}

function CreateJoinToken() {
  const client = useQueryClient();
  const [form, setForm] = useState<JoinTokenForm>({ autoApprove: false, expiresInHours: '24', maxUses: '' });
  const [problems, setProblems] = useState<string[]>([]);
  const [created, setCreated] = useState<CreatedJoinToken | null>(null);
  const create = useMutation({
    mutationFn: (body: JoinTokenBody) => call(api.POST('/api/v1/enrollment-tokens', { body })),
    onSuccess: async (token) => {
      setCreated(token);
      await client.invalidateQueries({ queryKey: KEY });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = joinTokenFromForm(form);
    setProblems(result.ok ? [] : result.problems);
    if (result.ok) {
      setCreated(null);
      create.mutate(result.body);
    }
  };
  return (
    <>
      <form className={`stack card ${styles.formCard}`} onSubmit={submit} aria-labelledby="create-join-token-heading" noValidate>
        <h3 id="create-join-token-heading">Create join token</h3>
        <label className={styles.checkbox}>
          <input
            name="autoApprove"
            type="checkbox"
            checked={form.autoApprove}
            onChange={(e) => setForm({ ...form, autoApprove: e.target.checked })}
          />
          Approve enrolled hosts automatically
        </label>
        <Field label="Expires in (hours)">
          {(control) => (
            <input
              {...control}
              name="expiresInHours"
              type="number"
              inputMode="numeric"
              min={1}
              max={MAX_TOKEN_HOURS}
              step={1}
              value={form.expiresInHours}
              onChange={(e) => setForm({ ...form, expiresInHours: e.target.value })}
              required
            />
          )}
        </Field>
        <Field label="Max uses">
          {(control) => (
            <input
              {...control}
              name="maxUses"
              type="number"
              inputMode="numeric"
              min={1}
              max={MAX_TOKEN_USES}
              step={1}
              value={form.maxUses}
              placeholder="unlimited"
              onChange={(e) => setForm({ ...form, maxUses: e.target.value })}
            />
          )}
        </Field>
        <FormProblems problems={problems} />
        <ErrorBox error={create.error} />
        <div>
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create join token'}
          </button>
        </div>
      </form>
      {created ? <EnrolInstructions token={created} onDone={() => setCreated(null)} /> : null}
    </>
  );
}

/** What a newcomer needs to enrol the first machine: the token, once, and the exact commands. */
function EnrolInstructions({ token, onDone }: { token: CreatedJoinToken; onDone: () => void }) {
  const commands = enrolCommands(window.location.origin, token.token);
  return (
    <section className={`card ${styles.formCard}`} aria-labelledby="enrol-heading">
      <h3 id="enrol-heading">Enrol a machine</h3>
      <p className={styles.warning}>
        <strong>Copy the token now: it is shown only this once.</strong> It expires {formatRelative(token.expiresAt)} (
        {formatDate(token.expiresAt)}), enrols {token.maxUses === null ? 'any number of' : `at most ${formatCount(token.maxUses)}`} machine
        {token.maxUses === 1 ? '' : 's'}, and{' '}
        {token.autoApprove ? 'approves them at once' : 'leaves them pending until approved on the Hosts page'}.
      </p>
      <h4>Token (shown once)</h4>
      <CodeBlock>{token.token}</CodeBlock>
      <CopyButton text={token.token} label="Copy token" />
      <h4>On the machine, from a checkout of Brier (after npm install)</h4>
      <CodeBlock>{commands.enroll}</CodeBlock>
      <CopyButton text={commands.enroll} label="Copy enrol command" />
      <p className="muted">Then keep the agent running (it stays connected; Ctrl-C stops it):</p>
      <CodeBlock>{commands.run}</CodeBlock>
      <details>
        <summary>As a system service (root, state in /var/lib/brier-agent)</summary>
        <p className="muted">With Brier built in /opt/brier and deploy/systemd/brier-agent.service installed:</p>
        <CodeBlock>{`${commands.serviceEnroll}\n${commands.serviceStart}`}</CodeBlock>
        <CopyButton text={commands.serviceEnroll} label="Copy service enrol command" />
      </details>
      <p>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </p>
    </section>
  );
}
