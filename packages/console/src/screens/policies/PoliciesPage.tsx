/** Placeholder until its screen is built. */
export function PoliciesPage() {
  return <h1>PoliciesPage</h1>;
}
