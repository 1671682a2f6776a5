import type { Permission } from './roles';

export interface SettingsTab {
  /** The path under /settings. */
  path: string;
  /** The tab's text, also the heading of its section. */
  label: string;
  /** Whether a role with these permissions sees the tab (the server checks again on every call). */
  visible: (can: (permission: Permission) => boolean) => boolean;
}

/** The sections of Settings, in tab order; /settings opens the first one the role may see. */
export const SETTINGS_TABS: readonly SettingsTab[] = [
  { path: 'users', label: 'Users and roles', visible: (can) => can('users:manage') },
  { path: 'api-tokens', label: 'API tokens', visible: () => true },
  { path: 'join-tokens', label: 'Join tokens', visible: (can) => can('enrollment:manage') },
  { path: 'groups', label: 'Groups and sites', visible: (can) => can('hosts:read') },
  { path: 'windows', label: 'Maintenance windows', visible: (can) => can('deployments:read') },
  { path: 'sla', label: 'SLA matrix', visible: (can) => can('vulns:read') },
  // GET /work-key is admin-only (settings:manage), like the rotation.
  { path: 'work-key', label: 'Work key', visible: (can) => can('settings:manage') },
];

export function visibleTabs(can: (permission: Permission) => boolean): SettingsTab[] {
  return SETTINGS_TABS.filter((t) => t.visible(can));
}
