import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateWave, percentText, type WaveGateInput } from './gates.js';
import { type AssignmentCounts, emptyCounts } from './types.js';

const T0 = new Date('2025-06-01T10:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const counts = (c: Partial<AssignmentCounts>): AssignmentCounts => ({ ...emptyCounts(), ...c });
const spec = { name: 'pilot', bakeMinutes: 30, successThreshold: 0.9 };

function gate(over: Partial<WaveGateInput> & { counts: AssignmentCounts }): ReturnType<typeof evaluateWave> {
  return evaluateWave({ spec, startedAt: T0, now: minutes(60), ...over });
}

describe('evaluateWave', () => {
  it('waits while hosts are still in progress, until the wave deadline', () => {
    const d = gate({
      spec: { ...spec, deadlineMinutes: 120 },
      counts: counts({ succeeded: 5, running: 2, offered: 1, pending: 1, deferred: 1 }),
    });
    expect(d).toMatchObject({ decision: 'wait', until: minutes(120), settledAt: null });
    expect(d.reason).toBe('wave "pilot": 5 of 10 hosts still in progress (5 succeeded, 0 failed of 5 that ran)');
  });

  it('bakes a settled wave for its bake time, counted from when it settled', () => {
    const d = gate({ counts: counts({ succeeded: 10 }), allTerminalAt: minutes(50) });
    expect(d).toMatchObject({ decision: 'wait', until: minutes(80), settledAt: minutes(50) });
    expect(d.reason).toBe('wave "pilot": baking, 20 of 30 minutes left (10 succeeded, 0 failed of 10 that ran)');
  });

  it('reports now as the settling time the first time it sees the wave settled, for the engine to store', () => {
    expect(gate({ counts: counts({ succeeded: 10 }) })).toMatchObject({ decision: 'wait', settledAt: minutes(60), until: minutes(90) });
  });

  it('advances once bake time has passed and the success rate meets the threshold', () => {
    const d = gate({ counts: counts({ succeeded: 9, failed: 1 }), allTerminalAt: minutes(30) });
    expect(d).toMatchObject({ decision: 'advance', settledAt: minutes(30), stats: { successRate: 0.9, total: 10 } });
    expect(d.reason).toBe('wave "pilot" passed: 90% succeeded (9 succeeded, 1 failed of 10 that ran)');
  });

  it('skips bake time for an emergency but still applies the success gate', () => {
    const passing = gate({ counts: counts({ succeeded: 10 }), emergency: true });
    expect(passing.decision).toBe('advance');
    expect(passing.reason).toContain('bake time skipped for an emergency');
    expect(gate({ counts: counts({ succeeded: 1, failed: 9 }), emergency: true }).decision).toBe('halt');
  });

  it('halts below the threshold with a reason that names the numbers', () => {
    const d = gate({ counts: counts({ succeeded: 8, failed: 2, expired: 1 }), allTerminalAt: minutes(59) });
    expect(d).toMatchObject({ decision: 'halt', settledAt: minutes(59) });
    expect(d.reason).toBe('wave "pilot": 80% succeeded (8 succeeded, 2 failed of 10 that ran), below the 90% threshold');
  });

  it('halts before the wave settles once the threshold is out of reach', () => {
    const d = gate({ counts: counts({ succeeded: 3, failed: 3, running: 4 }) });
    expect(d).toMatchObject({ decision: 'halt', settledAt: null });
    expect(d.reason).toBe(
      'wave "pilot": 3 succeeded, 3 failed of 6 that ran; even if the 4 hosts still open all succeeded, at most 70% would, below the 90% threshold',
    );
    // Still reachable: 1 failure in 10 could end at 90 %.
    expect(gate({ counts: counts({ failed: 1, running: 9 }) }).decision).toBe('wait');
  });

  it('does not let unreached hosts hold a wave that has evidence, and says they stay queued', () => {
    const d = gate({ counts: counts({ succeeded: 18, failed: 1, unreached: 3 }), allTerminalAt: minutes(10) });
    expect(d.decision).toBe('advance');
    expect(d.reason).toBe('wave "pilot" passed: 94.7% succeeded (18 succeeded, 1 failed of 19 that ran); 3 unreached hosts stay queued');
  });

  it('settles at the wave deadline even with hosts still in progress, and bakes from there', () => {
    const input = { spec: { ...spec, deadlineMinutes: 40 }, counts: counts({ succeeded: 9, running: 1 }) };
    expect(gate({ ...input, now: minutes(50) })).toMatchObject({ decision: 'wait', settledAt: minutes(40), until: minutes(70) });
    expect(gate({ ...input, now: minutes(70) })).toMatchObject({ decision: 'advance', settledAt: minutes(40) });
  });

  it('counts a wave that settled before its deadline from when it settled', () => {
    const d = gate({
      spec: { ...spec, deadlineMinutes: 40 },
      counts: counts({ succeeded: 10 }),
      allTerminalAt: minutes(20),
      now: minutes(45),
    });
    expect(d).toMatchObject({ decision: 'wait', settledAt: minutes(20), until: minutes(50) });
  });

  it('ignores an old settling time while a late host is running again', () => {
    expect(gate({ counts: counts({ succeeded: 9, running: 1 }), allTerminalAt: minutes(5) })).toMatchObject({
      decision: 'wait',
      settledAt: null,
      until: null,
    });
  });

  it('waits for unreached hosts while nobody has run the change, then halts at the wave deadline for lack of evidence', () => {
    const input = { spec: { ...spec, deadlineMinutes: 120 }, counts: counts({ unreached: 4 }) };
    const waiting = gate(input);
    expect(waiting).toMatchObject({ decision: 'wait', until: minutes(120) });
    expect(waiting.reason).toBe(
      'wave "pilot": no host has run the change yet; waiting for 4 unreached hosts until the wave deadline 2025-06-01T12:00:00.000Z',
    );
    const halted = gate({ ...input, now: minutes(120) });
    expect(halted.decision).toBe('halt');
    expect(halted.reason).toBe(
      'wave "pilot": no host ran the change (0 expired, 4 unreached), so there is no evidence for the 90% threshold',
    );
  });

  it('halts a wave whose hosts all expired without running', () => {
    expect(gate({ counts: counts({ expired: 3 }) }).decision).toBe('halt');
  });

  it('advances without evidence only when the threshold is 0, after bake time', () => {
    const off = { ...spec, successThreshold: 0 };
    expect(gate({ spec: off, counts: counts({ unreached: 2 }), allTerminalAt: minutes(0) })).toMatchObject({ decision: 'advance' });
    expect(gate({ spec: off, counts: counts({ expired: 2 }), allTerminalAt: minutes(50) })).toMatchObject({
      decision: 'wait',
      until: minutes(80),
    });
  });

  it('advances a wave with no hosts at once', () => {
    expect(gate({ counts: emptyCounts(), now: T0 })).toEqual({
      decision: 'advance',
      reason: 'wave "pilot" has no hosts',
      settledAt: T0,
      stats: { total: 0, succeeded: 0, failed: 0, expired: 0, unreached: 0, inProgress: 0, successRate: null },
    });
  });

  it('treats a rate exactly at the threshold as passing, without floating-point surprises', () => {
    for (const [s, f, t] of [
      [7, 3, 0.7],
      [9, 1, 0.9],
      [1, 2, 1 / 3],
      [19, 1, 0.95],
      [10, 0, 1],
    ] as const) {
      const d = gate({ spec: { ...spec, successThreshold: t }, counts: counts({ succeeded: s, failed: f }), allTerminalAt: T0 });
      expect(d.decision, `${s}/${s + f} at ${t}`).toBe('advance');
    }
  });

  it('fails closed on a threshold that is not a number', () => {
    expect(gate({ spec: { ...spec, successThreshold: Number.NaN }, counts: counts({ succeeded: 10 }), allTerminalAt: T0 }).decision).toBe(
      'halt',
    );
  });

  it('never advances a wave whose hosts that ran fall below the threshold, and never before bake time unless an emergency', () => {
    const countsArb = fc.record({
      pending: fc.nat(5),
      offered: fc.nat(5),
      deferred: fc.nat(5),
      running: fc.nat(5),
      succeeded: fc.nat(40),
      failed: fc.nat(10),
      expired: fc.nat(5),
      unreached: fc.nat(5),
    });
    fc.assert(
      fc.property(
        countsArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(120),
        fc.option(fc.nat(240), { nil: undefined }),
        fc.nat(300),
        fc.option(fc.nat(300), { nil: undefined }),
        fc.boolean(),
        (c, successThreshold, bakeMinutes, deadlineMinutes, nowMinutes, terminalMinutes, emergency) => {
          const now = minutes(nowMinutes);
          const d = evaluateWave({
            spec: { name: 'w', successThreshold, bakeMinutes, ...(deadlineMinutes === undefined ? {} : { deadlineMinutes }) },
            startedAt: T0,
            now,
            counts: c,
            allTerminalAt: terminalMinutes === undefined ? undefined : minutes(Math.min(terminalMinutes, nowMinutes)),
            emergency,
          });
          const ran = c.succeeded + c.failed;
          const total = Object.values(c).reduce((a, b) => a + b, 0);
          if (d.decision === 'advance' && total > 0) {
            if (ran > 0) expect(c.succeeded / ran).toBeGreaterThanOrEqual(successThreshold);
            else expect(successThreshold).toBe(0);
            expect(d.settledAt).not.toBeNull();
            if (!emergency) expect(now.getTime()).toBeGreaterThanOrEqual(d.settledAt!.getTime() + bakeMinutes * 60_000);
          }
          if (d.decision === 'halt' && ran > 0 && successThreshold > 0) {
            // A halt with evidence means the threshold was missed, or can no longer be met.
            const open = c.pending + c.offered + c.deferred + c.running + c.unreached;
            expect((c.succeeded + open) / (ran + open) < successThreshold || c.succeeded / ran < successThreshold).toBe(true);
          }
          expect(d.reason).not.toBe('');
        },
      ),
    );
  });
});

describe('percentText', () => {
  it('prints one decimal, or three when one would hide that a rate fell short of its threshold', () => {
    expect([percentText(0.9), percentText(0.947368), percentText(1), percentText(0)]).toEqual(['90%', '94.7%', '100%', '0%']);
    expect(percentText(0.89996, 0.9)).toBe('89.996%');
    expect(percentText(0.9, 0.9)).toBe('90%');
  });
});
