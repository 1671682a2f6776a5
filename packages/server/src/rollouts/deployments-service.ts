import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import {
  type AgentMessageBodies,
  type AssignmentPayload,
  BrierError,
  checkPackageName,
  checkVersion,
  compareVersions,
  ECOSYSTEMS,
  type Ecosystem,
  type SignedAssignment,
  signAssignment,
  type VersionScheme,
  type RebootPolicy as WireRebootPolicy,
  type WorkKeyCertificate,
} from '@brier/protocol';
import type { Role } from '../auth/types.js';
import type {
  AssignmentRow,
  DeploymentEventRow,
  DeploymentRow,
  DeploymentsStore,
  MaintenanceWindowRow,
  NewDeploymentEvent,
  StoredSpec,
  WaveRow,
} from './deployments-repository.js';
import { type RolloutError, toBrierError } from './errors.js';
import { evaluateWave } from './gates.js';
import { approvalRequirement, approve as approveDeployment, type DeploymentEvent, transition } from './lifecycle.js';
import { buildTimeline, type ReportSummary, summarize, type Timeline, type TransitionRecord, type WaveRecord } from './report.js';
import { normalizeWaves, resolveTargets, validateSpec, type WaveInput } from './spec.js';
import {
  type AssignmentCounts,
  type AssignmentState,
  countStates,
  DEPLOYMENT_STATES,
  type DeploymentSpec,
  type DeploymentState,
  FINAL_DEPLOYMENT_STATES,
  type PackageTarget,
  type RebootPolicy,
  TERMINAL_ASSIGNMENT_STATES,
} from './types.js';
import { planWaves } from './waves.js';
import { earliestStart, nextOpening, validateWindow } from './windows.js';

/** Told after a stored change to a deployment; `stateChanged` when it was created or changed state. */
export type ChangeListener = (deploymentId: string, stateChanged: boolean) => void;

/** Who is acting: the authenticated user (the API resolves it from the session). */
export interface Actor {
  id: string;
  username: string;
  role: Role;
}

export interface CreateDeploymentInput {
  name: string;
  packages: { name: string; version?: string | null | undefined; minVersion?: string | undefined }[];
  targets: { hostIds?: string[] | undefined; groups?: string[] | undefined };
  waves?: WaveInput[] | undefined;
  critical?: boolean | undefined;
  emergency?: boolean | undefined;
  /** dpkg unless said otherwise: names and versions are checked against this ecosystem's grammar. */
  ecosystem?: Ecosystem | undefined;
  /** 'if_required' is accepted as a spelling of 'if-required'. */
  rebootPolicy?: WireRebootPolicy | 'if_required' | undefined;
  /** Hours from creation after which nothing more is offered and unrun work expires. */
  deadlineHours?: number | undefined;
  /** Do not start before this instant (it must be in the future); the hosts' windows may delay work further. */
  startAt?: Date | undefined;
  /**
   * The id a preview returned: the deployment takes it as its own id, which seeds the order of hosts
   * in percentage waves, so the waves at start are the ones previewed (if the targets did not change).
   */
  previewId?: string | undefined;
}

export interface CreateWindowInput {
  group: string;
  cron: string;
  durationMinutes: number;
  timeZone: string;
}

export interface MaintenanceWindowView {
  id: string;
  group: string;
  /** Normalised by the cron parser. */
  cron: string;
  durationMinutes: number;
  /** Canonical IANA name. */
  timeZone: string;
  createdAt: Date;
  /** The earliest instant at or after now when the window is open (now while it is open). */
  nextOpeningAt: Date | null;
}

/** The start of the reason an assignment held back by its maintenance windows carries. */
export const WINDOW_WAIT_REASON = 'waiting for maintenance window';

export type WaveState = 'pending' | 'running' | 'passed' | 'halted';

/** One host of a deployment preview: what would change on it, or why nothing would. */
export interface PreviewHost {
  hostId: string;
  hostname: string;
  /** Only packages whose version would change; empty when skipped. */
  packages: { name: string; from: string | null; to: string | null }[];
  skipped?: string;
}

export interface DeploymentPreview {
  /** Create with this previewId and the waves are planned exactly as shown (if the targets do not change). */
  previewId: string;
  approval: { required: boolean; why: string[] };
  /** Every wave, in order, with its hosts in the order they would be offered work. */
  waves: { index: number; name: string; hosts: PreviewHost[] }[];
  /** targeted = hosts (with something to install) + skipped; packages: package changes over all hosts. */
  totals: { targeted: number; hosts: number; skipped: number; packages: number };
  warnings: string[];
}

export interface DeploymentHostView {
  hostId: string;
  hostname: string;
  /** Wave index (0-based). */
  wave: number;
  state: AssignmentState;
  reason: string;
  code: string | null;
  installed: { name: string; version: string }[] | null;
  rebootRequired: boolean;
  verified: boolean;
  updatedAt: Date;
}

export interface DeploymentWaveView {
  index: number;
  name: string;
  state: WaveState;
  counts: AssignmentCounts;
  hostCount: number;
  startedAt: Date | null;
  passedAt: Date | null;
  haltedReason: string | null;
}

export interface DeploymentListItem {
  id: string;
  name: string;
  state: DeploymentState;
  stateReason: string;
  critical: boolean;
  emergency: boolean;
  createdBy: { id: string; username: string };
  approvedBy: { id: string; username: string } | null;
  createdAt: Date;
  /** The operator's scheduled start, if any. */
  startAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** What it installs: a pinned version, or null for the candidate (at least `minVersion` when set). */
  packages: { name: string; version: string | null; minVersion?: string }[];
  hostCount: number;
}

/** A deployment with everything about it; the list item's fields, then the detail. */
export interface DeploymentView extends Omit<DeploymentListItem, 'hostCount'> {
  deadlineAt: Date | null;
  ecosystem: Ecosystem;
  rebootPolicy: WireRebootPolicy;
  packages: { name: string; version: string | null; minVersion?: string }[];
  waves: DeploymentWaveView[];
  hosts: DeploymentHostView[];
  summary: ReportSummary;
  timeline: Timeline;
  postmortem: string | null;
}

/** The parts of the audit store the service writes to (AuditStore satisfies it). */
export interface AuditSink {
  record(entry: {
    actor: string;
    action: string;
    target?: string | null;
    detail?: Record<string, unknown> | null;
    at: Date;
  }): Promise<void>;
}

/** The work-signing key as the service needs it (WorkSigningKey from auth/work-signing-key.ts satisfies it). */
export interface WorkSigner {
  privateKey: KeyObject;
  certificate: WorkKeyCertificate;
}

export interface DeploymentsConfig {
  /** A deployment targeting more hosts than this needs a second person's approval. */
  approvalHostThreshold: number;
  /** How long a signed assignment stays valid, capped by the deployment deadline. */
  assignmentTtlHours: number;
}

export const DEPLOYMENTS_DEFAULTS: DeploymentsConfig = { approvalHostThreshold: 50, assignmentTtlHours: 72 };

export interface DeploymentsServiceDeps {
  store: DeploymentsStore;
  /** Accepted for wiring symmetry; targeting reads hosts through `store.targetHosts`. */
  hosts?: unknown;
  audit: AuditSink;
  signing: () => WorkSigner;
  /** Sends a signed assignment to a connected agent; false when the host is not connected. */
  offer: (hostId: string, signed: SignedAssignment) => boolean;
  now: () => Date;
  config?: Partial<DeploymentsConfig> | undefined;
  /** New ids (tests may fix them); random UUIDs by default. */
  newId?: () => string;
  /** Told after a host's groups were set (policies target groups: its policy bundle may change). */
  onGroupsChanged?: ((hostId: string) => Promise<void>) | undefined;
}

