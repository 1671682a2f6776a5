import { describe, expect, it } from 'vitest';
import { buildTimeline, summarize, type TransitionRecord, type WaveRecord } from './report.js';
import type { AssignmentState } from './types.js';

const at = (minute: number) => new Date(Date.UTC(2025, 5, 1, 10, minute));

describe('summarize', () => {
  it('counts each outcome, reboots pending and verified hosts, and adds up to the total', () => {
    const a = (state: AssignmentState, rebootRequired = false, verified = false) => ({ state, rebootRequired, verified });
    const s = summarize([
      a('succeeded', true, true),
      a('succeeded', false, true),
      a('succeeded'),
      a('failed', true),
      a('expired'),
      a('unreached'),
      a('running'),
      a('pending'),
    ]);
    expect(s).toEqual({ total: 8, succeeded: 3, failed: 1, expired: 1, unreached: 1, inProgress: 2, rebootPending: 2, verified: 2 });
    expect(s.succeeded + s.failed + s.expired + s.unreached + s.inProgress).toBe(s.total);
  });

  it('counts a verified flag only on succeeded hosts', () => {
    expect(summarize([{ state: 'failed', rebootRequired: false, verified: true }]).verified).toBe(0);
    expect(summarize([])).toEqual({
      total: 0,
      succeeded: 0,
      failed: 0,
      expired: 0,
      unreached: 0,
      inProgress: 0,
      rebootPending: 0,
      verified: 0,
    });
  });
});

describe('buildTimeline', () => {
  const deployment: TransitionRecord[] = [
    { at: at(30), actor: null, from: 'running', to: 'completed', reason: 'completed', seq: 6 },
    { at: at(0), actor: 'alice', from: null, to: 'draft', reason: 'created', seq: 1 },
    { at: at(1), actor: 'alice', from: 'draft', to: 'awaiting_approval', reason: 'submitted', seq: 2 },
    { at: at(5), actor: 'bob', from: 'awaiting_approval', to: 'approved', reason: 'approved by bob', seq: 3 },
    { at: at(5), actor: null, from: 'approved', to: 'running', reason: 'started', seq: 4 },
  ];
  const waves: WaveRecord[] = [
    { at: at(5), wave: 0, waveName: 'pilot', event: 'started', reason: '3 hosts', seq: 5 },
    { at: at(20), wave: 0, waveName: 'pilot', event: 'advanced', reason: 'wave "pilot" passed: 100% succeeded' },
  ];

  it('orders transitions and wave events by time and sequence, whatever order they come in', () => {
    const t = buildTimeline({ deployment, waves }, at(40));
    expect(t.entries.map((e) => [e.title, e.state])).toEqual([
      ['created → draft', 'draft'],
      ['draft → awaiting_approval', 'awaiting_approval'],
      ['awaiting_approval → approved', 'approved'],
      ['approved → running', 'running'],
      ['wave 1 "pilot" started', 'running'],
      ['wave 1 "pilot" advanced', 'running'],
      ['running → completed', 'completed'],
    ]);
    expect(t.entries[2]).toMatchObject({ actor: 'bob', kind: 'deployment', reason: 'approved by bob' });
    expect([t.startedAt, t.finishedAt]).toEqual([at(5), at(30)]);
    expect(t.gaps).toEqual([]);
  });

  it('adds up the time spent in each state, counting an unfinished state up to now', () => {
    expect(buildTimeline({ deployment }, at(40)).timeInStateMs).toEqual({
      draft: 60_000,
      awaiting_approval: 4 * 60_000,
      approved: 0,
      running: 25 * 60_000,
      completed: 0,
    });
    const unfinished = buildTimeline({ deployment: deployment.filter((d) => d.to !== 'completed') }, at(40));
    expect(unfinished.timeInStateMs.running).toBe(35 * 60_000);
    expect(unfinished.finishedAt).toBeNull();
  });

  it('points out where the record has a gap', () => {
    const t = buildTimeline({ deployment: deployment.filter((d) => d.to !== 'approved') }, at(40));
    expect(t.gaps).toEqual([{ at: at(5), expected: 'awaiting_approval', found: 'approved' }]);
  });
});
