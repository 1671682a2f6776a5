import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isCompressible } from '../app.js';
import { queryRows, sql } from '../store/db.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';
import type { ImportProgress, ImportResult } from '../vulns/vulns-service.js';

/**
 * Response compression on a real server on 127.0.0.1 (raw node:http, so the bytes are seen as sent):
 * JSON and the console's files compressed when the client accepts it; server-sent events and NDJSON
 * progress neither compressed nor held back.
 */

// Compresses well and is over the 1 KiB threshold many times.
const SCRIPT = `export const rows = [${Array.from({ length: 2000 }, (_, i) => `{id:${i},name:"row-${i}"}`).join(',')}];\n`;
const INDEX = `<!doctype html><html><head><script type="module" src="/assets/app-5e1f.js"></script></head><body>${'<!-- padding -->'.repeat(100)}</body></html>`;
// Not a compressible type: left as it is even when the client accepts gzip.
const FONT = Buffer.alloc(4096, 7);

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Reads a whole response as the bytes that came over the wire. */
function collect(res: IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    res.on('error', reject);
  });
}

function decoded(res: RawResponse): string {
  const encoding = res.headers['content-encoding'];
  if (encoding === 'br') return brotliDecompressSync(res.body).toString('utf8');
  if (encoding === 'gzip') return gunzipSync(res.body).toString('utf8');
  if (encoding === undefined) return res.body.toString('utf8');
  throw new Error(`unexpected content-encoding ${encoding}`);
}

/**
 * Reads a streamed body piece by piece: `next()` is the text up to the next `separator`, as soon as it
 * has arrived (undefined once the server ended the stream). A body held back until the end would make
 * these reads wait for changes the test only makes after them, so the test would time out.
 */
