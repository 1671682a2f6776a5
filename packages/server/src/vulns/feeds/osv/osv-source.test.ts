import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FeedItem } from '../../model.js';
import { FeedError } from '../feed-error.js';
import { buildZip } from './__fixtures__/test-zip.js';
import { readOsv } from './osv-source.js';

const GHSA_DIR = fileURLToPath(new URL('../../../../../../test/oracles/osv-schema/ghsa-testdata/', import.meta.url));

async function collect(items: AsyncIterable<FeedItem>): Promise<FeedItem[]> {
  const out: FeedItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function summary(items: FeedItem[]): string[] {
  return items.map((i) => (i.kind === 'advisory' ? `ok ${i.advisory.id}` : `rejected ${i.where}: ${i.reason}`));
}

function osvRecord(id: string, name = 'left-pad'): string {
  return JSON.stringify({
    id,
    modified: '2024-01-02T03:04:05Z',
    affected: [{ package: { ecosystem: 'npm', name }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.1' }] }] }],
  });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'brier-osv-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readOsv from a directory', () => {
  it('reads every *.json below it in sorted order, rejecting only the malformed file', async () => {
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'b', 'GHSA-0002-0002-0002.json'), osvRecord('GHSA-0002-0002-0002'));
    await writeFile(join(dir, 'a.json'), osvRecord('GHSA-0001-0001-0001'));
    await writeFile(join(dir, 'broken.json'), '{"id": "GHSA-0003-0003-0003", "modified": ');
    await writeFile(join(dir, 'c.json'), osvRecord('GHSA-0004-0004-0004'));
    await writeFile(join(dir, 'README.md'), 'not a record');
    const items = await collect(readOsv(dir));
    expect(summary(items)).toEqual([
      'ok GHSA-0001-0001-0001',
      'ok GHSA-0002-0002-0002',
      expect.stringMatching(/^rejected .*broken\.json: malformed JSON: /),
      'ok GHSA-0004-0004-0004',
    ]);
    expect(items[2]).toMatchObject({ where: join(dir, 'broken.json') });
  });

  it('reads the GHSA oracle folder: OSV outputs accepted, GHSA inputs rejected', async () => {
    const items = await collect(readOsv(GHSA_DIR));
    expect(items).toHaveLength(22);
    expect(items.filter((i) => i.kind === 'advisory')).toHaveLength(11);
    expect(items[0]).toMatchObject({ kind: 'rejected', where: join(GHSA_DIR, 'equals_no_patch.json') });
    expect(items[1]).toMatchObject({ kind: 'advisory', advisory: { id: 'GHSA-4g4c-8gqh-m4vm' } });
  });

  it('rejects a huge NUL-filled file by its size without stopping the read', async () => {
    await writeFile(join(dir, 'a-huge.json'), Buffer.alloc(40 * 1024 * 1024));
    await writeFile(join(dir, 'b-small-nul.json'), Buffer.alloc(1024));
    await writeFile(join(dir, 'c.json'), osvRecord('GHSA-0001-0001-0001'));
    const items = await collect(readOsv(dir));
    expect(summary(items)).toEqual([
      `rejected ${join(dir, 'a-huge.json')}: the record is larger than 33554432 bytes`,
      expect.stringMatching(/^rejected .*b-small-nul\.json: malformed JSON: /),
      'ok GHSA-0001-0001-0001',
    ]);
  });

  it('stops with feed-too-large past maxBytes or maxEntries', async () => {
    for (const n of [1, 2, 3]) await writeFile(join(dir, `${n}.json`), osvRecord(`GHSA-000${n}-0000-0000`));
    await expect(collect(readOsv(dir, { maxEntries: 2 }))).rejects.toMatchObject({
      code: 'feed-too-large',
      message: expect.stringContaining('more than 2 records'),
    });
    await expect(collect(readOsv(dir, { maxBytes: 300 }))).rejects.toMatchObject({
      code: 'feed-too-large',
      message: expect.stringContaining('300 bytes'),
    });
  });

  it('reports progress after every item', async () => {
    for (const n of [1, 2]) await writeFile(join(dir, `${n}.json`), osvRecord(`GHSA-000${n}-0000-0000`));
    const seen: { entries: number; bytes: number }[] = [];
    await collect(readOsv(dir, { onProgress: (p) => seen.push(p) }));
    expect(seen.map((p) => p.entries)).toEqual([1, 2]);
    expect(seen[1]?.bytes).toBe(2 * osvRecord('GHSA-0001-0000-0000').length);
  });

  it('fails with feed-unreachable for a path that does not exist', async () => {
    const error = await collect(readOsv(join(dir, 'missing'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeedError);
    expect(error).toMatchObject({ code: 'feed-unreachable', message: expect.stringContaining('ENOENT'), cause: expect.anything() });
  });

  it('throws the abort reason when the signal is aborted', async () => {
    await writeFile(join(dir, 'a.json'), osvRecord('GHSA-0001-0001-0001'));
    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    await expect(collect(readOsv(dir, { signal: controller.signal }))).rejects.toThrow('stop now');
  });
});

describe('readOsv from a .json file', () => {
  it('reads one record', async () => {
    const file = join(dir, 'one.json');
    await writeFile(file, `\n  ${osvRecord('GHSA-0001-0001-0001')}\n`);
    expect(summary(await collect(readOsv(file)))).toEqual(['ok GHSA-0001-0001-0001']);
  });

  it('streams an array of records, rejecting a bad element by its index', async () => {
    const file = join(dir, 'many.json');
    await writeFile(file, `[${osvRecord('GHSA-0001-0001-0001')}, {"id": "GHSA-0002-0002-0002"}, ${osvRecord('GHSA-0003-0003-0003')}]`);
    const items = await collect(readOsv(file));
    expect(summary(items)).toEqual([
      'ok GHSA-0001-0001-0001',
      expect.stringMatching(/^rejected .*many\.json\[1\]: does not match the OSV schema: .*modified/),
      'ok GHSA-0003-0003-0003',
    ]);
    expect(items[1]).toMatchObject({ id: 'GHSA-0002-0002-0002' });
  });

  it('keeps the records before a syntax error in an array and rejects the rest of the file', async () => {
    const file = join(dir, 'cut.json');
    await writeFile(file, `[${osvRecord('GHSA-0001-0001-0001')}, {"id": `);
    expect(summary(await collect(readOsv(file)))).toEqual([
      'ok GHSA-0001-0001-0001',
      expect.stringMatching(/^rejected .*cut\.json: malformed JSON after 1 records: /),
    ]);
  });
});

describe('readOsv from a zip', () => {
  async function zipFile(entries: Parameters<typeof buildZip>[0]): Promise<string> {
    const file = join(dir, 'all.zip');
    await writeFile(file, buildZip(entries));
    return file;
  }

  it('reads one record per *.json entry, stored or deflated, skipping other entries', async () => {
    const file = await zipFile([
      { name: 'GHSA-0001-0001-0001.json', data: osvRecord('GHSA-0001-0001-0001') },
      { name: 'docs/', data: '', method: 'store' },
      { name: 'docs/README.txt', data: 'hello' },
      { name: 'sub/GHSA-0002-0002-0002.json', data: osvRecord('GHSA-0002-0002-0002'), method: 'store' },
    ]);
    const items = await collect(readOsv(file));
    expect(summary(items)).toEqual(['ok GHSA-0001-0001-0001', 'ok GHSA-0002-0002-0002']);
  });

  it('names the zip entry of a rejected record', async () => {
    const file = await zipFile([{ name: 'bad.json', data: '{"id": "GHSA-0001-0001-0001"}' }]);
    expect(await collect(readOsv(file))).toEqual([
      { kind: 'rejected', id: 'GHSA-0001-0001-0001', where: `${file}!bad.json`, reason: expect.stringContaining('OSV schema') },
    ]);
  });

  it('refuses an entry that climbs out with ../, naming it', async () => {
    const file = await zipFile([
      { name: 'ok.json', data: osvRecord('GHSA-0001-0001-0001') },
      { name: '../evil.json', data: osvRecord('GHSA-0002-0002-0002') },
    ]);
    const error = await collect(readOsv(file)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeedError);
    expect(error).toMatchObject({ code: 'feed-unsafe-archive', message: `${file}: refusing entry "../evil.json" (invalid relative path)` });
  });

  it('refuses an entry with an absolute path', async () => {
    const file = await zipFile([{ name: '/etc/cron.d/evil.json', data: '{}' }]);
    await expect(collect(readOsv(file))).rejects.toMatchObject({
      code: 'feed-unsafe-archive',
      message: expect.stringContaining('"/etc/cron.d/evil.json" (absolute path)'),
    });
  });

  it('stops at a zip bomb: 50 MiB of zeros in a few kilobytes', async () => {
    const zeros = Buffer.alloc(50 * 1024 * 1024);
    const file = await zipFile([{ name: 'bomb.json', data: zeros }]);
    await expect(collect(readOsv(file))).rejects.toMatchObject({
      code: 'feed-unsafe-archive',
      message: expect.stringContaining('zip bomb'),
    });
  });

  it('never trusts the header: an entry inflating past its declared size is cut off and rejected', async () => {
    const zeros = Buffer.alloc(50 * 1024 * 1024);
    const file = await zipFile([
      { name: 'liar.json', data: zeros, uncompressedSize: 1000 },
      { name: 'after.json', data: osvRecord('GHSA-0001-0001-0001') },
    ]);
    expect(summary(await collect(readOsv(file)))).toEqual([
      expect.stringMatching(/^rejected .*!liar\.json: corrupt zip entry: too many bytes in the stream/),
      'ok GHSA-0001-0001-0001',
    ]);
  });

  it('applies the configured expansion ratio', async () => {
    // 1.2 MB of one record repeated compresses about 250x: a bomb at the default 100x, fine at 1000x.
    const data = Buffer.from(`[${Array.from({ length: 6000 }, () => osvRecord('GHSA-0001-0001-0001')).join(',')}]`);
    const file = await zipFile([{ name: 'big.json', data }]);
    await expect(collect(readOsv(file))).rejects.toMatchObject({
      code: 'feed-unsafe-archive',
      message: expect.stringContaining('more than 100x'),
    });
    expect(await collect(readOsv(file, { maxExpansionRatio: 1000 }))).toHaveLength(6000);
  });

  it('rejects a corrupt entry (bad deflate data, or a CRC mismatch) and reads the next', async () => {
    const file = await zipFile([
      {
        name: 'garbage.json',
        data: osvRecord('GHSA-0001-0001-0001'),
        compressed: Buffer.from('this is not deflate data at all, not at all'),
      },
      { name: 'crc.json', data: osvRecord('GHSA-0002-0002-0002'), crc32: 12345 },
      { name: 'good.json', data: osvRecord('GHSA-0003-0003-0003') },
    ]);
    expect(summary(await collect(readOsv(file)))).toEqual([
      expect.stringMatching(/^rejected .*!garbage\.json: corrupt zip entry: /),
      `rejected ${file}!crc.json: corrupt zip entry: CRC-32 mismatch`,
      'ok GHSA-0003-0003-0003',
    ]);
  });

  it('stops with feed-too-large past maxBytes of inflated JSON or past maxEntries', async () => {
    const entries = [1, 2, 3].map((n) => ({ name: `${n}.json`, data: osvRecord(`GHSA-000${n}-0000-0000`) }));
    const file = await zipFile(entries);
    await expect(collect(readOsv(file, { maxBytes: 400 }))).rejects.toMatchObject({ code: 'feed-too-large' });
    await expect(collect(readOsv(file, { maxEntries: 2 }))).rejects.toMatchObject({
      code: 'feed-too-large',
      message: expect.stringContaining('3 entries'),
    });
    expect(await collect(readOsv(file, { maxEntries: 3 }))).toHaveLength(3);
  });

  it('fails with feed-format for a truncated archive', async () => {
    const file = join(dir, 'cut.zip');
    const whole = buildZip([{ name: 'a.json', data: osvRecord('GHSA-0001-0001-0001') }]);
    await writeFile(file, whole.subarray(0, whole.length - 30));
    await expect(collect(readOsv(file))).rejects.toMatchObject({
      code: 'feed-format',
      message: expect.stringContaining('not a readable zip archive'),
    });
  });

  it('lets the caller stop early', async () => {
    const file = await zipFile([1, 2, 3].map((n) => ({ name: `${n}.json`, data: osvRecord(`GHSA-000${n}-0000-0000`) })));
    const seen: string[] = [];
    for await (const item of readOsv(file)) {
      if (item.kind === 'advisory') seen.push(item.advisory.id);
      break;
    }
    expect(seen).toEqual(['GHSA-0001-0000-0000']);
  });
});

describe('readOsv from a URL', () => {
  let server: Server | undefined;

  async function serve(handler: RequestListener): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    const running = server;
    server = undefined;
    if (!running) return;
    running.closeAllConnections();
    await new Promise((resolve) => running.close(resolve));
  });

  it('downloads a zip and reads it, naming entries by URL without the query', async () => {
    const zip = buildZip([
      { name: 'GHSA-0001-0001-0001.json', data: osvRecord('GHSA-0001-0001-0001') },
      { name: 'bad.json', data: '{' },
    ]);
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/zip' });
      res.end(zip);
    });
    const items = await collect(readOsv(`${base}/npm/all.zip?token=secret`));
    expect(summary(items)).toEqual([
      'ok GHSA-0001-0001-0001',
      expect.stringMatching(/^rejected http:\/\/127\.0\.0\.1:\d+\/npm\/all\.zip!bad\.json: malformed JSON/),
    ]);
  });

  it('downloads a .json array sent in chunks', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`[${osvRecord('GHSA-0001-0001-0001')},`);
      res.end(`${osvRecord('GHSA-0002-0002-0002')}]`);
    });
    expect(summary(await collect(readOsv(`${base}/records.json`)))).toEqual(['ok GHSA-0001-0001-0001', 'ok GHSA-0002-0002-0002']);
  });

  it('fails with feed-timeout when the server accepts and never answers', async () => {
    const base = await serve(() => {
      // Never responds.
    });
    const error = await collect(readOsv(`${base}/all.zip`, { timeoutMs: 200 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FeedError);
    expect(error).toMatchObject({ code: 'feed-timeout', message: expect.stringContaining('no data for 200 ms') });
  });

  it('fails with feed-timeout when the body stalls after the headers', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
    });
    await expect(collect(readOsv(`${base}/all.json`, { timeoutMs: 200 }))).rejects.toMatchObject({ code: 'feed-timeout' });
  });

  it('fails with feed-unreachable on an HTTP error status', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(404);
      res.end('no');
    });
    await expect(collect(readOsv(`${base}/all.zip`))).rejects.toMatchObject({
      code: 'feed-unreachable',
      message: expect.stringContaining('HTTP 404'),
    });
  });

  it('fails with feed-unreachable when nothing listens', async () => {
    const base = await serve(() => undefined);
    const closing = server;
    server = undefined;
    await new Promise((resolve) => closing?.close(resolve));
    await expect(collect(readOsv(`${base}/all.zip`))).rejects.toMatchObject({
      code: 'feed-unreachable',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('fails with feed-too-large when the download passes maxBytes, announced or not', async () => {
    const body = Buffer.alloc(10_000, 0x20);
    const base = await serve((req, res) => {
      if (req.url === '/announced.json') res.writeHead(200, { 'content-length': String(body.length) });
      else res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end(body);
    });
    await expect(collect(readOsv(`${base}/announced.json`, { maxBytes: 1000 }))).rejects.toMatchObject({
      code: 'feed-too-large',
      message: expect.stringContaining('10000 bytes announced'),
    });
    await expect(collect(readOsv(`${base}/chunked.json`, { maxBytes: 1000 }))).rejects.toMatchObject({
      code: 'feed-too-large',
      message: expect.stringContaining('more than 1000 bytes'),
    });
  });

  it('passes the zip bomb check on downloaded archives too', async () => {
    const zip = buildZip([{ name: 'bomb.json', data: Buffer.alloc(8 * 1024 * 1024) }]);
    expect(zip.length).toBeLessThan(deflateRawSync(Buffer.alloc(8 * 1024 * 1024)).length + 200);
    const base = await serve((_req, res) => res.end(zip));
    await expect(collect(readOsv(`${base}/all.zip`))).rejects.toMatchObject({ code: 'feed-unsafe-archive' });
  });
});
