import { Suspense } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { type Me, useCan, useLogout } from './auth';
import { SafeText } from './ui/SafeText';
import { ScreenBoundary } from './ui/ScreenBoundary';

const NAV: Array<{ to: string; label: string; permission: string }> = [
  { to: '/', label: 'Dashboard', permission: 'hosts:read' },
  { to: '/hosts', label: 'Hosts', permission: 'hosts:read' },
  { to: '/patches', label: 'Patches', permission: 'deployments:read' },
  { to: '/deployments', label: 'Deployments', permission: 'deployments:read' },
  { to: '/approvals', label: 'Approvals', permission: 'deployments:approve' },
  { to: '/vulnerabilities', label: 'Vulnerabilities', permission: 'vulns:read' },
  { to: '/policies', label: 'Policies', permission: 'policies:read' },
  { to: '/compliance', label: 'Compliance', permission: 'policies:read' },
  { to: '/quarantine', label: 'Quarantine', permission: 'policies:read' },
  { to: '/devices', label: 'Unmanaged devices', permission: 'policies:read' },
  { to: '/audit', label: 'Audit log', permission: 'audit:read' },
  { to: '/settings', label: 'Settings', permission: 'hosts:read' },
];

export function Layout({ me }: { me: Me }) {
  const can = useCan();
  const logout = useLogout();
  const location = useLocation();
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Brier</span>
        <span className="spacer" />
        <span className="who" data-testid="who">
          <SafeText text={me.username} /> <span className="badge">{me.role}</span>
        </span>
        <button type="button" onClick={() => logout.mutate()} disabled={logout.isPending}>
          Sign out
        </button>
      </header>
      <nav className="sidebar" aria-label="Main">
        {NAV.filter((n) => can(n.permission)).map((n) => (
          <NavLink key={n.to} to={n.to} end={n.to === '/'}>
            {n.label}
          </NavLink>
        ))}
        <a href="/docs">API reference</a>
      </nav>
      <main className="content">
        <ScreenBoundary key={location.pathname}>
          <Suspense fallback={<p className="muted">Loading…</p>}>
            <Outlet />
          </Suspense>
        </ScreenBoundary>
      </main>
    </div>
  );
}
