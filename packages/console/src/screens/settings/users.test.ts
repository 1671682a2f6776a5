import { describe, expect, it } from 'vitest';
import { changeNotice, MAX_PASSWORD, MIN_PASSWORD, passwordProblems, userProblems } from './users';

describe('account rules', () => {
  it('takes the names and passwords the server takes', () => {
    expect(userProblems('olivia', 'x'.repeat(MIN_PASSWORD))).toEqual([]);
    expect(userProblems('a.b_c-1', 'x'.repeat(MAX_PASSWORD))).toEqual([]);
  });

  it('refuses bad names and short or huge passwords before sending', () => {
    for (const bad of ['', 'Olivia', '-x', 'a b', 'a\u0000b', 'x'.repeat(65), 'ünicode'])
      expect(userProblems(bad, 'x'.repeat(12)), bad).toHaveLength(1);
    expect(userProblems('olivia', 'short')).toEqual([`initial password: at least ${MIN_PASSWORD} characters`]);
    expect(passwordProblems('x'.repeat(MAX_PASSWORD + 1))).toEqual([`password: at most ${MAX_PASSWORD} characters`]);
    expect(passwordProblems('x'.repeat(11), 'new password')).toEqual([`new password: at least ${MIN_PASSWORD} characters`]);
  });

  it('says what a change did', () => {
    expect(changeNotice({ role: 'viewer' }, 'bob', false)).toBe('bob is now viewer.');
    expect(changeNotice({ disabled: true }, 'bob', false)).toMatch(/disabled/);
    expect(changeNotice({ disabled: false }, 'bob', false)).toMatch(/enabled/);
    expect(changeNotice({ password: 'x'.repeat(12) }, 'bob', false)).toMatch(/bob's password/);
    expect(changeNotice({ password: 'x'.repeat(12) }, 'me', true)).toMatch(/your other sessions/i);
  });
});
