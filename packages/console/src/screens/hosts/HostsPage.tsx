/** Placeholder until its screen is built. */
export function HostsPage() {
  return <h1>HostsPage</h1>;
}
