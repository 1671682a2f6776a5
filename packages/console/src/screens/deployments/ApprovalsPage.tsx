/** Placeholder until its screen is built. */
export function ApprovalsPage() {
  return <h1>ApprovalsPage</h1>;
}
