/** Placeholder until its screen is built. */
export function QuarantinePage() {
  return <h1>QuarantinePage</h1>;
}
