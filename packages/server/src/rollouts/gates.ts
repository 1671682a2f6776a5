import type { AssignmentCounts, WaveSpec } from './types.js';

const MINUTE_MS = 60_000;

export interface WaveGateInput {
  spec: Pick<WaveSpec, 'name' | 'bakeMinutes' | 'successThreshold' | 'deadlineMinutes'>;
  /** When the wave's hosts were first offered their work. */
  startedAt: Date;
  now: Date;
  /** How many of the wave's hosts are in each assignment state. */
  counts: AssignmentCounts;
  /**
   * When the wave settled, as returned in `settledAt` by an earlier evaluation. The engine stores
   * every decision's `settledAt` (null clears it), so bake time survives a restart.
   */
  allTerminalAt?: Date | undefined;
  /** Emergency deployments skip bake time; the success gate still applies. */
  emergency?: boolean | undefined;
}

export interface WaveStats {
  total: number;
  succeeded: number;
  failed: number;
  expired: number;
  unreached: number;
  /** pending, offered, deferred or running: these hold the wave open until its deadline. */
  inProgress: number;
  /** succeeded / (succeeded + failed), or null when no host has run the change. */
  successRate: number | null;
}

interface DecisionBase {
  /** Says what the numbers are and why; recorded with the transition and shown in progress views. */
  reason: string;
  /** When the wave settled (no host in progress, or its deadline passed); null while it has not. */
  settledAt: Date | null;
  stats: WaveStats;
}

export type WaveDecision =
  | (DecisionBase & {
      decision: 'wait' /** Re-evaluate no later than this (bake end, deadline); null: on the next report. */;
      until: Date | null;
    })
  | (DecisionBase & { decision: 'advance' })
  | (DecisionBase & { decision: 'halt' });

/**
 * The gate between a wave and the next one (or completion, after the last wave).
 *
 * A wave settles when none of its hosts is pending, offered, deferred or running, or when its
 * deadline (`deadlineMinutes` after `startedAt`) has passed. Unreached hosts never hold a wave open:
 * they stay queued and catch up when they reconnect. A settled wave advances once bake time
 * (`bakeMinutes` after it settled; none for emergencies) has elapsed and
 * succeeded / (succeeded + failed) >= successThreshold. Expired and unreached hosts did not run, so
 * they count neither for nor against the rate.
 *
 * Rules where the issue is silent:
 * - It halts early, before settling, once the threshold is out of reach: when even every host still
 *   open (in progress or unreached) succeeding would leave the rate below it. Waiting longer could
 *   only make the rollout stop later, never let it pass.
 * - A wave with no hosts advances at once: there is nothing to wait for or watch.
 * - No evidence (nobody has run the change): with a threshold of 0 the gate is off and the wave
 *   advances after bake time. Otherwise it waits for unreached hosts until the wave's deadline (or
 *   indefinitely without one: the deployment deadline then expires them), and halts when there is
 *   nobody left who could run. Advancing on no evidence would make a pilot wave meaningless.
 * - A failure reported during bake time halts the wave: the counts are read on every evaluation.
 * - A threshold that is not a number in 0..1 never lets a wave with hosts that ran pass (fail closed).
 */
