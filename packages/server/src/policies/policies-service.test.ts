import { randomUUID } from 'node:crypto';
import { BrierError, type PolicyRule, type RuleKind, type RuleResult, type SignedPolicyBundle, verifyPolicyBundle } from '@brier/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WorkSigningKey } from '../auth/work-signing-key.js';
import { type Database, openDatabase } from '../store/db.js';
import { createStores, type Stores } from '../store/index.js';
import { testKeys } from '../testing/test-keys.js';
import { createPoliciesService, type PoliciesService, type PolicyInput } from './policies-service.js';

const START = new Date('2026-11-27T10:00:00.000Z');
const MIN = 60_000;
const keys = testKeys(START);
const alice = { id: randomUUID(), username: 'alice', role: 'operator' as const };

let database: Database;
let stores: Stores;
let clock: Date;
let signer: WorkSigningKey;
let sent: Array<{ hostId: string; signed: SignedPolicyBundle }>;
let service: PoliciesService;
let n = 0;

beforeAll(async () => {
  database = await openDatabase({});
  stores = createStores(database.db);
});
afterAll(async () => {
  await database?.close();
});
beforeEach(() => {
  clock = START;
  signer = keys.workKey;
  sent = [];
  service = createPoliciesService({
    store: stores.policies,
    audit: stores.audit,
    signing: () => signer,
    sendBundle: (hostId, signed) => {
      sent.push({ hostId, signed });
      return true;
    },
    now: () => clock,
  });
});

async function host(groups: string[] = [], status: 'approved' | 'revoked' = 'approved') {
  const h = await stores.hosts.create({
    hostname: `ps-${++n}`,
    publicKey: `psk-${randomUUID()}`,
    status,
    enrollmentTokenId: null,
    at: START,
  });
  await stores.deployments.setHostGroups(h.id, groups);
  return h.id;
}

const ssh: PolicyRule = { kind: 'service-running', name: 'ssh' };
const av: PolicyRule = { kind: 'antivirus', provider: 'clamav', maxSignatureAgeHours: 48 };

function input(targets: PolicyInput['targets'], extra: Partial<PolicyInput> = {}): PolicyInput {
  return { name: `policy ${++n}`, mode: 'enforce', rules: [ssh, av], targets, ...extra };
}

async function stored(hostId: string) {
  return (await stores.policies.bundles([hostId])).get(hostId);
}

function verified(signed: SignedPolicyBundle | undefined, hostId: string) {
  const result = verifyPolicyBundle(signed, { pinnedServerPublicKey: keys.identity.publicKey, hostId, now: clock });
  if (!result.ok) throw new Error(`bundle does not verify: ${result.reason}`);
  return result.document;
}

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrierError);
  expect((err as BrierError).code).toBe(code);
  if (message) expect((err as BrierError).message).toMatch(message);
}

