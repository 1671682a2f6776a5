import { describe, expect, it } from 'vitest';
import type { DeploymentProgress } from '../../api/live';
import { stateLabel } from '../../ui/badges';
import {
  addPackages,
  applyProgress,
  availableActions,
  type Deployment,
  formatDuration,
  formatPackageSpec,
  parsePackageList,
  parsePackageSpec,
  progressChange,
  waveProgress,
} from './model';

describe('package specs', () => {
  it('reads name, name=version and name>=version like the CLI', () => {
    expect(parsePackageSpec('openssl')).toEqual({ ok: true, value: { name: 'openssl' } });
    expect(parsePackageSpec(' openssl=3.0.13-1~deb12u1 ')).toEqual({ ok: true, value: { name: 'openssl', version: '3.0.13-1~deb12u1' } });
    expect(parsePackageSpec('libc6>=2.36-9+deb12u7')).toEqual({ ok: true, value: { name: 'libc6', minVersion: '2.36-9+deb12u7' } });
    expect(parsePackageSpec('python3.11=3.11.2-6:amd64')).toEqual({ ok: true, value: { name: 'python3.11', version: '3.11.2-6:amd64' } });
    expect(parsePackageSpec('g++')).toEqual({ ok: true, value: { name: 'g++' } });
  });

  it('refuses what the API cannot take, with a reason', () => {
    for (const bad of [
      '',
      '   ',
      '=1.0',
      '>=1.0',
      'a=',
      'a>=',
      'open ssl',
      'naïve',
      'a\u0000b',
      'a<b',
      'a==1',
      'a\u202Eb',
      'x'.repeat(129),
    ]) {
      const r = parsePackageSpec(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    }
  });

  it('splits lists on commas and whitespace and lists every problem', () => {
    expect(parsePackageList('a, b=1\nc>=2,,')).toEqual({
      packages: [{ name: 'a' }, { name: 'b', version: '1' }, { name: 'c', minVersion: '2' }],
      problems: [],
    });
    const r = parsePackageList('ok,=bad,a=');
    expect(r.packages).toEqual([{ name: 'ok' }]);
    expect(r.problems).toHaveLength(2);
  });

  it('formats back to the same text', () => {
    for (const s of ['openssl', 'openssl=3.0', 'libc6>=2.36']) {
      const r = parsePackageSpec(s);
      expect(r.ok && formatPackageSpec(r.value)).toBe(s);
    }
    expect(formatPackageSpec({ name: 'a', version: null })).toBe('a');
  });

  it('replaces a package added twice instead of listing it twice', () => {
    expect(addPackages([{ name: 'a' }, { name: 'b' }], [{ name: 'a', version: '2' }, { name: 'c' }])).toEqual([
      { name: 'a', version: '2' },
      { name: 'b' },
      { name: 'c' },
    ]);
  });
});

describe('actions by state and role', () => {
  const all = () => true;
  const operator = (p: string) => p !== 'deployments:approve';
  const viewer = (p: string) => p === 'deployments:read';

  it('follows the lifecycle transitions', () => {
    expect(availableActions('awaiting_approval', 0, all)).toEqual(['approve', 'abort']);
    expect(availableActions('running', 0, all)).toEqual(['pause', 'abort']);
    expect(availableActions('running', 2, all)).toEqual(['pause', 'retryFailed', 'abort']);
    expect(availableActions('paused', 0, all)).toEqual(['resume', 'abort']);
    expect(availableActions('halted', 1, all)).toEqual(['resume', 'retryFailed', 'abort']);
    expect(availableActions('scheduled', 0, all)).toEqual(['abort']);
    expect(availableActions('completed', 3, all)).toEqual([]);
    expect(availableActions('aborted', 0, all)).toEqual([]);
  });

  it('hides what the role cannot do', () => {
    expect(availableActions('awaiting_approval', 0, operator)).toEqual(['abort']);
    expect(availableActions('running', 1, viewer)).toEqual([]);
    expect(availableActions('awaiting_approval', 0, viewer)).toEqual([]);
  });

  it('labels states for people', () => {
    expect(stateLabel('awaiting_approval')).toBe('awaiting approval');
  });
});

function deployment(): Deployment {
  const counts = { pending: 2, offered: 0, deferred: 0, running: 0, succeeded: 0, failed: 0, expired: 0, unreached: 0 };
  return {
    id: '00000000-0000-4000-8000-000000000001',
    name: 'Update openssl',
    state: 'running',
    stateReason: 'started',
    critical: false,
    emergency: false,
    createdBy: { id: '00000000-0000-4000-8000-0000000000aa', username: 'op' },
    approvedBy: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    startAt: null,
    startedAt: '2026-01-01T00:00:01.000Z',
    finishedAt: null,
    deadlineAt: null,
    ecosystem: 'dpkg',
    rebootPolicy: 'never',
    postmortem: null,
    packages: [{ name: 'openssl', version: null }],
    waves: [
      { index: 0, name: 'canary', state: 'running', hostCount: 2, counts, startedAt: null, passedAt: null, haltedReason: null },
      { index: 1, name: 'rest', state: 'pending', hostCount: 2, counts, startedAt: null, passedAt: null, haltedReason: null },
    ],
    hosts: [],
    summary: { total: 4, succeeded: 0, failed: 0, expired: 0, unreached: 0, inProgress: 4, rebootPending: 0, verified: 0 },
    timeline: { entries: [], timeInStateMs: {} },
  };
}

function progressOf(d: Deployment): DeploymentProgress {
  return {
    id: d.id,
    state: d.state,
    stateReason: d.stateReason,
    waves: d.waves.map((w) => ({ index: w.index, name: w.name, state: w.state, hostCount: w.hostCount, counts: { ...w.counts } })),
    summary: { ...d.summary },
  };
}

describe('live progress', () => {
  it('applies state, reason, summary and wave counts, keeping hosts and timeline', () => {
    const d = deployment();
    const p = progressOf(d);
    p.state = 'completed';
    p.stateReason = 'completed';
    p.waves[0] = { ...p.waves[0]!, state: 'passed', counts: { ...p.waves[0]!.counts, pending: 0, succeeded: 2 } };
    p.summary = { ...p.summary, succeeded: 2, inProgress: 2 };
    const next = applyProgress(d, p);
    expect(next.state).toBe('completed');
    expect(next.waves[0]?.state).toBe('passed');
    expect(next.waves[0]?.counts.succeeded).toBe(2);
    expect(next.waves[0]?.startedAt).toBeNull();
    expect(next.waves[1]).toEqual(d.waves[1]);
    expect(next.summary.succeeded).toBe(2);
    expect(next.hosts).toBe(d.hosts);
    expect(d.state).toBe('running');
  });

  it('tells a state or wave change (refetch everything) from a count change (refetch hosts)', () => {
    const d = deployment();
    expect(progressChange(d, progressOf(d))).toBe('none');
    const state = progressOf(d);
    state.state = 'halted';
    expect(progressChange(d, state)).toBe('all');
    const wave = progressOf(d);
    wave.waves[1] = { ...wave.waves[1]!, state: 'running' };
    expect(progressChange(d, wave)).toBe('all');
    const more = progressOf(d);
    more.waves.push({ ...more.waves[0]!, index: 2 });
    expect(progressChange(d, more)).toBe('all');
    const counts = progressOf(d);
    counts.waves[0] = { ...counts.waves[0]!, counts: { ...counts.waves[0]!.counts, running: 1, pending: 1 } };
    expect(progressChange(d, counts)).toBe('hosts');
    const summary = progressOf(d);
    summary.summary = { ...summary.summary, rebootPending: 1 };
    expect(progressChange(d, summary)).toBe('hosts');
  });
});

describe('wave progress bar', () => {
  it('splits the bar by state and counts done hosts', () => {
    const p = waveProgress({ succeeded: 2, failed: 1, running: 1, pending: 6 }, 10);
    expect(p.done).toBe(3);
    expect(p.percentDone).toBe(30);
    expect(p.segments.map((s) => [s.state, s.percent])).toEqual([
      ['succeeded', 20],
      ['failed', 10],
      ['running', 10],
    ]);
  });

  it('survives an empty wave and nonsense counts', () => {
    expect(waveProgress({}, 0)).toEqual({ done: 0, total: 0, percentDone: 0, segments: [] });
    const p = waveProgress({ succeeded: Number.NaN, failed: -3, running: 50 }, 10);
    expect(p.segments).toEqual([{ state: 'running', count: 50, percent: 100 }]);
  });
});

describe('durations', () => {
  it('reads as people say them', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(5 * 60_000)).toBe('5 min');
    expect(formatDuration(65 * 60_000)).toBe('1 h 5 min');
    expect(formatDuration(2 * 3_600_000)).toBe('2 h');
    expect(formatDuration(74 * 3_600_000)).toBe('3 d 2 h');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});
