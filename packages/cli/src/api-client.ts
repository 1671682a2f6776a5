/**
 * The one place that speaks HTTP to the Brier server: base URL, bearer token, JSON both ways, and
 * problem+json errors turned into `ApiError`s that keep title, detail, code and status.
 */

export interface ApiClient {
  get: <T>(path: string, query?: QueryParams) => Promise<T>;
  post: <T>(path: string, body?: unknown) => Promise<T>;
  put: <T>(path: string, body: unknown) => Promise<T>;
  delete: (path: string) => Promise<void>;
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
// Enough of a non-JSON error body (an HTML page from a proxy, say) to recognise it, no more.
const MAX_TEXT_DETAIL_CHARS = 200;

export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function request(method: string, path: string, query?: QueryParams, body?: unknown): Promise<unknown> {
    const url = new URL(`${base}/api/v1${path}`);
    if (query !== undefined) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined) params.set(key, String(value));
      }
      url.search = params.toString();
    }
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';

    let res: Response;
    try {
      res = await options.fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : causeText(err);
      throw new ApiError({ title: `Cannot reach server ${base}`, detail: reason }, { cause: err });
    }

    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res, text);
    if (res.status === 204 || text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ApiError({ status: res.status, title: 'Server sent a response that is not JSON' }, { cause: err });
    }
  }

  return {
    get: async <T>(path: string, query?: QueryParams) => (await request('GET', path, query)) as T,
    post: async <T>(path: string, body?: unknown) => (await request('POST', path, undefined, body ?? {})) as T,
    put: async <T>(path: string, body: unknown) => (await request('PUT', path, undefined, body)) as T,
    delete: async (path: string) => {
      await request('DELETE', path);
    },
  };
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
function causeText(err: unknown): string {
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
