/** Placeholder until its screen is built. */
export function DeploymentPage() {
  return <h1>DeploymentPage</h1>;
}
