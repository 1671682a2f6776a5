import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROLES } from '../auth/types.js';
import { toBrierError } from './errors.js';
import {
  allowedEvents,
  approvalRequirement,
  approve,
  checkApproval,
  type DeploymentEvent,
  isFinal,
  TRANSITIONS,
  transition,
} from './lifecycle.js';
import { DEPLOYMENT_STATES, type DeploymentState } from './types.js';

const REQUIRED = { required: true, why: ['marked critical'] };
const NOT_REQUIRED = { required: false, why: ['not critical, not emergency, targets 3 hosts (approval threshold 50)'] };

function run(state: DeploymentState, ...events: DeploymentEvent[]): { state: DeploymentState; reasons: string[] } {
  const reasons: string[] = [];
  for (const e of events) {
    const r = transition(state, e);
    if (!r.ok) throw new Error(`${state} --${e.type}--> ${r.error.message}`);
    state = r.value.state;
    reasons.push(r.value.reason);
  }
  return { state, reasons };
}

const eventArb: fc.Arbitrary<DeploymentEvent> = fc.oneof(
  fc.boolean().map((required) => ({ type: 'submit' as const, approval: { required, why: ['why'] } })),
  fc.constant({ type: 'approve' as const, by: 'u2' }),
  fc.string().map((reason) => ({ type: 'reject' as const, by: 'u2', reason })),
  fc.date({ noInvalidDate: true }).map((startAt) => ({ type: 'schedule' as const, startAt })),
  fc.constant({ type: 'start' as const }),
  fc.constant({ type: 'pause' as const }),
  fc.constant({ type: 'resume' as const }),
  fc.string().map((reason) => ({ type: 'halt' as const, reason })),
  fc.constant({ type: 'complete' as const }),
  fc.string().map((reason) => ({ type: 'abort' as const, reason })),
  fc
    .option(fc.nat(), { nil: undefined })
    .map((count) => (count === undefined ? { type: 'retryFailed' as const } : { type: 'retryFailed' as const, count })),
);

describe('transition', () => {
  it('has a row for every deployment state and only targets known states', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...DEPLOYMENT_STATES].sort());
    for (const row of Object.values(TRANSITIONS))
      for (const targets of Object.values(row) as (readonly DeploymentState[])[])
        for (const t of targets) expect(DEPLOYMENT_STATES).toContain(t);
  });

  it('walks a deployment from draft through approval, a schedule, a pause and completion, with a reason at every step', () => {
    const { state, reasons } = run(
      'draft',
      { type: 'submit', approval: REQUIRED },
      { type: 'approve', by: 'bob' },
      { type: 'schedule', startAt: new Date('2025-06-01T22:00:00Z') },
      { type: 'start', note: 'maintenance window opened' },
      { type: 'pause' },
      { type: 'resume' },
      { type: 'complete' },
    );
    expect(state).toBe('completed');
    expect(reasons).toEqual([
      "submitted; needs a second person's approval (marked critical)",
      'approved by bob',
      'scheduled to start at 2025-06-01T22:00:00.000Z',
      'started: maintenance window opened',
      'paused',
      'resumed',
      'completed',
    ]);
  });

  it('sends a deployment that needs no second person straight to approved and says why', () => {
    const r = transition('draft', { type: 'submit', approval: NOT_REQUIRED });
    expect(r).toEqual({
      ok: true,
      value: {
        state: 'approved',
        reason: 'submitted; no second approval needed (not critical, not emergency, targets 3 hosts (approval threshold 50))',
      },
    });
  });

  it('returns a rejected deployment to draft so its author can revise it', () => {
    expect(run('awaiting_approval', { type: 'reject', by: 'bob', reason: 'pin the version' })).toEqual({
      state: 'draft',
      reasons: ['rejected by bob: pin the version'],
    });
  });

  it('lets a halted deployment resume past the gate, retry its failed hosts, or be aborted', () => {
    expect(run('halted', { type: 'resume' }).reasons).toEqual(['resumed past the halted gate']);
    expect(run('halted', { type: 'retryFailed', count: 3 })).toEqual({ state: 'running', reasons: ['retrying 3 failed hosts'] });
    expect(run('halted', { type: 'abort', reason: 'bad patch' })).toEqual({ state: 'aborted', reasons: ['aborted: bad patch'] });
  });

  it('lets the gate halt a paused deployment so a later resume cannot forget the failure', () => {
    expect(run('paused', { type: 'halt', reason: 'wave "pilot": 50% succeeded' }).state).toBe('halted');
  });

  it('refuses an event the state does not accept with a stable code and the events it would accept', () => {
    const r = transition('draft', { type: 'start' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('illegal_transition');
    expect(r.error.message).toBe('cannot start a deployment that is draft (allowed: submit, abort)');
    expect(r.error.details).toEqual({ state: 'draft', event: 'start', allowed: ['submit', 'abort'] });
  });

  it('accepts nothing in completed and aborted, so a final report never changes', () => {
    for (const state of ['completed', 'aborted'] as const) {
      expect(isFinal(state)).toBe(true);
      const r = transition(state, { type: 'abort', reason: 'again' });
      expect(r.ok ? r.value : r.error.message).toBe(`cannot abort a deployment that is ${state} (it is final)`);
    }
    expect(DEPLOYMENT_STATES.filter(isFinal)).toEqual(['completed', 'aborted']);
  });

  it('refuses to halt, abort or reject without a reason', () => {
    for (const [state, event] of [
      ['running', { type: 'halt', reason: '' }],
      ['running', { type: 'abort', reason: '   ' }],
      ['awaiting_approval', { type: 'reject', by: 'bob', reason: '\n' }],
    ] as const) {
      const r = transition(state, event);
      expect(r.ok ? r.value : r.error.code).toBe('reason_required');
    }
    const long = transition('running', { type: 'abort', reason: 'x'.repeat(1001) });
    expect(long.ok ? long.value : long.error.code).toBe('reason_required');
  });

  it('never reaches a state its table does not list, and refuses exactly what the table leaves out', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DEPLOYMENT_STATES), fc.array(eventArb, { maxLength: 30 }), (start, events) => {
        let state = start;
        for (const e of events) {
          const targets = (TRANSITIONS[state] as Partial<Record<string, readonly DeploymentState[]>>)[e.type];
          const r = transition(state, e);
          if (r.ok) {
            expect(targets).toContain(r.value.state);
            expect(r.value.reason.trim()).not.toBe('');
            state = r.value.state;
          } else if (targets === undefined) {
            expect(r.error.code).toBe('illegal_transition');
            expect(allowedEvents(state)).not.toContain(e.type);
          } else {
            expect(r.error.code).toBe('reason_required');
          }
        }
      }),
    );
  });
});

