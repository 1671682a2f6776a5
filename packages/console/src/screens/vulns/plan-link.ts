/** The most host ids a "Plan deployment" link carries (about 18 KB of URL). */
export const MAX_LINK_HOSTS = 500;

export interface PlanFinding {
  hostId: string;
  package: string;
  fixedVersion?: string | undefined;
}

/**
 * /deployments/new?packages=<name>>=<fixed>,…&hosts=<id>,…: the new-deployment form prefilled with
 * the packages that fix a record (at least the fixed version; a package with no fix yet by name
 * only) and the hosts that have it, for an operator who wants to shape waves before submitting.
 * Like the server's remediation plan, a package takes the first fixed version its findings name.
 * `hosts` is left out when there are more than MAX_LINK_HOSTS or when `complete` says the findings
 * are only some of them (`truncated` says so): the operator then picks the targets in the form.
 */
export function planDeploymentHref(findings: readonly PlanFinding[], complete = true): { href: string; truncated: boolean } {
  const packages = new Map<string, string | undefined>();
  const hosts: string[] = [];
  const seenHosts = new Set<string>();
  for (const f of findings) {
    if (!packages.has(f.package) || (packages.get(f.package) === undefined && f.fixedVersion))
      packages.set(f.package, f.fixedVersion || undefined);
    if (!seenHosts.has(f.hostId)) {
      seenHosts.add(f.hostId);
      hosts.push(f.hostId);
    }
  }
  const params = new URLSearchParams();
  const specs = [...packages.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, fixed]) => (fixed ? `${name}>=${fixed}` : name));
  if (specs.length > 0) params.set('packages', specs.join(','));
  const truncated = !complete || hosts.length > MAX_LINK_HOSTS;
  if (hosts.length > 0 && !truncated) params.set('hosts', hosts.join(','));
  const query = params.toString();
  return { href: query === '' ? '/deployments/new' : `/deployments/new?${query}`, truncated };
}
