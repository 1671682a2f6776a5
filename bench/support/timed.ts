/** Runs `work` and returns its value with the wall-clock seconds it took (high-resolution clock). */
export async function timed<T>(work: () => Promise<T> | T): Promise<{ value: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}
