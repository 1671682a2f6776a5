import { describe, expect, it } from 'vitest';
import { normalizeWaves, resolveTargets, validateSpec, WAVE_DEFAULTS, waveProblems } from './spec.js';
import type { DeploymentSpec } from './types.js';

const NOW = new Date('2025-06-01T10:00:00Z');

function spec(over: Partial<DeploymentSpec> = {}): DeploymentSpec {
  return {
    name: 'openssl June',
    packages: [
      { name: 'openssl', version: '3.0.16-1~deb12u1' },
      { name: 'libssl3', version: null },
    ],
    targets: { groups: ['web'] },
    waves: normalizeWaves([{ group: 'pilot' }, { percent: 10 }, { percent: 50 }, { percent: 100 }]),
    critical: false,
    emergency: false,
    deadline: new Date('2025-06-08T10:00:00Z'),
    rebootPolicy: 'if_required',
    schedule: {},
    createdBy: 'alice',
    ...over,
  };
}

function problems(s: DeploymentSpec): string[] {
  const r = validateSpec(s, NOW);
  if (r.ok) return [];
  expect(r.error.code).toBe('invalid_spec');
  return r.error.details?.problems as string[];
}

describe('normalizeWaves', () => {
  it('fills in names, percent and the documented defaults', () => {
    expect(
      normalizeWaves([
        { group: 'pilot' },
        { percent: 10, bakeMinutes: 0 },
        { name: ' rest ', successThreshold: 0.8, concurrency: 50, deadlineMinutes: 240 },
      ]),
    ).toEqual([
      { name: 'pilot', group: 'pilot', ...WAVE_DEFAULTS },
      { name: 'wave 2', percent: 10, bakeMinutes: 0, successThreshold: WAVE_DEFAULTS.successThreshold },
      { name: 'rest', percent: 100, bakeMinutes: WAVE_DEFAULTS.bakeMinutes, successThreshold: 0.8, concurrency: 50, deadlineMinutes: 240 },
    ]);
  });

  it('plans one wave of everything, without bake time, when no waves are given', () => {
    for (const input of [undefined, []])
      expect(normalizeWaves(input)).toEqual([
        { name: 'all', percent: 100, bakeMinutes: 0, successThreshold: WAVE_DEFAULTS.successThreshold },
      ]);
  });
});

describe('validateSpec', () => {
  it('accepts a complete spec unchanged', () => {
    const s = spec();
    expect(validateSpec(s, NOW)).toEqual({ ok: true, value: s });
  });

  it('lists every problem at once', () => {
    const bad = spec({
      name: ' ',
      packages: [
        { name: 'curl', version: '' },
        { name: 'curl', version: null },
      ],
      targets: {},
      rebootPolicy: 'sometimes' as DeploymentSpec['rebootPolicy'],
      deadline: new Date('2025-05-01T00:00:00Z'),
      createdBy: '',
    });
    expect(problems(bad)).toEqual([
      'name is required',
      'createdBy is required',
      'packages[0].version must be a version or null (latest available)',
      'package "curl" is listed twice',
      'targets needs at least one host id or group',
      'rebootPolicy must be one of never, if_required, always',
      'deadline must be in the future',
    ]);
    const r = validateSpec(bad, NOW);
    expect(r.ok ? r.value : r.error.message).toContain('name is required; createdBy is required;');
  });

  it('refuses a start after the deadline, no packages, and empty ids', () => {
    expect(
      problems(spec({ schedule: { startAt: new Date('2025-06-09T00:00:00Z') }, packages: [], targets: { hostIds: [''], groups: [''] } })),
    ).toEqual([
      'at least one package is required',
      'targets.hostIds must not contain empty ids',
      'targets.groups must not contain empty names',
      'schedule.startAt must be before the deadline',
    ]);
  });
});

describe('waveProblems', () => {
  const wave = { name: 'w', bakeMinutes: 0, successThreshold: 1 };

  it('requires cumulative percentages that end at 100', () => {
    expect(
      waveProblems([
        { ...wave, name: 'a', percent: 50 },
        { ...wave, name: 'b', percent: 10 },
      ]),
    ).toEqual([
      "waves[1].percent 10 is below the previous wave's 50: shares are cumulative",
      'the last percentage wave ("b") must be 100: it takes every host left',
    ]);
    expect(waveProblems([{ ...wave, group: 'pilot' }])).toEqual([]);
  });

  it('checks every field range and unique names', () => {
    expect(
      waveProblems([
        { name: 'x', percent: 0, bakeMinutes: -1, successThreshold: 1.5, concurrency: 0, deadlineMinutes: 2.5, group: '' },
        { name: 'x', bakeMinutes: 10_081, successThreshold: Number.NaN },
      ]),
    ).toEqual([
      'waves[0].group must not be empty',
      'waves[0].percent must be above 0 and at most 100',
      'waves[0].bakeMinutes must be a whole number from 0 to 10080',
      'waves[0].successThreshold must be from 0 to 1',
      'waves[0].concurrency must be a whole number of at least 1',
      'waves[0].deadlineMinutes must be a whole number of at least 1',
      'wave name "x" is used twice',
      'waves[1].bakeMinutes must be a whole number from 0 to 10080',
      'waves[1].successThreshold must be from 0 to 1',
    ]);
    expect(waveProblems([])).toEqual(['at least one wave is required']);
    expect(waveProblems(Array.from({ length: 21 }, (_, i) => ({ ...wave, name: `w${i}` })))).toEqual(['at most 20 waves']);
  });
});

describe('resolveTargets', () => {
  it('takes named hosts and group members once each, and reports named hosts it does not know', () => {
    const fleet = [
      { id: 'a', groups: ['web'] },
      { id: 'b', groups: ['db'] },
      { id: 'c', groups: ['web', 'db'] },
      { id: 'a', groups: ['web'] },
    ];
    expect(resolveTargets({ hostIds: ['b', 'zz'], groups: ['web'] }, fleet)).toEqual({
      hosts: [fleet[0], fleet[1], fleet[2]],
      unknownHostIds: ['zz'],
    });
  });
});
