import type { ComponentType } from 'react';
import { Navigate, NavLink, Route, Routes } from 'react-router';
import { useCan } from '../../auth';
import { ApiTokensTab } from './ApiTokensTab';
import { GroupsTab } from './GroupsTab';
import { JoinTokensTab } from './JoinTokensTab';
import type { Permission } from './roles';
import { SlaTab } from './SlaTab';
import { SETTINGS_TABS, visibleTabs } from './tabs';
import { UsersTab } from './UsersTab';
import { WindowsTab } from './WindowsTab';
import { WorkKeyTab } from './WorkKeyTab';

const SCREENS: Record<string, ComponentType> = {
  users: UsersTab,
  'api-tokens': ApiTokensTab,
  'join-tokens': JoinTokensTab,
  groups: GroupsTab,
  windows: WindowsTab,
  sla: SlaTab,
  'work-key': WorkKeyTab,
};

/** Settings: one tab per section, each shown only to a role that may use it (/settings opens the first). */
export function SettingsPage() {
  const granted = useCan();
  const can = (p: Permission) => granted(p);
  const tabs = visibleTabs(can);
  const first = tabs[0]?.path ?? 'api-tokens';
  return (
    <>
      <div className="page-header">
        <h1>Settings</h1>
      </div>
      <nav className="tabs" aria-label="Settings sections">
        {tabs.map((t) => (
          <NavLink key={t.path} to={`/settings/${t.path}`}>
            {t.label}
          </NavLink>
        ))}
      </nav>
      <Routes>
        <Route index element={<Navigate to={`/settings/${first}`} replace />} />
        {SETTINGS_TABS.map((t) => {
          const Screen = SCREENS[t.path];
          return (
            <Route
              key={t.path}
              path={t.path}
              element={t.visible(can) && Screen ? <Screen /> : <p className="notice">Your role cannot use {t.label.toLowerCase()}.</p>}
            />
          );
        })}
        <Route path="*" element={<Navigate to={`/settings/${first}`} replace />} />
      </Routes>
    </>
  );
}
