import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PlanHost, planWaves, shareOf, waveOrderKey } from './waves.js';

const PILOT_10_50_100 = [{ group: 'pilot' }, { percent: 10 }, { percent: 50 }, { percent: 100 }];

function fleet(n: number, groupsOf: (i: number) => string[] = () => []): PlanHost[] {
  return Array.from({ length: n }, (_, i) => ({ id: `host-${i}`, groups: groupsOf(i) }));
}

function sizes(plan: { hostIds: string[] }[]): number[] {
  return plan.map((w) => w.hostIds.length);
}

function waveOf(plan: { wave: number; hostIds: string[] }[]): Map<string, number> {
  return new Map(plan.flatMap((w) => w.hostIds.map((id) => [id, w.wave] as const)));
}

const hostsArb = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 60 })
  .chain((ids) =>
    fc.tuple(...ids.map((id) => fc.subarray(['pilot', 'canary', 'db']).map((groups) => ({ id, groups })))).map((hs): PlanHost[] => hs),
  );

const wavesArb = fc.array(
  fc.record(
    { percent: fc.double({ min: -10, max: 150, noNaN: true }), group: fc.constantFrom('pilot', 'canary', 'nobody') },
    { requiredKeys: [] },
  ),
  { minLength: 1, maxLength: 6 },
);

const percentWavesArb = fc
  .array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 })
  .map((ps) => [...ps.sort((a, b) => a - b).slice(0, -1), 100].map((percent) => ({ percent })));

describe('shareOf', () => {
  it('rounds up, so a non-zero share of a non-empty set always has a host', () => {
    expect([shareOf(10, 3), shareOf(10, 1), shareOf(50, 3), shareOf(0.001, 1000)]).toEqual([1, 1, 2, 1]);
  });

  it('is exact where the share is whole, despite floating point (70 % of 10 is 7, not 8)', () => {
    for (const [p, n, want] of [
      [70, 10, 7],
      [10, 10, 1],
      [7, 100, 7],
      [0.7, 1000, 7],
      [33, 300, 99],
    ] as const)
      expect(shareOf(p, n), `${p}% of ${n}`).toBe(want);
  });

  it('takes nothing for zero, negative or NaN shares and everything from 100 up', () => {
    expect([
      shareOf(0, 5),
      shareOf(-3, 5),
      shareOf(Number.NaN, 5),
      shareOf(100, 5),
      shareOf(250, 5),
      shareOf(undefined, 5),
      shareOf(50, 0),
    ]).toEqual([0, 0, 0, 5, 5, 5, 0]);
  });
});

