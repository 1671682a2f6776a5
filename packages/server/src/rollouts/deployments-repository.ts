import type { Ecosystem, SignedAssignment, RebootPolicy as WireRebootPolicy } from '@brier/protocol';
import type { AssignmentState, DeploymentState, MaintenanceWindow, PackageTarget, WaveSpec } from './types.js';

/**
 * The persistence the deployments service needs, one aggregate (a deployment with its waves,
 * assignments and events). Implemented in store/deployments-store.ts; the domain never sees SQL.
 *
 * Every state-changing method is a compare-and-set on the state it expects, so two engine ticks
 * (a timer and an agent report, or two replicas) can race without double work: the loser's write
 * simply matches no row.
 */

/** What a deployment was asked to do, stored as JSON with the row. */
export interface StoredSpec {
  packages: PackageTarget[];
  ecosystem: Ecosystem;
  rebootPolicy: WireRebootPolicy;
  targets: { hostIds?: string[]; groups?: string[] };
  waves: WaveSpec[];
  /** The targets resolved at creation (approved hosts only); the wave plan at start uses these. */
  hostIds: string[];
}

export interface DeploymentRow {
  id: string;
  name: string;
  state: DeploymentState;
  stateReason: string;
  spec: StoredSpec;
  critical: boolean;
  emergency: boolean;
  createdBy: string;
  createdByName: string;
  approvedBy: string | null;
  /** The approver's username when approved (users may be renamed or deleted later). */
  approvedByName: string | null;
  approvedAt: Date | null;
  createdAt: Date;
  /** Not started before this instant; null: as soon as approved. */
  startAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  deadlineAt: Date | null;
  postmortem: string | null;
}

export interface WaveRow {
  deploymentId: string;
  index: number;
  name: string;
  spec: WaveSpec;
  startedAt: Date | null;
  settledAt: Date | null;
  passedAt: Date | null;
  haltedReason: string | null;
}

export interface InstalledPackage {
  name: string;
  version: string;
}

export interface AssignmentRow {
  id: string;
  deploymentId: string;
  hostId: string;
  /** The host's name at read time (joined), for views. */
  hostname: string;
  waveIndex: number;
  sequence: number;
  state: AssignmentState;
  stateReason: string;
  code: string | null;
  notBefore: Date | null;
  expiresAt: Date | null;
  signed: SignedAssignment | null;
  offeredAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
  installed: InstalledPackage[] | null;
  rebootRequired: boolean;
  verified: boolean;
  output: string | null;
}

export interface DeploymentEventRow {
  id: number;
  deploymentId: string;
  at: Date;
  /** A username, or null for the engine. */
  actor: string | null;
  /** 'deployment' for lifecycle transitions, 'wave' for wave events. */
  kind: 'deployment' | 'wave';
  fromState: DeploymentState | null;
  toState: DeploymentState | null;
  reason: string;
  detail: Record<string, unknown> | null;
}

export type NewDeploymentEvent = Omit<DeploymentEventRow, 'id' | 'deploymentId'>;

/** A host as targeting sees it. */
export interface TargetHost {
  id: string;
  hostname: string;
  status: 'pending' | 'approved' | 'revoked';
  groups: string[];
}

/** A stored maintenance window of a host group. */
export interface MaintenanceWindowRow extends MaintenanceWindow {
  id: string;
  groupName: string;
  createdAt: Date;
}

export type DeploymentPatch = Partial<
  Pick<DeploymentRow, 'stateReason' | 'approvedBy' | 'approvedByName' | 'approvedAt' | 'startedAt' | 'finishedAt' | 'postmortem'>
>;

export type WavePatch = Partial<Pick<WaveRow, 'startedAt' | 'settledAt' | 'passedAt' | 'haltedReason'>>;

export type AssignmentPatch = Partial<
  Pick<
    AssignmentRow,
    'stateReason' | 'code' | 'offeredAt' | 'startedAt' | 'finishedAt' | 'installed' | 'rebootRequired' | 'verified' | 'output' | 'waveIndex'
  >
> & { state?: AssignmentState };

/** One package version on one host: installed, or offered by its package manager (a pending update). */
export interface HostPackageVersion {
  hostId: string;
  name: string;
  arch: string;
  version: string;
}

/** How many assignments of a deployment are alike in state, reboot and verification. */
export interface AssignmentCountRow {
  deploymentId: string;
  state: AssignmentState;
  rebootRequired: boolean;
  verified: boolean;
  count: number;
}

