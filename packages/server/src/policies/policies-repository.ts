import type {
  ComplianceStatus,
  PolicyMode,
  PolicyRule,
  RemediationEvent,
  RuleKind,
  SignedPolicyBundle,
  SignedQuarantineOrder,
} from '@brier/protocol';

/**
 * The persistence of desired state: policies with the bundles signed from them and what hosts report
 * back (compliance, remediation events), and quarantine (orders and policy requests). Implemented in
 * store/desired-state-store.ts; the domain never sees SQL. Multi-row writes are one statement over a
 * jsonb parameter; state changes are compare-and-set, so replicas racing lose quietly.
 */

export interface PolicyTargets {
  hostIds: string[];
  groups: string[];
}

export interface PolicyRow {
  id: string;
  name: string;
  mode: PolicyMode;
  rules: PolicyRule[];
  targets: PolicyTargets;
  intervalMinutes: number;
  quarantineAfterMinutes: number | null;
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type NewPolicyRow = Omit<PolicyRow, 'id'>;
/** What a replacement changes: everything the operator gives, and the new version and time. */
export type PolicyPatch = Omit<PolicyRow, 'id' | 'createdBy' | 'createdAt'>;

export interface BundleRow {
  hostId: string;
  sequence: number;
  /** sha256 of the canonical JSON of the bundle's policies. */
  contentHash: string;
  signed: SignedPolicyBundle;
  issuedAt: Date;
  /** The sequence the agent last said it enforces (null: never said). */
  ackedSequence: number | null;
}

export interface ComplianceWrite {
  policyId: string;
  policyVersion: number;
  rule: number;
  kind: RuleKind;
  status: ComplianceStatus;
  detail: string;
  checkedAt: Date;
}

export interface ComplianceRow extends ComplianceWrite {
  policyName: string;
  /** When the status last changed. */
  sinceAt: Date;
}

export interface StatusCounts {
  compliant: number;
  noncompliant: number;
  remediated: number;
  error: number;
  /** Targeted (approved) hosts with no result for the policy's current version. */
  unknown: number;
}

export interface PolicyComplianceCounts {
  policyId: string;
  /** One verdict per targeted approved host (see ComplianceService docs for the order of precedence). */
  hosts: StatusCounts;
  /** Per rule index: one result per targeted approved host. */
  rules: StatusCounts[];
}

export interface RemediationRow extends RemediationEvent {
  id: number;
  receivedAt: Date;
}

export interface PoliciesStore {
  /** Inserts a policy; undefined when the name is taken. */
  createPolicy(row: NewPolicyRow): Promise<PolicyRow | undefined>;
  getPolicy(id: string): Promise<PolicyRow | undefined>;
  policyByName(name: string): Promise<PolicyRow | undefined>;
  /** Every policy, by name. */
  listPolicies(): Promise<PolicyRow[]>;
  /** Replaces a policy if it is still at `expectedVersion`; undefined otherwise (gone or changed meanwhile). */
  replacePolicy(id: string, expectedVersion: number, patch: PolicyPatch): Promise<PolicyRow | undefined>;
  /**
   * Deletes a policy with its compliance rows, and cancels its pending quarantine requests; returns
   * the deleted row (undefined: there was none).
   */
  deletePolicy(id: string, at: Date): Promise<PolicyRow | undefined>;

  /** Those of `ids` that are enrolled hosts (not revoked). */
  knownHostIds(ids: readonly string[]): Promise<string[]>;
  /** Enrolled (not revoked) hosts matched by the targets: named, or in one of the groups. */
  targetedHosts(targets: PolicyTargets): Promise<string[]>;
  /** The policies that target each host (by id or by one of its groups), sorted by policy id. */
  policiesForHosts(hostIds: readonly string[]): Promise<Map<string, PolicyRow[]>>;

