import { ApiError } from '../../api/client';
import { feedContentType, type ImportEvent, importName, NdjsonSplitter, parseImportLine } from './ndjson';

export type FeedKindChoice = 'auto' | 'osv' | 'debian-tracker';

const ENDPOINT = '/api/v1/vulnerabilities/imports';

/**
 * Uploads a feed file as the raw body of POST /vulnerabilities/imports and reports each NDJSON line
 * as it streams in. The one place the console uses fetch directly: openapi-fetch cannot hand over a
 * response body as a stream. Same origin, the session cookie, and the browser's Origin header, as
 * every other call. A refusal (problem+json) becomes an ApiError, like `call()` throws.
 */
export async function uploadFeed(
  file: File,
  options: { kind: FeedKindChoice; signal?: AbortSignal },
  onEvent: (event: ImportEvent) => void,
): Promise<void> {
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  const query = new URLSearchParams({ kind: options.kind, name: importName(file.name) });
  const response = await fetch(`${ENDPOINT}?${query}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Content-Type': feedContentType(head),
      Accept: 'application/x-ndjson, application/json, application/problem+json',
    },
    body: file,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim();
  if (!response.ok || type !== 'application/x-ndjson') {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? '' : (JSON.parse(text) as unknown);
    } catch {
      // Not JSON (a proxy's error page): the status and the text are all there is.
    }
    if (!response.ok) throw ApiError.from(response.status, body);
    onEvent(parseImportLine(text));
    return;
  }
  if (!response.body) throw new ApiError(response.status, 'empty', 'the server sent no progress');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const lines = new NdjsonSplitter();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const line of lines.push(value)) onEvent(parseImportLine(line));
    }
    for (const line of lines.end()) onEvent(parseImportLine(line));
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
