import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HostFacts, PackageEntry } from '@brier/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../store/db.js';
import { createStores, type Stores } from '../store/index.js';
import { detectFeedKind, readFeed } from './feeds/index.js';
import { createVulnsService, type VulnsService } from './vulns-service.js';

const START = new Date('2026-11-27T10:00:00.000Z');
const HOUR = 3_600_000;

let database: Database;
let stores: Stores;
let dir: string;
let n = 0;

beforeAll(async () => {
  database = await openDatabase({});
  stores = createStores(database.db);
  dir = mkdtempSync(path.join(tmpdir(), 'brier-vulns-'));
});
afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

function facts(distro: string, release: string, codename?: string): HostFacts {
  return {
    hostname: `h${n}`,
    os: { platform: 'linux', distro, release, ...(codename ? { codename } : {}) },
    hardware: {},
    network: [],
    agentVersion: 'test',
  };
}

function pkg(name: string, version: string, source?: string, sourceVersion?: string): PackageEntry {
  return { ecosystem: 'dpkg', name, version, arch: 'amd64', ...(source ? { source, sourceVersion: sourceVersion ?? version } : {}) };
}

async function host(packages: PackageEntry[], os = facts('Debian GNU/Linux', '12', 'bookworm')) {
  const h = await stores.hosts.create({
    hostname: `h${++n}`,
    publicKey: `pk-${randomUUID()}`,
    status: 'approved',
    enrollmentTokenId: null,
    at: START,
  });
  await stores.inventory.replace(h.id, packages, `hash-${n}`, os, START);
  return h.id;
}

/** An OSV record for a Debian source package (the shape osv.dev publishes for DEBIAN-CVE-…). */
function osv(id: string, name: string, events: Record<string, string>[], extra: Record<string, unknown> = {}) {
  return {
    schema_version: '1.6.0',
    id,
    modified: '2026-11-01T00:00:00Z',
    aliases: [id.replace(/^DEBIAN-/, '')],
    affected: [{ package: { ecosystem: 'Debian:12', name }, ranges: [{ type: 'ECOSYSTEM', events }] }],
    ...extra,
  };
}

function feed(name: string, records: unknown[]): string {
  const file = path.join(dir, `${name}-${++n}.json`);
  writeFileSync(file, JSON.stringify(records));
  return file;
}

let clock: { now: Date };
let vulns: VulnsService;

beforeEach(() => {
  clock = { now: new Date(START) };
  vulns = createVulnsService({
    store: stores.vulns,
    audit: stores.audit,
    now: () => new Date(clock.now),
    readFeed: (kind, location, opts) => readFeed(kind, location, opts),
    detectFeedKind,
  });
});