export function evaluateWave(input: WaveGateInput): WaveDecision {
  const { spec, startedAt, now, counts } = input;
  const name = JSON.stringify(spec.name);
  const threshold = spec.successThreshold;
  const { succeeded, failed, expired, unreached } = counts;
  const inProgress = counts.pending + counts.offered + counts.deferred + counts.running;
  const total = succeeded + failed + expired + unreached + inProgress;
  const ran = succeeded + failed;
  const successRate = ran > 0 ? succeeded / ran : null;
  const stats: WaveStats = { total, succeeded, failed, expired, unreached, inProgress, successRate };

  if (total === 0) return { decision: 'advance', reason: `wave ${name} has no hosts`, settledAt: startedAt, stats };

  const deadlineAt = spec.deadlineMinutes === undefined ? null : new Date(startedAt.getTime() + spec.deadlineMinutes * MINUTE_MS);
  const deadlinePassed = deadlineAt !== null && now.getTime() >= deadlineAt.getTime();
  const ranText = `${succeeded} succeeded, ${failed} failed of ${ran} that ran`;

  // Early halt: the best the rate can still become is every open host running and succeeding.
  const open = inProgress + unreached;
  if (ran > 0 && open > 0 && !deadlinePassed && !((succeeded + open) / (ran + open) >= threshold)) {
    return {
      decision: 'halt',
      reason:
        `wave ${name}: ${ranText}; even if the ${open} host${open === 1 ? '' : 's'} still open all succeeded, ` +
        `at most ${percentText((succeeded + open) / (ran + open), threshold)} would, below the ${percentText(threshold)} threshold`,
      settledAt: null,
      stats,
    };
  }

  if (inProgress > 0 && !deadlinePassed) {
    return {
      decision: 'wait',
      reason: `wave ${name}: ${inProgress} of ${total} hosts still in progress (${ranText})`,
      until: deadlineAt,
      settledAt: null,
      stats,
    };
  }

  // Settled: by every host finishing (first seen at allTerminalAt, else now) or by the deadline, whichever came first.
  const candidates: number[] = [];
  if (inProgress === 0) candidates.push(input.allTerminalAt?.getTime() ?? now.getTime());
  if (deadlinePassed) candidates.push(deadlineAt.getTime());
  const settledAt = new Date(Math.min(...candidates));

  if (successRate === null) {
    if (threshold <= 0) {
      // The gate is off; bake time still applies below.
    } else if (unreached > 0 && !deadlinePassed) {
      return {
        decision: 'wait',
        reason:
          `wave ${name}: no host has run the change yet; waiting for ${unreached} unreached host${unreached === 1 ? '' : 's'}` +
          (deadlineAt ? ` until the wave deadline ${deadlineAt.toISOString()}` : ''),
        until: deadlineAt,
        settledAt,
        stats,
      };
    } else {
      return {
        decision: 'halt',
        reason: `wave ${name}: no host ran the change (${expired} expired, ${unreached} unreached), so there is no evidence for the ${percentText(threshold)} threshold`,
        settledAt,
        stats,
      };
    }
  } else if (!(successRate >= threshold)) {
    return {
      decision: 'halt',
      reason: `wave ${name}: ${percentText(successRate, threshold)} succeeded (${ranText}), below the ${percentText(threshold)} threshold`,
      settledAt,
      stats,
    };
  }

  const bakeEndMs = settledAt.getTime() + spec.bakeMinutes * MINUTE_MS;
  if (!input.emergency && now.getTime() < bakeEndMs) {
    const minutesLeft = Math.ceil((bakeEndMs - now.getTime()) / MINUTE_MS);
    return {
      decision: 'wait',
      reason: `wave ${name}: baking, ${minutesLeft} of ${spec.bakeMinutes} minutes left (${ranText})`,
      until: new Date(bakeEndMs),
      settledAt,
      stats,
    };
  }

  const rateText =
    successRate === null
      ? 'no host ran the change and the gate is off (threshold 0)'
      : `${percentText(successRate, threshold)} succeeded (${ranText})`;
  const queued = unreached > 0 ? `; ${unreached} unreached host${unreached === 1 ? '' : 's'} stay queued` : '';
  const baked = input.emergency && spec.bakeMinutes > 0 ? '; bake time skipped for an emergency' : '';
  return { decision: 'advance', reason: `wave ${name} passed: ${rateText}${queued}${baked}`, settledAt, stats };
}

/**
 * A share as a percentage with one decimal, or three when one would make it read the same as
 * `versus` although it differs (89.96 % must not print as the 90 % it fell short of).
 */
export function percentText(share: number, versus?: number): string {
  const one = `${trim((share * 100).toFixed(1))}%`;
  if (versus === undefined || share === versus || one !== `${trim((versus * 100).toFixed(1))}%`) return one;
  return `${trim((share * 100).toFixed(3))}%`;
}

function trim(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
