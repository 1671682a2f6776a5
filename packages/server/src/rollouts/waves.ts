import { createHash } from 'node:crypto';
import type { WaveSpec } from './types.js';

export interface PlanHost {
  id: string;
  groups: readonly string[];
}

export interface WavePlan {
  /** Index into the deployment's waves. */
  wave: number;
  /** In stable hash order, which is also the order the engine should offer them in. */
  hostIds: string[];
}

/**
 * The order key of a host within one deployment: sha256 of the deployment id and the host id. It is
 * the same on every replica and every restart, unrelated to host names or enrolment order, and
 * different per deployment, so the same machines are not always the first to take a change.
 */
export function waveOrderKey(deploymentId: string, hostId: string): string {
  // The newline separates the two ids; neither contains one, so no two pairs hash the same input.
  return createHash('sha256').update(`${deploymentId}\n${hostId}`).digest('hex');
}

/**
 * Hosts for a share of `n`, rounded up so any non-zero share of a non-empty set has at least one
 * host: the 10 % wave of a three-host fleet is one canary, not nobody.
 */
export function shareOf(percent: number | undefined, n: number): number {
  const p = percent ?? 100;
  if (!(p > 0) || n <= 0) return 0;
  if (p >= 100) return n;
  // percent * n / 100 may come out a hair above an exact integer (7.000000000000001): the epsilon
  // keeps ceil from adding a host for that. 1e-9 hosts is far below any real share and far above the
  // rounding error of fleets up to billions of hosts.
  return Math.min(n, Math.ceil((p * n) / 100 - 1e-9));
}

/**
 * Which hosts go in which wave, fixed when the deployment starts.
 *
 * Rules:
 * - Hosts are ordered by `waveOrderKey` (ties, which sha256 makes practically impossible, by id).
 *   Duplicated host ids count once, with the union of their groups.
 * - Group waves are filled first, in list order, wherever they stand in the list: each takes its
 *   group's hosts not taken by an earlier group wave (with `percent`, that share of them).
 * - The hosts left ("the rest") go to the percentage waves in order: their `percent`s are
 *   cumulative shares of the rest, rounded up (`shareOf`); a wave whose share does not exceed the
 *   previous one's is empty. The last percentage wave takes everything still left, whatever its
 *   percent says, so rounding never leaves a host out. With no percentage wave at all, the rest
 *   joins the last wave.
 * - Every host is in exactly one wave; the result has one entry per wave, empty ones included. No
 *   waves at all is planned as one implicit wave 0 holding every host.
 *
 * Stability (property-tested):
 * - The same inputs, in any order, give the same plan.
 * - Adding or removing other hosts never changes who is in a group wave without `percent` (apart
 *   from those hosts themselves).
 * - Hosts in percentage waves never overtake each other: if a's wave is before b's, adding other
 *   hosts never puts b's wave before a's, because the hash order of a and b does not change.
 * - Adding one host outside every group wave's group moves at most one existing host across each
 *   boundary between percentage waves: each cumulative share grows by at most one host.
 * What is not promised: that a host's wave only ever moves later. Exact shares make that impossible:
 * a bigger fleet makes "10 %" bigger, so the first host after the old boundary moves into the
 * earlier wave. A per-host hash threshold would avoid that, but would put all three hosts of a tiny
 * fleet in one wave as often as not. Membership is fixed at start anyway; this only matters when a
 * plan is previewed and the fleet changes before the start.
 */
export function planWaves(
  deploymentId: string,
  hosts: readonly PlanHost[],
  waves: readonly Pick<WaveSpec, 'percent' | 'group'>[],
): WavePlan[] {
  const groupsById = new Map<string, Set<string>>();
  for (const h of hosts) {
    const groups = groupsById.get(h.id) ?? new Set<string>();
    for (const g of h.groups) groups.add(g);
    groupsById.set(h.id, groups);
  }
  const ordered = [...groupsById.keys()]
    .map((id) => ({ id, key: waveOrderKey(deploymentId, id), groups: groupsById.get(id)! }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  if (waves.length === 0) return [{ wave: 0, hostIds: ordered.map((h) => h.id) }];

  const plan: WavePlan[] = waves.map((_, wave) => ({ wave, hostIds: [] }));
  const taken = new Set<string>();

  waves.forEach((spec, wave) => {
    if (spec.group === undefined) return;
    const group = spec.group;
    const members = ordered.filter((h) => !taken.has(h.id) && h.groups.has(group));
    for (const h of members.slice(0, shareOf(spec.percent, members.length))) {
      plan[wave]!.hostIds.push(h.id);
      taken.add(h.id);
    }
  });

  const rest = ordered.filter((h) => !taken.has(h.id)).map((h) => h.id);
  const percentWaves = waves.flatMap((spec, wave) => (spec.group === undefined ? [wave] : []));
  if (percentWaves.length === 0) {
    plan[waves.length - 1]!.hostIds.push(...rest);
    return plan;
  }
  let done = 0;
  percentWaves.forEach((wave, i) => {
    const last = i === percentWaves.length - 1;
    const upTo = last ? rest.length : Math.max(done, shareOf(waves[wave]!.percent, rest.length));
    plan[wave]!.hostIds.push(...rest.slice(done, upTo));
    done = upTo;
  });
  return plan;
}
