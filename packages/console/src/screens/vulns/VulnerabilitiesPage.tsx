/** Placeholder until its screen is built. */
export function VulnerabilitiesPage() {
  return <h1>VulnerabilitiesPage</h1>;
}
