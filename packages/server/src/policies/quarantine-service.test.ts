import { randomUUID } from 'node:crypto';
import { BrierError, type SignedQuarantineOrder, verifyQuarantineOrder } from '@brier/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../store/db.js';
import { createStores, type Stores } from '../store/index.js';
import { testKeys } from '../testing/test-keys.js';
import type { PolicyRow } from './policies-repository.js';
import { createQuarantineService, ORDER_TTL_MS, type QuarantineService } from './quarantine-service.js';

const START = new Date('2026-11-27T10:00:00.000Z');
const MIN = 60_000;
const keys = testKeys(START);
const approver = { id: randomUUID(), username: 'ada', role: 'approver' as const };

let database: Database;
let stores: Stores;
let clock: Date;
let sent: Array<{ hostId: string; signed: SignedQuarantineOrder }>;
let endpoints: { allow: string[]; ports: number[] };
let service: QuarantineService;
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
  sent = [];
  endpoints = { allow: ['192.0.2.10'], ports: [8443] };
  service = createQuarantineService({
    store: stores.quarantine,
    hosts: stores.hosts,
    audit: stores.audit,
    signing: () => keys.workKey,
    sendOrder: (hostId, signed) => {
      sent.push({ hostId, signed });
      return true;
    },
    endpoints: () => endpoints,
    now: () => clock,
  });
});

async function host(status: 'approved' | 'revoked' = 'approved') {
  const h = await stores.hosts.create({
    hostname: `qs-${++n}`,
    publicKey: `qsk-${randomUUID()}`,
    status,
    enrollmentTokenId: null,
    at: START,
  });
  return h.id;
}

