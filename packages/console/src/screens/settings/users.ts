import type { Role } from './roles';

/** The server's rules for accounts (auth/auth-service.ts): checked before anything is sent. */
const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MIN_PASSWORD = 12;
export const MAX_PASSWORD = 1024;

/** What is wrong with a password the server would refuse (`what` names the field in the message). */
export function passwordProblems(password: string, what = 'password'): string[] {
  if (password.length < MIN_PASSWORD) return [`${what}: at least ${MIN_PASSWORD} characters`];
  if (password.length > MAX_PASSWORD) return [`${what}: at most ${MAX_PASSWORD} characters`];
  return [];
}

/** What is wrong with a new account's name and initial password. */
export function userProblems(username: string, password: string): string[] {
  const out: string[] = [];
  if (!USERNAME.test(username)) out.push('user name: 1-64 of a-z 0-9 . _ - starting with a letter or digit');
  out.push(...passwordProblems(password, 'initial password'));
  return out;
}

/** PATCH /users/{id}: one change at a time from the Users tab. */
export type UserChange = { role: Role } | { disabled: boolean } | { password: string };

/** What the operator is told after a change went through (the server revokes sessions as it says). */
export function changeNotice(change: UserChange, username: string, self: boolean): string {
  if ('role' in change) return `${username} is now ${change.role}.`;
  if ('disabled' in change)
    return change.disabled
      ? `${username} is disabled: their sessions and API tokens no longer work.`
      : `${username} is enabled again; their old API tokens stay revoked.`;
  return self
    ? 'Your password is set; your other sessions are signed out.'
    : `${username}'s password is set; their sessions are signed out.`;
}
