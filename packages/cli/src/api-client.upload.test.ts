import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApi, problem, startFakeApi } from './__fixtures__/fake-api.js';
import { ApiError, createApiClient } from './api-client.js';

let api: FakeApi;

beforeEach(async () => {
  api = await startFakeApi();
});

afterEach(async () => {
  await api.close();
});

const NDJSON = 'application/x-ndjson';

async function* chunksOf(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

/** A fetch that answers every request with `chunks` as the body, exactly as split here. */
function chunkedFetch(chunks: (string | Uint8Array)[], contentType = NDJSON, seen: RequestInit[] = []): typeof fetch {
  return async (_url, init) => {
    seen.push(init ?? {});
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(typeof c === 'string' ? new TextEncoder().encode(c) : c);
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': contentType } });
  };
}

describe('ApiClient.upload', () => {
  it('POSTs the bytes with the auth, media type and query, asking for NDJSON, and hands over each line parsed', async () => {
    api.routes.set('POST /api/v1/vulnerabilities/imports', {
      contentType: NDJSON,
      body: '{"progress":{"read":1,"stored":1,"rejected":0}}\n{"result":{"importId":"i-1"}}\n',
    });
    const client = createApiClient({ baseUrl: `${api.url}/`, token: 'tok', fetch: globalThis.fetch });
    const lines: unknown[] = [];
    const bytes = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0x0a]);
    await client.upload(
      '/vulnerabilities/imports',
      { kind: 'osv', name: undefined },
      { stream: bytes, contentType: 'application/zip' },
      (l) => lines.push(l),
    );
    expect(lines).toEqual([{ progress: { read: 1, stored: 1, rejected: 0 } }, { result: { importId: 'i-1' } }]);
    const req = api.requests[0]!;
    expect(req).toMatchObject({ method: 'POST', rawUrl: '/api/v1/vulnerabilities/imports?kind=osv' });
    expect(req.headers.authorization).toBe('Bearer tok');
    expect(req.headers['content-type']).toBe('application/zip');
    expect(req.headers.accept).toMatch(/^application\/x-ndjson/);
    expect([...req.rawBody]).toEqual([...bytes]);
  });

  it('streams an async iterable body as it is produced, half-duplex', async () => {
    api.routes.set('POST /api/v1/x', { contentType: NDJSON, body: '{"result":{}}\n' });
    const client = createApiClient({ baseUrl: api.url, fetch: globalThis.fetch });
    await client.upload(
      '/x',
      undefined,
      { stream: chunksOf('[{"id":', '"A"},', '{"id":"B"}]'), contentType: 'application/octet-stream' },
      () => {},
    );
    expect(api.requests[0]?.rawBody.toString('utf8')).toBe('[{"id":"A"},{"id":"B"}]');
    expect(api.requests[0]?.headers['transfer-encoding']).toBe('chunked');

    const seen: RequestInit[] = [];
    const fake = createApiClient({ baseUrl: 'http://brier.test', fetch: chunkedFetch(['{}\n'], NDJSON, seen) });
    await fake.upload('/x', undefined, { stream: chunksOf('a'), contentType: 'application/octet-stream' }, () => {});
    await fake.upload('/x', undefined, { stream: new Uint8Array([1]), contentType: 'application/octet-stream' }, () => {});
    expect((seen[0] as { duplex?: string }).duplex).toBe('half');
    expect((seen[1] as { duplex?: string }).duplex).toBeUndefined();
  });

  it('joins a line split across chunks, even inside a multi-byte character, and takes a last line without a newline', async () => {
    const euro = new TextEncoder().encode('{"error":{"detail":"€"}}');
    const cut = euro.indexOf(0xe2) + 1; // inside the three bytes of '€'
    const client = createApiClient({
      baseUrl: 'http://brier.test',
      fetch: chunkedFetch([
        '{"progress":{"re',
        'ad":1}}\n{"progress":{"read":2}}\r\n\n{"res',
        'ult":{"stored":3}}\n',
        euro.slice(0, cut),
        euro.slice(cut),
      ]),
    });
    const lines: unknown[] = [];
    await client.upload('/x', undefined, { stream: new Uint8Array(), contentType: 'application/octet-stream' }, (l) => lines.push(l));
    expect(lines).toEqual([{ progress: { read: 1 } }, { progress: { read: 2 } }, { result: { stored: 3 } }, { error: { detail: '€' } }]);
  });

  it('hands a plain JSON answer over whole, once', async () => {
    api.routes.set('POST /api/v1/x', { body: '{\n  "importId": "i-1",\n  "stored": 2\n}\n' });
    const client = createApiClient({ baseUrl: api.url, fetch: globalThis.fetch });
    const lines: unknown[] = [];
    await client.upload('/x', undefined, { stream: new Uint8Array([1]), contentType: 'application/octet-stream' }, (l) => lines.push(l));
    expect(lines).toEqual([{ importId: 'i-1', stored: 2 }]);
  });

  it('turns a problem+json answer into an ApiError and reads no line', async () => {
    api.routes.set('POST /api/v1/x', problem(413, 'Payload too large', 'payload_too_large', 'the feed is larger than 1073741824 bytes'));
    const client = createApiClient({ baseUrl: api.url, fetch: globalThis.fetch });
    const lines: unknown[] = [];
    const failure = client.upload('/x', undefined, { stream: chunksOf('x'), contentType: 'application/zip' }, (l) => lines.push(l));
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({
      status: 413,
      code: 'payload_too_large',
      title: 'Payload too large',
      detail: 'the feed is larger than 1073741824 bytes',
    });
    expect(lines).toEqual([]);
  });

  it('refuses a line that is not JSON', async () => {
    const client = createApiClient({ baseUrl: 'http://brier.test', fetch: chunkedFetch(['{"progress":{}}\n<html>\n']) });
    const lines: unknown[] = [];
    await expect(
      client.upload('/x', undefined, { stream: new Uint8Array(), contentType: 'application/octet-stream' }, (l) => lines.push(l)),
    ).rejects.toThrow(/not JSON/);
    expect(lines).toEqual([{ progress: {} }]);
  });

  it("reports the body source's own error rather than the failed request", async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1]);
      throw new Error('disk went away');
    }
    const client = createApiClient({ baseUrl: api.url, fetch: globalThis.fetch });
    await expect(client.upload('/x', undefined, { stream: broken(), contentType: 'application/octet-stream' }, () => {})).rejects.toThrow(
      'disk went away',
    );
  });

  it('gives up when nothing moves either way for the idle timeout', async () => {
    // A server that never answers: the fetch settles only when its signal aborts.
    const silent: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const client = createApiClient({ baseUrl: 'http://brier.test', fetch: silent, streamIdleTimeoutMs: 20 });
    const failure = client.upload('/x', undefined, { stream: new Uint8Array([1]), contentType: 'application/zip' }, () => {});
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toThrow('Cannot reach server http://brier.test: nothing sent or received for 20 ms');
  });

  it('says so when the server cannot be reached', async () => {
    const closed = await startFakeApi();
    await closed.close();
    const client = createApiClient({ baseUrl: closed.url, fetch: globalThis.fetch });
    await expect(client.upload('/x', undefined, { stream: new Uint8Array([1]), contentType: 'application/zip' }, () => {})).rejects.toThrow(
      /^Cannot reach server http:\/\/127\.0\.0\.1:\d+: fetch failed/,
    );
  });
});

describe('ApiClient request after the upload refactor', () => {
  it('still sends JSON with the bearer token and turns problems into ApiErrors', async () => {
    api.routes.set('PUT /api/v1/y', (req) => ({ body: { echo: req.body } }));
    api.routes.set('GET /api/v1/z', problem(404, 'Not found', 'not_found', 'no such thing'));
    const client = createApiClient({ baseUrl: api.url, token: 'tok', fetch: globalThis.fetch });
    expect(await client.put('/y', { a: 1 })).toEqual({ echo: { a: 1 } });
    expect(api.requests[0]?.headers['content-type']).toBe('application/json');
    expect(api.requests[0]?.headers.accept).toBe('application/json, application/problem+json');
    expect(api.requests[0]?.headers.authorization).toBe('Bearer tok');
    await expect(client.get('/z', { q: 'a b', skip: undefined })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(api.requests[1]?.rawUrl).toBe('/api/v1/z?q=a+b');
  });
});