describe('creating a policy', () => {
  it('signs a bundle for every targeted host, by id or group, pushes it and audits the change', async () => {
    const [web1, web2, db1, other] = [await host(['web']), await host(['web', 'x']), await host(['db']), await host(['db'])];
    const p = await service.create(alice, input({ hostIds: [db1.toUpperCase()], groups: [`web`] }));
    expect(p).toMatchObject({ version: 1, mode: 'enforce', intervalMinutes: 15, quarantineAfterMinutes: null, createdBy: 'alice' });
    expect(p.targets).toEqual({ hostIds: [db1], groups: ['web'] });
    expect(sent.map((s) => s.hostId).sort()).toEqual([web1, web2, db1].sort());
    for (const hostId of [web1, web2, db1]) {
      const doc = verified((await stored(hostId))?.signed, hostId);
      expect(doc.policies).toEqual([{ id: p.id, name: p.name, version: 1, mode: 'enforce', rules: [ssh, av], intervalMinutes: 15 }]);
      expect(doc.sequence).toBe(START.getTime());
    }
    expect(await stored(other)).toBeUndefined();
    const audit = (await stores.audit.list({ limit: 5, offset: 0 })).items.find((e) => e.target === p.id);
    expect(audit).toMatchObject({ actor: 'alice', action: 'policy.create' });
  });

  it('sorts a host’s policies by id and does not re-sign an unchanged set', async () => {
    const h = await host();
    const a = await service.create(alice, input({ hostIds: [h] }));
    const b = await service.create(alice, input({ hostIds: [h] }));
    const doc = verified((await stored(h))?.signed, h);
    expect(doc.policies.map((x) => x.id)).toEqual([a.id, b.id].sort());
    const before = (await stored(h))?.sequence;
    sent = [];
    expect(await service.rebundle([h])).toEqual([]);
    expect(sent).toEqual([]);
    expect((await stored(h))?.sequence).toBe(before);
  });

  it('issues strictly increasing sequences even when the clock stands still or goes back', async () => {
    const h = await host();
    await service.create(alice, input({ hostIds: [h] }));
    const first = (await stored(h))?.sequence ?? 0;
    await service.create(alice, input({ hostIds: [h] }));
    clock = new Date(START.getTime() - 10 * MIN);
    await service.create(alice, input({ hostIds: [h] }));
    const third = (await stored(h))?.sequence ?? 0;
    expect(third).toBe(first + 2);
  });

  it.each([
    ['a package name carrying a shell command', { kind: 'package-installed', name: 'openssl; rm -rf /' }],
    ['a package name that is an option', { kind: 'package-absent', name: '--purge' }],
    ['a service name with a command substitution', { kind: 'service-running', name: '$(reboot)' }],
    ['a path escaping with ..', { kind: 'file-present', path: '/etc/../../root/.ssh/id', sha256: 'a'.repeat(64) }],
    ['an unknown field', { kind: 'firewall-enabled', command: 'iptables -F' }],
  ])('refuses %s and stores nothing', async (_what, rule) => {
    const h = await host();
    const name = `injection ${++n}`;
    await rejects(service.create(alice, { ...input({ hostIds: [h] }), name, rules: [rule as PolicyRule] }), 'bad_request');
    expect(await stores.policies.policyByName(name)).toBeUndefined();
    expect(await stored(h)).toBeUndefined();
    expect(sent).toEqual([]);
  });

  it('refuses unknown or revoked host ids, a taken name, and quarantineAfterMinutes without an antivirus rule', async () => {
    const revoked = await host([], 'revoked');
    const unknown = randomUUID();
    await rejects(service.create(alice, input({ hostIds: [unknown, revoked] })), 'bad_request', new RegExp(unknown));
    await rejects(
      service.create(alice, input({ groups: ['g'] }, { rules: [ssh], quarantineAfterMinutes: 60 })),
      'bad_request',
      /antivirus/,
    );
    await rejects(service.create(alice, input({ groups: ['g'] }, { intervalMinutes: 0 })), 'bad_request', /intervalMinutes/);
    await rejects(service.create(alice, input({ groups: ['g'] }, { name: 'bad\u0000name' })), 'bad_request', /name/);
    const p = await service.create(alice, input({ groups: ['g'] }));
    await rejects(service.create(alice, input({ groups: ['g'] }, { name: p.name })), 'conflict');
  });

  it('refuses a policy that would give some host more than 50 policies', async () => {
    const group = `crowded-${n}`;
    const h = await host([group]);
    for (let i = 0; i < 50; i++) await service.create(alice, input({ hostIds: [h] }));
    const name = `one too many ${n}`;
    await rejects(service.create(alice, input({ groups: [group] }, { name })), 'bad_request', /51 policies/);
    expect(await stores.policies.policyByName(name)).toBeUndefined();
    expect(verified((await stored(h))?.signed, h).policies).toHaveLength(50);
  });
});