function verified(signed: SignedQuarantineOrder | undefined, hostId: string) {
  const result = verifyQuarantineOrder(signed, { pinnedServerPublicKey: keys.identity.publicKey, hostId, now: clock });
  if (!result.ok) throw new Error(`order does not verify: ${result.reason}`);
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

const sync = (quarantineSequence: number, isolated: boolean) => ({ bundleSequence: 0, quarantineSequence, isolated });

describe('an operator', () => {
  it('isolates a host with a signed, expiring order naming the server addresses, pushed and audited', async () => {
    const h = await host();
    const view = await service.isolate('olga', h, 'ransomware on the file share');
    expect(view).toMatchObject({
      hostId: h,
      action: 'isolate',
      state: 'pending',
      reason: 'ransomware on the file share',
      requestedBy: 'olga',
    });
    expect(sent).toHaveLength(1);
    const order = verified(sent[0]?.signed, h);
    expect(order).toMatchObject({ action: 'isolate', sequence: START.getTime(), allow: ['192.0.2.10'], ports: [8443] });
    expect(Date.parse(order.notAfter) - Date.parse(order.issuedAt)).toBe(ORDER_TTL_MS);
    expect(view.notAfter).toEqual(new Date(order.notAfter));
    const audit = (await stores.audit.list({ limit: 5, offset: 0 })).items.find((e) => e.target === h);
    expect(audit).toMatchObject({ actor: 'olga', action: 'host.quarantine', detail: { reason: 'ransomware on the file share' } });
    await rejects(service.isolate('olga', h, 'again'), 'conflict', /already quarantined/);
  });

  it('releases it with a newer order, and cannot release twice', async () => {
    const h = await host();
    await service.isolate('olga', h, 'suspicious');
    const released = await service.release('olga', h);
    expect(released).toMatchObject({ action: 'release', state: 'pending', reason: 'released by olga' });
    expect(verified(sent[1]?.signed, h)).toMatchObject({ action: 'release', sequence: START.getTime() + 1 });
    await rejects(service.release('olga', h, 'again'), 'conflict', /not quarantined/);
    expect(await service.view(h)).toMatchObject({ action: 'release', sequence: START.getTime() + 1 });
  });

  it('cannot isolate without a known server address, an unknown or revoked host, or without a reason', async () => {
    const h = await host();
    endpoints = { allow: [], ports: [] };
    await rejects(service.isolate('olga', h, 'x'), 'conflict', /BRIER_QUARANTINE_ALLOW/);
    expect(await service.view(h)).toMatchObject({ action: null, state: 'none' });
    expect(sent).toEqual([]);
    endpoints = { allow: ['192.0.2.10'], ports: [] };
    await rejects(service.isolate('olga', randomUUID(), 'x'), 'not_found');
    await rejects(service.isolate('olga', await host('revoked'), 'x'), 'conflict', /revoked/);
    await rejects(service.isolate('olga', h, '   '), 'bad_request');
    await rejects(service.isolate('olga', h, 'x'.repeat(501)), 'bad_request');
    await rejects(service.view(randomUUID()), 'not_found');
  });
});

describe('an agent', () => {
  it('gets the stored order on sync until it reached its sequence', async () => {
    const h = await host();
    const { sequence } = await service.isolate('olga', h, 'x');
    expect((await service.onSync(h, sync(0, false)))?.document.sequence).toBe(sequence);
    expect(await service.onSync(h, sync(sequence ?? 0, true))).toBeUndefined();
    // Its status was lost on the way, but the sync says it applied the order.
    expect(await service.view(h)).toMatchObject({ state: 'isolated', detail: 'confirmed by the agent at sync' });
    expect(await service.onSync(await host(), sync(0, false))).toBeUndefined();
  });

  it('gets a re-signed order when the stored one is about to expire undelivered', async () => {
    const h = await host();
    const { sequence } = await service.isolate('olga', h, 'x');
    clock = new Date(START.getTime() + ORDER_TTL_MS - MIN);
    const fresh = verified(await service.onSync(h, sync(0, false)), h);
    expect(fresh.sequence).toBeGreaterThan(sequence ?? 0);
    expect(Date.parse(fresh.notAfter)).toBe(clock.getTime() + ORDER_TTL_MS);
    expect(fresh.action).toBe('isolate');
  });

  it('gets the order again when its isolation disagrees, unless it already answered the order as failed', async () => {
    const h = await host();
    const seq = (await service.isolate('olga', h, 'x')).sequence ?? 0;
    expect((await service.onSync(h, sync(seq, false)))?.document.sequence).toBe(seq);
    await service.onStatus(h, { sequence: seq, state: 'failed', code: 'nft_missing', detail: 'nft not installed' });
    expect(await service.view(h)).toMatchObject({ state: 'failed', detail: 'nft_missing: nft not installed' });
    expect(await service.onSync(h, sync(seq, false))).toBeUndefined();
  });

  it('holding a sequence above the server’s, with the wrong state, gets a fresh order above it', async () => {
    const h = await host();
    await service.isolate('olga', h, 'x');
    const held = START.getTime() + 5_000;
    const fresh = verified(await service.onSync(h, sync(held, false)), h);
    expect(fresh).toMatchObject({ action: 'isolate', sequence: held + 1 });
    expect(await service.onSync(h, sync(held + 10, true))).toBeUndefined();
  });

  it('has its status recorded only for the current order', async () => {
    const h = await host();
    const first = await service.isolate('olga', h, 'x');
    const second = await service.release('olga', h);
    await service.onStatus(h, { sequence: first.sequence ?? 0, state: 'isolated' });
    expect(await service.view(h)).toMatchObject({ sequence: second.sequence, state: 'pending' });
    await service.onStatus(h, { sequence: second.sequence ?? 0, state: 'released' });
    expect(await service.view(h)).toMatchObject({ state: 'released', detail: null });
  });
});

describe('policy-requested quarantine', () => {
  async function overdueHost(minutes = 60) {
    const h = await host();
    const policy = await stores.policies.createPolicy({
      name: `av policy ${++n}`,
      mode: 'enforce',
      rules: [{ kind: 'antivirus', provider: 'auto' }],
      targets: { hostIds: [h], groups: [] },
      intervalMinutes: 15,
      quarantineAfterMinutes: minutes,
      version: 1,
      createdBy: 'alice',
      createdAt: START,
      updatedAt: START,
    });
    const p = policy as PolicyRow;
    await stores.policies.upsertCompliance(h, [
      { policyId: p.id, policyVersion: 1, rule: 0, kind: 'antivirus', status: 'noncompliant', detail: 'clamd stopped', checkedAt: START },
    ]);
    return { h, p };
  }

  it('asks an approver once the antivirus stayed unhealthy long enough, once while pending', async () => {
    const { h, p } = await overdueHost(60);
    clock = new Date(START.getTime() + 59 * MIN);
    expect(await service.checkPolicyRequests(h)).toEqual([]);
    clock = new Date(START.getTime() + 61 * MIN);
    const [request] = await service.checkPolicyRequests(h);
    expect(request).toMatchObject({ hostId: h, policyId: p.id, state: 'pending' });
    expect(request?.reason).toContain(p.name);
    expect(await service.checkPolicyRequests(h)).toEqual([]);
    const audit = (await stores.audit.list({ limit: 5, offset: 0 })).items.find((e) => e.target === h);
    expect(audit).toMatchObject({ actor: 'policy', action: 'quarantine.request' });
    expect(sent).toEqual([]);
  });

  it('does not ask while the host is quarantined', async () => {
    const { h } = await overdueHost(1);
    await service.isolate('olga', h, 'already');
    clock = new Date(START.getTime() + 10 * MIN);
    expect(await service.checkPolicyRequests(h)).toEqual([]);
  });

  it('is applied by an approval through the operator path, and cannot be decided twice', async () => {
    const { h } = await overdueHost(1);
    clock = new Date(START.getTime() + 10 * MIN);
    const [request] = await service.checkPolicyRequests(h);
    const id = request?.id ?? '';
    const { request: decided, quarantine } = await service.approve(approver, id);
    expect(decided).toMatchObject({ state: 'approved', decidedBy: 'ada' });
    expect(quarantine).toMatchObject({ action: 'isolate', state: 'pending', requestedBy: 'ada' });
    expect(quarantine.reason).toContain('approved by ada');
    expect(verified(sent[0]?.signed, h).action).toBe('isolate');
    await rejects(service.approve(approver, id), 'conflict');
    await rejects(service.reject(approver, id), 'conflict');
    await rejects(service.approve(approver, randomUUID()), 'not_found');
  });

  it('is rejected without isolating anything', async () => {
    const { h } = await overdueHost(1);
    clock = new Date(START.getTime() + 10 * MIN);
    const [request] = await service.checkPolicyRequests(h);
    expect(await service.reject(approver, request?.id ?? '', 'false alarm')).toMatchObject({ state: 'rejected', decidedBy: 'ada' });
    expect(sent).toEqual([]);
    expect((await service.requests('rejected')).map((r) => r.id)).toContain(request?.id);
    expect((await service.requests('pending')).map((r) => r.id)).not.toContain(request?.id);
  });

  it('cannot be approved when no server address is known, and stays pending', async () => {
    const { h } = await overdueHost(1);
    clock = new Date(START.getTime() + 10 * MIN);
    const [request] = await service.checkPolicyRequests(h);
    endpoints = { allow: [], ports: [] };
    await rejects(service.approve(approver, request?.id ?? ''), 'conflict', /BRIER_QUARANTINE_ALLOW/);
    expect((await stores.quarantine.getRequest(request?.id ?? ''))?.state).toBe('pending');
  });
});
