import { fail, ok, type Result } from './errors.js';
import { type DeploymentSpec, REBOOT_POLICIES, type WaveSpec } from './types.js';
import type { PlanHost } from './waves.js';

/** A wave as an API client may write it: everything but the plan's shape has a default. */
export interface WaveInput {
  name?: string | undefined;
  percent?: number | undefined;
  group?: string | undefined;
  bakeMinutes?: number | undefined;
  successThreshold?: number | undefined;
  concurrency?: number | undefined;
  deadlineMinutes?: number | undefined;
}

/**
 * Defaults for a wave that does not say: an hour of watching before the next wave, and at least
 * 95 % of the hosts that ran must have succeeded (one failure in a wave of ten halts the rollout).
 */
export const WAVE_DEFAULTS = { bakeMinutes: 60, successThreshold: 0.95 } as const;

/** Most waves a plan may have; more would mean waves of a handful of hosts with an hour's bake each. */
export const MAX_WAVES = 20;
/** Longest bake: one week, in minutes. */
export const MAX_BAKE_MINUTES = 7 * 24 * 60;

/**
 * The wave plan with every default filled in. No waves at all is one wave named "all" without bake
 * time (nothing follows it); the gate still decides between completed and halted. A wave without a
 * name is named after its group, else "wave N" (1-based).
 */
export function normalizeWaves(inputs: readonly WaveInput[] | undefined): WaveSpec[] {
  if (!inputs || inputs.length === 0)
    return [{ name: 'all', percent: 100, bakeMinutes: 0, successThreshold: WAVE_DEFAULTS.successThreshold }];
  return inputs.map((w, i) => {
    const spec: WaveSpec = {
      name: w.name?.trim() || w.group || `wave ${i + 1}`,
      bakeMinutes: w.bakeMinutes ?? WAVE_DEFAULTS.bakeMinutes,
      successThreshold: w.successThreshold ?? WAVE_DEFAULTS.successThreshold,
    };
    if (w.group !== undefined) spec.group = w.group;
    if (w.percent !== undefined) spec.percent = w.percent;
    else if (w.group === undefined) spec.percent = 100;
    if (w.concurrency !== undefined) spec.concurrency = w.concurrency;
    if (w.deadlineMinutes !== undefined) spec.deadlineMinutes = w.deadlineMinutes;
    return spec;
  });
}

function isNonEmpty(s: unknown): s is string {
  return typeof s === 'string' && s.trim() !== '';
}

function isIntIn(n: unknown, min: number, max: number): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
}

/**
 * Checks a whole spec and lists every problem at once (details.problems), so a client fixes them
 * in one round. Package names and versions are only checked for presence here: their grammar is
 * per ecosystem and is enforced where commands are built, and by the API before this.
 */
export function validateSpec(spec: DeploymentSpec, now: Date): Result<DeploymentSpec> {
  const problems: string[] = [];
  if (!isNonEmpty(spec.name)) problems.push('name is required');
  else if (spec.name.length > 200) problems.push('name must be at most 200 characters');
  if (!isNonEmpty(spec.createdBy)) problems.push('createdBy is required');

  if (spec.packages.length === 0) problems.push('at least one package is required');
  const seenPackages = new Set<string>();
  spec.packages.forEach((p, i) => {
    if (!isNonEmpty(p.name)) problems.push(`packages[${i}].name is required`);
    else if (seenPackages.has(p.name)) problems.push(`package ${JSON.stringify(p.name)} is listed twice`);
    else seenPackages.add(p.name);
    if (p.version !== null && !isNonEmpty(p.version)) problems.push(`packages[${i}].version must be a version or null (latest available)`);
  });

  const hostIds = spec.targets.hostIds ?? [];
  const groups = spec.targets.groups ?? [];
  if (hostIds.length === 0 && groups.length === 0) problems.push('targets needs at least one host id or group');
  if (hostIds.some((h) => !isNonEmpty(h))) problems.push('targets.hostIds must not contain empty ids');
  if (groups.some((g) => !isNonEmpty(g))) problems.push('targets.groups must not contain empty names');

  problems.push(...waveProblems(spec.waves));

  if (!REBOOT_POLICIES.includes(spec.rebootPolicy)) problems.push(`rebootPolicy must be one of ${REBOOT_POLICIES.join(', ')}`);
  if (spec.deadline !== null && !(spec.deadline.getTime() > now.getTime())) problems.push('deadline must be in the future');
  const startAt = spec.schedule.startAt;
  if (startAt !== undefined && Number.isNaN(startAt.getTime())) problems.push('schedule.startAt is not a valid instant');
  else if (startAt !== undefined && !(startAt.getTime() > now.getTime())) problems.push('schedule.startAt must be in the future');
  else if (startAt !== undefined && startAt.getTime() > now.getTime() + 366 * 24 * 3_600_000)
    problems.push('schedule.startAt must be within a year');
  if (startAt !== undefined && spec.deadline !== null && !(startAt.getTime() < spec.deadline.getTime()))
    problems.push('schedule.startAt must be before the deadline');

  if (problems.length > 0) return fail('invalid_spec', problems.join('; '), { problems });
  return ok(spec);
}

