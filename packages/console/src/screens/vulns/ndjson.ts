import type { Json } from '../../api/client';

/** What a finished import reports (the route's 200 body, and the `result` line of the stream). */
export type ImportSummary = Json<'/api/v1/vulnerabilities/imports', 'post'>;

/** One line of POST /vulnerabilities/imports' application/x-ndjson answer, as the screen uses it. */
export type ImportEvent =
  | { type: 'progress'; read: number; stored: number; rejected: number }
  | { type: 'result'; result: ImportSummary }
  | { type: 'error'; code: string; detail: string }
  | { type: 'unknown'; line: string };

/** A line longer than this is refused: a broken or hostile stream cannot grow the buffer without end. */
export const MAX_NDJSON_LINE = 1024 * 1024;

/**
 * Splits a text stream into lines. Chunks may end inside a line (or inside a UTF-8 sequence: decode
 * with TextDecoder({stream}) first); the unfinished tail waits for its newline or `end()`.
 */
export class NdjsonSplitter {
  private buffer = '';

  push(chunk: string): string[] {
    this.buffer += chunk;
    const lines = this.buffer.split('\n');
    this.buffer = lines.pop() ?? '';
    if (this.buffer.length > MAX_NDJSON_LINE) throw new Error(`the server sent a line longer than ${MAX_NDJSON_LINE} characters`);
    return lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  }

  end(): string[] {
    const rest = this.buffer.replace(/\r$/, '');
    this.buffer = '';
    return rest.trim() === '' ? [] : [rest];
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

function isSummary(v: unknown): v is ImportSummary {
  return (
    isRecord(v) &&
    typeof v.importId === 'string' &&
    typeof v.read === 'number' &&
    typeof v.stored === 'number' &&
    typeof v.rejected === 'number' &&
    isRecord(v.findings) &&
    Array.isArray(v.rejections)
  );
}

/**
 * One line as an event: `{progress: {read, stored, rejected}}`, `{result: {...}}`, `{error: {code,
 * detail}}`, or (a server that answered at once) the summary itself. Anything else is `unknown`,
 * never an exception: the screen shows it and goes on.
 */
export function parseImportLine(line: string): ImportEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { type: 'unknown', line };
  }
  if (!isRecord(value)) return { type: 'unknown', line };
  if (isRecord(value.progress)) {
    const p = value.progress;
    return { type: 'progress', read: count(p.read), stored: count(p.stored), rejected: count(p.rejected) };
  }
  if (isSummary(value.result)) return { type: 'result', result: value.result };
  if (isRecord(value.error)) {
    const e = value.error;
    return {
      type: 'error',
      code: typeof e.code === 'string' ? e.code : 'internal',
      detail: typeof e.detail === 'string' ? e.detail : 'the import failed',
    };
  }
  if (isSummary(value)) return { type: 'result', result: value };
  return { type: 'unknown', line };
}

/** What the Import tab shows: the latest progress, the result or the failure. */
export interface ImportState {
  phase: 'idle' | 'uploading' | 'importing' | 'done' | 'failed';
  progress: { read: number; stored: number; rejected: number } | null;
  result: ImportSummary | null;
  error: { code: string; detail: string } | null;
  /** Lines the console did not understand (shown, bounded). */
  unknown: string[];
}

export const INITIAL_IMPORT: ImportState = { phase: 'idle', progress: null, result: null, error: null, unknown: [] };

/** The state after one event (pure: the screen's reducer). */
export function reduceImport(state: ImportState, event: ImportEvent): ImportState {
  switch (event.type) {
    case 'progress':
      return state.phase === 'done' || state.phase === 'failed'
        ? state
        : { ...state, phase: 'importing', progress: { read: event.read, stored: event.stored, rejected: event.rejected } };
    case 'result':
      return { ...state, phase: 'done', result: event.result };
    case 'error':
      return { ...state, phase: 'failed', error: { code: event.code, detail: event.detail } };
    case 'unknown':
      return state.unknown.length >= 20 ? state : { ...state, unknown: [...state.unknown, event.line.slice(0, 500)] };
  }
}

/** The upload's Content-Type: a zip by its magic bytes (PK\3\4, or PK\5\6 when empty), else raw bytes. */
export function feedContentType(head: Uint8Array): 'application/zip' | 'application/octet-stream' {
  const zip =
    head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
  return zip ? 'application/zip' : 'application/octet-stream';
}

/** The import's name as the server takes it: the file name without control characters, at most 200. */
export function importName(fileName: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const clean = fileName.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  // By code points: a cut surrogate pair could not be put in a URL.
  return Array.from(clean === '' ? 'upload' : clean)
    .slice(0, 200)
    .join('');
}
