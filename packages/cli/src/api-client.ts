/**
 * The one place that speaks HTTP to the Brier server: base URL, bearer token, JSON both ways, and
 * problem+json errors turned into `ApiError`s that keep title, detail, code and status.
 */

export interface ApiClient {
  get: <T>(path: string, query?: QueryParams) => Promise<T>;
  post: <T>(path: string, body?: unknown) => Promise<T>;
  put: <T>(path: string, body: unknown) => Promise<T>;
  delete: (path: string) => Promise<void>;
  /**
   * POSTs raw bytes (a feed file, say) and reads an NDJSON answer: `onLine` gets each line, parsed,
   * as it arrives. A plain JSON answer (a server that does not stream) reaches `onLine` once, whole.
   * A streamed body is sent as it is produced, never held in memory; the request fails only after
   * nothing went either way for `streamIdleTimeoutMs`, since an import can rightly take many minutes.
   */
  upload: (path: string, query: QueryParams | undefined, body: UploadBody, onLine: (value: unknown) => void) => Promise<void>;
}

/** The raw bytes of an upload and their media type (`application/zip`, `application/octet-stream`). */
export interface UploadBody {
  stream: AsyncIterable<Uint8Array> | Uint8Array;
  contentType: string;
}

/** Absent and undefined entries are left out; everything else is sent via URLSearchParams. */
export type QueryParams = Record<string, string | number | boolean | undefined>;

export interface ApiClientOptions {
  /** Server root such as `https://brier.example.com` or `https://example.com/brier`. */
  baseUrl: string;
  token?: string;
  fetch: typeof fetch;
  /** Per request; a CLI that hangs forever on a dead server is worse than one that fails. */
  timeoutMs?: number;
  /** For `upload`: how long the connection may stay silent both ways before it is given up. */
  streamIdleTimeoutMs?: number;
}

/** A failed request: an HTTP error response, or no response at all (status undefined). */
export class ApiError extends Error {
  readonly status: number | undefined;
  readonly title: string;
  readonly detail: string | undefined;
  readonly code: string | undefined;

  constructor(fields: { status?: number; title: string; detail?: string; code?: string }, options?: { cause?: unknown }) {
    super(describe(fields), options);
    this.name = 'ApiError';
    this.status = fields.status;
    this.title = fields.title;
    this.detail = fields.detail;
    this.code = fields.code;
  }
}

