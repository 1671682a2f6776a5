import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { type FormEvent, useState } from 'react';
import { api, call, type Json } from '../../api/client';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox } from '../../ui/ErrorBox';
import { formatDate } from '../../ui/format';
import { Field, FormProblems } from '../../ui/parts';
import { SafeText } from '../../ui/SafeText';
import { ROLE_PERMISSIONS, ROLE_SUMMARY, ROLES, type Role } from './roles';
import styles from './Settings.module.css';

type User = Json<'/api/v1/users', 'get'>['items'][number];

export const USERS_KEY = ['users'] as const;

/** The server's rules for a new account (auth/auth-service.ts). */
const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MIN_PASSWORD = 12;
const MAX_PASSWORD = 1024;

export function userProblems(username: string, password: string): string[] {
  const out: string[] = [];
  if (!USERNAME.test(username)) out.push('user name: 1-64 of a-z 0-9 . _ - starting with a letter or digit');
  if (password.length < MIN_PASSWORD) out.push(`initial password: at least ${MIN_PASSWORD} characters`);
  if (password.length > MAX_PASSWORD) out.push(`initial password: at most ${MAX_PASSWORD} characters`);
  return out;
}

const columns: ColumnDef<User, unknown>[] = [
  { id: 'username', header: 'User name', cell: ({ row }) => <SafeText text={row.original.username} /> },
  { id: 'role', header: 'Role', cell: ({ row }) => <span className="badge badge-info">{row.original.role}</span> },
  {
    id: 'status',
    header: 'Status',
    cell: ({ row }) =>
      row.original.disabled ? <span className="badge badge-bad">Disabled</span> : <span className="badge badge-ok">Active</span>,
  },
  { id: 'createdAt', header: 'Created', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.createdAt)}</span> },
];

export function UsersTab() {
  const users = useQuery({ queryKey: USERS_KEY, queryFn: () => call(api.GET('/api/v1/users')) });
  return (
    <section className={styles.section} aria-labelledby="settings-users">
      <h2 id="settings-users">Users and roles</h2>
      <ErrorBox error={users.error} />
      <DataTable
        label="Users"
        columns={columns}
        data={users.data?.items ?? []}
        getRowId={(u) => u.id}
        isLoading={users.isLoading}
        empty="No users."
      />
      <p className="muted">The server offers no way yet to change a user’s role or to disable an account; both need a new API route.</p>
      <CreateUser />
      <h3>What each role may do</h3>
      <div className="table-wrap">
        <table aria-label="Roles">
          <thead>
            <tr>
              <th>Role</th>
              <th>May</th>
              <th>Permissions</th>
            </tr>
          </thead>
          <tbody>
            {ROLES.map((role) => (
              <tr key={role}>
                <td>
                  <span className="badge badge-info">{role}</span>
                </td>
                <td>{ROLE_SUMMARY[role]}</td>
                <td>
                  {ROLE_PERMISSIONS[role].map((p) => (
                    <span key={p} className="badge mono">
                      {p}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function CreateUser() {
  const client = useQueryClient();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [password, setPassword] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const [created, setCreated] = useState<User | null>(null);
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/v1/users', { body: { username, role, password } })),
    onSuccess: async (user) => {
      setCreated(user);
      setUsername('');
      setPassword('');
      await client.invalidateQueries({ queryKey: USERS_KEY });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = userProblems(username, password);
    setProblems(found);
    setCreated(null);
    if (found.length === 0) create.mutate();
  };
  return (
    <form className={`stack card ${styles.formCard}`} onSubmit={submit} aria-labelledby="create-user-heading" noValidate>
      <h3 id="create-user-heading">Create user</h3>
      <Field label="User name" hint="Lower-case letters, digits, dot, underscore and hyphen.">
        {(control) => (
          <input
            {...control}
            name="username"
            autoComplete="off"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            maxLength={64}
          />
        )}
      </Field>
      <Field label="Role">
        {(control) => (
          <select {...control} name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Initial password" hint={`At least ${MIN_PASSWORD} characters. Give it to the person over a separate channel.`}>
        {(control) => (
          <input
            {...control}
            name="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            minLength={MIN_PASSWORD}
            maxLength={MAX_PASSWORD}
          />
        )}
      </Field>
      <FormProblems problems={problems} />
      <ErrorBox error={create.error} />
      {created ? (
        <p className="notice" role="status">
          Created user <SafeText text={created.username} /> with role {created.role}.
        </p>
      ) : null}
      <div>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create user'}
        </button>
      </div>
    </form>
  );
}