  bundles(hostIds: readonly string[]): Promise<Map<string, BundleRow>>;
  /**
   * Stores bundles whose sequence is above the stored one (compare-and-set), and drops the
   * compliance rows of policies (or rule indexes) a stored bundle no longer carries. Returns the
   * hosts whose bundle was written.
   */
  saveBundles(rows: readonly Omit<BundleRow, 'ackedSequence'>[]): Promise<Set<string>>;
  /** Records the sequence the agent says it enforces. */
  ackBundle(hostId: string, sequence: number): Promise<void>;

  /**
   * Upserts the latest result per (host, policy, rule). `sinceAt` moves only when the status changes;
   * a result older than the stored one is ignored. `rows` must not repeat a (policy, rule).
   */
  upsertCompliance(hostId: string, rows: readonly ComplianceWrite[]): Promise<void>;
  /** A host's results, for policies that still exist, by policy name and rule. */
  hostCompliance(hostId: string): Promise<ComplianceRow[]>;
  /** Counts per policy (all, or one), over approved targeted hosts and the policy's current version. */
  complianceCounts(policyId?: string): Promise<PolicyComplianceCounts[]>;

  insertRemediations(hostId: string, events: readonly RemediationEvent[], receivedAt: Date): Promise<void>;
  /** Newest first (by `at`, then arrival). */
  remediations(hostId: string, limit: number, offset: number): Promise<{ items: RemediationRow[]; total: number }>;
}

// ------------------------------------------------------------------ quarantine

export type QuarantineAction = 'isolate' | 'release';
export type QuarantineState = 'pending' | 'isolated' | 'released' | 'failed' | 'refused';

export interface QuarantineRow {
  hostId: string;
  action: QuarantineAction;
  sequence: number;
  signed: SignedQuarantineOrder;
  state: QuarantineState;
  detail: string | null;
  reason: string;
  requestedBy: string;
  requestedAt: Date;
  updatedAt: Date;
}

export type QuarantineRequestState = 'pending' | 'approved' | 'rejected' | 'cancelled';

export interface QuarantineRequestRow {
  id: string;
  hostId: string;
  hostname: string;
  policyId: string;
  /** null once the policy was deleted. */
  policyName: string | null;
  reason: string;
  state: QuarantineRequestState;
  requestedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
}

export interface OverdueAntivirus {
  policyId: string;
  policyName: string;
  rule: number;
  sinceAt: Date;
  quarantineAfterMinutes: number;
}

/** Which quarantines to list: without `state` or `action`, every one but completed releases. */
export interface QuarantineListQuery {
  state?: QuarantineState | undefined;
  action?: QuarantineAction | undefined;
  limit: number;
  offset: number;
}

export interface QuarantineStore {
  get(hostId: string): Promise<QuarantineRow | undefined>;
  /** Hosts' current orders with their hostnames and whether they are connected, newest order first. */
  list(query: QuarantineListQuery): Promise<{ items: (QuarantineRow & { hostname: string; online: boolean })[]; total: number }>;
  /** Stores the host's new order if its sequence is above the stored one; false otherwise. */
  save(row: QuarantineRow): Promise<boolean>;
  /** Records what the agent did with order `sequence`; false when that is not the stored order. */
  setState(hostId: string, sequence: number, state: QuarantineState, detail: string | null, at: Date): Promise<boolean>;

  /**
   * Antivirus rules of the host's policies (current version, with quarantineAfterMinutes) that have
   * been noncompliant since at least that many minutes before `at`.
   */
  overdueAntivirus(hostId: string, at: Date): Promise<OverdueAntivirus[]>;
  /** Inserts a pending request unless one is already pending for the host and policy (then undefined). */
  createRequest(row: { hostId: string; policyId: string; reason: string; requestedAt: Date }): Promise<QuarantineRequestRow | undefined>;
  getRequest(id: string): Promise<QuarantineRequestRow | undefined>;
  /** Newest first; all states or one. */
  listRequests(state?: QuarantineRequestState): Promise<QuarantineRequestRow[]>;
  /** Decides a pending request (compare-and-set on 'pending'); undefined when it was not pending. */
  decideRequest(id: string, state: 'approved' | 'rejected', by: string, at: Date): Promise<QuarantineRequestRow | undefined>;
}