function describe(fields: { status?: number; title: string; detail?: string; code?: string }): string {
  const facts = [fields.code && `code ${fields.code}`, fields.status !== undefined && `HTTP ${fields.status}`].filter(Boolean);
  return `${fields.title}${fields.detail ? `: ${fields.detail}` : ''}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
}

const DEFAULT_TIMEOUT_MS = 30_000;
// Long enough for the server to match a large feed against a large fleet between two progress lines.
const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 15 * 60_000;
const JSON_ACCEPT = 'application/json, application/problem+json';
const NDJSON_ACCEPT = 'application/x-ndjson, application/json, application/problem+json';
// Enough of a non-JSON error body (an HTML page from a proxy, say) to recognise it, no more.
const MAX_TEXT_DETAIL_CHARS = 200;

export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const idleMs = options.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;

  function urlFor(path: string, query: QueryParams | undefined): URL {
    const url = new URL(`${base}/api/v1${path}`);
    if (query !== undefined) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined) params.set(key, String(value));
      }
      url.search = params.toString();
    }
    return url;
  }

  function headersFor(accept: string, contentType: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { accept };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (contentType !== undefined) headers['content-type'] = contentType;
    return headers;
  }

  /** fetch, with "no response at all" turned into an ApiError and a non-2xx answer into its problem. */
  async function send(url: URL, init: RequestInit, timeoutText: string): Promise<Response> {
    let res: Response;
    try {
      res = await options.fetch(url, init);
    } catch (err) {
      throw unreachable(err, timeoutText);
    }
    if (!res.ok) throw errorFromResponse(res, await res.text());
    return res;
  }

  function unreachable(err: unknown, timeoutText: string): ApiError {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    return new ApiError({ title: `Cannot reach server ${base}`, detail: timedOut ? timeoutText : causeText(err) }, { cause: err });
  }

  async function request(method: string, path: string, query?: QueryParams, body?: unknown): Promise<unknown> {
    const res = await send(
      urlFor(path, query),
      {
        method,
        headers: headersFor(JSON_ACCEPT, body === undefined ? undefined : 'application/json'),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      },
      `no answer within ${timeoutMs} ms`,
    );
    const text = await res.text();
    if (res.status === 204 || text === '') return undefined;
    return parseJson(res.status, text);
  }

  async function upload(path: string, query: QueryParams | undefined, body: UploadBody, onLine: (value: unknown) => void): Promise<void> {
    const idleText = `nothing sent or received for ${idleMs} ms`;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const touch = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new DOMException(idleText, 'TimeoutError')), idleMs);
    };
    // An error of the body's own source (a file that cannot be read, a download that broke off) is
    // the one to report, not the "fetch failed" it causes.
    let sourceError: unknown;
    const streamed = !(body.stream instanceof Uint8Array);
    const payload =
      body.stream instanceof Uint8Array
        ? body.stream
        : readableFrom(body.stream, touch, (err) => {
            sourceError ??= err;
          });
    touch();
    try {
      let res: Response;
      try {
        res = await send(
          urlFor(path, query),
          {
            method: 'POST',
            headers: headersFor(NDJSON_ACCEPT, body.contentType),
            body: payload,
            signal: abort.signal,
            // Node's fetch sends a stream only half-duplex, and insists on being told so.
            ...(streamed ? { duplex: 'half' as const } : {}),
          },
          idleText,
        );
      } catch (err) {
        throw sourceError ?? err;
      }
      const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim();
      if (type !== 'application/x-ndjson') {
        const text = await res.text();
        if (text.trim() !== '') onLine(parseJson(res.status, text));
        return;
      }
      if (res.body === null) return;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      // Lines may be split across chunks: keep the unfinished tail until its newline arrives.
      let buffer = '';
      const emit = (line: string) => {
        if (line.trim() !== '') onLine(parseJson(res.status, line));
      };
      try {
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          try {
            chunk = await reader.read();
          } catch (err) {
            throw new ApiError(
              { status: res.status, title: 'The server connection broke off', detail: abort.signal.aborted ? idleText : causeText(err) },
              { cause: err },
            );
          }
          if (chunk.done) break;
          touch();
          buffer += chunk.value;
          for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
            emit(buffer.slice(0, newline));
            buffer = buffer.slice(newline + 1);
          }
        }
        emit(buffer);
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  return {
    get: async <T>(path: string, query?: QueryParams) => (await request('GET', path, query)) as T,
    post: async <T>(path: string, body?: unknown) => (await request('POST', path, undefined, body ?? {})) as T,
    put: async <T>(path: string, body: unknown) => (await request('PUT', path, undefined, body)) as T,
    delete: async (path: string) => {
      await request('DELETE', path);
    },
    upload,
  };
}

function parseJson(status: number, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiError({ status, title: 'Server sent a response that is not JSON' }, { cause: err });
  }
}

/**
 * A ReadableStream pulling from `source` one chunk at a time (so a large body is never buffered),
 * calling `onChunk` for each and `onError` with whatever the source throws.
 */
function readableFrom(source: AsyncIterable<Uint8Array>, onChunk: () => void, onError: (err: unknown) => void): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (err) {
        onError(err);
        throw err;
      }
      if (next.done) {
        controller.close();
        return;
      }
      onChunk();
      controller.enqueue(next.value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

function errorFromResponse(res: Response, text: string): ApiError {
  let problem: unknown;
  try {
    problem = JSON.parse(text);
  } catch {
    problem = undefined;
  }
  if (isRecord(problem) && typeof problem.title === 'string') {
    return new ApiError({
      status: res.status,
      title: problem.title,
      detail: typeof problem.detail === 'string' ? problem.detail : undefined,
      code: typeof problem.code === 'string' ? problem.code : undefined,
    });
  }
  const snippet = text.trim().slice(0, MAX_TEXT_DETAIL_CHARS);
  return new ApiError({ status: res.status, title: res.statusText || 'Request failed', detail: snippet || undefined });
}

/** undici reports "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
export function causeText(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    parts.push(current.message);
    current = current.cause;
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `items` array of a listing response; anything else means we are not talking to a Brier API. */
export function itemsOf<T>(response: unknown): T[] {
  if (!isRecord(response) || !Array.isArray(response.items)) {
    throw new ApiError({ title: 'Unexpected response from server', detail: 'expected an object with an items array' });
  }
  return response.items as T[];
}

/** `total` of a paged listing, falling back to the number of items when the server omits it. */
export function totalOf(response: unknown, fallback: number): number {
  return isRecord(response) && typeof response.total === 'number' ? response.total : fallback;
}
