/** Placeholder until its screen is built. */
export function DeploymentsPage() {
  return <h1>DeploymentsPage</h1>;
}