/** Everything before completed or aborted: what the dashboard shows as in flight. */
const IN_FLIGHT_STATES: readonly DeploymentState[] = DEPLOYMENT_STATES.filter((st) => !FINAL_DEPLOYMENT_STATES.includes(st));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** notBefore lies this far in the past so an agent whose clock runs behind still accepts new work. */
const CLOCK_SKEW_MS = 5 * MINUTE_MS;
const ENGINE = 'engine';

/** Assignments that have not run and may still be delivered. */
const DELIVERABLE: readonly AssignmentState[] = ['pending', 'offered', 'unreached', 'deferred', 'running'];
/** Not yet started on the host: these expire when their time is up. */
const EXPIRABLE: readonly AssignmentState[] = ['pending', 'offered', 'unreached', 'deferred'];
const NON_TERMINAL: readonly AssignmentState[] = ['pending', 'offered', 'unreached', 'deferred', 'running'];

function rejectWith(error: RolloutError): never {
  throw toBrierError(error);
}

/** The version ordering of an inventory ecosystem, where Brier has one. */
function schemeForEcosystem(ecosystem: Ecosystem): VersionScheme | undefined {
  return ecosystem === 'dpkg' || ecosystem === 'rpm' || ecosystem === 'apk' ? ecosystem : undefined;
}

/** Whether an installed version is what was asked for: the pinned one, at least the minimum, or any. */
function satisfies(ecosystem: Ecosystem, target: PackageTarget, installed: string): boolean {
  if (target.version !== null) return installed === target.version;
  const scheme = schemeForEcosystem(ecosystem);
  if (target.minVersion === undefined || scheme === undefined) return true;
  try {
    return compareVersions(scheme, installed, target.minVersion) >= 0;
  } catch {
    return false;
  }
}

/** How an assignment's reason reads after the agent acted on the reboot policy. */
function rebootNote(reboot: NonNullable<AgentMessageBodies['assignment.status']['reboot']>): string {
  if (reboot.state === 'scheduled') return `; reboot scheduled${reboot.scheduledAt ? ` for ${reboot.scheduledAt}` : ''}`;
  if (reboot.state === 'disabled') return '; reboot required by the policy, but reboots are turned off on this agent';
  return `; reboot failed${reboot.detail ? `: ${reboot.detail}` : reboot.code ? `: ${reboot.code}` : ''}`;
}

function check<T>(result: { ok: true; value: T } | { ok: false; error: RolloutError }): T {
  if (!result.ok) rejectWith(result.error);
  return result.value;
}

function wireRebootPolicy(p: CreateDeploymentInput['rebootPolicy']): WireRebootPolicy {
  if (p === undefined) return 'never';
  if (p === 'if_required') return 'if-required';
  if (p === 'never' || p === 'if-required' || p === 'always') return p;
  throw new BrierError('bad_request', `rebootPolicy must be one of never, if-required, always`);
}

function domainRebootPolicy(p: WireRebootPolicy): RebootPolicy {
  return p === 'if-required' ? 'if_required' : p;
}

function isTerminal(state: AssignmentState): boolean {
  return TERMINAL_ASSIGNMENT_STATES.includes(state);
}

function waveState(w: WaveRow): WaveState {
  if (w.haltedReason !== null) return 'halted';
  if (w.passedAt !== null) return 'passed';
  if (w.startedAt !== null) return 'running';
  return 'pending';
}

/**
 * Deployments: creation with change control, the lifecycle commands, the rollout engine (`tick`) and
 * the agent side of work delivery (`onAgentConnected`, `onAssignmentStatus`).
 *
 * Restart safety: every step reads its state from the store and writes with compare-and-set, so a
 * tick may die at any point and the next one (on this or another replica) carries on. A signed
 * assignment is stored before it is sent and never signed again: resending is always the same
 * document with the same nonce, which the agent's ledger recognises.
 */