describe('the vulnerability service', () => {
  it('imports OSV records, matches them by source package, and explains every finding', async () => {
    const pkgName = `ssl${++n}`;
    const vulnerable = await host([pkg(`lib${pkgName}`, '3.0.11-1~deb12u2', pkgName), pkg('bash', '5.2.15-2+b2', 'bash', '5.2.15-2')]);
    const patched = await host([pkg(`lib${pkgName}`, '3.0.13-1~deb12u1', pkgName)]);
    const otherRelease = await host([pkg(`lib${pkgName}`, '3.0.11-1~deb12u2', pkgName)], facts('Debian GNU/Linux', '11', 'bullseye'));
    const id = `DEBIAN-CVE-2099-${n}`;
    const result = await vulns.importFeed(
      'alice',
      'osv',
      feed('a', [
        osv(id, pkgName, [{ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' }], {
          severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
        }),
      ]),
    );
    expect(result).toMatchObject({ read: 1, stored: 1, unchanged: 0, rejected: 0, findings: { opened: 1 } });

    const findings = await vulns.hostFindings(vulnerable);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      advisoryId: id,
      packageName: `lib${pkgName}`,
      installedVersion: '3.0.11-1~deb12u2',
      fixedVersion: '3.0.13-1~deb12u1',
      severity: 'critical',
      riskTier: 3,
      firstSeenAt: START,
      // Critical on the default tier 3: 72 hours.
      dueAt: new Date(START.getTime() + 72 * HOUR),
      explanation: { decision: 'introduced 0; dpkg: 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1 (fixed)', matchedBy: 'source', package: pkgName },
    });
    expect(await vulns.hostFindings(patched)).toEqual([]);
    expect(await vulns.hostFindings(otherRelease)).toEqual([]);

    const listed = await vulns.list({ id, limit: 10, offset: 0 });
    expect(listed.items).toEqual([
      expect.objectContaining({ id, hostCount: 1, severity: 'critical', aliases: [id.replace('DEBIAN-', '')] }),
    ]);
    // By alias too.
    expect((await vulns.list({ id: id.replace('DEBIAN-', ''), limit: 10, offset: 0 })).total).toBe(1);

    const explained = await vulns.explain(patched, id);
    expect(explained.findings).toEqual([]);
    expect(explained.notAffected).toEqual([
      expect.objectContaining({
        package: `lib${pkgName}`,
        installedVersion: '3.0.13-1~deb12u1',
        reason: expect.stringContaining('outside the affected range'),
      }),
    ]);
  });

  it('is idempotent: importing the same records again stores nothing and changes no finding', async () => {
    const name = `idem${++n}`;
    const h = await host([pkg(name, '1.0-1', name)]);
    const file = feed('b', [osv(`DEBIAN-CVE-2098-${n}`, name, [{ introduced: '0' }, { fixed: '1.0-2' }])]);
    await vulns.importFeed('alice', 'osv', file);
    const before = await vulns.hostFindings(h);
    clock.now = new Date(START.getTime() + HOUR);
    const again = await vulns.importFeed('alice', 'osv', file);
    expect(again).toMatchObject({ read: 1, stored: 0, unchanged: 1, findings: { opened: 0, closed: 0 } });
    expect(await vulns.hostFindings(h)).toEqual(before);
  });

  it('closes a finding when a newer edition of the record moves the fix below the installed version, and when a record is withdrawn', async () => {
    const name = `upd${++n}`;
    const h = await host([pkg(name, '1.5-1', name)]);
    const id = `DEBIAN-CVE-2097-${n}`;
    await vulns.importFeed('alice', 'osv', feed('c', [osv(id, name, [{ introduced: '0' }, { fixed: '2.0-1' }])]));
    expect(await vulns.hostFindings(h)).toHaveLength(1);
    // An older edition arriving later changes nothing.
    const older = await vulns.importFeed(
      'alice',
      'osv',
      feed('c', [osv(id, name, [{ introduced: '0' }], { modified: '2026-10-01T00:00:00Z' })]),
    );
    expect(older).toMatchObject({ stored: 0, unchanged: 1 });
    clock.now = new Date(START.getTime() + 2 * HOUR);
    const newer = await vulns.importFeed(
      'alice',
      'osv',
      feed('c', [osv(id, name, [{ introduced: '0' }, { fixed: '1.2-1' }], { modified: '2026-11-20T00:00:00Z' })]),
    );
    expect(newer).toMatchObject({ stored: 1, findings: { closed: 1 } });
    const all = await vulns.hostFindings(h, { includeClosed: true });
    expect(all).toEqual([expect.objectContaining({ closedReason: 'remediated', closedAt: clock.now })]);

    const id2 = `DEBIAN-CVE-2096-${n}`;
    await vulns.importFeed('alice', 'osv', feed('c', [osv(id2, name, [{ introduced: '0' }])]));
    expect(await vulns.hostFindings(h)).toHaveLength(1);
    const withdrawn = await vulns.importFeed(
      'alice',
      'osv',
      feed('c', [osv(id2, name, [{ introduced: '0' }], { modified: '2026-11-21T00:00:00Z', withdrawn: '2026-11-21T00:00:00Z' })]),
    );
    expect(withdrawn, JSON.stringify(withdrawn)).toMatchObject({ withdrawn: 1, findings: { closed: 1 } });
    expect(await vulns.hostFindings(h)).toEqual([]);
  });

  it('follows inventory changes: an upgrade past the fix closes the finding, a downgrade reopens it with a new first-seen time', async () => {
    const name = `inv${++n}`;
    const h = await host([pkg(name, '1.0-1', name)]);
    await vulns.importFeed('alice', 'osv', feed('d', [osv(`DEBIAN-CVE-2095-${n}`, name, [{ introduced: '0' }, { fixed: '1.0-2' }])]));
    expect(await vulns.hostFindings(h)).toHaveLength(1);
    clock.now = new Date(START.getTime() + 5 * HOUR);
    await stores.inventory.replace(h, [pkg(name, '1.0-2', name)], 'x1', undefined, clock.now);
    vulns.inventoryChanged(h);
    await vulns.idle();
    expect(await vulns.hostFindings(h)).toEqual([]);
    clock.now = new Date(START.getTime() + 9 * HOUR);
    await stores.inventory.replace(h, [pkg(name, '1.0-1', name)], 'x2', undefined, clock.now);
    await vulns.rematchHosts([h]);
    expect(await vulns.hostFindings(h)).toEqual([expect.objectContaining({ firstSeenAt: clock.now })]);
  });

  it('sets due dates from the SLA matrix and the host tier (critical on tier 5: 24 h), and lists overdue findings', async () => {
    const name = `sla${++n}`;
    const h = await host([pkg(name, '1.0-1', name)]);
    await vulns.setHostTier('alice', h, { riskTier: 5, site: 'berlin' });
    const id = `DEBIAN-CVE-2094-${n}`;
    await vulns.importFeed(
      'alice',
      'osv',
      feed('e', [
        osv(id, name, [{ introduced: '0' }], {
          severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
        }),
      ]),
    );
    const [f] = await vulns.hostFindings(h);
    expect(f).toMatchObject({ riskTier: 5, site: 'berlin', dueAt: new Date(START.getTime() + 24 * HOUR) });
    clock.now = new Date(START.getTime() + 25 * HOUR);
    const overdue = await vulns.overdue(100, 0);
    expect(overdue.items.some((o) => o.hostId === h)).toBe(true);
    const overdueList = await vulns.list({ overdue: true, limit: 100, offset: 0 });
    expect(
      overdueList.items.map((v) => v.id),
      JSON.stringify(overdueList),
    ).toContain(id);
    // A tighter matrix moves the due date of open findings.
    const matrix = structuredClone(await vulns.getSla()) as Record<string, Record<string, number>>;
    matrix.critical!['5'] = 12;
    await vulns.setSla('admin', matrix);
    expect((await vulns.hostFindings(h))[0]?.dueAt).toEqual(new Date(START.getTime() + 12 * HOUR));
    await vulns.setSla('admin', { ...matrix, critical: { ...matrix.critical, '5': 24 } });
  });

  it('refuses a bad SLA matrix and a bad tier, changing nothing', async () => {
    const before = await vulns.getSla();
    await expect(vulns.setSla('admin', { critical: { 5: -1 } })).rejects.toMatchObject({ code: 'bad_request' });
    expect(await vulns.getSla()).toEqual(before);
    const h = await host([]);
    await expect(vulns.setHostTier('alice', h, { riskTier: 9 })).rejects.toMatchObject({ code: 'bad_request' });
    expect((await vulns.hostAttributes(h)).riskTier).toBeNull();
  });

  it('plans a remediation for exactly the affected hosts, with the fixed versions', async () => {
    const name = `rem${++n}`;
    const a = await host([pkg(`lib${name}`, '1.0-1', name), pkg(`${name}-bin`, '1.0-1', name)]);
    const b = await host([pkg(`lib${name}`, '1.1-1', name)]);
    await host([pkg(`lib${name}`, '2.0-1', name)]);
    const id = `DEBIAN-CVE-2093-${n}`;
    await vulns.importFeed('alice', 'osv', feed('f', [osv(id, name, [{ introduced: '0' }, { fixed: '2.0-1' }])]));
    const plan = await vulns.remediationPlan(id);
    expect(plan.hostIds).toEqual([a, b].sort());
    expect(plan.packages).toEqual([
      { name: `lib${name}`, fixedVersion: '2.0-1' },
      { name: `${name}-bin`, fixedVersion: '2.0-1' },
    ]);
    await expect(vulns.remediationPlan('CVE-0000-0000')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('skips and counts records that fail the OSV schema, importing the rest whole', async () => {
    const name = `bad${++n}`;
    const result = await vulns.importFeed(
      'alice',
      'osv',
      feed('g', [
        osv(`DEBIAN-CVE-2092-${n}`, name, [{ introduced: '0' }]),
        { id: 'BROKEN-1', modified: 'yesterday' },
        { ...osv(`DEBIAN-CVE-2091-${n}`, name, [{ introduced: '0' }]), affected: 'lots' },
      ]),
    );
    expect(result).toMatchObject({ read: 3, stored: 1, rejected: 2 });
    expect(result.rejections).toHaveLength(2);
  });

  it('merges a Debian tracker CVE that touches several source packages into one record', async () => {
    const [p1, p2] = [`trk${++n}a`, `trk${n}b`];
    const h = await host([pkg(p1, '1.0-1', p1), pkg(p2, '1.0-1', p2)]);
    const cve = `CVE-2090-${n}`;
    const tracker = {
      [p1]: {
        [cve]: {
          description: 'x',
          releases: { bookworm: { status: 'resolved', fixed_version: '1.0-2', urgency: 'high', repositories: {} } },
        },
      },
      other: { 'CVE-2000-0001': { releases: { bookworm: { status: 'resolved', fixed_version: '0', urgency: 'low', repositories: {} } } } },
      [p2]: { [cve]: { description: 'x', releases: { bookworm: { status: 'open', urgency: 'medium', repositories: {} } } } },
    };
    const file = path.join(dir, `tracker-${n}.json`);
    writeFileSync(file, JSON.stringify(tracker));
    const result = await vulns.importFile('alice', 'auto', file, 'tracker.json');
    expect(result.kind).toBe('debian-tracker');
    const findings = await vulns.hostFindings(h);
    expect(findings.map((f) => [f.advisoryId, f.packageName, f.fixedVersion]).sort()).toEqual([
      [cve, p1, '1.0-2'],
      [cve, p2, null],
    ]);
    const again = await vulns.importFile('alice', 'auto', file, 'tracker.json');
    expect(again).toMatchObject({ stored: 0 });
  });
});
