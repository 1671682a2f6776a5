/**
 * Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff And Jitter"): the
 * delay is uniform in [0, min(cap, base * 2^attempt)), so ten thousand laptops waking together
 * spread their reconnects over the whole window instead of arriving in synchronised waves.
 */
export function fullJitterDelayMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  // 2^53 ms outlasts any cap, and a finite exponent keeps base 0 from giving 0 * Infinity = NaN.
  // A nonsensical attempt (NaN) backs off as far as allowed rather than not at all.
  const exponent = Number.isNaN(attempt) ? 53 : Math.min(Math.max(attempt, 0), 53);
  const ceiling = Math.min(capMs, baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
