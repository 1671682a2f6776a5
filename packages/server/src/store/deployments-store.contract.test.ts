import { randomUUID } from 'node:crypto';
import type { SignedAssignment } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databases } from '../../../../test/support/pg-available.js';
import type { DeploymentRow, NewDeploymentEvent, StoredSpec } from '../rollouts/deployments-repository.js';
import { type Database, openDatabase } from './db.js';
import { createStores, type Stores } from './index.js';

/** The deployments repository contract, on the embedded PGlite and on a real PostgreSQL. */
const drivers = databases();

const at = new Date('2026-11-27T10:00:00.000Z');
const later = (ms: number) => new Date(at.getTime() + ms);
const FAR = new Date('2100-01-01T00:00:00.000Z');

const spec: StoredSpec = {
  packages: [{ name: 'openssl', version: null }],
  ecosystem: 'dpkg',
  rebootPolicy: 'never',
  targets: { groups: ['web'] },
  waves: [{ name: 'all', percent: 100, bakeMinutes: 0, successThreshold: 0.95 }],
  hostIds: [],
};

function newRow(name: string, state: DeploymentRow['state'] = 'approved'): Omit<DeploymentRow, 'id'> {
  return {
    name,
    state,
    stateReason: 'submitted',
    spec,
    critical: false,
    emergency: false,
    createdBy: randomUUID(),
    createdByName: 'alice',
    approvedBy: null,
    approvedByName: null,
    approvedAt: null,
    createdAt: at,
    startAt: null,
    startedAt: null,
    finishedAt: null,
    deadlineAt: null,
    postmortem: null,
  };
}

function ev(to: DeploymentRow['state'], from: DeploymentRow['state'] | null = null): NewDeploymentEvent {
  return { at, actor: 'alice', kind: 'deployment', fromState: from, toState: to, reason: `to ${to}`, detail: null };
}

/** Shaped like a signed assignment; the store keeps it verbatim and never looks inside. */
function fakeSigned(id: string, nonce: string): SignedAssignment {
  return { assignment: { assignmentId: id, nonce } } as unknown as SignedAssignment;
}

