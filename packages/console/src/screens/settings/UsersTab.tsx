import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { type FormEvent, useState } from 'react';
import { api, call, type Json } from '../../api/client';
import { ME_KEY, useMe } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { ErrorBox, QueryState } from '../../ui/ErrorBox';
import { formatDate } from '../../ui/format';
import { ConfirmButton, Field, FormProblems } from '../../ui/parts';
import { SafeText, visibleText } from '../../ui/SafeText';
import { ROLE_SUMMARY, ROLES, type Role } from './roles';
import styles from './Settings.module.css';
import { changeNotice, MAX_PASSWORD, MIN_PASSWORD, passwordProblems, type UserChange, userProblems } from './users';

type User = Json<'/api/v1/users', 'get'>['items'][number];

export const USERS_KEY = ['users'] as const;
const ROLES_KEY = ['roles'] as const;

const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

/** A new password for someone, set by an admin (PATCH /users/{id} {password}). */
function PasswordForm({
  user,
  pending,
  onSubmit,
  onCancel,
}: {
  user: User;
  pending: boolean;
  onSubmit: (p: string) => void;
  onCancel: () => void;
}) {
  const [password, setPassword] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = passwordProblems(password, 'new password');
    setProblems(found);
    if (found.length === 0) onSubmit(password);
  };
  return (
    <form className={styles.inlineRow} onSubmit={submit} aria-label={`Reset the password of ${visibleText(user.username)}`} noValidate>
      <label>
        New password
        <input
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          minLength={MIN_PASSWORD}
          maxLength={MAX_PASSWORD}
          required
        />
      </label>
      <button type="submit" className="primary" disabled={pending}>
        Set password
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <FormProblems problems={problems} />
    </form>
  );
}

/**
 * Role change, disable/enable and password reset of one account, in a panel under the table (the
 * server's refusals, e.g. disabling the last admin, show in it).
 */
function ManageUser({ user, self, onClose }: { user: User; self: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const [role, setRole] = useState<Role>(user.role);
  const [resetting, setResetting] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: (body: UserChange) => call(api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body })),
    onMutate: () => setNotice(null),
    onSuccess: async (updated, body) => {
      setRole(updated.role);
      setResetting(false);
      setNotice(changeNotice(body, updated.username, self));
      await client.invalidateQueries({ queryKey: USERS_KEY });
      if (self) await client.invalidateQueries({ queryKey: ME_KEY });
    },
  });
  return (
    <section className={`card ${styles.formCard}`} aria-label={`Manage ${visibleText(user.username)}`}>
      <h3>
        Manage <SafeText text={user.username} />
        {self ? <span className="muted"> (you)</span> : null}
      </h3>
      <div className={styles.inlineRow}>
        <label>
          Change role to
          <select value={role} onChange={(e) => isRole(e.target.value) && setRole(e.target.value)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={change.isPending || role === user.role} onClick={() => change.mutate({ role })}>
          Change role
        </button>
      </div>
      {self && role !== user.role ? <p className={styles.hint}>Changing your own role changes what this console lets you do.</p> : null}
      <div className={styles.inlineRow}>
        {user.disabled ? (
          <button type="button" disabled={change.isPending} onClick={() => change.mutate({ disabled: false })}>
            Enable
          </button>
        ) : self ? (
          <span className="muted">You cannot disable your own account.</span>
        ) : (
          <ConfirmButton
            label="Disable"
            question={
              <>
                Disable <SafeText text={user.username} max={40} />? Their sessions and API tokens stop working at once.
              </>
            }
            confirmLabel="Disable account"
            disabled={change.isPending}
            onConfirm={() => change.mutate({ disabled: true })}
          />
        )}
        {resetting ? null : (
          <button type="button" disabled={change.isPending} onClick={() => setResetting(true)}>
            Reset password
          </button>
        )}
      </div>
      {resetting ? (
        <PasswordForm
          user={user}
          pending={change.isPending}
          onSubmit={(password) => change.mutate({ password })}
          onCancel={() => setResetting(false)}
        />
      ) : null}
      {notice ? (
        <p className="notice" role="status">
          <SafeText text={notice} />
        </p>
      ) : null}
      <ErrorBox error={change.error} />
      <div className={styles.inlineRow}>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}

function RolesTable() {
  const roles = useQuery({ queryKey: ROLES_KEY, queryFn: () => call(api.GET('/api/v1/roles')), staleTime: Number.POSITIVE_INFINITY });
  return (
    <>
      <h3>What each role may do</h3>
      <QueryState isLoading={roles.isLoading} error={roles.error} />
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
            {(roles.data?.items ?? []).map(({ role, permissions }) => (
              <tr key={role}>
                <td>
                  <span className="badge badge-info">{role}</span>
                </td>
                <td>{ROLE_SUMMARY[role]}</td>
                <td>
                  {permissions.map((p) => (
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
    </>
  );
}

export function UsersTab() {
  const me = useMe().data;
  const users = useQuery({ queryKey: USERS_KEY, queryFn: () => call(api.GET('/api/v1/users')) });
  const [managing, setManaging] = useState<string | null>(null);
  const managed = users.data?.items.find((u) => u.id === managing);
  const columns: ColumnDef<User, unknown>[] = [
    {
      id: 'username',
      header: 'User name',
      cell: ({ row }) => (
        <>
          <SafeText text={row.original.username} />
          {row.original.id === me?.id ? <span className="muted"> (you)</span> : null}
        </>
      ),
    },
    { id: 'role', header: 'Role', cell: ({ row }) => <span className="badge badge-info">{row.original.role}</span> },
    {
      id: 'status',
      header: 'Status',
      cell: ({ row }) =>
        row.original.disabled ? <span className="badge badge-bad">Disabled</span> : <span className="badge badge-ok">Active</span>,
    },
    { id: 'createdAt', header: 'Created', cell: ({ row }) => <span className="nowrap">{formatDate(row.original.createdAt)}</span> },
    {
      id: 'actions',
      header: '',
      cell: ({ row }) => {
        const open = managing === row.original.id;
        return (
          <button
            type="button"
            aria-expanded={open}
            aria-label={`Manage ${visibleText(row.original.username)}`}
            onClick={() => setManaging(open ? null : row.original.id)}
          >
            Manage
          </button>
        );
      },
    },
  ];
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
      {managed ? <ManageUser key={managed.id} user={managed} self={managed.id === me?.id} onClose={() => setManaging(null)} /> : null}
      <p className="muted">
        Disabling an account signs it out and revokes its API tokens; a new password signs out its sessions. The server keeps at least one
        enabled admin and nobody can disable their own account.
      </p>
      <CreateUser />
      <RolesTable />
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
          <select {...control} name="role" value={role} onChange={(e) => isRole(e.target.value) && setRole(e.target.value)}>
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
