/** Placeholder until its screen is built. */
export function PatchesPage() {
  return <h1>PatchesPage</h1>;
}
