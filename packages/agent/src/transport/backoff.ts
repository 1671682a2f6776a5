/**
 * Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff And Jitter"): the
 * delay is uniform in [0, min(cap, base * 2^attempt)], so ten thousand laptops waking together
 * spread their reconnects over the whole window instead of arriving in synchronised waves.
 */
export function fullJitterDelayMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