describe('planWaves', () => {
  it('puts the pilot group first, then 10 %, 50 % and 100 % of the rest', () => {
    const hosts = fleet(100, (i) => (i < 10 ? ['pilot'] : []));
    const plan = planWaves('dep-1', hosts, PILOT_10_50_100);
    expect(sizes(plan)).toEqual([10, 9, 36, 45]);
    expect(plan[0]!.hostIds.sort()).toEqual(
      hosts
        .slice(0, 10)
        .map((h) => h.id)
        .sort(),
    );
    expect(plan.map((w) => w.wave)).toEqual([0, 1, 2, 3]);
  });

  it('orders hosts by the sha256 of the deployment and host ids, different for each deployment', () => {
    const hosts = fleet(50);
    const plan = planWaves('dep-1', hosts, [{ percent: 100 }]);
    const keys = plan[0]!.hostIds.map((id) => waveOrderKey('dep-1', id));
    expect(keys).toEqual([...keys].sort());
    expect(waveOrderKey('dep-1', 'host-0')).toMatch(/^[0-9a-f]{64}$/);
    expect(planWaves('dep-2', hosts, [{ percent: 100 }])[0]!.hostIds).not.toEqual(plan[0]!.hostIds);
  });

  it('gives tiny fleets one canary first and never an empty last wave while hosts are left', () => {
    expect(sizes(planWaves('d', fleet(1), PILOT_10_50_100))).toEqual([0, 1, 0, 0]);
    expect(sizes(planWaves('d', fleet(2), PILOT_10_50_100))).toEqual([0, 1, 0, 1]);
    expect(sizes(planWaves('d', fleet(3), PILOT_10_50_100))).toEqual([0, 1, 1, 1]);
    expect(sizes(planWaves('d', fleet(0), PILOT_10_50_100))).toEqual([0, 0, 0, 0]);
  });

  it('fills group waves first wherever they stand, and a host in two groups joins the earlier group wave', () => {
    const hosts = fleet(20, (i) => (i < 4 ? ['pilot', 'canary'] : i < 6 ? ['canary'] : []));
    const plan = planWaves('d', hosts, [{ percent: 50 }, { group: 'canary' }, { group: 'pilot' }, { percent: 100 }]);
    expect(plan[2]!.hostIds).toEqual([]);
    expect(plan[1]!.hostIds.sort()).toEqual(['host-0', 'host-1', 'host-2', 'host-3', 'host-4', 'host-5']);
    expect(sizes(plan)).toEqual([7, 6, 0, 7]);
  });

  it('takes a share of the group when a group wave has a percent, leaving the others to the rest', () => {
    const hosts = fleet(10, (i) => (i < 4 ? ['pilot'] : []));
    const plan = planWaves('d', hosts, [{ group: 'pilot', percent: 50 }, { percent: 100 }]);
    expect(sizes(plan)).toEqual([2, 8]);
    expect(plan[0]!.hostIds.every((id) => Number(id.slice(5)) < 4)).toBe(true);
  });

  it('puts hosts outside every group in the last wave when there is no percentage wave', () => {
    const hosts = fleet(5, (i) => (i < 2 ? ['pilot'] : []));
    expect(sizes(planWaves('d', hosts, [{ group: 'pilot' }, { group: 'db' }]))).toEqual([2, 3]);
  });

  it('lets the last percentage wave take every host left, whatever its percent says', () => {
    expect(sizes(planWaves('d', fleet(10), [{ percent: 10 }, { percent: 50 }]))).toEqual([1, 9]);
    expect(sizes(planWaves('d', fleet(10), [{ percent: 50 }, { percent: 20 }, { percent: 100 }]))).toEqual([5, 0, 5]);
  });

  it('plans no waves at all as one wave of every host, and counts a duplicated host once with all its groups', () => {
    expect(sizes(planWaves('d', fleet(4), []))).toEqual([4]);
    const plan = planWaves(
      'd',
      [
        { id: 'a', groups: [] },
        { id: 'b', groups: [] },
        { id: 'a', groups: ['pilot'] },
      ],
      [{ group: 'pilot' }, {}],
    );
    expect(plan).toEqual([
      { wave: 0, hostIds: ['a'] },
      { wave: 1, hostIds: ['b'] },
    ]);
  });

  it('puts every host in exactly one wave, whatever the waves say', () => {
    fc.assert(
      fc.property(fc.string(), hostsArb, wavesArb, (id, hosts, waves) => {
        const plan = planWaves(id, hosts, waves);
        expect(plan).toHaveLength(waves.length);
        const planned = plan.flatMap((w) => w.hostIds);
        expect(planned.sort()).toEqual(hosts.map((h) => h.id).sort());
      }),
    );
  });

  it('gives the same plan for the same hosts in any order', () => {
    fc.assert(
      fc.property(
        fc.string(),
        hostsArb.chain((hosts) =>
          fc.tuple(fc.constant(hosts), fc.shuffledSubarray(hosts, { minLength: hosts.length, maxLength: hosts.length })),
        ),
        wavesArb,
        (id, [hosts, shuffled], waves) => {
          expect(planWaves(id, shuffled, waves)).toEqual(planWaves(id, hosts, waves));
        },
      ),
    );
  });

  it('keeps group waves (without percent) unchanged when other hosts are added', () => {
    fc.assert(
      fc.property(fc.string(), hostsArb, hostsArb, (id, before, extra) => {
        const known = new Set(before.map((h) => h.id));
        const added = extra.filter((h) => !known.has(h.id));
        const waves = [{ group: 'pilot' }, { group: 'canary' }, { percent: 30 }, { percent: 100 }];
        const a = planWaves(id, before, waves);
        const b = planWaves(id, [...before, ...added], waves);
        for (const w of [0, 1]) expect(b[w]!.hostIds.filter((h) => known.has(h))).toEqual(a[w]!.hostIds);
      }),
    );
  });

  it('never lets one host overtake another when hosts are added', () => {
    fc.assert(
      fc.property(fc.string(), hostsArb, hostsArb, percentWavesArb, (id, before, extra, waves) => {
        const known = new Set(before.map((h) => h.id));
        const plain = before.map((h) => ({ id: h.id, groups: [] }));
        const a = waveOf(planWaves(id, plain, waves));
        const b = waveOf(planWaves(id, [...plain, ...extra.filter((h) => !known.has(h.id))], waves));
        for (const x of known) for (const y of known) if (a.get(x)! < a.get(y)!) expect(b.get(x)!).toBeLessThanOrEqual(b.get(y)!);
      }),
    );
  });

  it('moves at most one existing host across each wave boundary when one host is added', () => {
    fc.assert(
      fc.property(fc.string(), hostsArb, fc.string({ minLength: 9, maxLength: 12 }), percentWavesArb, (id, before, newId, waves) => {
        fc.pre(!before.some((h) => h.id === newId));
        const a = waveOf(planWaves(id, before, waves));
        const b = waveOf(planWaves(id, [...before, { id: newId, groups: [] }], waves));
        for (let boundary = 0; boundary < waves.length - 1; boundary++) {
          const crossed = before.filter((h) => a.get(h.id)! <= boundary !== b.get(h.id)! <= boundary);
          expect(crossed.length).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});
