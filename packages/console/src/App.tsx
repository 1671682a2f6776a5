import { BrowserRouter, Route, Routes } from 'react-router';
import { LoginPage, useMe } from './auth';
import { Layout } from './Layout';
import { AuditPage } from './screens/audit/AuditPage';
import { DashboardPage } from './screens/dashboard/DashboardPage';
import { ApprovalsPage } from './screens/deployments/ApprovalsPage';
import { DeploymentPage } from './screens/deployments/DeploymentPage';
import { DeploymentsPage } from './screens/deployments/DeploymentsPage';
import { NewDeploymentPage } from './screens/deployments/NewDeploymentPage';
import { DevicesPage } from './screens/devices/DevicesPage';
import { HostPage } from './screens/hosts/HostPage';
import { HostsPage } from './screens/hosts/HostsPage';
import { PatchesPage } from './screens/patches/PatchesPage';
import { CompliancePage } from './screens/policies/CompliancePage';
import { PoliciesPage } from './screens/policies/PoliciesPage';
import { PolicyPage } from './screens/policies/PolicyPage';
import { QuarantinePage } from './screens/quarantine/QuarantinePage';
import { SettingsPage } from './screens/settings/SettingsPage';
import { VulnerabilitiesPage } from './screens/vulns/VulnerabilitiesPage';
import { VulnerabilityPage } from './screens/vulns/VulnerabilityPage';
import { ErrorBox } from './ui/ErrorBox';

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
