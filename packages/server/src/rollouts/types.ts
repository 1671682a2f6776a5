/**
 * The rollout vocabulary shared by planning, gates, windows, the engine and the store. Plain data
 * only: instants are `Date`s, durations carry their unit in the name.
 */

export const DEPLOYMENT_STATES = [
  'draft',
  'awaiting_approval',
  'approved',
  'scheduled',
  'running',
  'paused',
  'halted',
  'completed',
  'aborted',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/** States a deployment never leaves: the report is final and no agent is offered its work again. */
export const FINAL_DEPLOYMENT_STATES: readonly DeploymentState[] = ['completed', 'aborted'];

/**
 * Per-host progress of one deployment.
 * - pending: planned; its wave has not started, or it waits for its turn under the wave's concurrency.
 * - offered: the signed assignment was sent to a connected agent.
 * - deferred: the agent holds it for later (outside its maintenance window, package manager busy).
 * - running: the agent reported that it started.
 * - succeeded / failed: the agent's final report (succeeded only after re-reading the installed version).
 * - expired: the assignment's expiry or the deadline passed before it ran; it never runs afterwards.
 * - unreached: the host's wave started while it was offline; it stays queued until the deadline and
 *   is offered when the host reconnects. It does not block its wave (see gates.ts).
 */
export const ASSIGNMENT_STATES = ['pending', 'offered', 'deferred', 'running', 'succeeded', 'failed', 'expired', 'unreached'] as const;
export type AssignmentState = (typeof ASSIGNMENT_STATES)[number];

/** Assignment states that no later report changes (other than an operator's retry-failed). */
export const TERMINAL_ASSIGNMENT_STATES: readonly AssignmentState[] = ['succeeded', 'failed', 'expired'];

/** Assignment states that hold a wave open until they end or the wave's deadline passes. */
export const BLOCKING_ASSIGNMENT_STATES: readonly AssignmentState[] = ['pending', 'offered', 'deferred', 'running'];

export type AssignmentCounts = Record<AssignmentState, number>;

export function emptyCounts(): AssignmentCounts {
  return { pending: 0, offered: 0, deferred: 0, running: 0, succeeded: 0, failed: 0, expired: 0, unreached: 0 };
}

export function countStates(states: Iterable<AssignmentState>): AssignmentCounts {
  const counts = emptyCounts();
  for (const s of states) counts[s] += 1;
  return counts;
}

export interface WaveSpec {
  name: string;
  /**
   * Cumulative share (0 < percent <= 100) of the hosts left after the group waves: waves of 10, 50
   * and 100 reach 10 %, then 50 %, then all of them. With `group`, the share of that group's hosts.
   * Omitted: 100.
   */
  percent?: number;
  /** The wave takes this group's hosts before any percentage is computed (a pilot or canary group). */
  group?: string;
  /** Minutes to watch a settled wave before the next one starts; emergencies skip it. */
  bakeMinutes: number;
  /** Least share (0..1) of succeeded among the hosts that ran (succeeded + failed) to go on. */
  successThreshold: number;
  /** Most hosts of this wave working at once; omitted: no limit. */
  concurrency?: number;
  /** Minutes after the wave starts after which hosts still in progress no longer hold it. */
  deadlineMinutes?: number;
}

export interface PackageTarget {
  name: string;
  /** A pinned version, or null for the candidate version the host's package manager offers. */
  version: string | null;
  /**
   * With `version: null`: the least version that counts as done (a vulnerability's fixed version).
   * The host installs whatever its repositories offer; the server verifies it is at least this.
   */
  minVersion?: string;
}

export interface DeploymentTargets {
  hostIds?: string[];
  groups?: string[];
}

/** never: do not reboot; if_required: reboot when the package manager says so; always: reboot after the change. */
export const REBOOT_POLICIES = ['never', 'if_required', 'always'] as const;
export type RebootPolicy = (typeof REBOOT_POLICIES)[number];

export interface DeploymentSpec {
  name: string;
  packages: PackageTarget[];
  targets: DeploymentTargets;
  waves: WaveSpec[];
  /** Marked critical by the author: needs a second person's approval. */
  critical: boolean;
  /** Emergency: needs approval, then ignores maintenance windows and bake times. */
  emergency: boolean;
  /** After this instant nothing more is offered; assignments not yet run become expired. */
  deadline: Date | null;
  rebootPolicy: RebootPolicy;
  /** startAt: do not start before this instant (the windows may delay it further). */
  schedule: { startAt?: Date };
  /** User id of the author; the only user who may never approve it. */
  createdBy: string;
}

export interface Deployment {
  id: string;
  state: DeploymentState;
  spec: DeploymentSpec;
  createdAt: Date;
  approvedBy: string | null;
  approvedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface Assignment {
  deploymentId: string;
  hostId: string;
  /** Index into the deployment's waves, fixed when the deployment starts. */
  wave: number;
  state: AssignmentState;
  /** Why it is in this state, in words (shown per host and in the report). */
  reason: string;
  updatedAt: Date;
  /** The agent reported that the change needs a reboot that has not happened yet. */
  rebootRequired: boolean;
  /** The agent re-read the installed versions after the change and they match the requested ones. */
  verified: boolean;
}

/** A maintenance window: opens at every cron fire time (wall clock of `timeZone`) for `durationMinutes`. */
export interface MaintenanceWindow {
  cron: string;
  durationMinutes: number;
  /** IANA name, e.g. Europe/Berlin. */
  timeZone: string;
}
