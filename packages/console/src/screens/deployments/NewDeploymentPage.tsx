/** Placeholder until its screen is built. */
export function NewDeploymentPage() {
  return <h1>NewDeploymentPage</h1>;
}
