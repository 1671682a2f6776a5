import type { QueryClient } from '@tanstack/react-query';
import { BrowserRouter, matchPath, Route, Routes } from 'react-router';
import { LoginPage, meQuery, useMe } from './auth';
import { Layout } from './Layout';
import { dashboardQuery } from './screens/dashboard/dashboard-query';
import { ErrorBox } from './ui/ErrorBox';
import { type LazyScreen, lazyScreen } from './ui/lazy-screen';

// Each screen is its own chunk, loaded when first opened: the first page downloads only what it draws.
const AuditPage = lazyScreen(() => import('./screens/audit/AuditPage'), 'AuditPage');
const DashboardPage = lazyScreen(() => import('./screens/dashboard/DashboardPage'), 'DashboardPage');
const ApprovalsPage = lazyScreen(() => import('./screens/deployments/ApprovalsPage'), 'ApprovalsPage');
const DeploymentPage = lazyScreen(() => import('./screens/deployments/DeploymentPage'), 'DeploymentPage');
const DeploymentsPage = lazyScreen(() => import('./screens/deployments/DeploymentsPage'), 'DeploymentsPage');
const NewDeploymentPage = lazyScreen(() => import('./screens/deployments/NewDeploymentPage'), 'NewDeploymentPage');
const DevicesPage = lazyScreen(() => import('./screens/devices/DevicesPage'), 'DevicesPage');
const HostPage = lazyScreen(() => import('./screens/hosts/HostPage'), 'HostPage');
const HostsPage = lazyScreen(() => import('./screens/hosts/HostsPage'), 'HostsPage');
const PatchesPage = lazyScreen(() => import('./screens/patches/PatchesPage'), 'PatchesPage');
const CompliancePage = lazyScreen(() => import('./screens/policies/CompliancePage'), 'CompliancePage');
const PoliciesPage = lazyScreen(() => import('./screens/policies/PoliciesPage'), 'PoliciesPage');
const PolicyPage = lazyScreen(() => import('./screens/policies/PolicyPage'), 'PolicyPage');
const QuarantinePage = lazyScreen(() => import('./screens/quarantine/QuarantinePage'), 'QuarantinePage');
const SettingsPage = lazyScreen(() => import('./screens/settings/SettingsPage'), 'SettingsPage');
const VulnerabilitiesPage = lazyScreen(() => import('./screens/vulns/VulnerabilitiesPage'), 'VulnerabilitiesPage');
const VulnerabilityPage = lazyScreen(() => import('./screens/vulns/VulnerabilityPage'), 'VulnerabilityPage');

/** When the other screens' chunks start loading, after the first screen's. */
const PREFETCH_AFTER_MS = 3000;

/** The screens by route, in the order react-router matches them. */
const SCREENS: ReadonlyArray<readonly [path: string, screen: LazyScreen]> = [
  ['/', DashboardPage],
  ['/hosts', HostsPage],
  ['/hosts/:id', HostPage],
  ['/patches', PatchesPage],
  ['/deployments', DeploymentsPage],
  ['/deployments/new', NewDeploymentPage],
  ['/deployments/:id', DeploymentPage],
  ['/approvals', ApprovalsPage],
  ['/vulnerabilities', VulnerabilitiesPage],
  ['/vulnerabilities/:record', VulnerabilityPage],
  ['/policies', PoliciesPage],
  ['/policies/:id', PolicyPage],
  ['/compliance', CompliancePage],
  ['/quarantine', QuarantinePage],
  ['/devices', DevicesPage],
  ['/audit', AuditPage],
  ['/settings/*', SettingsPage],
];

/**
 * Starts loading the chunk (and for the dashboard, the data) of the screen at `pathname` before sign-in
 * has even been checked, and a little later the other screens' chunks while the browser is idle, so
 * moving between screens never waits.
 */
export function preloadScreens(pathname: string, client: QueryClient): void {
  // The dashboard is where most sessions start: once the session is known good, its data is asked
  // for while its chunk is still loading.
  if (pathname === '/')
    void client
      .fetchQuery(meQuery)
      .then((me) => (me ? client.prefetchQuery(dashboardQuery) : undefined))
      .catch(() => {});
  const first = SCREENS.find(([path]) => matchPath({ path, end: !path.endsWith('*') }, pathname))?.[1];
  const rest = () => {
    for (const [, screen] of SCREENS) void screen.preload().catch(() => {});
  };
  void (first ? first.preload() : Promise.resolve()).catch(() => {});
  // Late enough not to compete with the first screen's own requests and rendering on a cold load.
  setTimeout(() => (typeof requestIdleCallback === 'function' ? requestIdleCallback(rest) : rest()), PREFETCH_AFTER_MS);
}

export function App() {
  const me = useMe();
  if (me.isLoading) return <p className="muted">Loading…</p>;
  if (me.error) return <ErrorBox error={me.error} />;
  if (!me.data) return <LoginPage />;
  return (
    <Routes>
      <Route element={<Layout me={me.data} />}>
        {SCREENS.map(([path, Screen]) =>
          path === '/' ? <Route key={path} index element={<Screen />} /> : <Route key={path} path={path.slice(1)} element={<Screen />} />,
        )}
        <Route path="*" element={<p>No such page.</p>} />
      </Route>
    </Routes>
  );
}

export function Root() {
  return (
    <BrowserRouter>
      <App />
    </BrowserRouter>
  );
}
