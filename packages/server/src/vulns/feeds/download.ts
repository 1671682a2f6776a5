import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { FeedError, messageOf } from './feed-error.js';

export interface DownloadOptions {
  signal?: AbortSignal;
  /** No response headers, or no body bytes, for this long fails the download (`feed-timeout`). */
  timeoutMs: number;
  /** More bytes than this (announced or received) fails the download (`feed-too-large`). */
  maxBytes: number;
}

export interface Download {
  /** The downloaded file, in a private temporary directory. */
  path: string;
  bytes: number;
  /** Removes the temporary directory; safe to call twice. */
  dispose(): Promise<void>;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * Streams a URL to a temporary file (never into memory) with an idle timeout: the timer covers
 * connecting and waiting for headers, then restarts on every body chunk, so a slow but moving
 * download succeeds while a server that accepts and never answers fails after `timeoutMs`.
 */
export async function downloadToTempFile(url: string, name: string, opts: DownloadOptions): Promise<Download> {
  const dir = await mkdtemp(join(tmpdir(), 'brier-feed-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const path = join(dir, name);
    const bytes = await download(url, path, opts);
    return { path, bytes, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function download(url: string, path: string, opts: DownloadOptions): Promise<number> {
  const idle = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      idle.abort(new FeedError('feed-timeout', `${url}: no data for ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
  };
  const signal = opts.signal ? AbortSignal.any([opts.signal, idle.signal]) : idle.signal;
  // Every failure below is re-labelled here, because undici reports an abort as an AbortError or
  // as the abort reason depending on where the request was when it happened.
  const fail = (error: unknown): never => {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (timedOut) throw new FeedError('feed-timeout', `${url}: no data for ${opts.timeoutMs} ms`, { cause: error });
    if (error instanceof FeedError) throw error;
    throw new FeedError('feed-unreachable', `${url}: ${messageOf(causeMessage(error))}`, { cause: error });
  };

  arm();
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal, redirect: 'follow' });
    } catch (error) {
      return fail(error);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new FeedError('feed-unreachable', `${url}: HTTP ${response.status} ${response.statusText}`.trim());
    }
    const announced = Number(response.headers.get('content-length'));
    if (Number.isFinite(announced) && announced > opts.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new FeedError('feed-too-large', `${url}: ${announced} bytes announced, the limit is ${opts.maxBytes}`);
    }
    if (!response.body) throw new FeedError('feed-format', `${url}: the response has no body`);

    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback: TransformCallback) {
        arm();
        bytes += chunk.length;
        if (bytes > opts.maxBytes) {
          callback(new FeedError('feed-too-large', `${url}: more than ${opts.maxBytes} bytes`));
          return;
        }
        callback(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        meter,
        createWriteStream(path, { flags: 'wx', mode: 0o600 }),
      );
    } catch (error) {
      return fail(error);
    }
    return bytes;
  } finally {
    clearTimeout(timer);
  }
}

/** undici's `fetch failed` hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function causeMessage(error: unknown): unknown {
  if (error instanceof Error && error.message === 'fetch failed' && error.cause instanceof Error) {
    const code = (error.cause as NodeJS.ErrnoException).code;
    return code ? `${code} ${error.cause.message}` : error.cause;
  }
  return error;
}
