import { inventoryHash, type PackageEntry, type PendingUpdate } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databases } from '../../../../test/support/pg-available.js';
import { hashPassword } from '../auth/passwords.js';
import { type Database, openDatabase } from './db.js';
import { createStores, type Stores } from './index.js';

/**
 * One contract suite, run against every driver (drizzle's own approach): the embedded PGlite and a
 * real PostgreSQL started by the test run. A behaviour that differs between them is a bug.
 */
const drivers = databases();

function pkg(name: string, version: string, extra: Partial<PackageEntry> = {}): PackageEntry {
  return { ecosystem: 'dpkg', name, version, arch: 'amd64', source: name, sourceVersion: version, ...extra };
}

describe.each(drivers)('the store on $name', (driver) => {
  let database: Database;
  let stores: Stores;
  let url: string | undefined;
  let n = 0;
  const at = new Date('2026-11-27T10:00:00Z');

  beforeAll(async () => {
    url = await driver.open();
    database = await openDatabase({ databaseUrl: url });
    stores = createStores(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await driver.drop(url);
  });

  async function newHost(hostname = `host-${++n}`) {
    return stores.hosts.create({ hostname, publicKey: `key-${hostname}-${n}`, status: 'approved', enrollmentTokenId: null, at });
  }

  it('applies migrations so a second open of the same database is a no-op', async () => {
    if (!url) return; // an in-memory PGlite cannot be opened twice; the PostgreSQL run covers it
    const again = await openDatabase({ databaseUrl: url });
    await again.ping();
    await again.close();
  });

  it('creates users and finds them by name with their hash, and lists them without it', async () => {
    const hash = await hashPassword('a-long-enough-password');
    const user = await stores.users.create({ username: `user${++n}`, passwordHash: hash, role: 'viewer' });
    const found = await stores.users.findByUsername(user.username);
    expect(found?.passwordHash).toBe(hash);
    expect(found?.role).toBe('viewer');
    const listed = (await stores.users.list()).find((u) => u.id === user.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty('passwordHash');
  });

  it('updates users, never leaving no enabled admin, even when two admins demote each other at once', async () => {
    const a = await stores.users.create({ username: `adm-a${++n}`, passwordHash: 'x', role: 'admin' });
    const b = await stores.users.create({ username: `adm-b${n}`, passwordHash: 'x', role: 'admin' });
    const v = await stores.users.create({ username: `adm-v${n}`, passwordHash: 'x', role: 'viewer' });
    expect(await stores.users.update(v.id, { role: 'operator', passwordHash: 'y' })).toEqual({
      before: v,
      updated: { ...v, role: 'operator' },
    });
    expect((await stores.users.findByUsername(v.username))?.passwordHash).toBe('y');
    expect(await stores.users.update('00000000-0000-4000-8000-000000000000', { role: 'viewer' })).toEqual({ refused: 'not_found' });
    const results = await Promise.all([stores.users.update(a.id, { role: 'viewer' }), stores.users.update(b.id, { disabled: true })]);
    expect(results.filter((r) => 'refused' in r)).toEqual([{ refused: 'last_admin' }]);
    const enabledAdmins = (await stores.users.list()).filter((u) => u.role === 'admin' && !u.disabled);
    expect(enabledAdmins).toHaveLength(1);
    const last = enabledAdmins[0]!;
    expect(await stores.users.update(last.id, { disabled: true })).toEqual({ refused: 'last_admin' });
    expect(await stores.users.update(last.id, { role: 'admin', passwordHash: 'z' })).toMatchObject({ updated: { id: last.id } });
  });

  it('revokes all live tokens of a user, of one kind or all but one', async () => {
    const user = await stores.users.create({ username: `rev${++n}`, passwordHash: 'x', role: 'operator' });
    const other = await stores.users.create({ username: `rev-other${n}`, passwordHash: 'x', role: 'operator' });
    const hash = (i: number) => `rev-${n}-${i}`;
    const make = (userId: string, kind: 'session' | 'api', i: number) =>
      stores.accessTokens.create({ kind, tokenHash: hash(i), userId, name: null, expiresAt: new Date(at.getTime() + 3_600_000) });
    const s1 = await make(user.id, 'session', 1);
    await make(user.id, 'session', 2);
    await make(user.id, 'api', 3);
    await make(other.id, 'session', 4);
    const live = async (...ids: number[]) =>
      Promise.all(ids.map(async (i) => (await stores.accessTokens.findLive(hash(i), at)) !== undefined));
    expect(await stores.accessTokens.revokeAllOf(user.id, at, { kind: 'session', exceptId: s1.id })).toBe(1);
    expect(await live(1, 2, 3, 4)).toEqual([true, false, true, true]);
    expect(await stores.accessTokens.revokeAllOf(user.id, at)).toBe(2);
    expect(await live(1, 2, 3, 4)).toEqual([false, false, false, true]);
    expect(await stores.accessTokens.revokeAllOf(user.id, at)).toBe(0);
  });

  it('finds live access tokens only until they expire or are revoked', async () => {
    const user = await stores.users.create({ username: `tok${++n}`, passwordHash: 'x', role: 'operator' });
    const token = await stores.accessTokens.create({
      kind: 'api',
      tokenHash: `h${n}`,
      userId: user.id,
      name: 'ci',
      expiresAt: new Date(at.getTime() + 60_000),
    });
    expect((await stores.accessTokens.findLive(`h${n}`, at))?.user.id).toBe(user.id);
    expect(await stores.accessTokens.findLive(`h${n}`, new Date(at.getTime() + 61_000))).toBeUndefined();
    expect((await stores.accessTokens.listApiTokens(user.id)).map((t) => t.id)).toEqual([token.id]);
    expect(await stores.accessTokens.revoke(token.id, 'session', user.id, at)).toBe(false);
    expect(await stores.accessTokens.revoke(token.id, 'api', user.id, at)).toBe(true);
    expect(await stores.accessTokens.revoke(token.id, 'api', user.id, at)).toBe(false);
    expect(await stores.accessTokens.findLive(`h${n}`, at)).toBeUndefined();
  });

  it('consumes a join token once per enrolment and never beyond its use count, even concurrently', async () => {
    await stores.enrollmentTokens.create({
      secretHash: `s${++n}`,
      createdBy: null,
      autoApprove: true,
      maxUses: 2,
      expiresAt: new Date(at.getTime() + 3_600_000),
    });
    const check = (t: { maxUses: number | null; uses: number }) =>
      t.maxUses !== null && t.uses >= t.maxUses ? ('token_exhausted' as const) : null;
    const outcomes = await Promise.all(
      [1, 2, 3, 4].map((i) => stores.hosts.enroll(`s${n}`, check, { hostname: `e${n}-${i}`, publicKey: `pk-${n}-${i}`, at })),
    );
    expect(outcomes.filter((o) => 'host' in o)).toHaveLength(2);
    expect(outcomes.filter((o) => 'refused' in o && o.refused === 'token_exhausted')).toHaveLength(2);
    expect((await stores.enrollmentTokens.findBySecretHash(`s${n}`))?.uses).toBe(2);
    const enrolled = outcomes.find((o) => 'host' in o);
    expect(enrolled && 'host' in enrolled ? enrolled.host.status : undefined).toBe('approved');
  });

  it('refuses to enrol a key that is already enrolled or was revoked', async () => {
    await stores.enrollmentTokens.create({
      secretHash: `r${++n}`,
      createdBy: null,
      autoApprove: false,
      maxUses: null,
      expiresAt: new Date(at.getTime() + 3_600_000),
    });
    const first = await stores.hosts.enroll(`r${n}`, () => null, { hostname: 'dup', publicKey: `dup-${n}`, at });
    expect('host' in first && first.host.status).toBe('pending');
    expect(await stores.hosts.enroll(`r${n}`, () => null, { hostname: 'dup', publicKey: `dup-${n}`, at })).toEqual({ refused: 'conflict' });
    if (!('host' in first)) throw new Error('unreachable');
    await stores.hosts.setStatus(first.host.id, 'revoked', at);
    await stores.hosts.delete(first.host.id);
    expect(await stores.hosts.isKeyRevoked(`dup-${n}`)).toBe(true);
    expect(await stores.hosts.enroll(`r${n}`, () => null, { hostname: 'dup', publicKey: `dup-${n}`, at })).toEqual({ refused: 'conflict' });
    expect(await stores.hosts.enroll('no-such-secret', () => null, { hostname: 'x', publicKey: `x-${n}`, at })).toEqual({
      refused: 'token_invalid',
    });
  });

  it('stores a full inventory as catalogue rows plus links, sharing catalogue rows between hosts', async () => {
    const a = await newHost();
    const b = await newHost();
    const packages = [
      pkg('bash', '5.2.15-2+b2'),
      pkg('libc6', '2.36-9+deb12u4', { source: 'glibc' }),
      pkg('zlib1g', '1:1.2.13.dfsg-1', { source: 'zlib' }),
    ];
    const hash = inventoryHash(packages);
    expect(await stores.inventory.replace(a.id, packages, hash, undefined, at)).toEqual({ added: 3, removed: 0, changed: 0 });
    await stores.inventory.replace(b.id, packages, hash, undefined, at);
    expect(inventoryHash(await stores.inventory.packagesOf(a.id))).toBe(hash);
    const host = await stores.hosts.get(a.id);
    expect(host?.inventoryHash).toBe(hash);
    expect(host?.packageCount).toBe(3);
    const rows = await database.db.execute("select count(*)::int as n from software where name in ('bash', 'libc6', 'zlib1g')");
    expect((rows as unknown as { rows: Array<{ n: number }> }).rows[0]?.n).toBe(3);
  });

  it('replaces a full inventory touching only what changed', async () => {
    const h = await newHost();
    const before = [pkg('a', '1'), pkg('b', '1'), pkg('c', '1')];
    await stores.inventory.replace(h.id, before, inventoryHash(before), undefined, at);
    const after = [pkg('a', '1'), pkg('b', '2'), pkg('d', '1')];
    expect(await stores.inventory.replace(h.id, after, inventoryHash(after), undefined, at)).toEqual({ added: 2, removed: 2, changed: 0 });
    expect(inventoryHash(await stores.inventory.packagesOf(h.id))).toBe(inventoryHash(after));
  });

  it('applies a delta on the right base and counts added, removed and changed packages', async () => {
    const h = await newHost();
    const before = [pkg('a', '1'), pkg('b', '1'), pkg('c', '1')];
    await stores.inventory.replace(h.id, before, inventoryHash(before), undefined, at);
    const after = [pkg('a', '1'), pkg('b', '2'), pkg('d', '1')];
    const result = await stores.inventory.applyDelta(
      h.id,
      {
        baseHash: inventoryHash(before),
        hash: inventoryHash(after),
        upsert: [pkg('b', '2'), pkg('d', '1')],
        remove: [{ ecosystem: 'dpkg', name: 'c', arch: 'amd64' }],
        facts: undefined,
      },
      inventoryHash,
      at,
    );
    expect(result).toEqual({ added: 1, removed: 1, changed: 1 });
    expect(inventoryHash(await stores.inventory.packagesOf(h.id))).toBe(inventoryHash(after));
    expect((await stores.hosts.get(h.id))?.packageCount).toBe(3);
  });

  it('rolls a delta back entirely when the base or the resulting hash is wrong', async () => {
    const h = await newHost();
    const before = [pkg('a', '1'), pkg('b', '1')];
    await stores.inventory.replace(h.id, before, inventoryHash(before), undefined, at);
    const delta = { upsert: [pkg('z', '9')], remove: [{ ecosystem: 'dpkg' as const, name: 'a', arch: 'amd64' }], facts: undefined };
    expect(await stores.inventory.applyDelta(h.id, { ...delta, baseHash: 'f'.repeat(64), hash: 'e'.repeat(64) }, inventoryHash, at)).toBe(
      'mismatch',
    );
    expect(
      await stores.inventory.applyDelta(h.id, { ...delta, baseHash: inventoryHash(before), hash: 'e'.repeat(64) }, inventoryHash, at),
    ).toBe('mismatch');
    expect(inventoryHash(await stores.inventory.packagesOf(h.id))).toBe(inventoryHash(before));
    expect((await stores.hosts.get(h.id))?.inventoryHash).toBe(inventoryHash(before));
  });

  it('stores facts from an inventory on the host row', async () => {
    const h = await newHost('facts-before');
    const facts = {
      hostname: 'facts-after',
      os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', codename: 'bookworm', kernel: '6.1.0', arch: 'x64' },
      hardware: { cores: 2 },
      network: [{ name: 'eth0', mac: '52:54:00:12:34:56', ipv4: ['192.0.2.10'], ipv6: [] }],
      agentVersion: '0.1.0',
    };
    await stores.inventory.replace(h.id, [], inventoryHash([]), facts, at);
    const host = await stores.hosts.get(h.id);
    expect(host?.hostname).toBe('facts-after');
    expect(host?.os).toEqual({
      platform: 'linux',
      distro: 'Debian GNU/Linux',
      release: '12',
      codename: 'bookworm',
      kernel: '6.1.0',
      arch: 'x64',
    });
    expect(host?.facts).toEqual(facts);
  });

  it('pages and searches software with SQL metacharacters matched literally', async () => {
    const h = await newHost();
    const packages = [pkg('libfoo', '1'), pkg('lib_bar', '1'), pkg('lib%baz', '1'), pkg("o'reilly", '1'), pkg('back\\slash', '1')];
    await stores.inventory.replace(h.id, packages, inventoryHash(packages), undefined, at);
    const names = async (q: string) => (await stores.hosts.software(h.id, { q, limit: 50, offset: 0 })).items.map((s) => s.name);
    expect(await names('_')).toEqual(['lib_bar']);
    expect(await names('%')).toEqual(['lib%baz']);
    expect(await names("'")).toEqual(["o'reilly"]);
    expect(await names('\\')).toEqual(['back\\slash']);
    expect(await names("' OR 1=1 --")).toEqual([]);
    const page = await stores.hosts.software(h.id, { limit: 2, offset: 2 });
    expect(page.total).toBe(5);
    expect(page.items).toHaveLength(2);
  });

  it('lists hosts filtered by status, online state and hostname text', async () => {
    const tag = `flt${++n}`;
    const a = await newHost(`${tag}-alpha`);
    await newHost(`${tag}-beta`);
    await stores.hosts.setOnline(a.id, true, at);
    const online = await stores.hosts.list({ q: tag, online: true, limit: 10, offset: 0 });
    expect(online.items.map((h) => h.hostname)).toEqual([`${tag}-alpha`]);
    expect((await stores.hosts.list({ q: tag, limit: 10, offset: 0 })).total).toBe(2);
    expect((await stores.hosts.list({ q: `${tag}%`, limit: 10, offset: 0 })).total).toBe(0);
    await stores.hosts.touchLastSeen([a.id], new Date(at.getTime() + 5_000));
    expect((await stores.hosts.get(a.id))?.lastSeenAt?.getTime()).toBe(at.getTime() + 5_000);
    await stores.hosts.markAllOffline(at);
    expect((await stores.hosts.get(a.id))?.online).toBe(false);
  });

  it('deletes a host with its links but keeps the shared catalogue', async () => {
    const h = await newHost();
    const packages = [pkg('shared-thing', '1')];
    await stores.inventory.replace(h.id, packages, inventoryHash(packages), undefined, at);
    expect(await stores.hosts.delete(h.id)).toBe(true);
    expect(await stores.hosts.get(h.id)).toBeUndefined();
    expect(await stores.inventory.packagesOf(h.id)).toEqual([]);
  });

  it('records and lists audit entries newest first', async () => {
    await stores.audit.record({ actor: 'admin', action: `test.first${++n}`, at });
    await stores.audit.record({ actor: 'admin', action: `test.second${n}`, target: 'x', detail: { k: 1 }, at });
    const page = await stores.audit.list({ limit: 2, offset: 0 });
    expect(page.items.map((e) => e.action)).toEqual([`test.second${n}`, `test.first${n}`]);
    expect(page.items[0]?.detail).toEqual({ k: 1 });
  });

  it('ingests a 20,000-package inventory in bulk statements', async () => {
    const h = await newHost();
    const packages = Array.from({ length: 20_000 }, (_, i) => pkg(`bulk-${i}`, `${i}.0-1`));
    expect(await stores.inventory.replace(h.id, packages, inventoryHash(packages), undefined, at)).toEqual({
      added: 20_000,
      removed: 0,
      changed: 0,
    });
    expect((await stores.hosts.get(h.id))?.packageCount).toBe(20_000);
  });

  it("replaces a host's pending updates and aggregates the fleet patch catalogue", async () => {
    const a = await newHost();
    const b = await newHost();
    const up = (name: string, candidateVersion: string, security: boolean, extra: Partial<PendingUpdate> = {}): PendingUpdate => ({
      ecosystem: 'dpkg',
      manager: 'apt',
      kind: 'package',
      name,
      arch: 'amd64',
      installedVersion: '1',
      candidateVersion,
      security,
      ...extra,
    });
    const tag = `cat${++n}`;
    await stores.patches.replaceForHost(
      a.id,
      [up(`${tag}-ssl`, '3.1', true, { suite: 'bookworm-security', advisories: ['DSA-1', 'CVE-2026-1'] }), up(`${tag}-vim`, '9.1', false)],
      at,
    );
    await stores.patches.replaceForHost(b.id, [up(`${tag}-ssl`, '3.1', false, { suite: 'bookworm', advisories: ['CVE-2026-2'] })], at);
    const page = await stores.patches.catalogue({ q: tag, limit: 10, offset: 0 });
    expect(page.total).toBe(2);
    expect(page.items[0]).toMatchObject({
      name: `${tag}-ssl`,
      security: true,
      hostCount: 2,
      advisories: ['CVE-2026-1', 'CVE-2026-2', 'DSA-1'],
      suites: ['bookworm', 'bookworm-security'],
    });
    expect(page.items[1]).toMatchObject({ name: `${tag}-vim`, security: false, hostCount: 1, advisories: [] });
    expect((await stores.patches.catalogue({ q: tag, security: true, limit: 10, offset: 0 })).items.map((i) => i.name)).toEqual([
      `${tag}-ssl`,
    ]);
    expect((await stores.patches.catalogue({ q: tag, limit: 10, offset: 5 })).total).toBe(2);
    expect((await stores.patches.hostsNeeding('dpkg', `${tag}-ssl`, '3.1')).sort()).toEqual([a.id, b.id].sort());

    await stores.patches.replaceForHost(a.id, [], at);
    const forA = await stores.patches.forHost(a.id);
    expect(forA?.updates).toEqual([]);
    expect(forA?.updatesAt?.getTime()).toBe(at.getTime());
    expect((await stores.patches.catalogue({ q: tag, limit: 10, offset: 0 })).items.map((i) => [i.name, i.hostCount])).toEqual([
      [`${tag}-ssl`, 1],
    ]);
    expect(await stores.patches.forHost('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect((await stores.patches.catalogue({ q: "' OR 1=1 --", limit: 10, offset: 0 })).total).toBe(0);
  });
});
