import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullJitterDelayMs } from './backoff.js';

/** The largest double below 1: what Math.random() may return at most. */
const ALMOST_ONE = 1 - Number.EPSILON / 2;

describe('fullJitterDelayMs', () => {
  it('stays in [0, min(cap, base * 2^attempt)) for any random() in [0, 1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 1, max: 86_400_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, capMs, r) => {
          const delay = fullJitterDelayMs(attempt, baseMs, capMs, () => r);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.min(capMs, baseMs * 2 ** attempt));
        },
      ),
    );
  });

  it('is zero when random() is zero and just below the ceiling when random() is just below one', () => {
    expect(fullJitterDelayMs(3, 1_000, 300_000, () => 0)).toBe(0);
    expect(fullJitterDelayMs(3, 1_000, 300_000, () => ALMOST_ONE)).toBe(7_999);
  });

  it('doubles its window with every attempt until the cap', () => {
    const half = () => 0.5;
    const delays = Array.from({ length: 12 }, (_, attempt) => fullJitterDelayMs(attempt, 1_000, 300_000, half));
    expect(delays.slice(0, 9)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000]);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
  });

  it('never exceeds the cap, however many attempts failed', () => {
    for (const attempt of [9, 10, 30, 31, 64, 1_000, 1e9, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY]) {
      const delay = fullJitterDelayMs(attempt, 1_000, 300_000, () => ALMOST_ONE);
      expect(delay, String(attempt)).toBe(299_999);
    }
  });

  it('keeps growing past 30 attempts when the cap allows it', () => {
    const half = () => 0.5;
    expect(fullJitterDelayMs(40, 1, Number.MAX_SAFE_INTEGER, half)).toBe(2 ** 39);
    expect(fullJitterDelayMs(41, 1, Number.MAX_SAFE_INTEGER, half)).toBeGreaterThan(
      fullJitterDelayMs(40, 1, Number.MAX_SAFE_INTEGER, half),
    );
  });

  it('returns a finite delay for nonsensical inputs: a zero base, a negative or NaN attempt', () => {
    expect(fullJitterDelayMs(1e9, 0, 300_000, () => 0.5)).toBe(0);
    expect(fullJitterDelayMs(-5, 1_000, 300_000, () => ALMOST_ONE)).toBe(999);
    expect(fullJitterDelayMs(Number.NaN, 1_000, 300_000, () => ALMOST_ONE)).toBe(299_999);
  });

  it('uses Math.random by default', () => {
    for (let i = 0; i < 100; i++) {
      const delay = fullJitterDelayMs(2, 1_000, 300_000);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(4_000);
    }
  });
});
