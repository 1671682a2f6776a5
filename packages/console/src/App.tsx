import { lazy } from 'react';
import { BrowserRouter, Route, Routes } from 'react-router';
import { LoginPage, useMe } from './auth';
import { Layout } from './Layout';
import { ErrorBox } from './ui/ErrorBox';

// Each screen is its own chunk, loaded when first opened: the first page downloads only what it draws.
const AuditPage = lazy(() => import('./screens/audit/AuditPage').then((m) => ({ default: m.AuditPage })));
const DashboardPage = lazy(() => import('./screens/dashboard/DashboardPage').then((m) => ({ default: m.DashboardPage })));
const ApprovalsPage = lazy(() => import('./screens/deployments/ApprovalsPage').then((m) => ({ default: m.ApprovalsPage })));
const DeploymentPage = lazy(() => import('./screens/deployments/DeploymentPage').then((m) => ({ default: m.DeploymentPage })));
const DeploymentsPage = lazy(() => import('./screens/deployments/DeploymentsPage').then((m) => ({ default: m.DeploymentsPage })));
const NewDeploymentPage = lazy(() => import('./screens/deployments/NewDeploymentPage').then((m) => ({ default: m.NewDeploymentPage })));
const DevicesPage = lazy(() => import('./screens/devices/DevicesPage').then((m) => ({ default: m.DevicesPage })));
const HostPage = lazy(() => import('./screens/hosts/HostPage').then((m) => ({ default: m.HostPage })));
const HostsPage = lazy(() => import('./screens/hosts/HostsPage').then((m) => ({ default: m.HostsPage })));
const PatchesPage = lazy(() => import('./screens/patches/PatchesPage').then((m) => ({ default: m.PatchesPage })));
const CompliancePage = lazy(() => import('./screens/policies/CompliancePage').then((m) => ({ default: m.CompliancePage })));
const PoliciesPage = lazy(() => import('./screens/policies/PoliciesPage').then((m) => ({ default: m.PoliciesPage })));
const PolicyPage = lazy(() => import('./screens/policies/PolicyPage').then((m) => ({ default: m.PolicyPage })));
const QuarantinePage = lazy(() => import('./screens/quarantine/QuarantinePage').then((m) => ({ default: m.QuarantinePage })));
const SettingsPage = lazy(() => import('./screens/settings/SettingsPage').then((m) => ({ default: m.SettingsPage })));
const VulnerabilitiesPage = lazy(() => import('./screens/vulns/VulnerabilitiesPage').then((m) => ({ default: m.VulnerabilitiesPage })));
const VulnerabilityPage = lazy(() => import('./screens/vulns/VulnerabilityPage').then((m) => ({ default: m.VulnerabilityPage })));

export function App() {
  const me = useMe();
  if (me.isLoading) return <p className="muted">Loading…</p>;
  if (me.error) return <ErrorBox error={me.error} />;
  if (!me.data) return <LoginPage />;
  return (
    <Routes>
      <Route element={<Layout me={me.data} />}>
        <Route index element={<DashboardPage />} />
        <Route path="hosts" element={<HostsPage />} />
        <Route path="hosts/:id" element={<HostPage />} />
        <Route path="patches" element={<PatchesPage />} />
        <Route path="deployments" element={<DeploymentsPage />} />
        <Route path="deployments/new" element={<NewDeploymentPage />} />
        <Route path="deployments/:id" element={<DeploymentPage />} />
        <Route path="approvals" element={<ApprovalsPage />} />
        <Route path="vulnerabilities" element={<VulnerabilitiesPage />} />
        <Route path="vulnerabilities/:record" element={<VulnerabilityPage />} />
        <Route path="policies" element={<PoliciesPage />} />
        <Route path="policies/:id" element={<PolicyPage />} />
        <Route path="compliance" element={<CompliancePage />} />
        <Route path="quarantine" element={<QuarantinePage />} />
        <Route path="devices" element={<DevicesPage />} />
        <Route path="audit" element={<AuditPage />} />
        <Route path="settings/*" element={<SettingsPage />} />
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