describe('approvalRequirement', () => {
  const config = { approvalHostThreshold: 50 };

  it('asks for a second person when a deployment is critical, an emergency, or above the host threshold, naming each rule', () => {
    expect(approvalRequirement({ critical: true, emergency: true }, 51, config)).toEqual({
      required: true,
      why: ['marked critical', 'marked emergency', 'targets 51 hosts, more than the approval threshold of 50'],
    });
    expect(approvalRequirement({ critical: false, emergency: true }, 1, config).why).toEqual(['marked emergency']);
  });

  it('needs no second person for a small, ordinary deployment, up to and including the threshold', () => {
    expect(approvalRequirement({ critical: false, emergency: false }, 50, config)).toEqual({
      required: false,
      why: ['not critical, not emergency, targets 50 hosts (approval threshold 50)'],
    });
    expect(approvalRequirement({ critical: false, emergency: false }, 1, config).why[0]).toContain('targets 1 host ');
  });
});

describe('checkApproval', () => {
  const waiting = { state: 'awaiting_approval' as const, spec: { createdBy: 'alice' } };

  it('lets another approver or admin approve', () => {
    expect(checkApproval(waiting, { id: 'bob', role: 'approver' })).toEqual({ ok: true, value: undefined });
    expect(checkApproval(waiting, { id: 'carol', role: 'admin' })).toEqual({ ok: true, value: undefined });
  });

  it('refuses approve-your-own, even for an admin', () => {
    for (const role of ['approver', 'admin'] as const) {
      const r = checkApproval(waiting, { id: 'alice', role });
      expect(r.ok ? r.value : r.error.code).toBe('self_approval');
    }
  });

  it('refuses every role but approver and admin', () => {
    for (const role of ROLES.filter((r) => r !== 'approver' && r !== 'admin')) {
      const r = checkApproval(waiting, { id: 'bob', role });
      expect(r.ok ? r.value : r.error.code).toBe('approver_role_required');
    }
  });

  it('refuses to approve what is not awaiting approval', () => {
    const r = checkApproval({ ...waiting, state: 'running' }, { id: 'bob', role: 'approver' });
    expect(r.ok ? r.value : r.error).toMatchObject({
      code: 'not_awaiting_approval',
      message: 'the deployment is running, not awaiting approval',
    });
  });

  it('approves through one call that checks first and then transitions', () => {
    expect(approve(waiting, { id: 'bob', role: 'approver' }, 'looks fine')).toEqual({
      ok: true,
      value: { state: 'approved', reason: 'approved by bob: looks fine' },
    });
    const own = approve(waiting, { id: 'alice', role: 'approver' });
    expect(own.ok ? own.value : own.error.code).toBe('self_approval');
  });

  it('maps to the shared error catalogue, keeping the rollout code and a cause', () => {
    const r = checkApproval(waiting, { id: 'alice', role: 'approver' });
    if (r.ok) throw new Error('expected a refusal');
    const err = toBrierError(r.error);
    expect(err.code).toBe('forbidden');
    expect(err.details).toEqual({ reason: 'self_approval', userId: 'alice' });
    expect(err.cause).toBe(r.error);
  });
});
