import { randomUUID } from 'node:crypto';
import type { HostFacts, HostPolicy, SignedPolicyBundle, SignedQuarantineOrder } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databases } from '../../../../test/support/pg-available.js';
import type { ComplianceWrite, NewPolicyRow, PolicyRow, QuarantineRow } from '../policies/policies-repository.js';
import { type Database, openDatabase } from './db.js';
import { createStores, type Stores } from './index.js';

/** The desired-state repositories (policies, quarantine, discovery), on the embedded PGlite and on a real PostgreSQL. */
const drivers = databases();

const at = new Date('2026-11-27T10:00:00.000Z');
const later = (ms: number) => new Date(at.getTime() + ms);
const MIN = 60_000;
const HOUR_MS = 3_600_000;

function facts(hostname: string, network: HostFacts['network']): HostFacts {
  return { hostname, os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12' }, hardware: {}, network, agentVersion: 't' };
}

/** Shaped like a signed bundle; the store keeps it verbatim and reads only the policies (for pruning). */
function fakeBundle(hostId: string, sequence: number, policies: Pick<HostPolicy, 'id' | 'rules'>[]): SignedPolicyBundle {
  return { document: { kind: 'policy-bundle', hostId, sequence, policies } } as unknown as SignedPolicyBundle;
}

function fakeOrder(hostId: string, sequence: number): SignedQuarantineOrder {
  return { document: { kind: 'quarantine-order', hostId, sequence } } as unknown as SignedQuarantineOrder;
}

describe.each(drivers)('the desired-state stores on $name', (driver) => {
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

  async function newHost(options: { groups?: string[]; status?: 'approved' | 'pending' | 'revoked'; network?: HostFacts['network'] } = {}) {
    const hostname = `ds-${String(++n).padStart(3, '0')}`;
    const h = await stores.hosts.create({
      hostname,
      publicKey: `dsk-${n}-${randomUUID()}`,
      status: options.status ?? 'approved',
      enrollmentTokenId: null,
      at,
    });
    if (options.groups) await stores.deployments.setHostGroups(h.id, options.groups);
    // The facts carry the hostname too (the store takes it from them): the same one, so names stay in creation order.
    if (options.network) await stores.inventory.replace(h.id, [], `hash-${n}`, facts(hostname, options.network), at);
    return h.id;
  }

  function policyRow(name: string, targets: { hostIds?: string[]; groups?: string[] }, extra: Partial<NewPolicyRow> = {}): NewPolicyRow {
    return {
      name,
      mode: 'enforce',
      rules: [
        { kind: 'service-running', name: 'ssh' },
        { kind: 'antivirus', provider: 'clamav' },
      ],
      targets: { hostIds: targets.hostIds ?? [], groups: targets.groups ?? [] },
      intervalMinutes: 15,
      quarantineAfterMinutes: null,
      version: 1,
      createdBy: 'alice',
      createdAt: at,
      updatedAt: at,
      ...extra,
    };
  }

  async function createPolicy(name: string, targets: { hostIds?: string[]; groups?: string[] }, extra: Partial<NewPolicyRow> = {}) {
    const p = await stores.policies.createPolicy(policyRow(name, targets, extra));
    if (!p) throw new Error('name taken');
    return p;
  }

  function result(p: PolicyRow, rule: number, status: ComplianceWrite['status'], checkedAt = at): ComplianceWrite {
    return { policyId: p.id, policyVersion: p.version, rule, kind: p.rules[rule]?.kind ?? 'antivirus', status, detail: status, checkedAt };
  }

  describe('policies', () => {
    it('creates, reads, lists by name and refuses a taken name without throwing', async () => {
      const p = await createPolicy(`zeta-${n}`, { groups: ['web'] });
      expect(p).toMatchObject({ version: 1, targets: { hostIds: [], groups: ['web'] }, quarantineAfterMinutes: null });
      expect(p.rules).toEqual([
        { kind: 'service-running', name: 'ssh' },
        { kind: 'antivirus', provider: 'clamav' },
      ]);
      expect(await stores.policies.getPolicy(p.id)).toEqual(p);
      expect(await stores.policies.policyByName(p.name)).toEqual(p);
      expect(await stores.policies.createPolicy(policyRow(p.name, {}))).toBeUndefined();
      const alpha = await createPolicy(`alpha-${n}`, {});
      const names = (await stores.policies.listPolicies()).map((x) => x.name);
      expect(names.indexOf(alpha.name)).toBeLessThan(names.indexOf(p.name));
    });

    it('replaces a policy only at the expected version', async () => {
      const p = await createPolicy(`replace-${n}`, {});
      const patch = { ...policyRow(`replaced-${n}`, { groups: ['db'] }), version: 2, updatedAt: later(MIN) };
      expect(await stores.policies.replacePolicy(p.id, 5, patch)).toBeUndefined();
      const updated = await stores.policies.replacePolicy(p.id, 1, patch);
      expect(updated).toMatchObject({ id: p.id, name: `replaced-${n}`, version: 2, targets: { groups: ['db'] }, createdAt: at });
      expect(updated?.updatedAt).toEqual(later(MIN));
      expect(await stores.policies.replacePolicy(p.id, 1, patch)).toBeUndefined();
    });

    it('resolves targets by host id and by group, leaving out revoked and unknown hosts', async () => {
      const named = await newHost();
      const grouped = await newHost({ groups: ['tgt-a', 'other'] });
      const revoked = await newHost({ groups: ['tgt-a'], status: 'revoked' });
      const pending = await newHost({ status: 'pending' });
      const unknown = randomUUID();
      expect((await stores.policies.knownHostIds([named, revoked, pending, unknown])).sort()).toEqual([named, pending].sort());
      expect(await stores.policies.targetedHosts({ hostIds: [named, revoked, unknown], groups: ['tgt-a'] })).toEqual(
        [named, grouped].sort(),
      );
      expect(await stores.policies.targetedHosts({ hostIds: [], groups: [] })).toEqual([]);
    });

    it('finds the policies of each host by id or group, sorted by policy id', async () => {
      const a = await newHost({ groups: ['pfh-web'] });
      const b = await newHost({ groups: ['pfh-db'] });
      const c = await newHost();
      const byGroup = await createPolicy(`pfh-group-${n}`, { groups: ['pfh-web', 'pfh-none'] });
      const byId = await createPolicy(`pfh-id-${n}`, { hostIds: [a, b] });
      await createPolicy(`pfh-unrelated-${n}`, { groups: ['pfh-other'] });
      const found = await stores.policies.policiesForHosts([a, b, c]);
      expect(found.get(a)?.map((p) => p.id)).toEqual([byGroup.id, byId.id].sort());
      expect(found.get(b)?.map((p) => p.id)).toEqual([byId.id]);
      expect(found.get(c)).toBeUndefined();
      expect(found.get(a)?.[0]?.createdAt).toEqual(at);
    });

    it('deletes a policy with its compliance rows and cancels its pending quarantine requests', async () => {
      const h = await newHost();
      const p = await createPolicy(`delete-${n}`, { hostIds: [h] });
      await stores.policies.upsertCompliance(h, [result(p, 0, 'compliant')]);
      const request = await stores.quarantine.createRequest({ hostId: h, policyId: p.id, reason: 'av', requestedAt: at });
      expect(request?.state).toBe('pending');
      expect(await stores.policies.deletePolicy(p.id, later(MIN))).toMatchObject({ id: p.id });
      expect(await stores.policies.getPolicy(p.id)).toBeUndefined();
      expect(await stores.policies.hostCompliance(h)).toEqual([]);
      expect(await stores.quarantine.getRequest(request?.id ?? '')).toMatchObject({ state: 'cancelled', policyName: null });
      expect(await stores.policies.deletePolicy(p.id, at)).toBeUndefined();
    });
  });

  describe('bundles', () => {
    it('stores a bundle only above the stored sequence, and records the acknowledged sequence', async () => {
      const h = await newHost();
      const first = { hostId: h, sequence: 100, contentHash: 'a', signed: fakeBundle(h, 100, []), issuedAt: at };
      expect(await stores.policies.saveBundles([first])).toEqual(new Set([h]));
      const stale = { ...first, sequence: 99, contentHash: 'stale', signed: fakeBundle(h, 99, []) };
      expect(await stores.policies.saveBundles([stale])).toEqual(new Set());
      expect((await stores.policies.bundles([h])).get(h)).toMatchObject({ sequence: 100, contentHash: 'a', ackedSequence: null });
      await stores.policies.ackBundle(h, 100);
      await stores.policies.ackBundle(h, 50);
      expect((await stores.policies.bundles([h])).get(h)?.ackedSequence).toBe(100);
      const next = { ...first, sequence: 101, contentHash: 'b', signed: fakeBundle(h, 101, []) };
      expect(await stores.policies.saveBundles([next])).toEqual(new Set([h]));
      expect((await stores.policies.bundles([h])).get(h)).toMatchObject({ sequence: 101, contentHash: 'b', signed: next.signed });
    });

    it('skips a host deleted meanwhile instead of failing the batch', async () => {
      const h = await newHost();
      const gone = randomUUID();
      const rows = [h, gone].map((id) => ({ hostId: id, sequence: 5, contentHash: 'x', signed: fakeBundle(id, 5, []), issuedAt: at }));
      expect(await stores.policies.saveBundles(rows)).toEqual(new Set([h]));
    });

    it('drops compliance rows of policies and rule indexes a new bundle no longer holds', async () => {
      const h = await newHost();
      const kept = await createPolicy(`kept-${n}`, { hostIds: [h] });
      const dropped = await createPolicy(`dropped-${n}`, { hostIds: [h] });
      await stores.policies.upsertCompliance(h, [result(kept, 0, 'compliant'), result(kept, 1, 'error'), result(dropped, 0, 'compliant')]);
      // The new bundle holds `kept` with a single rule and not `dropped`.
      const signed = fakeBundle(h, 7, [{ id: kept.id, rules: [{ kind: 'service-running', name: 'ssh' }] }]);
      await stores.policies.saveBundles([{ hostId: h, sequence: 7, contentHash: 'k', signed, issuedAt: at }]);
      expect((await stores.policies.hostCompliance(h)).map((r) => [r.policyId, r.rule])).toEqual([[kept.id, 0]]);
    });
  });

  describe('compliance', () => {
    it('moves sinceAt only when the status changes and ignores results older than the stored one', async () => {
      const h = await newHost();
      const p = await createPolicy(`since-${n}`, { hostIds: [h] });
      await stores.policies.upsertCompliance(h, [result(p, 1, 'noncompliant', at)]);
      await stores.policies.upsertCompliance(h, [result(p, 1, 'noncompliant', later(10 * MIN))]);
      let [row] = await stores.policies.hostCompliance(h);
      expect(row).toMatchObject({ policyName: p.name, status: 'noncompliant', checkedAt: later(10 * MIN), sinceAt: at, kind: 'antivirus' });
      await stores.policies.upsertCompliance(h, [result(p, 1, 'compliant', later(5 * MIN))]);
      [row] = await stores.policies.hostCompliance(h);
      expect(row).toMatchObject({ status: 'noncompliant', sinceAt: at });
      await stores.policies.upsertCompliance(h, [result(p, 1, 'remediated', later(20 * MIN))]);
      [row] = await stores.policies.hostCompliance(h);
      expect(row).toMatchObject({ status: 'remediated', sinceAt: later(20 * MIN), checkedAt: later(20 * MIN) });
    });

    it('counts per host and per rule over approved targeted hosts and the current version only', async () => {
      const group = `cnt-${n}`;
      const [a, b, c, d] = [await newHost({ groups: [group] }), await newHost({ groups: [group] }), await newHost(), await newHost()];
      const pending = await newHost({ groups: [group], status: 'pending' });
      const p = await createPolicy(`counts-${n}`, { hostIds: [c, d], groups: [group] });
      // a: all compliant; b: one noncompliant; c: one result missing; d: a stale version only.
      await stores.policies.upsertCompliance(a, [result(p, 0, 'compliant'), result(p, 1, 'remediated')]);
      await stores.policies.upsertCompliance(b, [result(p, 0, 'noncompliant'), result(p, 1, 'error')]);
      await stores.policies.upsertCompliance(c, [result(p, 0, 'compliant')]);
      await stores.policies.upsertCompliance(d, [{ ...result(p, 0, 'compliant'), policyVersion: 9 }]);
      await stores.policies.upsertCompliance(pending, [result(p, 0, 'error')]);
      const [counts] = await stores.policies.complianceCounts(p.id);
      expect(counts?.hosts).toEqual({ compliant: 0, noncompliant: 1, remediated: 1, error: 0, unknown: 2 });
      expect(counts?.rules).toEqual([
        { compliant: 2, noncompliant: 1, remediated: 0, error: 0, unknown: 1 },
        { compliant: 0, noncompliant: 0, remediated: 1, error: 1, unknown: 2 },
      ]);
      const all = await stores.policies.complianceCounts();
      expect(all.find((x) => x.policyId === p.id)).toEqual(counts);
    });

    it('counts a host once however it is targeted, ignores rule indexes past the policy, and keeps policies apart', async () => {
      const [g1, g2] = [`twice-a-${n}`, `twice-b-${n}`];
      // e: named by id and in both groups; f: in one group; revoked: in both, never counted.
      const e = await newHost({ groups: [g1, g2] });
      const f = await newHost({ groups: [g2] });
      const revoked = await newHost({ groups: [g1, g2], status: 'revoked' });
      const p = await createPolicy(`twice-${n}`, { hostIds: [e, revoked, 'not-a-uuid', e.toUpperCase()], groups: [g1, g2, `nobody-${n}`] });
      const other = await createPolicy(`other-${n}`, { hostIds: [f] }, { rules: [{ kind: 'service-running', name: 'cron' }] });
      const nobody = await createPolicy(`nobody-${n}`, { hostIds: [e.toUpperCase(), revoked], groups: [`nobody-${n}`] });
      await stores.policies.upsertCompliance(e, [result(p, 0, 'compliant'), result(p, 1, 'remediated'), result(p, 2, 'noncompliant')]);
      await stores.policies.upsertCompliance(f, [result(p, 1, 'compliant'), result(other, 0, 'noncompliant')]);
      await stores.policies.upsertCompliance(revoked, [result(p, 0, 'error'), result(p, 1, 'error')]);

      const [counts] = await stores.policies.complianceCounts(p.id);
      expect(counts?.hosts).toEqual({ compliant: 0, noncompliant: 0, remediated: 1, error: 0, unknown: 1 });
      expect(counts?.rules).toEqual([
        { compliant: 1, noncompliant: 0, remediated: 0, error: 0, unknown: 1 },
        { compliant: 1, noncompliant: 0, remediated: 1, error: 0, unknown: 0 },
      ]);
      const all = await stores.policies.complianceCounts();
      expect(all.find((x) => x.policyId === p.id)).toEqual(counts);
      expect(all.find((x) => x.policyId === other.id)).toEqual({
        policyId: other.id,
        hosts: { compliant: 0, noncompliant: 1, remediated: 0, error: 0, unknown: 0 },
        rules: [{ compliant: 0, noncompliant: 1, remediated: 0, error: 0, unknown: 0 }],
      });
      // Targets that match no approved host: no counts at all.
      expect(all.find((x) => x.policyId === nobody.id)).toBeUndefined();
      expect(await stores.policies.complianceCounts(nobody.id)).toEqual([]);
    });

    it('keeps remediation events and pages them newest first', async () => {
      const h = await newHost();
      const policyId = randomUUID();
      const event = (i: number) => ({
        policyId,
        policyVersion: 1,
        rule: 0,
        action: `start ssh #${i}`,
        ok: i % 2 === 0,
        before: 'stopped',
        after: 'running',
        at: later(i * MIN).toISOString(),
      });
      await stores.policies.insertRemediations(h, [event(0), event(1), event(2)], later(HOUR_MS));
      const page = await stores.policies.remediations(h, 2, 0);
      expect(page.total).toBe(3);
      expect(page.items.map((e) => e.action)).toEqual(['start ssh #2', 'start ssh #1']);
      expect(page.items[0]).toMatchObject({ ok: true, before: 'stopped', after: 'running', at: later(2 * MIN).toISOString() });
      expect(page.items[0]?.receivedAt).toEqual(later(HOUR_MS));
      expect((await stores.policies.remediations(h, 2, 2)).items.map((e) => e.action)).toEqual(['start ssh #0']);
    });
  });

  describe('quarantine', () => {
    function order(hostId: string, sequence: number, action: QuarantineRow['action'] = 'isolate'): QuarantineRow {
      return {
        hostId,
        action,
        sequence,
        signed: fakeOrder(hostId, sequence),
        state: 'pending',
        detail: null,
        reason: `order ${sequence}`,
        requestedBy: 'alice',
        requestedAt: at,
        updatedAt: at,
      };
    }

    it('stores an order only above the stored sequence and records the state of that order only', async () => {
      const h = await newHost();
      expect(await stores.quarantine.get(h)).toBeUndefined();
      expect(await stores.quarantine.save(order(h, 10))).toBe(true);
      expect(await stores.quarantine.save(order(h, 10, 'release'))).toBe(false);
      expect(await stores.quarantine.setState(h, 9, 'isolated', null, later(MIN))).toBe(false);
      expect(await stores.quarantine.setState(h, 10, 'failed', 'nft: not found', later(MIN))).toBe(true);
      expect(await stores.quarantine.get(h)).toMatchObject({ action: 'isolate', sequence: 10, state: 'failed', detail: 'nft: not found' });
      expect(await stores.quarantine.save(order(h, 11, 'release'))).toBe(true);
      expect(await stores.quarantine.get(h)).toMatchObject({ action: 'release', sequence: 11, state: 'pending', detail: null });
    });

    it('finds antivirus rules noncompliant for longer than their policy allows, at the current version', async () => {
      const h = await newHost();
      const strict = await createPolicy(`av-strict-${n}`, { hostIds: [h] }, { quarantineAfterMinutes: 60 });
      const lax = await createPolicy(`av-lax-${n}`, { hostIds: [h] });
      await stores.policies.upsertCompliance(h, [result(strict, 1, 'noncompliant', at), result(lax, 1, 'noncompliant', at)]);
      expect(await stores.quarantine.overdueAntivirus(h, later(59 * MIN))).toEqual([]);
      expect(await stores.quarantine.overdueAntivirus(h, later(60 * MIN))).toEqual([
        { policyId: strict.id, policyName: strict.name, rule: 1, sinceAt: at, quarantineAfterMinutes: 60 },
      ]);
      await stores.policies.upsertCompliance(h, [result(strict, 1, 'compliant', later(61 * MIN))]);
      expect(await stores.quarantine.overdueAntivirus(h, later(200 * MIN))).toEqual([]);
    });

    it('creates one pending request per host and policy, and decides it once', async () => {
      const h = await newHost();
      const p = await createPolicy(`req-${n}`, { hostIds: [h] }, { quarantineAfterMinutes: 60 });
      const first = await stores.quarantine.createRequest({ hostId: h, policyId: p.id, reason: 'av off', requestedAt: at });
      expect(first).toMatchObject({ hostId: h, policyId: p.id, policyName: p.name, state: 'pending', decidedBy: null });
      expect(await stores.quarantine.createRequest({ hostId: h, policyId: p.id, reason: 'again', requestedAt: at })).toBeUndefined();
      const id = first?.id ?? '';
      expect(await stores.quarantine.decideRequest(id, 'rejected', 'bob', later(MIN))).toMatchObject({
        state: 'rejected',
        decidedBy: 'bob',
      });
      expect(await stores.quarantine.decideRequest(id, 'approved', 'carol', later(MIN))).toBeUndefined();
      const second = await stores.quarantine.createRequest({ hostId: h, policyId: p.id, reason: 'still off', requestedAt: later(MIN) });
      expect(second?.state).toBe('pending');
      const pending = await stores.quarantine.listRequests('pending');
      expect(pending.map((r) => r.id)).toContain(second?.id);
      expect(pending.map((r) => r.id)).not.toContain(id);
      expect((await stores.quarantine.listRequests()).map((r) => r.id)).toEqual(expect.arrayContaining([id, second?.id]));
      expect(await stores.quarantine.getRequest(randomUUID())).toBeUndefined();
    });
  });

  describe('discovery', () => {
    it('keeps the first sighting, moves the last one, and lists only pairs of no enrolled host', async () => {
      const a = await newHost({ network: [{ name: 'eth0', mac: 'AA-00-00-00-00-0A', ipv4: ['10.9.0.10/24'], ipv6: ['fe80::a%eth0'] }] });
      const b = await newHost({ network: [{ name: 'eth0', mac: 'aa:00:00:00:00:0b', ipv4: ['10.9.0.11'], ipv6: [] }] });
      // A revoked host is not enrolled any more: its address is unmanaged, and what it reports does not count.
      const revoked = await newHost({
        status: 'revoked',
        network: [{ name: 'eth0', mac: 'aa:00:00:00:00:0c', ipv4: ['10.9.0.12'], ipv6: [] }],
      });
      const sighting = (mac: string, ip: string) => ({ mac, ip, interface: 'eth0' });
      await stores.discovery.recordSightings(
        a,
        [
          sighting('aa:00:00:00:00:0b', '10.9.0.11'), // host b
          sighting('aa:00:00:00:00:0a', '10.9.0.99'), // a's own MAC, another IP
          sighting('02:00:00:00:00:01', '10.9.0.10'), // someone on a's IP
          sighting('02:00:00:00:00:02', '10.9.0.50'), // unknown
          sighting('aa:00:00:00:00:0c', '10.9.0.12'), // the revoked host
        ],
        at,
      );
      await stores.discovery.recordSightings(b, [sighting('02:00:00:00:00:02', '10.9.0.50')], later(MIN));
      await stores.discovery.recordSightings(a, [sighting('02:00:00:00:00:02', '10.9.0.50')], later(2 * MIN));
      await stores.discovery.recordSightings(revoked, [sighting('02:00:00:00:00:03', '10.9.0.51')], later(3 * MIN));

      const mine = (page: Awaited<ReturnType<Stores['discovery']['unmanaged']>>) => page.items.filter((d) => d.ip.startsWith('10.9.0.'));
      const list = mine(await stores.discovery.unmanaged({ include: [], limit: 1000, offset: 0 }));
      expect(list.map((d) => `${d.mac} ${d.ip}`)).toEqual(['02:00:00:00:00:02 10.9.0.50', 'aa:00:00:00:00:0c 10.9.0.12']);
      const [unknown] = list;
      expect(unknown?.firstSeenAt).toEqual(at);
      expect(unknown?.lastSeenAt).toEqual(later(2 * MIN));
      // By hostname: a was created first, so its name sorts first.
      expect(unknown?.seenBy.map((s) => s.hostId)).toEqual([a, b]);
      expect(unknown?.mark).toBeNull();

      await stores.discovery.setMark('02:00:00:00:00:02', { state: 'ignored', note: 'lab switch', markedBy: 'alice', markedAt: at });
      expect(mine(await stores.discovery.unmanaged({ include: [], limit: 1000, offset: 0 })).map((d) => d.ip)).toEqual(['10.9.0.12']);
      expect(mine(await stores.discovery.unmanaged({ include: ['known'], limit: 1000, offset: 0 })).map((d) => d.ip)).toEqual([
        '10.9.0.12',
      ]);
      const withIgnored = mine(await stores.discovery.unmanaged({ include: ['known', 'ignored'], limit: 1000, offset: 0 }));
      expect(withIgnored[0]).toMatchObject({ ip: '10.9.0.50', mark: { state: 'ignored', note: 'lab switch', markedBy: 'alice' } });
      const updated = await stores.discovery.setMark('02:00:00:00:00:02', {
        state: 'known',
        note: null,
        markedBy: 'bob',
        markedAt: later(MIN),
      });
      expect(updated).toEqual({ mac: '02:00:00:00:00:02', state: 'known', note: null, markedBy: 'bob', markedAt: later(MIN) });
      expect(await stores.discovery.setMark('02:00:00:00:00:02', null)).toBeNull();
      expect(mine(await stores.discovery.unmanaged({ include: [], limit: 1000, offset: 0 })).map((d) => d.ip)).toEqual([
        '10.9.0.50',
        '10.9.0.12',
      ]);
      const all = await stores.discovery.unmanaged({ include: [], limit: 10_000, offset: 0 });
      expect(all.total).toBe(all.items.length);
      const second = await stores.discovery.unmanaged({ include: [], limit: 1, offset: 1 });
      expect(second.items.map((d) => d.ip)).toEqual([all.items[1]?.ip]);
      expect(second.total).toBe(all.total);
      // A page past the end has no rows, and still the total.
      expect(await stores.discovery.unmanaged({ include: [], limit: 10, offset: all.total + 5 })).toEqual({ items: [], total: all.total });
    });

    it('writes thousands of sightings in bulk', async () => {
      const h = await newHost();
      const many = Array.from({ length: 5_000 }, (_, i) => ({
        mac: `06:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        ip: `10.200.${(i >> 8) & 255}.${i & 255}`,
        interface: 'eth1',
      }));
      await stores.discovery.recordSightings(h, many, at);
      await stores.discovery.recordSightings(h, many, later(MIN));
      const listed = (await stores.discovery.unmanaged({ include: [], limit: 10_000, offset: 0 })).items.filter((d) =>
        d.ip.startsWith('10.200.'),
      );
      expect(listed).toHaveLength(5_000);
      expect(listed.every((d) => d.firstSeenAt.getTime() === at.getTime() && d.lastSeenAt.getTime() === later(MIN).getTime())).toBe(true);
    });
  });
});
