/** Placeholder until its screen is built. */
export function CompliancePage() {
  return <h1>CompliancePage</h1>;
}
