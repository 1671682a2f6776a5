import { describe, expect, it } from 'vitest';
import { TEST_PERMISSIONS } from './role-fixture';
import type { Role } from './roles';
import { SETTINGS_TABS, visibleTabs } from './tabs';

describe('settings tabs', () => {
  const as = (role: Role) => (p: string) => (TEST_PERMISSIONS[role] as readonly string[]).includes(p);

  it('shows an admin every tab, users first', () => {
    expect(visibleTabs(as('admin')).map((t) => t.path)).toEqual(SETTINGS_TABS.map((t) => t.path));
    expect(visibleTabs(as('admin'))[0]?.path).toBe('users');
  });

  it('shows a viewer only what it may read, its own API tokens first', () => {
    expect(visibleTabs(as('viewer')).map((t) => t.path)).toEqual(['api-tokens', 'groups', 'windows', 'sla']);
  });

  it('keeps people, join tokens and the work key from operators and approvers', () => {
    for (const role of ['operator', 'approver'] as const) {
      const paths = visibleTabs(as(role)).map((t) => t.path);
      expect(paths).not.toContain('users');
      expect(paths).not.toContain('join-tokens');
      expect(paths).not.toContain('work-key');
    }
  });

  it('shows a session without permissions (an unexpected role) only its API tokens', () => {
    expect(visibleTabs(() => false).map((t) => t.path)).toEqual(['api-tokens']);
  });
});