function pieces(res: IncomingMessage, separator: string) {
  let buffer = '';
  let ended = false;
  let wake: (() => void) | undefined;
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    wake?.();
  });
  res.on('end', () => {
    ended = true;
    wake?.();
  });
  return {
    async next(): Promise<string | undefined> {
      for (;;) {
        const at = buffer.indexOf(separator);
        if (at >= 0) {
          const piece = buffer.slice(0, at);
          buffer = buffer.slice(at + separator.length);
          return piece;
        }
        if (ended) return undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}

describe('response compression', () => {
  let dir: string;
  let s: TestServer;
  let port = 0;
  let token = '';
  let hostId = '';

  /** A raw request to the listening server; resolves once the response headers are in. */
  function send(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path: url, headers }, resolve);
      req.on('error', reject);
      req.end(body);
    });
  }
  const get = async (url: string, headers: Record<string, string> = {}) =>
    collect(await send('GET', url, { authorization: `Bearer ${token}`, ...headers }));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'brier-compress-'));
    mkdirSync(path.join(dir, 'assets'), { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), INDEX);
    writeFileSync(path.join(dir, 'assets', 'app-5e1f.js'), SCRIPT);
    writeFileSync(path.join(dir, 'assets', 'font-5e1f.woff2'), FONT);
    s = await createTestServer({ config: { consoleDir: dir, loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000 } });
    token = await s.login();
    const joinToken = await s.createJoinToken({ autoApprove: true, maxUses: 20 });
    for (let i = 0; i < 12; i++) ({ hostId } = await s.enrollAgent(joinToken, `compress-${String(i).padStart(2, '0')}`));
    const base = await s.listen();
    port = Number(new URL(base).port);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('compresses a large JSON response with brotli or gzip, as the client accepts', async () => {
    const plain = await get('/api/v1/hosts?limit=100');
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(4096);
    const json = JSON.parse(plain.body.toString('utf8')) as { items: unknown[] };
    expect(json.items).toHaveLength(12);

    const br = await get('/api/v1/hosts?limit=100', { 'accept-encoding': 'gzip, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.headers['content-type']).toMatch(/^application\/json/);
    expect(br.body.length).toBeLessThan(plain.body.length / 2);
    expect(JSON.parse(decoded(br))).toEqual(json);

    const gzip = await get('/api/v1/hosts?limit=100', { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(decoded(gzip))).toEqual(json);

    // Asked not to: identity, or an encoding we do not offer.
    for (const accept of ['identity', 'compress']) {
      const res = await get('/api/v1/hosts?limit=100', { 'accept-encoding': accept });
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(JSON.parse(res.body.toString('utf8'))).toEqual(json);
    }
  });

  it('leaves a small response as it is', async () => {
    const me = await get('/api/v1/auth/me', { 'accept-encoding': 'gzip, br' });
    expect(me.status).toBe(200);
    expect(me.body.length).toBeLessThan(1024);
    expect(me.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(me.body.toString('utf8'))).toMatchObject({ username: 'admin' });
  });

  it("compresses the console's script and page, keeping their caching, validators and security headers", async () => {
    const script = await get('/assets/app-5e1f.js', { 'accept-encoding': 'gzip, br' });
    expect(script.status).toBe(200);
    expect(script.headers['content-encoding']).toBe('br');
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.headers['content-security-policy']).toContain("script-src 'self'");
    expect(script.body.length).toBeLessThan(SCRIPT.length / 4);
    expect(decoded(script)).toBe(SCRIPT);

    const gzip = await get('/assets/app-5e1f.js', { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(decoded(gzip)).toBe(SCRIPT);

    // A revalidation still answers 304 with no body.
    const etag = String(script.headers.etag);
    expect(etag).not.toBe('undefined');
    const again = await get('/assets/app-5e1f.js', { 'accept-encoding': 'gzip, br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);

    const page = await get('/hosts/123', { 'accept-encoding': 'br' });
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBe('br');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(decoded(page)).toBe(INDEX);

    const font = await get('/assets/font-5e1f.woff2', { 'accept-encoding': 'gzip, br' });
    expect(font.status).toBe(200);
    expect(font.headers['content-encoding']).toBeUndefined();
    expect(font.body.equals(FONT)).toBe(true);
  });

  it('streams deployment events one by one, uncompressed, to a client that accepts gzip and brotli', async () => {
    const created = await s.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        name: 'streamed',
        packages: [{ name: 'openssl', version: '3.0.13-1~deb12u1' }],
        targets: { hostIds: [hostId] },
        waves: [{ name: 'all', percent: 100, bakeMinutes: 0 }],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;
    await s.app.services.deployments.tick();
    const [assignment] = await queryRows<{ id: string }>(s.database.db, sql`select id from assignments where deployment_id = ${id}`);

    const res = await send('GET', `/api/v1/deployments/${id}/events`, {
      authorization: `Bearer ${token}`,
      'accept-encoding': 'gzip, br',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.headers['content-encoding']).toBeUndefined();
    const events = pieces(res, '\n\n');
    const progress = async () => {
      const block = await events.next();
      expect(block).toMatch(/^event: progress\ndata: /);
      return JSON.parse((block ?? '').replace(/^event: progress\ndata: /, '')) as {
        state: string;
        waves: { counts: Record<string, number> }[];
      };
    };

    // Each event is read before the change that causes the next one is made.
    expect((await progress()).state).toBe('running');
    await s.app.services.deployments.onAssignmentStatus(hostId, { assignmentId: assignment?.id ?? '', state: 'running' });
    expect((await progress()).waves[0]?.counts).toMatchObject({ running: 1 });
    await s.app.services.deployments.onAssignmentStatus(hostId, {
      assignmentId: assignment?.id ?? '',
      state: 'succeeded',
      installed: [{ name: 'openssl', version: '3.0.13-1~deb12u1' }],
    });
    expect((await progress()).state).toBe('completed');
    expect(await events.next()).toBeUndefined();
  });

  it('streams NDJSON import progress line by line, uncompressed, to a client that accepts gzip and brotli', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let report: (p: ImportProgress) => void = () => {};
    const result: ImportResult = {
      importId: '00000000-0000-4000-8000-000000000001',
      kind: 'osv',
      read: 2,
      stored: 2,
      unchanged: 0,
      rejected: 0,
      withdrawn: 0,
      rejections: [],
      findings: { open: 0, opened: 0, closed: 0 },
    };
    // The import reports when the test says so and finishes only when released.
    const importing = vi.spyOn(s.app.services.vulns, 'importFile').mockImplementation(async (_actor, _kind, _file, _location, opts) => {
      report = (p) => opts?.onProgress?.(p);
      report({ read: 1, stored: 1, rejected: 0 });
      await released;
      return result;
    });
    try {
      const res = await send(
        'POST',
        '/api/v1/vulnerabilities/imports?kind=osv',
        {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          accept: 'application/x-ndjson',
          'accept-encoding': 'gzip, br',
        },
        '[]',
      );
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(res.headers['content-encoding']).toBeUndefined();
      const lines = pieces(res, '\n');
      expect(JSON.parse((await lines.next()) ?? '')).toEqual({ progress: { read: 1, stored: 1, rejected: 0 } });
      report({ read: 2, stored: 2, rejected: 0 });
      expect(JSON.parse((await lines.next()) ?? '')).toEqual({ progress: { read: 2, stored: 2, rejected: 0 } });
      release();
      expect(JSON.parse((await lines.next()) ?? '')).toEqual({ result });
      expect(await lines.next()).toBeUndefined();
      expect(importing).toHaveBeenCalledTimes(1);
    } finally {
      release();
      importing.mockRestore();
    }
  });

  it.each([
    ['application/json; charset=utf-8', true],
    ['application/problem+json', true],
    ['text/html; charset=utf-8', true],
    ['text/css', true],
    ['application/javascript; charset=UTF-8', true],
    ['text/javascript', true],
    ['image/svg+xml', true],
    ['text/plain; version=0.0.4', true],
    ['text/event-stream; charset=utf-8', false],
    ['TEXT/EVENT-STREAM', false],
    ['application/x-ndjson', false],
    ['application/octet-stream', false],
    ['application/zip', false],
    ['font/woff2', false],
    ['image/png', false],
    ['', false],
  ])('counts %s as compressible: %s', (type, expected) => {
    expect(isCompressible(type)).toBe(expected);
  });
});
