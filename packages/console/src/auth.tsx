import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useState } from 'react';
import { ApiError, api, call, type Json } from './api/client';
import { ErrorBox } from './ui/ErrorBox';

export type Me = Json<'/api/v1/auth/me', 'get'>;

export const ME_KEY = ['auth', 'me'] as const;

/** Who is signed in: the query behind useMe(), also run by the start-up prefetch. */
export const meQuery = {
  queryKey: ME_KEY,
  queryFn: async (): Promise<Me | null> => {
    try {
      return await call(api.GET('/api/v1/auth/me'));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  },
  staleTime: 60_000,
};

/** The signed-in user, or null when the session is missing or expired. */
export function useMe() {
  return useQuery(meQuery);
}

/**
 * Whether the signed-in user's role grants a permission (e.g. 'deployments:approve'). The console
 * hides what the role cannot do; the server refuses it anyway.
 */
export function useCan(): (permission: string) => boolean {
  const { data } = useMe();
  const granted = new Set<string>(data && 'permissions' in data ? (data.permissions as string[]) : []);
  return (permission) => granted.has(permission);
}

/** Renders its children only for a role with the permission. */
export function Can({ permission, children }: { permission: string; children: ReactNode }) {
  return useCan()(permission) ? children : null;
}

export function useLogout() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/logout')),
    onSettled: () => {
      client.clear();
      client.setQueryData(ME_KEY, null);
    },
  });
}

export function LoginPage() {
  const client = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/login', { body: { username, password } })),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ME_KEY });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  return (
    <main className="login">
      <form onSubmit={submit} className="card login-card" aria-label="Sign in">
        <h1>Brier</h1>
        <p className="muted">Sign in to the operator console.</p>
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {login.error ? <ErrorBox error={login.error} /> : null}
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
