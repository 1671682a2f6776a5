import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Advisory, AffectedPackage, FeedItem } from '../../model.js';
import { FeedError } from '../feed-error.js';
import { DEBIAN_RELEASES, debianEcosystem } from './debian-releases.js';
import { newDebianTrackerStats, type ReadDebianTrackerOptions, readDebianTracker } from './debian-tracker.js';

const SAMPLE = fileURLToPath(new URL('../../../../../../test/oracles/debian-security-tracker/vunnel-debian.json', import.meta.url));
const MODIFIED = '2025-06-01T12:00:00.000Z';

async function collect(items: AsyncIterable<FeedItem>): Promise<FeedItem[]> {
  const out: FeedItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function advisories(input: Readable | string, opts: ReadDebianTrackerOptions = {}): Promise<Advisory[]> {
  const items = await collect(readDebianTracker(input, { modified: MODIFIED, ...opts }));
  return items.map((item) => {
    if (item.kind !== 'advisory') throw new Error(`unexpected rejection: ${item.where}: ${item.reason}`);
    return item.advisory;
  });
}

function find(list: Advisory[], id: string): Advisory {
  const found = list.find((a) => a.id === id);
  if (!found) throw new Error(`no advisory ${id}`);
  return found;
}

function release(a: Advisory, ecosystem: string): AffectedPackage | undefined {
  return a.affected.find((p) => p.ecosystem === ecosystem);
}

/** A tracker document from JS values, as a stream. */
function tracker(doc: unknown): Readable {
  return Readable.from([Buffer.from(JSON.stringify(doc))]);
}

describe('readDebianTracker on the vunnel sample', () => {
  it('yields one advisory per (package, issue), stamped with the import time', async () => {
    const stats = newDebianTrackerStats();
    const list = await advisories(SAMPLE, { stats });
    expect(list.map((a) => `${a.affected[0]?.name ?? '-'} ${a.id}`)).toEqual([
      'prototypejs CVE-2008-7220',
      '- CVE-2007-2383',
      'txt2man CVE-2013-1444',
      'backupninja CVE-2005-3111',
      'chromium CVE-2022-0456',
      'sope CVE-2025-53603',
      '- CVE-2022-0358',
    ]);
    for (const a of list) {
      expect(a).toMatchObject({ source: 'debian-tracker', aliases: [], modified: MODIFIED });
      for (const p of a.affected) expect(p.keyedBy).toBe('source');
    }
    expect(stats).toEqual({ packages: 6, advisories: 7, rejected: 0, notAffected: 4, skipped: {} });
  });

  it('maps a resolved release to introduced 0, fixed, with the raw urgency (prototypejs CVE-2008-7220)', async () => {
    const a = find(await advisories(SAMPLE), 'CVE-2008-7220');
    expect(a.summary).toMatch(/^Unspecified vulnerability in Prototype JavaScript framework/);
    expect(a.severity).toEqual([{ type: 'DEBIAN_URGENCY', score: 'high**' }]);
    expect(a.affected.map((p) => p.ecosystem)).toEqual(['Debian:9', 'Debian:8', 'Debian:10', 'Debian:unstable']);
    expect(release(a, 'Debian:8')).toEqual({
      ecosystem: 'Debian:8',
      name: 'prototypejs',
      keyedBy: 'source',
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.6.0.2-1' }] }],
      versions: [],
      severity: [{ type: 'DEBIAN_URGENCY', score: 'high**' }],
    });
  });

  it('omits releases fixed in version "0" (never affected): CVE-2007-2383 affects nothing', async () => {
    expect(find(await advisories(SAMPLE), 'CVE-2007-2383').affected).toEqual([]);
  });

  it('maps txt2man and backupninja with their own urgencies', async () => {
    const list = await advisories(SAMPLE);
    expect(release(find(list, 'CVE-2013-1444'), 'Debian:10')?.ranges[0]?.events).toEqual([{ introduced: '0' }, { fixed: '1.5.5-4.1' }]);
    expect(find(list, 'CVE-2013-1444').severity).toEqual([{ type: 'DEBIAN_URGENCY', score: 'low**' }]);
    expect(find(list, 'CVE-2005-3111').severity).toEqual([{ type: 'DEBIAN_URGENCY', score: 'medium' }]);
    expect(release(find(list, 'CVE-2005-3111'), 'Debian:unstable')?.ranges[0]?.events).toEqual([{ introduced: '0' }, { fixed: '0.8-2' }]);
  });

  it('marks end-of-life releases (chromium CVE-2022-0456: buster, stretch) with no fix and no urgency', async () => {
    const a = find(await advisories(SAMPLE), 'CVE-2022-0456');
    expect(a.summary).toBeUndefined();
    expect(release(a, 'Debian:10')).toEqual({
      ecosystem: 'Debian:10',
      name: 'chromium',
      keyedBy: 'source',
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
      versions: [],
      endOfLife: true,
    });
    expect(release(a, 'Debian:9')?.endOfLife).toBe(true);
    expect(release(a, 'Debian:11')?.ranges[0]?.events).toEqual([{ introduced: '0' }, { fixed: '98.0.4758.80-1~deb11u1' }]);
    expect(release(a, 'Debian:11')?.endOfLife).toBeUndefined();
    expect(release(a, 'Debian:12')?.ranges[0]?.events).toEqual([{ introduced: '0' }, { fixed: '98.0.4758.80-1' }]);
    expect(a.severity).toEqual([{ type: 'DEBIAN_URGENCY', score: 'not yet assigned' }]);
  });

  it('maps sope CVE-2025-53603 for bookworm, bullseye, trixie and sid', async () => {
    const a = find(await advisories(SAMPLE), 'CVE-2025-53603');
    expect(a.affected.map((p) => [p.ecosystem, p.ranges[0]?.events[1]])).toEqual([
      ['Debian:12', { fixed: '5.8.0-1+deb12u1' }],
      ['Debian:11', { fixed: '5.0.1-2+deb11u1' }],
      ['Debian:unstable', { fixed: '5.12.1-2' }],
      ['Debian:13', { fixed: '5.12.1-2' }],
    ]);
  });

  it('reads `"releases": []` (chromium-browser) as an issue with no affected release', async () => {
    expect(find(await advisories(SAMPLE), 'CVE-2022-0358')).toEqual({
      source: 'debian-tracker',
      id: 'CVE-2022-0358',
      aliases: [],
      modified: MODIFIED,
      severity: [],
      affected: [],
    });
  });

  it('reads the same from a Readable as from a path', async () => {
    expect(await advisories(createReadStream(SAMPLE))).toEqual(await advisories(SAMPLE));
  });
});

describe('readDebianTracker release semantics', () => {
  async function one(releases: Record<string, unknown>, stats = newDebianTrackerStats()): Promise<Advisory> {
    const [a] = await advisories(tracker({ pkg: { 'CVE-2024-0001': { releases } } }), { stats });
    if (!a) throw new Error('no advisory');
    return a;
  }

  it('maps open and undetermined without a fix to introduced 0 only', async () => {
    const a = await one({ bookworm: { status: 'open', urgency: 'low' }, trixie: { status: 'undetermined', fixed_version: '' } });
    expect(a.affected.map((p) => [p.ecosystem, p.ranges[0]?.events, p.endOfLife])).toEqual([
      ['Debian:12', [{ introduced: '0' }], undefined],
      ['Debian:13', [{ introduced: '0' }], undefined],
    ]);
  });

  it('keeps the fixed version of an open release (fix known, not yet in the archive)', async () => {
    const a = await one({ bookworm: { status: 'open', fixed_version: '1.2-3+deb12u1', urgency: 'medium' } });
    expect(a.affected[0]?.ranges[0]?.events).toEqual([{ introduced: '0' }, { fixed: '1.2-3+deb12u1' }]);
  });

  it('reads the data/CVE/list markers wherever they appear', async () => {
    const stats = newDebianTrackerStats();
    const a = await one(
      {
        bullseye: { status: 'resolved', fixed_version: '<not-affected>' },
        bookworm: { status: 'open', fixed_version: '<unfixed>', urgency: 'unimportant' },
        trixie: { status: 'resolved', fixed_version: '<removed>' },
        buster: { status: 'open', fixed_version: '<end-of-life>' },
        stretch: { status: '<end-of-life>' },
        forky: { status: 'open', urgency: 'low', nodsa: 'Minor issue', nodsa_reason: 'postponed' },
        sid: { status: 'not-affected' },
        jessie: { status: 'open', fixed_version: '<ignored>' },
      },
      stats,
    );
    expect(a.affected.map((p) => `${p.ecosystem} ${JSON.stringify(p.ranges[0]?.events)}${p.endOfLife ? ' eol' : ''}`)).toEqual([
      'Debian:12 [{"introduced":"0"}]',
      'Debian:13 [{"introduced":"0"}]',
      'Debian:10 [{"introduced":"0"}] eol',
      'Debian:9 [{"introduced":"0"}] eol',
      'Debian:14 [{"introduced":"0"}]',
      'Debian:8 [{"introduced":"0"}]',
    ]);
    expect(stats.notAffected).toBe(2);
    expect(a.severity).toEqual([
      { type: 'DEBIAN_URGENCY', score: 'unimportant' },
      { type: 'DEBIAN_URGENCY', score: 'low' },
    ]);
  });

  it('skips and counts unknown codenames, fixless resolutions and unknown statuses', async () => {
    const stats = newDebianTrackerStats();
    const a = await one(
      {
        experimental: { status: 'open' },
        'bookworm-security': { status: 'open' },
        bookworm: { status: 'resolved' },
        trixie: { status: 'frozen' },
        forky: 'resolved',
        sid: { status: 'open', urgency: 'high' },
      },
      stats,
    );
    expect(a.affected.map((p) => p.ecosystem)).toEqual(['Debian:unstable']);
    expect(stats.skipped).toEqual({
      'unknown release: experimental': 1,
      'unknown release: bookworm-security': 1,
      'resolved without a fixed version': 1,
      'unknown status: frozen': 1,
      'release entry is not an object': 1,
    });
  });

  it('keeps TEMP- and DSA- keyed issues under their own ids', async () => {
    const list = await advisories(
      tracker({ pkg: { 'TEMP-0000000-ABCDEF': { releases: { bookworm: { status: 'open' } } }, 'DSA-5000-1': { releases: {} } } }),
    );
    expect(list.map((a) => a.id)).toEqual(['TEMP-0000000-ABCDEF', 'DSA-5000-1']);
  });

  it('rejects entries of the wrong shape and goes on', async () => {
    const stats = newDebianTrackerStats();
    const items = await collect(
      readDebianTracker(
        tracker({
          notes: 'a string where a package should be',
          list: [1, [2, { x: 3 }]],
          pkg: {
            'CVE-2024-0001': 'not an object',
            'CVE-2024-0002': { releases: ['bookworm'] },
            'CVE-2024-0003': { releases: { bookworm: { status: 'open' } } },
          },
        }),
        { modified: MODIFIED, stats },
      ),
    );
    expect(items.map((i) => (i.kind === 'advisory' ? `ok ${i.advisory.id}` : `rejected ${i.where}: ${i.reason}`))).toEqual([
      'rejected notes: the package entry is not an object of issues',
      'rejected list: the package entry is not an object of issues',
      'rejected pkg/CVE-2024-0001: the issue entry is not an object',
      'rejected pkg/CVE-2024-0002: `releases` is not an object of codenames',
      'ok CVE-2024-0003',
    ]);
    expect(items[2]).toMatchObject({ id: 'CVE-2024-0001' });
    expect(stats).toMatchObject({ packages: 1, advisories: 1, rejected: 4 });
  });

  it('refuses a `modified` that is not a date', async () => {
    await expect(collect(readDebianTracker(tracker({}), { modified: 'yesterday' }))).rejects.toThrow('modified is not a date: yesterday');
  });

  it('defaults `modified` to the time the read starts', async () => {
    const before = Date.now();
    const [item] = await collect(readDebianTracker(tracker({ pkg: { 'CVE-2024-0001': { releases: {} } } })));
    const modified = item?.kind === 'advisory' ? Date.parse(item.advisory.modified) : Number.NaN;
    expect(modified).toBeGreaterThanOrEqual(before - 1000);
    expect(modified).toBeLessThanOrEqual(Date.now() + 1000);
  });
});

describe('readDebianTracker on bad input', () => {
  it('refuses a top level that is not an object of packages', async () => {
    await expect(collect(readDebianTracker(tracker([{ pkg: {} }])))).rejects.toMatchObject({
      code: 'feed-format',
      message: 'debian-tracker: the top level is not an object of source packages',
    });
  });

  it('refuses malformed and truncated JSON with feed-format and a cause', async () => {
    const error = await collect(readDebianTracker(Readable.from([Buffer.from('{"pkg": {"CVE-1": {"releases": {]]')]))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FeedError);
    expect(error).toMatchObject({
      code: 'feed-format',
      message: expect.stringContaining('not valid tracker JSON'),
      cause: expect.anything(),
    });
    await expect(collect(readDebianTracker(Readable.from([Buffer.from('{"pkg": {"CVE-1": {"releases": {}}}')])))).rejects.toMatchObject({
      code: 'feed-format',
    });
  });

  it('refuses a missing file with feed-unreachable', async () => {
    await expect(collect(readDebianTracker('/nonexistent/brier/tracker.json'))).rejects.toMatchObject({
      code: 'feed-unreachable',
      message: expect.stringContaining('ENOENT'),
    });
  });

  it('stops with feed-too-large past maxBytes', async () => {
    await expect(collect(readDebianTracker(SAMPLE, { maxBytes: 1000 }))).rejects.toMatchObject({ code: 'feed-too-large' });
  });
});

describe('readDebianTracker on a large file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brier-tracker-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams a generated 20 MB tracker file entry by entry', async () => {
    const file = join(dir, 'tracker.json');
    const out = createWriteStream(file);
    const packages = 1000;
    const perPackage = 50;
    out.write('{');
    for (let p = 0; p < packages; p++) {
      const issues: string[] = [];
      for (let c = 0; c < perPackage; c++) {
        const entry = {
          scope: 'remote',
          debianbug: 1000000 + c,
          description: `Generated issue ${c} in package ${p}, long enough to look like a real description of a flaw.`,
          releases: {
            bookworm: {
              status: 'resolved',
              repositories: { bookworm: '1.0-1', 'bookworm-security': '1.0-1+deb12u1' },
              fixed_version: '1.0-1+deb12u1',
              urgency: 'medium',
            },
            trixie: { status: 'open', repositories: { trixie: '1.1-1' }, urgency: 'low**' },
            sid: { status: 'resolved', repositories: { sid: '1.2-1' }, fixed_version: '1.2-1', urgency: 'medium' },
          },
        };
        issues.push(`${JSON.stringify(`CVE-2024-${String(p * perPackage + c).padStart(6, '0')}`)}:${JSON.stringify(entry)}`);
      }
      if (!out.write(`${p ? ',' : ''}${JSON.stringify(`package-${p}`)}:{${issues.join(',')}}`)) {
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
    }
    out.end('}');
    await finished(out);
    expect((await stat(file)).size).toBeGreaterThan(20 * 1024 * 1024);

    const stats = newDebianTrackerStats();
    let count = 0;
    let last: Advisory | undefined;
    for await (const item of readDebianTracker(file, { modified: MODIFIED, stats })) {
      if (item.kind !== 'advisory') throw new Error(item.reason);
      count += 1;
      last = item.advisory;
    }
    expect(count).toBe(packages * perPackage);
    expect(stats).toMatchObject({ packages, advisories: packages * perPackage, rejected: 0 });
    expect(last?.id).toBe('CVE-2024-049999');
    expect(last?.affected.map((p) => `${p.name} ${p.ecosystem}`)).toEqual([
      'package-999 Debian:12',
      'package-999 Debian:13',
      'package-999 Debian:unstable',
    ]);
  });
});

describe('the Debian release table', () => {
  it('maps the codenames Brier must know, sid to unstable, and nothing else', () => {
    expect(['jessie', 'stretch', 'buster', 'bullseye', 'bookworm', 'trixie', 'forky'].map(debianEcosystem)).toEqual([
      'Debian:8',
      'Debian:9',
      'Debian:10',
      'Debian:11',
      'Debian:12',
      'Debian:13',
      'Debian:14',
    ]);
    expect(debianEcosystem('sid')).toBe('Debian:unstable');
    expect(debianEcosystem('buzz')).toBe('Debian:1.1');
    expect(debianEcosystem('experimental')).toBeUndefined();
    expect(debianEcosystem('toString')).toBeUndefined();
    expect(Object.isFrozen(DEBIAN_RELEASES)).toBe(true);
  });
});
