import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FeedItem } from '../model.js';
import { detectFeedKind, newDebianTrackerStats, readFeed } from './index.js';
import { buildZip } from './osv/__fixtures__/test-zip.js';

const ORACLES = new URL('../../../../../test/oracles/', import.meta.url);
const TRACKER = fileURLToPath(new URL('debian-security-tracker/vunnel-debian.json', ORACLES));
const LINTER_DIR = fileURLToPath(new URL('osv-schema/osv-linter-testdata/', ORACLES));
const OSV_RECORD = fileURLToPath(new URL('osv-schema/osv-linter-testdata/CVE-2018-5407.json', ORACLES));

async function collect(items: AsyncIterable<FeedItem>): Promise<FeedItem[]> {
  const out: FeedItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'brier-feeds-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('detectFeedKind', () => {
  it('recognises the Debian tracker sample by its package → issue shape', async () => {
    expect(await detectFeedKind(TRACKER)).toBe('debian-tracker');
  });

  it('calls OSV records, arrays, directories, zips and junk osv', async () => {
    const dbFirst = join(dir, 'db-first.json');
    await writeFile(dbFirst, JSON.stringify({ database_specific: { anything: {} }, id: 'GHSA-1', modified: '2024-01-01T00:00:00Z' }));
    const array = join(dir, 'array.json');
    await writeFile(array, '[{"pkg": {}}]');
    const zip = join(dir, 'all.zip');
    await writeFile(zip, buildZip([{ name: 'a.json', data: '{}' }]));
    const nul = join(dir, 'nul.json');
    await writeFile(nul, Buffer.alloc(4096));
    for (const source of [OSV_RECORD, dbFirst, array, zip, nul, LINTER_DIR]) {
      expect(await detectFeedKind(source)).toBe('osv');
    }
  });

  it('calls a tracker whose first package sits past a long first line a tracker too', async () => {
    const file = join(dir, 'tracker.json');
    await writeFile(file, `{\n${' '.repeat(1000)}"openssl": {"CVE-2024-0001": {"releases": {}}}}`);
    expect(await detectFeedKind(file)).toBe('debian-tracker');
  });

  it('decides URLs by host', async () => {
    expect(await detectFeedKind('https://security-tracker.debian.org/tracker/data/json')).toBe('debian-tracker');
    expect(await detectFeedKind('https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip')).toBe('osv');
  });

  it('fails with feed-unreachable for a missing path', async () => {
    await expect(detectFeedKind(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'feed-unreachable' });
  });
});

describe('readFeed', () => {
  it('dispatches osv sources to the OSV reader', async () => {
    const items = await collect(readFeed('osv', LINTER_DIR));
    expect(items).toHaveLength(12);
    expect(items.filter((i) => i.kind === 'rejected').map((i) => i.id)).toEqual(['CVE-2023-41045', 'CVE-2018-5407']);
  });

  it('dispatches the tracker with its modified time and stats', async () => {
    const stats = newDebianTrackerStats();
    const items = await collect(readFeed('debian-tracker', TRACKER, { modified: new Date('2025-01-01T00:00:00Z'), stats }));
    expect(items).toHaveLength(7);
    expect(items[0]).toMatchObject({
      kind: 'advisory',
      advisory: { source: 'debian-tracker', id: 'CVE-2008-7220', modified: '2025-01-01T00:00:00.000Z' },
    });
    expect(stats.advisories).toBe(7);
  });

  it('refuses a directory or a missing path as a tracker feed', async () => {
    await expect(collect(readFeed('debian-tracker', dir))).rejects.toMatchObject({ code: 'feed-format' });
    await expect(collect(readFeed('debian-tracker', join(dir, 'missing.json')))).rejects.toMatchObject({ code: 'feed-unreachable' });
  });

  describe('over HTTP', () => {
    let server: Server | undefined;
    afterEach(async () => {
      const running = server;
      server = undefined;
      if (!running) return;
      running.closeAllConnections();
      await new Promise((resolve) => running.close(resolve));
    });

    it('downloads the tracker before streaming it', async () => {
      const body = readFileSync(TRACKER);
      server = createServer((_req, res) => res.end(body));
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tracker/data/json`;
      const items = await collect(readFeed('debian-tracker', url, { modified: '2025-01-01T00:00:00Z' }));
      expect(items.map((i) => (i.kind === 'advisory' ? i.advisory.id : i.reason))).toEqual([
        'CVE-2008-7220',
        'CVE-2007-2383',
        'CVE-2013-1444',
        'CVE-2005-3111',
        'CVE-2022-0456',
        'CVE-2025-53603',
        'CVE-2022-0358',
      ]);
    });

    it('times out on a tracker URL that never answers', async () => {
      server = createServer(() => undefined);
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tracker/data/json`;
      await expect(collect(readFeed('debian-tracker', url, { timeoutMs: 200 }))).rejects.toMatchObject({ code: 'feed-timeout' });
    });
  });
});
