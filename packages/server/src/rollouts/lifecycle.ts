import type { Role } from '../auth/types.js';
import { fail, ok, type Result } from './errors.js';
import type { Deployment, DeploymentSpec, DeploymentState } from './types.js';

/** What the author's choices and the target size demand of change control, and why (shown to both people). */
export interface ApprovalRequirement {
  required: boolean;
  /** One sentence per rule that applied; when nothing requires approval, why it is not needed. */
  why: string[];
}

/**
 * Everything that may happen to a deployment. `note` adds detail to the recorded reason; halt, abort
 * and reject carry a `reason` of their own because the audit log must say why a change was stopped.
 */
export type DeploymentEvent =
  | { type: 'submit'; approval: ApprovalRequirement; note?: string }
  | { type: 'approve'; by: string; note?: string }
  | { type: 'reject'; by: string; reason: string }
  | { type: 'schedule'; startAt: Date; note?: string }
  | { type: 'start'; note?: string }
  | { type: 'pause'; note?: string }
  | { type: 'resume'; note?: string }
  | { type: 'halt'; reason: string }
  | { type: 'complete'; note?: string }
  | { type: 'abort'; reason: string }
  | { type: 'retryFailed'; count?: number; note?: string };

export type DeploymentEventType = DeploymentEvent['type'];

export interface TransitionResult {
  state: DeploymentState;
  reason: string;
}

/**
 * The whole state machine: for each state, the events it accepts and the states they may lead to.
 * Anything absent is refused with `illegal_transition`. Choices where the issue is silent:
 * - submit goes straight to approved when no second person is needed (one recorded transition that
 *   says why), otherwise to awaiting_approval.
 * - reject returns the deployment to draft so the author can revise and resubmit; abort closes it.
 * - schedule is accepted again while scheduled (a new start time); a scheduled deployment starts or is aborted.
 * - halted is left by resume (the operator accepts the gate's result and the next wave may start),
 *   by retryFailed (failed hosts run again, then the gate judges anew) or by abort.
 * - a paused deployment may still be halted: hosts that were running when it was paused keep
 *   reporting, and a failing gate must not be forgotten by a later resume.
 * - completed and aborted are final; retrying after completion is a new deployment, so the report
 *   of the first one never changes.
 */
export const TRANSITIONS = {
  draft: { submit: ['awaiting_approval', 'approved'], abort: ['aborted'] },
  awaiting_approval: { approve: ['approved'], reject: ['draft'], abort: ['aborted'] },
  approved: { schedule: ['scheduled'], start: ['running'], abort: ['aborted'] },
  scheduled: { schedule: ['scheduled'], start: ['running'], abort: ['aborted'] },
  running: { pause: ['paused'], halt: ['halted'], complete: ['completed'], abort: ['aborted'], retryFailed: ['running'] },
  paused: { resume: ['running'], halt: ['halted'], abort: ['aborted'], retryFailed: ['paused'] },
  halted: { resume: ['running'], retryFailed: ['running'], abort: ['aborted'] },
  completed: {},
  aborted: {},
} as const satisfies Record<DeploymentState, Partial<Record<DeploymentEventType, readonly DeploymentState[]>>>;

type Table = Record<DeploymentState, Partial<Record<DeploymentEventType, readonly DeploymentState[]>>>;
const TABLE: Table = TRANSITIONS;

/** Events accepted in `state`, for the API (which buttons to offer) and for error details. */
export function allowedEvents(state: DeploymentState): DeploymentEventType[] {
  return Object.keys(TABLE[state]) as DeploymentEventType[];
}

export function isFinal(state: DeploymentState): boolean {
  return allowedEvents(state).length === 0;
}

/** Reasons are stored and shown verbatim; 1000 characters keeps one from flooding the audit log. */
const MAX_REASON_LENGTH = 1000;

function withNote(text: string, note: string | undefined): string {
  const n = note?.trim();
  return n ? `${text}: ${n}` : text;
}