export interface DeploymentsStore {
  /** Inserts the deployment and its first event in one transaction. */
  create(row: Omit<DeploymentRow, 'id'> & { id?: string }, event: NewDeploymentEvent): Promise<DeploymentRow>;
  get(id: string): Promise<DeploymentRow | undefined>;
  /** Newest first; in one state, or in any of `states`. */
  list(query: {
    state?: DeploymentState | undefined;
    states?: readonly DeploymentState[] | undefined;
    limit: number;
    offset: number;
  }): Promise<{ items: DeploymentRow[]; total: number }>;
  /** Assignments of these deployments counted in SQL (a dashboard must not load every host). */
  assignmentCounts(deploymentIds: readonly string[]): Promise<AssignmentCountRow[]>;
  /**
   * For a preview: the installed versions and pending-update candidates of `names` in `ecosystem` on
   * `hostIds` (by host, name, arch), and which of the hosts have reported their pending updates at all.
   */
  packageVersions(
    hostIds: readonly string[],
    ecosystem: string,
    names: readonly string[],
  ): Promise<{ installed: HostPackageVersion[]; candidates: HostPackageVersion[]; updatesReported: string[] }>;
  /** Ids of deployments in any of `states`, oldest first. */
  idsInStates(states: readonly DeploymentState[]): Promise<string[]>;
  /**
   * Moves the deployment from `from` to `to` and records the event, in one transaction; false (and
   * nothing written) when it is no longer in `from`.
   */
  transition(id: string, from: DeploymentState, to: DeploymentState, patch: DeploymentPatch, event: NewDeploymentEvent): Promise<boolean>;
  /**
   * The start, in one transaction: the transition `from` -> running, the waves, and one pending
   * assignment per host with the next sequence of that host (allocated atomically in bulk).
   * False when the deployment was no longer in `from` (another tick started it).
   */
  start(
    id: string,
    from: DeploymentState,
    patch: DeploymentPatch,
    event: NewDeploymentEvent,
    waves: Omit<WaveRow, 'deploymentId'>[],
    assignments: { id: string; hostId: string; waveIndex: number; stateReason: string }[],
    at: Date,
  ): Promise<boolean>;
  setPostmortem(id: string, text: string): Promise<boolean>;
  addEvent(deploymentId: string, event: NewDeploymentEvent): Promise<void>;
  events(deploymentId: string): Promise<DeploymentEventRow[]>;

  waves(deploymentId: string): Promise<WaveRow[]>;
  /** Updates one wave; with `onlyIfNotStarted`, only while its startedAt is null (returns whether it matched). */
  updateWave(deploymentId: string, index: number, patch: WavePatch, options?: { onlyIfNotStarted?: boolean }): Promise<boolean>;

  assignments(deploymentId: string): Promise<AssignmentRow[]>;
  assignment(id: string): Promise<AssignmentRow | undefined>;
  /** The host's assignments in `states`, of deployments in `deploymentStates`, by sequence. */
  assignmentsOfHost(
    hostId: string,
    states: readonly AssignmentState[],
    deploymentStates: readonly DeploymentState[],
  ): Promise<AssignmentRow[]>;
  /** Stores the signed document once: false when the assignment already has one (never re-signed). */
  storeSigned(id: string, signed: SignedAssignment, notBefore: Date, expiresAt: Date, at: Date): Promise<boolean>;
  /**
   * storeSigned for a whole wave: bulk statements instead of one per host. Returns the ids whose
   * document was stored; an assignment that already had one keeps it (never re-signed).
   */
  storeSignedMany(
    items: readonly { id: string; signed: SignedAssignment; notBefore: Date; expiresAt: Date }[],
    at: Date,
  ): Promise<Set<string>>;
  /** Applies the same `patch` to every assignment of `ids` that is in one of `from`, in bulk; returns the ids moved. */
  updateAssignmentsMany(ids: readonly string[], from: readonly AssignmentState[], patch: AssignmentPatch, at: Date): Promise<Set<string>>;
  /** Applies `patch` when the assignment is in one of `from`; returns the updated row or undefined. */
  updateAssignment(id: string, from: readonly AssignmentState[], patch: AssignmentPatch, at: Date): Promise<AssignmentRow | undefined>;
  /** Moves every assignment in `from` whose expiry is at or before `now` to expired; returns them. */
  expireDue(from: readonly AssignmentState[], now: Date): Promise<AssignmentRow[]>;
  /** Moves one deployment's assignments in `from` to `to` with `reason`; returns how many. */
  moveAll(deploymentId: string, from: readonly AssignmentState[], to: AssignmentState, reason: string, at: Date): Promise<number>;
  /**
   * Gives failed assignments of a deployment a fresh identity (new id, next host sequence, no
   * signature, pending), so the agent's ledger sees new work rather than a replay. Returns how many.
   */
  renewFailed(deploymentId: string, reason: string, at: Date, newId: () => string): Promise<number>;

  /** Hosts named by id or in any of `groups`, with their groups. */
  targetHosts(hostIds: readonly string[], groups: readonly string[]): Promise<TargetHost[]>;
  setHostGroups(hostId: string, groups: readonly string[]): Promise<void>;

  /** Every maintenance window, by group then creation. */
  listWindows(): Promise<MaintenanceWindowRow[]>;
  createWindow(window: Omit<MaintenanceWindowRow, 'id'>): Promise<MaintenanceWindowRow>;
  /** The deleted window, or undefined when there was none with this id. */
  deleteWindow(id: string): Promise<MaintenanceWindowRow | undefined>;
  /**
   * The windows that apply to each of `hostIds` (those of all its groups), keyed by host id; a host
   * with no windows has no entry.
   */
  windowsForHosts(hostIds: readonly string[]): Promise<Map<string, MaintenanceWindowRow[]>>;
}