/** What is wrong with a wave plan (empty when nothing). */
export function waveProblems(waves: readonly WaveSpec[]): string[] {
  const problems: string[] = [];
  if (waves.length === 0) problems.push('at least one wave is required');
  if (waves.length > MAX_WAVES) problems.push(`at most ${MAX_WAVES} waves`);
  const names = new Set<string>();
  let lastPercent = 0;
  let lastPercentWave: WaveSpec | undefined;
  waves.forEach((w, i) => {
    const at = `waves[${i}]`;
    if (!isNonEmpty(w.name)) problems.push(`${at}.name is required`);
    else if (names.has(w.name)) problems.push(`wave name ${JSON.stringify(w.name)} is used twice`);
    else names.add(w.name);
    if (w.group !== undefined && !isNonEmpty(w.group)) problems.push(`${at}.group must not be empty`);
    if (w.percent !== undefined && !(typeof w.percent === 'number' && w.percent > 0 && w.percent <= 100))
      problems.push(`${at}.percent must be above 0 and at most 100`);
    if (!isIntIn(w.bakeMinutes, 0, MAX_BAKE_MINUTES))
      problems.push(`${at}.bakeMinutes must be a whole number from 0 to ${MAX_BAKE_MINUTES}`);
    if (!(typeof w.successThreshold === 'number' && w.successThreshold >= 0 && w.successThreshold <= 1))
      problems.push(`${at}.successThreshold must be from 0 to 1`);
    if (w.concurrency !== undefined && !isIntIn(w.concurrency, 1, Number.MAX_SAFE_INTEGER))
      problems.push(`${at}.concurrency must be a whole number of at least 1`);
    if (w.deadlineMinutes !== undefined && !isIntIn(w.deadlineMinutes, 1, Number.MAX_SAFE_INTEGER))
      problems.push(`${at}.deadlineMinutes must be a whole number of at least 1`);
    if (w.group === undefined) {
      const p = w.percent ?? 100;
      if (p < lastPercent) problems.push(`${at}.percent ${p} is below the previous wave's ${lastPercent}: shares are cumulative`);
      lastPercent = Math.max(lastPercent, p);
      lastPercentWave = w;
    }
  });
  if (lastPercentWave !== undefined && (lastPercentWave.percent ?? 100) !== 100)
    problems.push(`the last percentage wave (${JSON.stringify(lastPercentWave.name)}) must be 100: it takes every host left`);
  return problems;
}

/**
 * The hosts a deployment targets: those named in hostIds plus every member of its groups, each once,
 * in `fleet` order. Named ids missing from `fleet` are returned so the API can refuse them.
 */
export function resolveTargets(
  targets: DeploymentSpec['targets'],
  fleet: readonly PlanHost[],
): { hosts: PlanHost[]; unknownHostIds: string[] } {
  const named = new Set(targets.hostIds ?? []);
  const groups = new Set(targets.groups ?? []);
  const seen = new Set<string>();
  const hosts = fleet.filter((h) => {
    if (seen.has(h.id) || !(named.has(h.id) || h.groups.some((g) => groups.has(g)))) return false;
    seen.add(h.id);
    return true;
  });
  const known = new Set(fleet.map((h) => h.id));
  return { hosts, unknownHostIds: [...named].filter((id) => !known.has(id)) };
}