export function createDeploymentsService(deps: DeploymentsServiceDeps) {
  const { store, audit, now } = deps;
  const config: DeploymentsConfig = { ...DEPLOYMENTS_DEFAULTS, ...deps.config };
  const newId = deps.newId ?? randomUUID;
  // Ticks in this process run one at a time; other replicas are kept apart by the compare-and-set writes.
  let ticking: Promise<void> = Promise.resolve();

  // The change feed: an in-process listener set told the id of a deployment after a stored change to
  // it (a transition, a wave or assignment update), and whether its state changed (or it was created),
  // which is what lists of deployments show. Only this replica's changes are seen; with several
  // replicas a watcher would also need the others' changes, e.g. through Postgres LISTEN/NOTIFY (not built).
  const listeners = new Set<ChangeListener>();

  function onChange(listener: ChangeListener): () => void {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  function changed(deploymentId: string, stateChanged = false): void {
    for (const listener of [...listeners]) {
      try {
        listener(deploymentId, stateChanged);
      } catch {
        // A watcher's failure must never stop the engine.
      }
    }
  }

  async function load(id: string): Promise<DeploymentRow> {
    const d = await store.get(id);
    if (!d) throw new BrierError('not_found', 'no such deployment', { details: { id } });
    return d;
  }

  function event(
    actor: string | null,
    from: DeploymentState | null,
    to: DeploymentState,
    reason: string,
    detail?: Record<string, unknown>,
  ) {
    const e: NewDeploymentEvent = { at: now(), actor, kind: 'deployment', fromState: from, toState: to, reason, detail: detail ?? null };
    return e;
  }

  async function auditTransition(actor: string, d: DeploymentRow, action: string, to: DeploymentState, reason: string, at: Date) {
    await audit.record({ actor, action: `deployment.${action}`, target: d.id, detail: { name: d.name, from: d.state, to, reason }, at });
  }

  /** Applies a lifecycle event through lifecycle.transition, CAS-writes it, records event and audit. */
  async function apply(
    d: DeploymentRow,
    actor: string | null,
    ev: DeploymentEvent,
    patch: Parameters<DeploymentsStore['transition']>[3] = {},
    detail?: Record<string, unknown>,
  ): Promise<{ to: DeploymentState; reason: string } | undefined> {
    const result = check(transition(d.state, ev));
    const at = now();
    const done = await store.transition(
      d.id,
      d.state,
      result.state,
      { ...patch, stateReason: result.reason },
      event(actor, d.state, result.state, result.reason, detail),
    );
    if (!done) return undefined;
    changed(d.id, true);
    await auditTransition(actor ?? ENGINE, d, ev.type, result.state, result.reason, at);
    return { to: result.state, reason: result.reason };
  }

  async function applyOrConflict(
    d: DeploymentRow,
    actor: string,
    ev: DeploymentEvent,
    patch?: Parameters<DeploymentsStore['transition']>[3],
  ) {
    const r = await apply(d, actor, ev, patch);
    if (!r) throw new BrierError('conflict', 'the deployment changed meanwhile; reload and try again', { details: { id: d.id } });
    return r;
  }

  // ---------------------------------------------------------------- creation

  /**
   * Everything creation decides before it writes: the checked spec, the approved target hosts (with
   * their groups, as the wave plan at start sees them) and whether a second person must approve.
   * Creation and preview both go through it, so a preview refuses exactly what creation refuses.
   */
  async function prepare(actor: Actor, input: CreateDeploymentInput, at: Date) {
    const ecosystem = input.ecosystem ?? 'dpkg';
    if (!ECOSYSTEMS.includes(ecosystem)) throw new BrierError('bad_request', `unknown ecosystem ${JSON.stringify(ecosystem)}`);
    const rebootPolicy = wireRebootPolicy(input.rebootPolicy);
    if (!Array.isArray(input.packages)) throw new BrierError('bad_request', 'packages must be a list');
    const problems: string[] = [];
    const packages = input.packages.map((p, i) => {
      const name = typeof p?.name === 'string' ? p.name : '';
      const nameCheck = checkPackageName(ecosystem, name);
      if (!nameCheck.ok)
        problems.push(`packages[${i}].name ${JSON.stringify(name)} is not a valid ${ecosystem} package name: ${nameCheck.reason}`);
      const version = p?.version ?? null;
      if (version !== null) {
        const v = checkVersion(ecosystem, version);
        if (!v.ok)
          problems.push(
            `packages[${i}].version ${JSON.stringify(version)} of ${JSON.stringify(name)} is not a valid ${ecosystem} version: ${v.reason}`,
          );
      }
      const minVersion = p?.minVersion;
      if (minVersion !== undefined) {
        const m = checkVersion(ecosystem, minVersion);
        if (version !== null) problems.push(`packages[${i}] has both a version and a minVersion: give one`);
        else if (!m.ok)
          problems.push(
            `packages[${i}].minVersion ${JSON.stringify(minVersion)} of ${JSON.stringify(name)} is not a valid ${ecosystem} version: ${m.reason}`,
          );
        else if (schemeForEcosystem(ecosystem) === undefined)
          problems.push(`packages[${i}].minVersion: ${ecosystem} versions cannot be ordered by Brier`);
        return { name, version, minVersion };
      }
      return { name, version };
    });
    if (problems.length > 0) throw new BrierError('bad_request', problems.join('; '), { details: { problems } });
    if (
      input.deadlineHours !== undefined &&
      !(typeof input.deadlineHours === 'number' && input.deadlineHours > 0 && input.deadlineHours <= 24 * 365)
    )
      throw new BrierError('bad_request', 'deadlineHours must be above 0 and at most a year');

    const spec: DeploymentSpec = {
      name: typeof input.name === 'string' ? input.name.trim() : '',
      packages,
      targets: {
        ...(input.targets?.hostIds !== undefined ? { hostIds: [...input.targets.hostIds] } : {}),
        ...(input.targets?.groups !== undefined ? { groups: [...input.targets.groups] } : {}),
      },
      waves: normalizeWaves(input.waves),
      critical: input.critical === true,
      emergency: input.emergency === true,
      deadline: input.deadlineHours === undefined ? null : new Date(at.getTime() + input.deadlineHours * HOUR_MS),
      rebootPolicy: domainRebootPolicy(rebootPolicy),
      schedule: input.startAt === undefined ? {} : { startAt: input.startAt },
      createdBy: actor.id,
    };
    check(validateSpec(spec, at));

    // Targets: named ids must exist; revoked and not-yet-approved hosts never receive work.
    const hostIds = spec.targets.hostIds ?? [];
    const candidates = await store.targetHosts(hostIds, spec.targets.groups ?? []);
    const { hosts: resolved, unknownHostIds } = resolveTargets(spec.targets, candidates);
    if (unknownHostIds.length > 0)
      throw new BrierError('bad_request', `unknown host ids: ${unknownHostIds.join(', ')}`, { details: { unknownHostIds } });
    const byId = new Map(candidates.map((c) => [c.id, c]));
    const planHosts = resolved.filter((h) => byId.get(h.id)?.status === 'approved');
    const targets = planHosts.map((h) => h.id);
    if (targets.length === 0) throw new BrierError('bad_request', 'the targets match no approved host');
    // A group wave over a group none of the targets is in would pass at once on no evidence: refuse it.
    const targetGroups = new Set(planHosts.flatMap((h) => h.groups));
    const emptyGroups = spec.waves.flatMap((w) => (w.group !== undefined && !targetGroups.has(w.group) ? [w.group] : []));
    if (emptyGroups.length > 0)
      throw new BrierError('bad_request', `no target host is in the wave group ${emptyGroups.map((g) => JSON.stringify(g)).join(', ')}`, {
        details: { emptyGroups },
      });
    const approval = approvalRequirement(spec, targets.length, config);
    const submit = check(transition('draft', { type: 'submit', approval }));
    return {
      spec,
      packages,
      ecosystem,
      rebootPolicy,
      targets,
      planHosts,
      /** Targeted hosts left out: pending approval or revoked. */
      notApproved: resolved.flatMap((h) => {
        const c = byId.get(h.id);
        return c && c.status !== 'approved' ? [c] : [];
      }),
      hostnames: new Map(candidates.map((c) => [c.id, c.hostname])),
      approval,
      submit,
    };
  }

  /** A preview's id must be a UUID no deployment has yet (it becomes the deployment's id). */
  async function checkPreviewId(previewId: string | undefined): Promise<void> {
    if (previewId === undefined) return;
    if (typeof previewId !== 'string' || !UUID.test(previewId)) throw new BrierError('bad_request', 'previewId must be a UUID');
    if (await store.get(previewId))
      throw new BrierError('conflict', 'a deployment was already created from this preview', { details: { id: previewId } });
  }

  async function create(actor: Actor, input: CreateDeploymentInput): Promise<DeploymentView> {
    const at = now();
    const previewId = input.previewId;
    await checkPreviewId(previewId);
    const { spec, packages, ecosystem, rebootPolicy, targets, submit } = await prepare(actor, input, at);
    const stored: StoredSpec = {
      packages,
      ecosystem,
      rebootPolicy,
      targets: spec.targets,
      waves: spec.waves,
      hostIds: targets,
    };
    const row = await store.create(
      {
        ...(previewId === undefined ? {} : { id: previewId }),
        name: spec.name,
        state: submit.state,
        stateReason: submit.reason,
        spec: stored,
        critical: spec.critical,
        emergency: spec.emergency,
        createdBy: actor.id,
        createdByName: actor.username,
        approvedBy: null,
        approvedByName: null,
        approvedAt: null,
        createdAt: at,
        startAt: spec.schedule.startAt ?? null,
        startedAt: null,
        finishedAt: null,
        deadlineAt: spec.deadline,
        postmortem: null,
      },
      {
        at,
        actor: actor.username,
        kind: 'deployment',
        fromState: null,
        toState: submit.state,
        reason: submit.reason,
        detail: { hostCount: targets.length },
      },
    );
    await audit.record({
      actor: actor.username,
      action: 'deployment.create',
      target: row.id,
      detail: { name: row.name, state: row.state, reason: submit.reason, hostCount: targets.length, packages },
      at,
    });
    changed(row.id, true);
    return view(row.id);
  }

  /**
   * What creating this deployment would do, without creating anything: the same checks and target
   * resolution as `create`, and the wave plan `start` would make (seeded by `previewId`, which is
   * returned: create with it and the percentage waves are drawn the same way). Per host, each package
   * that would change, from the installed version to the pinned one or, for "latest", the candidate
   * its agent last reported. Hosts where nothing would change are listed with the reason.
   */
  async function preview(actor: Actor, input: CreateDeploymentInput): Promise<DeploymentPreview> {
    const at = now();
    await checkPreviewId(input.previewId);
    const previewId = input.previewId ?? newId();
    const p = await prepare(actor, input, at);
    const plan = planWaves(previewId, p.planHosts, p.spec.waves);
    const found = await store.packageVersions(
      p.targets,
      p.ecosystem,
      p.packages.map((x) => x.name),
    );
    // One version per host and package: several architectures of one package move together.
    const keyOf = (hostId: string, name: string) => `${hostId}\n${name}`;
    const installed = new Map<string, string>();
    for (const v of found.installed) if (!installed.has(keyOf(v.hostId, v.name))) installed.set(keyOf(v.hostId, v.name), v.version);
    const candidates = new Map<string, string>();
    for (const v of found.candidates) if (!candidates.has(keyOf(v.hostId, v.name))) candidates.set(keyOf(v.hostId, v.name), v.version);
    const reported = new Set(found.updatesReported);

    let changing = 0;
    let packageChanges = 0;
    let missing = 0;
    let unreported = 0;
    const waves = plan.map((w) => ({
      index: w.wave,
      name: p.spec.waves[w.wave]?.name ?? `wave ${w.wave + 1}`,
      hosts: w.hostIds.map((hostId): PreviewHost => {
        const hostname = p.hostnames.get(hostId) ?? hostId;
        const changes: PreviewHost['packages'] = [];
        const notes: string[] = [];
        const notInstalled: string[] = [];
        for (const pkg of p.packages) {
          const from = installed.get(keyOf(hostId, pkg.name)) ?? null;
          if (from === null) {
            notInstalled.push(pkg.name);
            continue;
          }
          const to = pkg.version ?? candidates.get(keyOf(hostId, pkg.name)) ?? null;
          if (to === null) {
            if (pkg.minVersion !== undefined && satisfies(p.ecosystem, pkg, from))
              notes.push(`${pkg.name} ${from} is at least ${pkg.minVersion}`);
            else notes.push(reported.has(hostId) ? `${pkg.name} has no pending update` : `${pkg.name}: no pending updates reported yet`);
            continue;
          }
          if (to === from) {
            notes.push(`${pkg.name} is already ${from}`);
            continue;
          }
          changes.push({ name: pkg.name, from, to });
        }
        if (!reported.has(hostId)) unreported += 1;
        // Agents upgrade, never install: one package missing fails the host's whole assignment.
        if (notInstalled.length > 0) {
          missing += 1;
          return {
            hostId,
            hostname,
            packages: [],
            skipped: `not installed: ${notInstalled.join(', ')} (an upgrade never installs a package, so the agent refuses this work)`,
          };
        }
        if (changes.length === 0) return { hostId, hostname, packages: [], skipped: `nothing to install: ${notes.join('; ')}` };
        changing += 1;
        packageChanges += changes.length;
        return { hostId, hostname, packages: changes };
      }),
    }));

    const warnings: string[] = [];
    const some = (names: string[]) => `${names.slice(0, 5).join(', ')}${names.length > 5 ? `, and ${names.length - 5} more` : ''}`;
    if (p.notApproved.length > 0)
      warnings.push(
        `${p.notApproved.length} targeted host(s) are pending approval or revoked and get nothing: ${some(p.notApproved.map((h) => h.hostname))}`,
      );
    if (p.approval.required) warnings.push(`needs a second person's approval: ${p.approval.why.join('; ')}`);
    if (missing > 0) warnings.push(`${missing} host(s) lack a requested package: their assignments will fail`);
    if (unreported > 0) warnings.push(`${unreported} host(s) have not reported their pending updates: what they would install is unknown`);
    const skipped = p.targets.length - changing;
    if (changing === 0) warnings.push('no host has anything to install');
    else if (skipped > 0) warnings.push(`${skipped} of ${p.targets.length} host(s) have nothing to install`);
    return {
      previewId,
      approval: p.approval,
      waves,
      totals: { targeted: p.targets.length, hosts: changing, skipped, packages: packageChanges },
      warnings,
    };
  }

  // ---------------------------------------------------------------- commands

  async function approve(actor: Actor, id: string, note?: string): Promise<DeploymentView> {
    const d = await load(id);
    const result = check(approveDeployment({ state: d.state, spec: { createdBy: d.createdBy } }, { id: actor.id, role: actor.role }, note));
    const at = now();
    const reason = result.reason.replace(`approved by ${actor.id}`, `approved by ${actor.username}`);
    const done = await store.transition(
      d.id,
      d.state,
      result.state,
      { stateReason: reason, approvedBy: actor.id, approvedByName: actor.username, approvedAt: at },
      event(actor.username, d.state, result.state, reason),
    );
    if (!done) throw new BrierError('conflict', 'the deployment changed meanwhile; reload and try again');
    changed(d.id, true);
    await auditTransition(actor.username, d, 'approve', result.state, reason, at);
    return view(id);
  }

  async function pause(actor: Actor, id: string, note?: string): Promise<DeploymentView> {
    const d = await load(id);
    await applyOrConflict(d, actor.username, note === undefined ? { type: 'pause' } : { type: 'pause', note });
    return view(id);
  }

  async function resume(actor: Actor, id: string, note?: string): Promise<DeploymentView> {
    const d = await load(id);
    const wasHalted = d.state === 'halted';
    await applyOrConflict(d, actor.username, note === undefined ? { type: 'resume' } : { type: 'resume', note });
    if (wasHalted) {
      // The operator accepts the halted gate: that wave counts as passed and the next one may start.
      for (const w of await store.waves(id)) {
        if (w.haltedReason !== null) {
          await store.updateWave(id, w.index, { haltedReason: null, passedAt: now() });
          await store.addEvent(
            id,
            waveEvent(w, 'advanced', `wave ${JSON.stringify(w.name)} passed by ${actor.username} past its halted gate`),
          );
        }
      }
    }
    await tick();
    return view(id);
  }

  async function abort(actor: Actor, id: string, reason: string): Promise<DeploymentView> {
    const d = await load(id);
    const at = now();
    await applyOrConflict(d, actor.username, { type: 'abort', reason: typeof reason === 'string' ? reason : '' }, { finishedAt: at });
    // Work never delivered will never be: it expires. Work an agent may already hold keeps its
    // state, so a late report still records what really happened on that host.
    await store.moveAll(id, ['pending', 'unreached'], 'expired', `deployment aborted by ${actor.username}`, at);
    changed(id);
    return view(id);
  }

  async function retryFailed(actor: Actor, id: string, note?: string): Promise<DeploymentView> {
    const d = await load(id);
    const failed = (await store.assignments(id)).filter((a) => a.state === 'failed');
    if (failed.length === 0) throw new BrierError('conflict', 'no failed hosts to retry');
    // Validate the transition before touching assignments.
    check(transition(d.state, { type: 'retryFailed', count: failed.length }));
    const at = now();
    await store.renewFailed(id, `retry requested by ${actor.username}`, at, newId);
    const failedWaves = new Set(failed.map((a) => a.waveIndex));
    for (const w of await store.waves(id)) {
      if (failedWaves.has(w.index) && w.passedAt === null) await store.updateWave(id, w.index, { haltedReason: null, settledAt: null });
    }
    await applyOrConflict(
      d,
      actor.username,
      note === undefined ? { type: 'retryFailed', count: failed.length } : { type: 'retryFailed', count: failed.length, note },
    );
    await tick();
    return view(id);
  }

  async function setPostmortem(actor: Actor, id: string, text: string): Promise<DeploymentView> {
    const d = await load(id);
    if (typeof text !== 'string' || text.length > 20_000)
      throw new BrierError('bad_request', 'the post-mortem must be text of at most 20000 characters');
    await store.setPostmortem(id, text);
    await audit.record({ actor: actor.username, action: 'deployment.postmortem', target: id, detail: { name: d.name }, at: now() });
    return view(id);
  }

  // ---------------------------------------------------------------- views

  async function view(id: string): Promise<DeploymentView> {
    const d = await load(id);
    const [waves, assigned, events] = await Promise.all([store.waves(id), store.assignments(id), store.events(id)]);
    const waveViews: DeploymentWaveView[] = (waves.length > 0 ? waves : []).map((w) => {
      const mine = assigned.filter((a) => a.waveIndex === w.index);
      return {
        index: w.index,
        name: w.name,
        state: waveState(w),
        counts: countStates(mine.map((a) => a.state)),
        hostCount: mine.length,
        startedAt: w.startedAt,
        passedAt: w.passedAt,
        haltedReason: w.haltedReason,
      };
    });
    return {
      id: d.id,
      name: d.name,
      state: d.state,
      stateReason: d.stateReason,
      critical: d.critical,
      emergency: d.emergency,
      createdBy: { id: d.createdBy, username: d.createdByName },
      approvedBy: d.approvedBy === null ? null : { id: d.approvedBy, username: d.approvedByName ?? d.approvedBy },
      createdAt: d.createdAt,
      startAt: d.startAt,
      startedAt: d.startedAt,
      finishedAt: d.finishedAt,
      deadlineAt: d.deadlineAt,
      ecosystem: d.spec.ecosystem,
      rebootPolicy: d.spec.rebootPolicy,
      packages: d.spec.packages,
      waves:
        waveViews.length > 0
          ? waveViews
          : d.spec.waves.map((w, index) => ({
              index,
              name: w.name,
              state: 'pending' as const,
              counts: countStates([]),
              hostCount: 0,
              startedAt: null,
              passedAt: null,
              haltedReason: null,
            })),
      hosts: assigned.map((a) => ({
        hostId: a.hostId,
        hostname: a.hostname,
        wave: a.waveIndex,
        state: a.state,
        reason: a.stateReason,
        code: a.code,
        installed: a.installed,
        rebootRequired: a.rebootRequired,
        verified: a.verified,
        updatedAt: a.updatedAt,
      })),
      summary: summarize(assigned),
      timeline: timelineOf(events, now()),
      postmortem: d.postmortem,
    };
  }

  async function list(query: { state?: DeploymentState | undefined; limit: number; offset: number }) {
    if (query.state !== undefined && !DEPLOYMENT_STATES.includes(query.state))
      throw new BrierError('bad_request', `state must be one of ${DEPLOYMENT_STATES.join(', ')}`);
    const page = await store.list(query);
    return { items: page.items.map(listItem), total: page.total };
  }

  /**
   * Deployments not finished (awaiting approval up to halted), newest first, each with its number
   * of waves and the summary of its hosts, counted in SQL: the dashboard reads no per-host rows.
   */
  async function inFlight(limit = 50) {
    const page = await store.list({ states: IN_FLIGHT_STATES, limit, offset: 0 });
    const counts = await store.assignmentCounts(page.items.map((d) => d.id));
    return {
      total: page.total,
      items: page.items.map((d) => ({
        ...listItem(d),
        waves: d.spec.waves.length,
        summary: summarize(counts.filter((c) => c.deploymentId === d.id)),
      })),
    };
  }

  // ---------------------------------------------------------------- engine

  function waveEvent(w: Pick<WaveRow, 'index' | 'name'>, what: WaveRecord['event'], reason: string): NewDeploymentEvent {
    return {
      at: now(),
      actor: null,
      kind: 'wave',
      fromState: null,
      toState: null,
      reason,
      detail: { wave: w.index, waveName: w.name, event: what },
    };
  }

  async function scheduleDeployment(d: DeploymentRow, startAt: Date): Promise<void> {
    const result = check(transition(d.state, { type: 'schedule', startAt }));
    const at = now();
    const done = await store.transition(
      d.id,
      d.state,
      result.state,
      { stateReason: result.reason },
      event(null, d.state, result.state, result.reason),
    );
    if (done) {
      changed(d.id, true);
      await auditTransition(ENGINE, d, 'schedule', result.state, result.reason, at);
    }
  }

  async function startDeployment(d: DeploymentRow): Promise<void> {
    const candidates = await store.targetHosts(d.spec.hostIds, []);
    // Hosts revoked or deleted since creation are left out; membership is fixed from here on.
    const hosts = candidates.filter((h) => h.status === 'approved');
    const plan = planWaves(d.id, hosts, d.spec.waves);
    const result = check(transition(d.state, { type: 'start' }));
    const at = now();
    const started = await store.start(
      d.id,
      d.state,
      { stateReason: result.reason, startedAt: at },
      event(null, d.state, result.state, result.reason, { hostCount: hosts.length }),
      d.spec.waves.map((spec, index) => ({
        index,
        name: spec.name,
        spec,
        startedAt: null,
        settledAt: null,
        passedAt: null,
        haltedReason: null,
      })),
      plan.flatMap((p) =>
        p.hostIds.map((hostId) => ({ id: newId(), hostId, waveIndex: p.wave, stateReason: 'planned; waiting for its wave' })),
      ),
      at,
    );
    if (started) {
      changed(d.id, true);
      await auditTransition(ENGINE, d, 'start', result.state, result.reason, at);
    }
  }

  function payloadOf(d: DeploymentRow): AssignmentPayload {
    return {
      kind: 'package-upgrade',
      packages: d.spec.packages.map((p) => ({ ecosystem: d.spec.ecosystem, name: p.name, version: p.version })),
      rebootPolicy: d.spec.rebootPolicy,
    };
  }

  /**
   * Whether a host may be given work now under its groups' maintenance windows: null when it may
   * (no windows, one open, or an emergency), otherwise why not. A window that no longer validates
   * holds the host back (fail closed) rather than letting work run at an unknown time.
   */
  function windowHold(windows: readonly MaintenanceWindowRow[] | undefined, emergency: boolean, at: Date): string | null {
    if (emergency || windows === undefined || windows.length === 0) return null;
    const start = earliestStart(windows, at, { emergency });
    if (!start.ok) return `${WINDOW_WAIT_REASON}: a window of its groups is invalid (${start.error.message})`;
    if (start.value.getTime() <= at.getTime()) return null;
    return `${WINDOW_WAIT_REASON} (next opening ${start.value.toISOString()})`;
  }

  /** Records why an assignment waits, writing only when the words change (once per opening, not per tick). */
  async function noteHold(a: AssignmentRow, reason: string, at: Date): Promise<void> {
    if (a.stateReason !== reason) await store.updateAssignment(a.id, [a.state], { stateReason: reason }, at);
  }

  /**
   * Signs (once) and sends the pending assignments of a started wave, within its concurrency. A host
   * whose maintenance windows are all closed stays pending, saying when the next one opens; a later
   * tick offers it once one is open. Emergencies ignore windows.
   */
  async function deliverWave(d: DeploymentRow, w: WaveRow, assigned: AssignmentRow[]): Promise<void> {
    const mine = assigned.filter((a) => a.waveIndex === w.index);
    // Without a concurrency cap every eligible host is offered at once: bulk statements for the
    // whole wave (the fan-out bench measured one write pair per host as the bottleneck). A capped
    // wave counts its slots host by host below, since offline hosts must not use a slot.
    if (w.spec.concurrency === undefined) return deliverWaveInBulk(d, mine);
    const waiting = mine.filter((a) => a.state === 'pending');
    const windows = d.emergency || waiting.length === 0 ? new Map() : await store.windowsForHosts(waiting.map((a) => a.hostId));
    let slots =
      w.spec.concurrency === undefined
        ? Number.POSITIVE_INFINITY
        : w.spec.concurrency - mine.filter((a) => ['offered', 'deferred', 'running'].includes(a.state)).length;
    const payload = payloadOf(d);
    for (const a of mine) {
      if (a.state !== 'pending') continue;
      if (slots <= 0) break;
      const hold = windowHold(windows.get(a.hostId), d.emergency, now());
      if (hold !== null) {
        await noteHold(a, hold, now());
        continue;
      }
      let signed = a.signed;
      if (signed === null) {
        const at = now();
        const notBefore = new Date(at.getTime() - CLOCK_SKEW_MS);
        let expiresAt = new Date(at.getTime() + config.assignmentTtlHours * HOUR_MS);
        if (d.deadlineAt !== null && d.deadlineAt.getTime() < expiresAt.getTime()) expiresAt = d.deadlineAt;
        if (!(expiresAt.getTime() > at.getTime())) continue; // the deadline sweep expires it
        const key = deps.signing();
        const doc = signAssignment(
          key.privateKey,
          key.certificate,
          {
            assignmentId: a.id,
            deploymentId: d.id,
            hostId: a.hostId,
            notBefore: notBefore.toISOString(),
            expiresAt: expiresAt.toISOString(),
            sequence: a.sequence,
          },
          payload,
        );
        if (!(await store.storeSigned(a.id, doc, notBefore, expiresAt, at))) {
          // Another tick signed it first: use its document, never a second one.
          signed = (await store.assignment(a.id))?.signed ?? null;
          if (signed === null) continue;
        } else {
          signed = doc;
        }
      }
      const delivered = deps.offer(a.hostId, signed);
      const at = now();
      const moved = await store.updateAssignment(
        a.id,
        ['pending'],
        delivered
          ? { state: 'offered', stateReason: 'offered to the connected agent', offeredAt: at }
          : { state: 'unreached', stateReason: 'host offline when its turn came; queued until it reconnects' },
        at,
      );
      if (moved && delivered) slots -= 1;
    }
  }

  /** Signs once, stores every new document in bulk, offers, then records who got it, in bulk. */
  async function deliverWaveInBulk(d: DeploymentRow, mine: AssignmentRow[]): Promise<void> {
    const waiting = mine.filter((a) => a.state === 'pending');
    if (waiting.length === 0) return;
    const windows = d.emergency ? new Map() : await store.windowsForHosts(waiting.map((a) => a.hostId));
    const payload = payloadOf(d);
    const at = now();
    const notBefore = new Date(at.getTime() - CLOCK_SKEW_MS);
    let expiresAt = new Date(at.getTime() + config.assignmentTtlHours * HOUR_MS);
    if (d.deadlineAt !== null && d.deadlineAt.getTime() < expiresAt.getTime()) expiresAt = d.deadlineAt;
    const ready: AssignmentRow[] = [];
    for (const a of waiting) {
      const hold = windowHold(windows.get(a.hostId), d.emergency, at);
      if (hold !== null) await noteHold(a, hold, at);
      else ready.push(a);
    }
    const docs = new Map<string, SignedAssignment>();
    const fresh: { id: string; signed: SignedAssignment; notBefore: Date; expiresAt: Date }[] = [];
    if (expiresAt.getTime() > at.getTime()) {
      const key = deps.signing();
      for (const a of ready) {
        if (a.signed !== null) {
          docs.set(a.id, a.signed);
          continue;
        }
        const draft = {
          assignmentId: a.id,
          deploymentId: d.id,
          hostId: a.hostId,
          notBefore: notBefore.toISOString(),
          expiresAt: expiresAt.toISOString(),
          sequence: a.sequence,
        };
        fresh.push({ id: a.id, signed: signAssignment(key.privateKey, key.certificate, draft, payload), notBefore, expiresAt });
      }
    } else {
      for (const a of ready) if (a.signed !== null) docs.set(a.id, a.signed); // the deadline sweep expires the rest
    }
    const stored = await store.storeSignedMany(fresh, at);
    for (const f of fresh) {
      if (stored.has(f.id)) docs.set(f.id, f.signed);
      else {
        // Another tick signed it first: use its document, never a second one.
        const theirs = (await store.assignment(f.id))?.signed;
        if (theirs) docs.set(f.id, theirs);
      }
    }
    const offered: string[] = [];
    const offline: string[] = [];
    for (const a of ready) {
      const doc = docs.get(a.id);
      if (!doc) continue;
      (deps.offer(a.hostId, doc) ? offered : offline).push(a.id);
    }
    const when = now();
    await store.updateAssignmentsMany(
      offered,
      ['pending'],
      { state: 'offered', stateReason: 'offered to the connected agent', offeredAt: when },
      when,
    );
    await store.updateAssignmentsMany(
      offline,
      ['pending'],
      { state: 'unreached', stateReason: 'host offline when its turn came; queued until it reconnects' },
      when,
    );
  }

  async function advanceDeployment(id: string): Promise<void> {
    // Each pass handles one wave; a passed wave lets the next one start in the same tick.
    for (let guard = 0; guard < 64; guard += 1) {
      const d = await store.get(id);
      if (!d || (d.state !== 'running' && d.state !== 'paused')) return;
      const waves = await store.waves(id);
      const current = waves.find((w) => w.passedAt === null);
      if (!current) {
        if (d.state === 'running') await apply(d, null, { type: 'complete', note: 'every wave passed' }, { finishedAt: now() });
        return;
      }
      if (current.haltedReason !== null) return;
      if (current.startedAt === null) {
        if (d.state !== 'running') return;
        const at = now();
        if (await store.updateWave(id, current.index, { startedAt: at }, { onlyIfNotStarted: true }))
          await store.addEvent(id, waveEvent(current, 'started', `wave ${JSON.stringify(current.name)} started`));
        continue;
      }
      let assigned = await store.assignments(id);
      if (d.state === 'running') {
        await deliverWave(d, current, assigned);
        assigned = await store.assignments(id);
      }
      const counts = countStates(assigned.filter((a) => a.waveIndex === current.index).map((a) => a.state));
      const decision = evaluateWave({
        spec: current.spec,
        startedAt: current.startedAt,
        now: now(),
        counts,
        allTerminalAt: current.settledAt ?? undefined,
        emergency: d.emergency,
      });
      const settledChanged = (decision.settledAt?.getTime() ?? null) !== (current.settledAt?.getTime() ?? null);
      if (settledChanged) await store.updateWave(id, current.index, { settledAt: decision.settledAt });
      if (settledChanged && decision.settledAt !== null && current.settledAt === null)
        await store.addEvent(id, waveEvent(current, 'settled', decision.reason));
      if (decision.decision === 'halt') {
        const r = await apply(d, null, { type: 'halt', reason: decision.reason });
        if (r) {
          await store.updateWave(id, current.index, { haltedReason: decision.reason });
          await store.addEvent(id, waveEvent(current, 'halted', decision.reason));
        }
        return;
      }
      if (decision.decision === 'wait' || d.state !== 'running') return;
      await store.updateWave(id, current.index, { passedAt: now() });
      await store.addEvent(id, waveEvent(current, 'advanced', decision.reason));
    }
  }

  async function expireSweep(): Promise<void> {
    const expired = await store.expireDue(EXPIRABLE, now());
    for (const id of new Set(expired.map((a) => a.deploymentId))) changed(id);
    for (const a of expired) {
      await audit.record({
        actor: ENGINE,
        action: 'assignment.expire',
        target: a.id,
        detail: { deploymentId: a.deploymentId, hostId: a.hostId, sequence: a.sequence },
        at: now(),
      });
    }
  }

  /**
   * Offers again the unreached work of hosts that have maintenance windows, while one is open: such
   * a host may have reconnected outside its windows and been held back (see onAgentConnected), and
   * nothing else would offer its work before it reconnects once more. Hosts without windows get
   * their unreached work when they reconnect, as before.
   */
  async function offerHeldBack(id: string): Promise<void> {
    const d = await store.get(id);
    if (d?.state !== 'running') return;
    const unreached = (await store.assignments(id)).filter((a) => a.state === 'unreached' && a.signed !== null);
    if (unreached.length === 0) return;
    const windows = await store.windowsForHosts(unreached.map((a) => a.hostId));
    for (const a of unreached) {
      const own = windows.get(a.hostId);
      if (own === undefined || own.length === 0 || a.signed === null) continue;
      if (windowHold(own, d.emergency, now()) !== null) continue;
      if (a.expiresAt !== null && a.expiresAt.getTime() <= now().getTime()) continue; // the sweep expires it
      if (!deps.offer(a.hostId, a.signed)) continue;
      const at = now();
      await store.updateAssignment(
        a.id,
        ['unreached'],
        { state: 'offered', stateReason: 'offered to the connected agent when its maintenance window opened', offeredAt: at },
        at,
      );
    }
  }

  async function tickOnce(): Promise<void> {
    await expireSweep();
    // An approved deployment with a start time still ahead becomes scheduled (recorded, visible);
    // a scheduled one starts once its time has come.
    for (const id of await store.idsInStates(['approved', 'scheduled'])) {
      const d = await store.get(id);
      if (d?.state !== 'approved' && d?.state !== 'scheduled') continue;
      if (d.startAt !== null && d.startAt.getTime() > now().getTime()) {
        if (d.state === 'approved') await scheduleDeployment(d, d.startAt);
      } else {
        await startDeployment(d);
      }
    }
    for (const id of await store.idsInStates(['running', 'paused'])) {
      const d = await store.get(id);
      if (d?.deadlineAt && d.deadlineAt.getTime() <= now().getTime())
        await store.moveAll(id, EXPIRABLE, 'expired', 'the deployment deadline passed before it ran', now());
      await advanceDeployment(id);
      await offerHeldBack(id);
      // Wave and assignment updates of this step (watchers drop views that did not change).
      changed(id);
    }
  }

  /** One engine step: idempotent, safe to call at any time, from a timer and after every report. */
  function tick(): Promise<void> {
    const run = ticking.then(tickOnce, tickOnce);
    ticking = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------- agents

  async function onAgentConnected(hostId: string, highestSequence: number): Promise<SignedAssignment[]> {
    await expireSweep();
    const rows = await store.assignmentsOfHost(hostId, DELIVERABLE, ['running']);
    const at = now();
    const out: SignedAssignment[] = [];
    // Work the agent never received (pending, unreached) waits for the host's maintenance window;
    // work it was given before (offered, deferred, running) is resent whatever the time.
    const undelivered = rows.filter((a) => a.signed !== null && (a.state === 'pending' || a.state === 'unreached'));
    const windows = undelivered.length === 0 ? undefined : (await store.windowsForHosts([hostId])).get(hostId);
    const emergencyOf = new Map<string, boolean>();
    for (const a of undelivered) {
      if (!emergencyOf.has(a.deploymentId)) emergencyOf.set(a.deploymentId, (await store.get(a.deploymentId))?.emergency === true);
    }
    // Only a running deployment delivers: a paused, halted or aborted one must not hand out work the
    // agent may never have received (what it already holds, it runs or reports from its ledger).
    const stateOf = new Map<string, string | undefined>();
    for (const a of rows) {
      if (!stateOf.has(a.deploymentId)) stateOf.set(a.deploymentId, (await store.get(a.deploymentId))?.state);
    }
    for (const a of rows) {
      if (a.signed === null) continue; // its wave has not started: not this host's turn yet
      if (stateOf.get(a.deploymentId) !== 'running') continue;
      if (a.expiresAt !== null && a.expiresAt.getTime() <= at.getTime()) {
        await store.updateAssignment(
          a.id,
          EXPIRABLE,
          { state: 'expired', stateReason: 'expired before the host reconnected', finishedAt: at },
          at,
        );
        continue;
      }
      if (a.state === 'unreached' || a.state === 'pending') {
        const hold = windowHold(windows, emergencyOf.get(a.deploymentId) === true, at);
        if (hold !== null) {
          await noteHold(a, `reconnected outside its maintenance windows; ${hold}`, at);
          continue;
        }
      }
      if (a.state === 'unreached' || a.state === 'pending')
        await store.updateAssignment(
          a.id,
          [a.state],
          { state: 'offered', stateReason: 'offered when the agent reconnected', offeredAt: at },
          at,
        );
      out.push(a.signed);
    }
    for (const id of new Set(rows.map((a) => a.deploymentId))) changed(id);
    if (out.length > 0)
      await audit.record({
        actor: ENGINE,
        action: 'assignment.sync',
        target: hostId,
        detail: { highestSequence, sent: out.map((s) => s.assignment.sequence) },
        at,
      });
    return out;
  }

  async function onAssignmentStatus(hostId: string, status: AgentMessageBodies['assignment.status']): Promise<void> {
    const at = now();
    const a = await store.assignment(status.assignmentId);
    if (!a || a.hostId !== hostId) {
      await audit.record({
        actor: `host:${hostId}`,
        action: 'assignment.foreign-status',
        target: status.assignmentId,
        detail: { hostId, state: status.state, known: a !== undefined },
        at,
      });
      return;
    }
    // A final state never moves, with one exception: the server expires work it has not heard about
    // by the deadline, but an agent that started it in time (agents never start expired work) may
    // report its outcome afterwards. What really happened on the host wins over the server's guess.
    const outcome = status.state === 'succeeded' || status.state === 'failed';
    const lateOutcome = a.state === 'expired' && outcome && a.signed !== null;
    // The agent reports what it did about the reboot policy in a second 'succeeded' status, after
    // the first was sent and its ledger recorded the end: only the reason changes.
    if (a.state === 'succeeded' && status.state === 'succeeded' && status.reboot !== undefined) {
      const base = a.stateReason.split('; reboot')[0] ?? a.stateReason;
      const updated = await store.updateAssignment(a.id, ['succeeded'], { stateReason: `${base}${rebootNote(status.reboot)}` }, at);
      if (updated) changed(a.deploymentId);
      return;
    }
    if (isTerminal(a.state) && !lateOutcome) return;
    const d = await store.get(a.deploymentId);
    const detail = status.detail ?? status.code ?? '';
    const withDetail = (text: string) => (detail ? `${text}: ${detail}` : text);
    let from: readonly AssignmentState[];
    let patch: Parameters<DeploymentsStore['updateAssignment']>[2];
    switch (status.state) {
      case 'received':
        from = ['pending', 'unreached'];
        patch = { state: 'offered', stateReason: 'received by the agent' };
        break;
      case 'running':
        from = ['pending', 'unreached', 'offered', 'deferred'];
        patch = { state: 'running', stateReason: 'running on the host', startedAt: at };
        break;
      case 'busy':
        from = ['pending', 'unreached', 'offered'];
        patch = { state: 'deferred', stateReason: withDetail('package manager busy; the agent will retry') };
        break;
      case 'succeeded': {
        const installed = status.installed ?? [];
        // Verified: every requested package is installed at the requested version (any version for "latest").
        const verified =
          d?.spec.packages.every((p) => installed.some((i) => i.name === p.name && satisfies(d.spec.ecosystem, p, i.version))) === true;
        from = lateOutcome ? ['expired'] : NON_TERMINAL;
        patch = {
          state: 'succeeded',
          stateReason:
            (verified ? 'succeeded; installed versions verified' : 'succeeded, but the installed versions do not match the request') +
            (status.reboot ? rebootNote(status.reboot) : ''),
          verified,
          finishedAt: at,
        };
        break;
      }
      case 'failed':
        from = lateOutcome ? ['expired'] : NON_TERMINAL;
        patch = { state: 'failed', stateReason: withDetail('failed'), finishedAt: at };
        break;
      case 'refused':
        from = NON_TERMINAL;
        patch = { state: 'failed', stateReason: withDetail('refused by the agent'), finishedAt: at };
        break;
      case 'expired':
        from = NON_TERMINAL;
        patch = { state: 'expired', stateReason: 'expired on the agent before it ran', finishedAt: at };
        break;
    }
    if (status.code !== undefined) patch.code = status.code;
    if (status.installed !== undefined) patch.installed = status.installed;
    if (status.rebootRequired !== undefined) patch.rebootRequired = status.rebootRequired;
    if (status.output !== undefined) patch.output = status.output;
    const updated = await store.updateAssignment(a.id, from, patch, at);
    if (status.state === 'refused') {
      await audit.record({
        actor: `host:${hostId}`,
        action: 'assignment.refused',
        target: a.id,
        detail: { deploymentId: a.deploymentId, code: status.code ?? null, detail: status.detail ?? null },
        at,
      });
    }
    if (updated) {
      changed(a.deploymentId);
      await tick();
    }
  }

  // ---------------------------------------------------------------- maintenance windows

  function windowView(w: MaintenanceWindowRow, at: Date): MaintenanceWindowView {
    const next = nextOpening(w, at);
    return {
      id: w.id,
      group: w.groupName,
      cron: w.cron,
      durationMinutes: w.durationMinutes,
      timeZone: w.timeZone,
      createdAt: w.createdAt,
      nextOpeningAt: next.ok ? next.value : null,
    };
  }

  async function listWindows(): Promise<{ items: MaintenanceWindowView[] }> {
    const at = now();
    return { items: (await store.listWindows()).map((w) => windowView(w, at)) };
  }

  async function createWindow(actor: Actor, input: CreateWindowInput): Promise<MaintenanceWindowView> {
    const group = typeof input.group === 'string' ? input.group.trim() : '';
    const hasControl = [...group].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
    if (group.length === 0 || group.length > 100 || hasControl)
      throw new BrierError('bad_request', 'group must be a name of 1 to 100 characters without control characters');
    const window = check(
      validateWindow({ cron: String(input.cron ?? ''), durationMinutes: input.durationMinutes, timeZone: String(input.timeZone ?? '') }),
    );
    const at = now();
    const row = await store.createWindow({ groupName: group, ...window, createdAt: at });
    await audit.record({
      actor: actor.username,
      action: 'maintenance-window.create',
      target: row.id,
      detail: { group, cron: row.cron, durationMinutes: row.durationMinutes, timeZone: row.timeZone },
      at,
    });
    // Work held for a window may now be allowed (or not): let the engine look again.
    await tick();
    return windowView(row, at);
  }

  async function deleteWindow(actor: Actor, id: string): Promise<void> {
    const row = await store.deleteWindow(id);
    if (!row) throw new BrierError('not_found', 'no such maintenance window', { details: { id } });
    const at = now();
    await audit.record({
      actor: actor.username,
      action: 'maintenance-window.delete',
      target: id,
      detail: { group: row.groupName, cron: row.cron, durationMinutes: row.durationMinutes, timeZone: row.timeZone },
      at,
    });
    await tick();
  }

  return {
    create,
    preview,
    approve,
    pause,
    resume,
    abort,
    retryFailed,
    setPostmortem,
    get: view,
    list,
    inFlight,
    listWindows,
    createWindow,
    deleteWindow,
    tick,
    onChange,
    onAgentConnected,
    onAssignmentStatus,
    /** The WorkDelivery the agent gateway takes. */
    workDelivery: {
      onSync: (hostId: string, highestSequence: number) => onAgentConnected(hostId, highestSequence),
      onStatus: (hostId: string, status: AgentMessageBodies['assignment.status']) => onAssignmentStatus(hostId, status),
    },
    /** Sets a host's groups (targets and group waves name them). */
    setHostGroups: async (hostId: string, groups: readonly string[]) => {
      await store.setHostGroups(hostId, groups);
      await deps.onGroupsChanged?.(hostId);
    },
  };
}

export type DeploymentsService = ReturnType<typeof createDeploymentsService>;

function listItem(d: DeploymentRow): DeploymentListItem {
  return {
    id: d.id,
    name: d.name,
    state: d.state,
    stateReason: d.stateReason,
    critical: d.critical,
    emergency: d.emergency,
    createdBy: { id: d.createdBy, username: d.createdByName },
    approvedBy: d.approvedBy === null ? null : { id: d.approvedBy, username: d.approvedByName ?? d.approvedBy },
    createdAt: d.createdAt,
    startAt: d.startAt,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    packages: d.spec.packages,
    hostCount: d.spec.hostIds.length,
  };
}

function timelineOf(events: DeploymentEventRow[], at: Date): Timeline {
  const deployment: TransitionRecord[] = [];
  const waves: WaveRecord[] = [];
  for (const e of events) {
    if (e.kind === 'deployment' && e.toState !== null) {
      deployment.push({ at: e.at, actor: e.actor, from: e.fromState, to: e.toState, reason: e.reason, seq: e.id });
    } else if (e.kind === 'wave' && e.detail) {
      waves.push({
        at: e.at,
        wave: Number(e.detail.wave),
        waveName: String(e.detail.waveName),
        event: e.detail.event as WaveRecord['event'],
        reason: e.reason,
        seq: e.id,
      });
    }
  }
  return buildTimeline({ deployment, waves }, at);
}