/** Applies one event: the next state and the reason to record, or why the event is refused here. */
export function transition(state: DeploymentState, event: DeploymentEvent): Result<TransitionResult> {
  const targets = TABLE[state][event.type];
  if (!targets) {
    const allowed = allowedEvents(state);
    const which = allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : 'it is final';
    return fail('illegal_transition', `cannot ${event.type} a deployment that is ${state} (${which})`, {
      state,
      event: event.type,
      allowed,
    });
  }
  switch (event.type) {
    case 'halt':
    case 'abort':
    case 'reject': {
      const reason = event.reason.trim();
      if (reason === '') return fail('reason_required', `${event.type} needs a reason`, { state, event: event.type });
      if (reason.length > MAX_REASON_LENGTH)
        return fail('reason_required', `the reason must be at most ${MAX_REASON_LENGTH} characters`, { state, event: event.type });
      const text =
        event.type === 'halt' ? `halted: ${reason}` : event.type === 'abort' ? `aborted: ${reason}` : `rejected by ${event.by}: ${reason}`;
      return ok({ state: targets[0]!, reason: text });
    }
    case 'submit': {
      const next: DeploymentState = event.approval.required ? 'awaiting_approval' : 'approved';
      const head = event.approval.required ? "submitted; needs a second person's approval" : 'submitted; no second approval needed';
      const why = event.approval.why.join('; ');
      return ok({ state: next, reason: withNote(why ? `${head} (${why})` : head, event.note) });
    }
    case 'approve':
      return ok({ state: targets[0]!, reason: withNote(`approved by ${event.by}`, event.note) });
    case 'schedule':
      return ok({ state: targets[0]!, reason: withNote(`scheduled to start at ${event.startAt.toISOString()}`, event.note) });
    case 'start':
      return ok({ state: targets[0]!, reason: withNote('started', event.note) });
    case 'pause':
      return ok({ state: targets[0]!, reason: withNote('paused', event.note) });
    case 'resume':
      return ok({
        state: targets[0]!,
        reason: withNote(state === 'halted' ? 'resumed past the halted gate' : 'resumed', event.note),
      });
    case 'complete':
      return ok({ state: targets[0]!, reason: withNote('completed', event.note) });
    case 'retryFailed': {
      const what =
        event.count === undefined ? 'retrying failed hosts' : `retrying ${event.count} failed host${event.count === 1 ? '' : 's'}`;
      return ok({ state: targets[0]!, reason: withNote(what, event.note) });
    }
  }
}

export interface ApprovalConfig {
  /** A deployment targeting more hosts than this needs a second person. */
  approvalHostThreshold: number;
}

/** Critical, emergency, or more than `approvalHostThreshold` hosts: a second person with the approver role signs off. */
export function approvalRequirement(
  spec: Pick<DeploymentSpec, 'critical' | 'emergency'>,
  targetCount: number,
  config: ApprovalConfig,
): ApprovalRequirement {
  const why: string[] = [];
  if (spec.critical) why.push('marked critical');
  if (spec.emergency) why.push('marked emergency');
  if (targetCount > config.approvalHostThreshold)
    why.push(`targets ${plural(targetCount, 'host')}, more than the approval threshold of ${config.approvalHostThreshold}`);
  if (why.length > 0) return { required: true, why };
  return {
    required: false,
    why: [`not critical, not emergency, targets ${plural(targetCount, 'host')} (approval threshold ${config.approvalHostThreshold})`],
  };
}

/** Roles that may approve. An admin may, so a small team is never locked out; still never their own. */
export const APPROVER_ROLES: readonly Role[] = ['approver', 'admin'];

export interface Approver {
  id: string;
  role: Role;
}

/** Whether `approver` may approve this deployment now; approval is never granted to its author. */
export function checkApproval(
  deployment: Pick<Deployment, 'state'> & { spec: Pick<DeploymentSpec, 'createdBy'> },
  approver: Approver,
): Result<void> {
  if (deployment.state !== 'awaiting_approval')
    return fail('not_awaiting_approval', `the deployment is ${deployment.state}, not awaiting approval`, { state: deployment.state });
  if (!APPROVER_ROLES.includes(approver.role))
    return fail('approver_role_required', `approving needs the approver or admin role, not ${approver.role}`, { role: approver.role });
  if (approver.id === deployment.spec.createdBy)
    return fail('self_approval', 'nobody approves their own deployment: a second person must', { userId: approver.id });
  return ok(undefined);
}

/** checkApproval, then the approve transition: the one way the API should approve. */
export function approve(
  deployment: Pick<Deployment, 'state'> & { spec: Pick<DeploymentSpec, 'createdBy'> },
  approver: Approver,
  note?: string,
): Result<TransitionResult> {
  const allowed = checkApproval(deployment, approver);
  if (!allowed.ok) return allowed;
  return transition(
    deployment.state,
    note === undefined ? { type: 'approve', by: approver.id } : { type: 'approve', by: approver.id, note },
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