describe.each(drivers)('the deployments store on $name', (driver) => {
  let database: Database;
  let stores: Stores;
  let url: string | undefined;
  let n = 0;

  beforeAll(async () => {
    url = await driver.open();
    database = await openDatabase({ databaseUrl: url });
    stores = createStores(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await driver.drop(url);
  });

  async function newHost(groups: string[] = []) {
    const h = await stores.hosts.create({
      hostname: `dh-${++n}`,
      publicKey: `dk-${n}-${randomUUID()}`,
      status: 'approved',
      enrollmentTokenId: null,
      at,
    });
    await stores.deployments.setHostGroups(h.id, groups);
    return h;
  }

  async function started(hostIds: string[], waves = 1) {
    const d = await stores.deployments.create(newRow(`d${++n}`), ev('approved'));
    const ok = await stores.deployments.start(
      d.id,
      'approved',
      { startedAt: at, stateReason: 'started' },
      ev('running', 'approved'),
      Array.from({ length: waves }, (_, index) => ({
        index,
        name: `w${index}`,
        spec: spec.waves[0]!,
        startedAt: null,
        settledAt: null,
        passedAt: null,
        haltedReason: null,
      })),
      hostIds.map((hostId, i) => ({ id: randomUUID(), hostId, waveIndex: i % waves, stateReason: 'planned' })),
      at,
    );
    return { d, ok };
  }

  it('creates a deployment with its first event and reads it back whole', async () => {
    const d = await stores.deployments.create(newRow('create'), ev('approved'));
    expect(await stores.deployments.get(d.id)).toEqual(d);
    expect(d.spec).toEqual(spec);
    const events = await stores.deployments.events(d.id);
    expect(events).toMatchObject([{ kind: 'deployment', fromState: null, toState: 'approved', actor: 'alice' }]);
    expect(await stores.deployments.get(randomUUID())).toBeUndefined();
  });

  it('moves state only from the expected state (compare-and-set), recording the event with it', async () => {
    const d = await stores.deployments.create(newRow('cas', 'awaiting_approval'), ev('awaiting_approval'));
    const approver = randomUUID();
    expect(
      await stores.deployments.transition(
        d.id,
        'awaiting_approval',
        'approved',
        { approvedBy: approver, approvedByName: 'bob', approvedAt: at },
        ev('approved', 'awaiting_approval'),
      ),
    ).toBe(true);
    expect(await stores.deployments.transition(d.id, 'awaiting_approval', 'approved', {}, ev('approved', 'awaiting_approval'))).toBe(false);
    expect(await stores.deployments.get(d.id)).toMatchObject({ state: 'approved', approvedBy: approver, approvedByName: 'bob' });
    expect(await stores.deployments.events(d.id)).toHaveLength(2);
  });

  it('starts once, giving each host the next sequence of its own counter', async () => {
    const a = await newHost();
    const b = await newHost();
    const first = await started([a.id, b.id]);
    expect(first.ok).toBe(true);
    const second = await started([a.id]);
    const rows1 = await stores.deployments.assignments(first.d.id);
    const rows2 = await stores.deployments.assignments(second.d.id);
    expect(rows1.map((r) => r.sequence)).toEqual([1, 1]);
    expect(rows2).toMatchObject([{ hostId: a.id, sequence: 2, state: 'pending', hostname: a.hostname }]);
    // A second start of the same deployment matches nothing and plans nothing.
    const again = await stores.deployments.start(
      first.d.id,
      'approved',
      {},
      ev('running', 'approved'),
      [],
      [{ id: randomUUID(), hostId: b.id, waveIndex: 0, stateReason: 'x' }],
      at,
    );
    expect(again).toBe(false);
    expect(await stores.deployments.assignments(first.d.id)).toHaveLength(2);
    expect((await stores.deployments.get(first.d.id))?.state).toBe('running');
    expect(await stores.deployments.waves(first.d.id)).toMatchObject([{ index: 0, name: 'w0', startedAt: null }]);
  });

  it('allocates distinct sequences when deployments touching the same hosts start concurrently', async () => {
    const hosts = await Promise.all([newHost(), newHost(), newHost()]);
    const results = await Promise.all([1, 2, 3, 4].map(() => started(hosts.map((h) => h.id))));
    expect(results.every((r) => r.ok)).toBe(true);
    for (const h of hosts) {
      const seqs: number[] = [];
      for (const r of results) for (const a of await stores.deployments.assignments(r.d.id)) if (a.hostId === h.id) seqs.push(a.sequence);
      expect(seqs.sort()).toEqual([1, 2, 3, 4]);
    }
  });

  it('starts a deployment over more hosts than one statement can bind parameters for', async () => {
    // 9,000 hosts x 8 columns is past PostgreSQL's 65,535 bind parameters: the start must chunk.
    const tag = `bulk${++n}`;
    const result = await database.db.execute(
      `insert into hosts (public_key, hostname, status) select '${tag}-' || g, '${tag}-' || g, 'approved' from generate_series(1, 9000) g returning id`,
    );
    const ids = (result as unknown as { rows: Array<{ id: string }> }).rows.map((r) => r.id);
    const { d, ok } = await started(ids);
    expect(ok).toBe(true);
    const rows = await stores.deployments.assignments(d.id);
    expect(rows).toHaveLength(9_000);
    expect(new Set(rows.map((r) => r.hostId)).size).toBe(9_000);
    await database.db.execute(`delete from hosts where hostname like '${tag}-%'`);
  });

  it('stores a signed document once and never replaces it', async () => {
    const h = await newHost();
    const { d } = await started([h.id]);
    const [a] = await stores.deployments.assignments(d.id);
    expect(await stores.deployments.storeSigned(a!.id, fakeSigned(a!.id, 'one'), at, later(3_600_000), at)).toBe(true);
    expect(await stores.deployments.storeSigned(a!.id, fakeSigned(a!.id, 'two'), at, later(3_600_000), at)).toBe(false);
    expect((await stores.deployments.assignment(a!.id))?.signed).toEqual(fakeSigned(a!.id, 'one'));
  });

  it('stores a wave of signed documents in bulk, keeping any document already stored', async () => {
    const hosts = [await newHost(), await newHost(), await newHost()];
    const { d } = await started(hosts.map((h) => h.id));
    const rows = await stores.deployments.assignments(d.id);
    expect(await stores.deployments.storeSigned(rows[0]!.id, fakeSigned(rows[0]!.id, 'first'), at, FAR, at)).toBe(true);
    const stored = await stores.deployments.storeSignedMany(
      // Far in the future: other tests sweep expiries across the whole table.
      rows.map((r) => ({ id: r.id, signed: fakeSigned(r.id, 'bulk'), notBefore: at, expiresAt: FAR })),
      at,
    );
    expect([...stored].sort()).toEqual([rows[1]!.id, rows[2]!.id].sort());
    expect((await stores.deployments.assignment(rows[0]!.id))?.signed).toEqual(fakeSigned(rows[0]!.id, 'first'));
    expect((await stores.deployments.assignment(rows[2]!.id))?.signed).toEqual(fakeSigned(rows[2]!.id, 'bulk'));
    expect((await stores.deployments.assignment(rows[2]!.id))?.expiresAt).toEqual(FAR);

    await stores.deployments.updateAssignment(rows[1]!.id, ['pending'], { state: 'failed' }, later(1));
    const moved = await stores.deployments.updateAssignmentsMany(
      rows.map((r) => r.id),
      ['pending'],
      { state: 'offered', stateReason: 'offered', offeredAt: later(2) },
      later(2),
    );
    expect([...moved].sort()).toEqual([rows[0]!.id, rows[2]!.id].sort());
    expect((await stores.deployments.assignment(rows[1]!.id))?.state).toBe('failed');
    expect(await stores.deployments.updateAssignmentsMany([], ['pending'], { state: 'offered' }, later(3))).toEqual(new Set());
  });

  it('updates an assignment only from the expected states', async () => {
    const h = await newHost();
    const { d } = await started([h.id]);
    const [a] = await stores.deployments.assignments(d.id);
    const done = await stores.deployments.updateAssignment(
      a!.id,
      ['pending'],
      { state: 'succeeded', stateReason: 'ok', installed: [{ name: 'openssl', version: '3' }], verified: true },
      later(1000),
    );
    expect(done).toMatchObject({
      state: 'succeeded',
      installed: [{ name: 'openssl', version: '3' }],
      verified: true,
      updatedAt: later(1000),
    });
    expect(await stores.deployments.updateAssignment(a!.id, ['pending', 'offered'], { state: 'failed' }, later(2000))).toBeUndefined();
    expect((await stores.deployments.assignment(a!.id))?.state).toBe('succeeded');
  });

  it('expires due assignments in the given states and leaves the rest', async () => {
    const [x, y, z] = [await newHost(), await newHost(), await newHost()];
    const { d } = await started([x.id, y.id, z.id]);
    const rows = await stores.deployments.assignments(d.id);
    for (const [i, r] of rows.entries())
      await stores.deployments.storeSigned(r.id, fakeSigned(r.id, `n${i}`), at, later((i + 1) * 1000), at);
    await stores.deployments.updateAssignment(rows[0]!.id, ['pending'], { state: 'running' }, at);
    const expired = await stores.deployments.expireDue(['pending', 'offered'], later(2500));
    expect(expired.map((e) => e.id)).toEqual([rows[1]!.id]);
    expect(expired[0]).toMatchObject({ state: 'expired' });
  });

  it('lists the assignments of a host in given states of live deployments, by sequence', async () => {
    const h = await newHost();
    const one = await started([h.id]);
    const two = await started([h.id]);
    const rows = await stores.deployments.assignmentsOfHost(h.id, ['pending'], ['running']);
    expect(rows.map((r) => r.deploymentId)).toEqual([one.d.id, two.d.id]);
    await stores.deployments.transition(two.d.id, 'running', 'aborted', {}, ev('aborted', 'running'));
    expect((await stores.deployments.assignmentsOfHost(h.id, ['pending'], ['running'])).map((r) => r.deploymentId)).toEqual([one.d.id]);
  });

  it('renews failed assignments with a new id and the next sequence', async () => {
    const h = await newHost();
    const { d } = await started([h.id]);
    const [a] = await stores.deployments.assignments(d.id);
    await stores.deployments.storeSigned(a!.id, fakeSigned(a!.id, 'x'), at, later(1000), at);
    await stores.deployments.updateAssignment(a!.id, ['pending'], { state: 'failed', code: 'apt_failed' }, at);
    const fresh = randomUUID();
    expect(await stores.deployments.renewFailed(d.id, 'retry', at, () => fresh)).toBe(1);
    expect(await stores.deployments.assignment(a!.id)).toBeUndefined();
    expect(await stores.deployments.assignment(fresh)).toMatchObject({
      state: 'pending',
      signed: null,
      code: null,
      sequence: a!.sequence + 1,
    });
  });

  it('resolves targets by id and by group, with the groups of each host, and replaces groups whole', async () => {
    const tag = `g${++n}`;
    const a = await newHost([tag, `${tag}-pilot`]);
    const b = await newHost([tag]);
    const c = await newHost();
    const found = await stores.deployments.targetHosts([c.id], [tag]);
    expect(found.map((f) => f.id).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(found.find((f) => f.id === a.id)?.groups).toEqual([tag, `${tag}-pilot`]);
    await stores.deployments.setHostGroups(a.id, []);
    expect((await stores.deployments.targetHosts([], [tag])).map((f) => f.id)).toEqual([b.id]);
    expect(await stores.deployments.targetHosts([], [])).toEqual([]);
  });

  it('updates a wave start only once, and pages deployments by state with a total', async () => {
    const h = await newHost();
    const { d } = await started([h.id]);
    expect(await stores.deployments.updateWave(d.id, 0, { startedAt: at }, { onlyIfNotStarted: true })).toBe(true);
    expect(await stores.deployments.updateWave(d.id, 0, { startedAt: later(1) }, { onlyIfNotStarted: true })).toBe(false);
    expect((await stores.deployments.waves(d.id))[0]?.startedAt).toEqual(at);
    const page = await stores.deployments.list({ state: 'running', limit: 2, offset: 0 });
    expect(page.items.length).toBeLessThanOrEqual(2);
    expect(page.total).toBeGreaterThanOrEqual(1);
    expect(page.items.every((i) => i.state === 'running')).toBe(true);
    expect(await stores.deployments.idsInStates(['running'])).toContain(d.id);
    expect(await stores.deployments.setPostmortem(d.id, 'all good')).toBe(true);
    expect((await stores.deployments.get(d.id))?.postmortem).toBe('all good');
  });

  it('deletes the assignments and groups with the host', async () => {
    const h = await newHost(['gone']);
    const { d } = await started([h.id]);
    await stores.hosts.delete(h.id);
    expect(await stores.deployments.assignments(d.id)).toEqual([]);
    expect(await stores.deployments.targetHosts([], ['gone'])).toEqual([]);
  });
  it('stores maintenance windows per group and gives each host the windows of all its groups', async () => {
    const tag = `mw${++n}`;
    const a = await newHost([`${tag}-night`, `${tag}-weekend`]);
    const b = await newHost([`${tag}-night`]);
    const c = await newHost([`${tag}-none`]);
    const night = await stores.deployments.createWindow({
      groupName: `${tag}-night`,
      cron: '0 2 * * *',
      durationMinutes: 120,
      timeZone: 'Europe/Berlin',
      createdAt: at,
    });
    const weekend = await stores.deployments.createWindow({
      groupName: `${tag}-weekend`,
      cron: '0 10 * * 6',
      durationMinutes: 240,
      timeZone: 'UTC',
      createdAt: later(1),
    });
    expect(night).toEqual({
      id: expect.any(String),
      groupName: `${tag}-night`,
      cron: '0 2 * * *',
      durationMinutes: 120,
      timeZone: 'Europe/Berlin',
      createdAt: at,
    });
    const listed = (await stores.deployments.listWindows()).filter((w) => w.groupName.startsWith(tag));
    expect(listed.map((w) => w.id)).toEqual([night.id, weekend.id]);

    const byHost = await stores.deployments.windowsForHosts([a.id, b.id, c.id, a.id]);
    expect(byHost.get(a.id)?.map((w) => w.id)).toEqual([night.id, weekend.id]);
    expect(byHost.get(b.id)?.map((w) => w.id)).toEqual([night.id]);
    expect(byHost.has(c.id)).toBe(false);
    expect((await stores.deployments.windowsForHosts([])).size).toBe(0);

    expect((await stores.deployments.deleteWindow(night.id))?.id).toBe(night.id);
    expect(await stores.deployments.deleteWindow(night.id)).toBeUndefined();
    expect((await stores.deployments.windowsForHosts([a.id, b.id])).get(a.id)?.map((w) => w.id)).toEqual([weekend.id]);
    expect((await stores.deployments.windowsForHosts([b.id])).has(b.id)).toBe(false);
  });
});
