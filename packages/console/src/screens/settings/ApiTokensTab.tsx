import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { type FormEvent, useState } from 'react';
import { api, call, type Json } from '../../api/client';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox } from '../../ui/ErrorBox';
import { formatDate, formatRelative } from '../../ui/format';
import { CodeBlock, ConfirmButton, CopyButton, Field, FormProblems } from '../../ui/parts';
import { SafeText } from '../../ui/SafeText';
import styles from './Settings.module.css';

type ApiToken = Json<'/api/v1/api-tokens', 'get'>['items'][number];
type CreatedToken = Json<'/api/v1/api-tokens', 'post'>;

const KEY = ['api-tokens'] as const;
// biome-ignore lint/suspicious/noControlCharactersInRegex: this is the check for them
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The server's rules (auth-routes.ts): a name of 1-100 characters without controls, 1-3650 days. */
export function apiTokenProblems(name: string, days: string): string[] {
  const out: string[] = [];
  const n = name.trim();
  if (!n) out.push('name: required');
  else if (n.length > 100 || CONTROL.test(n)) out.push('name: at most 100 characters, no control characters');
  const d = Number(days);
  if (!/^\d+$/.test(days.trim()) || d < 1 || d > 3650) out.push('expires in: whole days from 1 to 3650');
  return out;
}

export function ApiTokensTab() {
  const client = useQueryClient();
  const tokens = useQuery({ queryKey: KEY, queryFn: () => call(api.GET('/api/v1/api-tokens')) });
  const revoke = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/v1/api-tokens/{id}', { params: { path: { id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: KEY }),
  });
  const columns: ColumnDef<ApiToken, unknown>[] = [
    { id: 'name', header: 'Name', cell: ({ row }) => <SafeText text={row.original.name} max={100} /> },
    { id: 'createdAt', header: 'Created', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.createdAt)}</span> },
    {
      id: 'expiresAt',
      header: 'Expires',
      cell: ({ row }) => (
        <span className="nowrap" title={formatDate(row.original.expiresAt)}>
          {formatRelative(row.original.expiresAt)}
        </span>
      ),
    },
    {
      id: 'lastUsedAt',
      header: 'Last used',
      cell: ({ row }) => <span className="nowrap">{row.original.lastUsedAt ? formatRelative(row.original.lastUsedAt) : 'never'}</span>,
    },
    {
      id: 'actions',
      header: 'Actions',
      cell: ({ row }) => (
        <ConfirmButton
          label="Revoke"
          question="Revoke this token? Scripts using it stop working."
          confirmLabel="Yes, revoke"
          disabled={revoke.isPending}
          onConfirm={() => revoke.mutate(row.original.id)}
        />
      ),
    },
  ];
  return (
    <section className={styles.section} aria-labelledby="settings-api-tokens">
      <h2 id="settings-api-tokens">API tokens</h2>
      <p className="muted">
        Your own long-lived tokens for scripts and integrations; each acts as you, with your role. The CLI takes one in{' '}
        <code>BRIER_TOKEN</code> (with <code>BRIER_SERVER</code>); other clients send <code>Authorization: Bearer …</code>.
      </p>
      <ErrorBox error={tokens.error} />
      <ErrorBox error={revoke.error} />
      <DataTable
        label="API tokens"
        columns={columns}
        data={tokens.data?.items ?? []}
        getRowId={(t) => t.id}
        isLoading={tokens.isLoading}
        empty="You have no API tokens."
      />
      <CreateApiToken />
    </section>
  );
}

function CreateApiToken() {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const [problems, setProblems] = useState<string[]>([]);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/v1/api-tokens', { body: { name: name.trim(), expiresInDays: Number(days) } })),
    onSuccess: async (token) => {
      setCreated(token);
      setName('');
      await client.invalidateQueries({ queryKey: KEY });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = apiTokenProblems(name, days);
    setProblems(found);
    if (found.length === 0) {
      setCreated(null);
      create.mutate();
    }
  };
  return (
    <>
      {created ? (
        <section className={`card ${styles.formCard}`} aria-labelledby="new-api-token">
          <h3 id="new-api-token">
            New API token <SafeText text={created.name} max={100} />
          </h3>
          <p className={styles.warning}>
            <strong>Copy it now: it is shown only this once.</strong> Anyone holding it acts as you until {formatDate(created.expiresAt)}.
            Revoke it here if it leaks.
          </p>
          <CodeBlock>{created.token}</CodeBlock>
          <CopyButton text={created.token} label="Copy token" />{' '}
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </section>
      ) : null}
      <form className={`stack card ${styles.formCard}`} onSubmit={submit} aria-labelledby="create-api-token-heading" noValidate>
        <h3 id="create-api-token-heading">Create API token</h3>
        <Field label="Name">
          {(control) => (
            <input
              {...control}
              name="name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={100}
              placeholder="e.g. nightly report"
            />
          )}
        </Field>
        <Field label="Expires in (days)">
          {(control) => (
            <input
              {...control}
              name="expiresInDays"
              type="number"
              inputMode="numeric"
              min={1}
              max={3650}
              step={1}
              value={days}
              onChange={(e) => setDays(e.target.value)}
              required
            />
          )}
        </Field>
        <FormProblems problems={problems} />
        <ErrorBox error={create.error} />
        <div>
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create token'}
          </button>
        </div>
      </form>
    </>
  );
}