describe('changing a policy', () => {
  it('replaces it with version + 1 and re-bundles the hosts it targeted and targets now', async () => {
    const [a, b, c] = [await host(), await host(), await host()];
    const p = await service.create(alice, input({ hostIds: [a, b] }));
    sent = [];
    clock = new Date(START.getTime() + MIN);
    const updated = await service.replace(alice, p.id, { ...input({ hostIds: [b, c] }), name: p.name, mode: 'audit', rules: [av] });
    expect(updated).toMatchObject({ id: p.id, version: 2, mode: 'audit', name: p.name });
    expect(sent.map((s) => s.hostId).sort()).toEqual([a, b, c].sort());
    expect(verified((await stored(a))?.signed, a).policies).toEqual([]);
    expect(verified((await stored(b))?.signed, b).policies).toEqual([
      { id: p.id, name: p.name, version: 2, mode: 'audit', rules: [av], intervalMinutes: 15 },
    ]);
    expect(verified((await stored(c))?.signed, c).policies.map((x) => x.version)).toEqual([2]);
    await rejects(service.replace(alice, randomUUID(), input({})), 'not_found');
    const other = await service.create(alice, input({}));
    await rejects(service.replace(alice, p.id, { ...input({}), name: other.name }), 'conflict');
  });

  it('re-bundles a host whose groups changed', async () => {
    const group = `moving-${n}`;
    const h = await host();
    const p = await service.create(alice, input({ groups: [group] }));
    expect(await stored(h)).toBeUndefined();
    await stores.deployments.setHostGroups(h, [group]);
    await service.onGroupsChanged(h);
    expect(sent.at(-1)?.hostId).toBe(h);
    expect(verified((await stored(h))?.signed, h).policies.map((x) => x.id)).toEqual([p.id]);
  });

  it('deletes it: the hosts get a bundle without it and its results are gone', async () => {
    const h = await host();
    const p = await service.create(alice, input({ hostIds: [h] }));
    const doc = verified((await stored(h))?.signed, h);
    await service.onCompliance(h, { bundleSequence: doc.sequence, results: [result(p.id, 1, 0, 'service-running', 'compliant')] });
    expect(await service.hostCompliance(h)).toHaveLength(1);
    clock = new Date(START.getTime() + MIN);
    await service.remove(alice, p.id);
    expect(verified((await stored(h))?.signed, h).policies).toEqual([]);
    expect(await service.hostCompliance(h)).toEqual([]);
    await rejects(service.remove(alice, p.id), 'not_found');
  });
});

/**
 * The protocol types RuleResult's `kind` as `never` (a union built from a mapped array loses its
 * members); the schema itself accepts every rule kind, so results are built with RuleKind and cast.
 */
function result(policyId: string, version: number, rule: number, kind: RuleKind, status: RuleResult['status']): RuleResult {
  return {
    policyId,
    policyVersion: version,
    rule,
    kind,
    status,
    detail: `${kind} ${status}`,
    checkedAt: START.toISOString(),
  } as RuleResult;
}

