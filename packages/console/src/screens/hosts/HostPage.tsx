/** Placeholder until its screen is built. */
export function HostPage() {
  return <h1>HostPage</h1>;
}