describe('agents', () => {
  it('answer a sync with the stored bundle when they hold an older one, and with nothing when current', async () => {
    const h = await host();
    await service.create(alice, input({ hostIds: [h] }));
    const sequence = (await stored(h))?.sequence ?? 0;
    const bundle = await service.onSync(h, { bundleSequence: 0, quarantineSequence: 0, isolated: false });
    expect(verified(bundle, h).sequence).toBe(sequence);
    expect(await service.onSync(h, { bundleSequence: sequence, quarantineSequence: 0, isolated: false })).toBeUndefined();
    expect((await stored(h))?.ackedSequence).toBe(sequence);
  });

  it('build the first bundle of a host at its sync, and send nothing to a host no policy targets', async () => {
    const group = `late-${n}`;
    const p = await service.create(alice, input({ groups: [group] }));
    const h = await host([group]); // joined the group without the hook: the sync catches up
    const bundle = await service.onSync(h, { bundleSequence: 0, quarantineSequence: 0, isolated: false });
    expect(verified(bundle, h).policies.map((x) => x.id)).toEqual([p.id]);
    expect(sent).not.toContainEqual(expect.objectContaining({ hostId: h }));
    const lonely = await host();
    expect(await service.onSync(lonely, { bundleSequence: 0, quarantineSequence: 0, isolated: false })).toBeUndefined();
  });

  it('get a fresh bundle above the sequence they hold when the server has a lower one (a restored database)', async () => {
    const h = await host();
    await service.create(alice, input({ hostIds: [h] }));
    const held = START.getTime() + 1_000_000;
    const bundle = verified(await service.onSync(h, { bundleSequence: held, quarantineSequence: 0, isolated: false }), h);
    expect(bundle.sequence).toBe(held + 1);
    // Holding a bundle the server has no record of, with no policy for it: an empty bundle above it.
    const bare = await host();
    const empty = verified(await service.onSync(bare, { bundleSequence: held, quarantineSequence: 0, isolated: false }), bare);
    expect(empty).toMatchObject({ sequence: held + 1, policies: [] });
  });

  it('get their bundle re-signed after the work key was rotated', async () => {
    const h = await host();
    await service.create(alice, input({ hostIds: [h] }));
    const before = await stored(h);
    signer = testKeys(START).workKey;
    const again = await service.onSync(h, { bundleSequence: before?.sequence ?? 0, quarantineSequence: 0, isolated: false });
    expect(again?.keyCertificate.keyId).toBe(signer.keyId);
    expect(again?.document.sequence).toBeGreaterThan(before?.sequence ?? 0);
  });

  it('have results kept only for the policies, versions, rules and kinds of their bundle', async () => {
    const h = await host();
    const p = await service.create(alice, input({ hostIds: [h] }));
    const foreign = await service.create(alice, input({ hostIds: [await host()] }));
    const sequence = (await stored(h))?.sequence ?? 0;
    const future = new Date(START.getTime() + 3_600_000).toISOString();
    await service.onCompliance(h, {
      bundleSequence: sequence,
      results: [
        result(p.id, 1, 0, 'service-running', 'compliant'),
        { ...result(p.id, 1, 1, 'antivirus', 'noncompliant'), checkedAt: future },
        result(foreign.id, 1, 0, 'service-running', 'noncompliant'), // a policy the host does not have
        result(randomUUID(), 1, 0, 'service-running', 'noncompliant'), // a policy that does not exist
        result(p.id, 2, 0, 'service-running', 'noncompliant'), // a version the host was never sent
        result(p.id, 1, 0, 'antivirus', 'noncompliant'), // the wrong kind for rule 0
        result(p.id, 1, 5, 'service-running', 'noncompliant'), // no rule 5
      ],
    });
    const items = await service.hostCompliance(h);
    expect(items.map((i) => [i.policy.id, i.rule.index, i.status])).toEqual([
      [p.id, 0, 'compliant'],
      [p.id, 1, 'noncompliant'],
    ]);
    // A result dated in the future is clamped to the server's clock.
    expect(items[1]?.checkedAt).toEqual(START);
    expect(await service.hostCompliance(await host())).toEqual([]);
    const detail = await service.get(p.id);
    expect(detail.compliance.hosts).toEqual({ compliant: 0, noncompliant: 1, remediated: 0, error: 0, unknown: 0, total: 1 });
    expect(detail.compliance.rules).toEqual([
      { index: 0, kind: 'service-running', compliant: 1, noncompliant: 0, remediated: 0, error: 0, unknown: 0 },
      { index: 1, kind: 'antivirus', compliant: 0, noncompliant: 1, remediated: 0, error: 0, unknown: 0 },
    ]);
    const fleet = await service.fleetCompliance();
    expect(fleet.find((f) => f.policy.id === foreign.id)?.hosts).toMatchObject({ unknown: 1, noncompliant: 0, total: 1 });
  });

  it('have remediation events kept only for policies of their bundle', async () => {
    const h = await host();
    const p = await service.create(alice, input({ hostIds: [h] }));
    const event = (policyId: string, policyVersion: number) => ({
      policyId,
      policyVersion,
      rule: 0,
      action: 'start ssh',
      ok: true,
      before: 'stopped',
      after: 'running',
      at: START.toISOString(),
    });
    await service.onRemediations(h, { events: [event(p.id, 1), event(randomUUID(), 1), event(p.id, 7)] });
    const page = await service.remediations(h, 50, 0);
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ policyId: p.id, action: 'start ssh', before: 'stopped', after: 'running' });
  });

  it('tell the quarantine side after a report that kept something, and survive its failure', async () => {
    const told: string[] = [];
    const withHook = createPoliciesService({
      store: stores.policies,
      audit: stores.audit,
      signing: () => signer,
      sendBundle: () => false,
      now: () => clock,
      onComplianceRecorded: async (hostId) => {
        told.push(hostId);
        throw new Error('boom');
      },
    });
    const h = await host();
    const p = await withHook.create(alice, input({ hostIds: [h] }));
    const sequence = (await stored(h))?.sequence ?? 0;
    await withHook.onCompliance(h, { bundleSequence: sequence, results: [result(randomUUID(), 1, 0, 'service-running', 'compliant')] });
    expect(told).toEqual([]);
    await withHook.onCompliance(h, { bundleSequence: sequence, results: [result(p.id, 1, 0, 'service-running', 'compliant')] });
    expect(told).toEqual([h]);
  });
});
