import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import streamArray from 'stream-json/streamers/stream-array.js';
import { type Entry, openPromise as openZip, type ZipFile } from 'yauzl';
import type { FeedItem } from '../../model.js';
import { downloadToTempFile, isUrl } from '../download.js';
import { FeedError, messageOf } from '../feed-error.js';
import { parseOsvRecord } from './osv-record.js';

export interface ReadOsvOptions {
  signal?: AbortSignal;
  /** URLs only: connect/response/idle timeout. Default 30 s. */
  timeoutMs?: number;
  /**
   * Caps both the bytes downloaded (URLs) and the total JSON bytes read, counted as they are read
   * (after inflating, for zips). Default 4 GiB. Exceeding it stops the read: `feed-too-large`.
   */
  maxBytes?: number;
  /** Caps the number of records (and of zip entries). Default 2,000,000. `feed-too-large`. */
  maxEntries?: number;
  /** One record (file or zip entry) larger than this is rejected, and the read goes on. Default 32 MiB. */
  maxRecordBytes?: number;
  /** A zip entry inflating past 1 MiB and past this many times its compressed size is a bomb. Default 100. */
  maxExpansionRatio?: number;
  /** Called after every item with the running totals. */
  onProgress?(progress: { entries: number; bytes: number }): void;
}

export const OSV_READ_DEFAULTS = {
  timeoutMs: 30_000,
  maxBytes: 4 * 1024 ** 3,
  maxEntries: 2_000_000,
  maxRecordBytes: 32 * 1024 ** 2,
  maxExpansionRatio: 100,
} as const;

/** Below this many inflated bytes an entry is never called a bomb (tiny files compress absurdly well). */
const BOMB_MIN_BYTES = 1024 ** 2;

// zlib.crc32 arrived in Node 20.15; engines allow 20.11, where entries are read without the check.
const crc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as Partial<typeof zlib>).crc32;

type Limits = Required<Pick<ReadOsvOptions, 'timeoutMs' | 'maxBytes' | 'maxEntries' | 'maxRecordBytes' | 'maxExpansionRatio'>>;

/** Running totals and caps of one read. */
class ReadContext {
  entries = 0;
  bytes = 0;

  constructor(
    readonly limits: Limits,
    private readonly opts: ReadOsvOptions,
  ) {}

  addBytes(n: number, where: string): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxBytes) {
      throw new FeedError('feed-too-large', `${where}: more than ${this.limits.maxBytes} bytes of JSON in this feed`);
    }
  }

  /** Counts one yielded item, enforcing `maxEntries` and reporting progress. */
  countItem(where: string): void {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw new FeedError('feed-too-large', `${where}: more than ${this.limits.maxEntries} records in this feed`);
    }
    this.opts.onProgress?.({ entries: this.entries, bytes: this.bytes });
  }

  checkAbort(): void {
    this.opts.signal?.throwIfAborted();
  }
}

/**
 * Reads OSV records from `source`, one at a time, as `FeedItem`s:
 * - a directory: every `*.json` file below it, recursively, in sorted path order;
 * - a `.json` file: one record, or an array of records (streamed element by element);
 * - a zip (as osv.dev's per-ecosystem `all.zip`): one record per `*.json` entry, inflated one at a
 *   time with byte counting, bomb and path-traversal checks;
 * - an `http(s)://` URL of either, downloaded to a temporary file first (idle timeout, byte cap).
 *
 * A record that is malformed or refused becomes a `rejected` item and the read continues. Only
 * problems with the source as a whole throw, as `FeedError`; an abort throws `signal.reason`.
 */
export async function* readOsv(source: string, opts: ReadOsvOptions = {}): AsyncIterable<FeedItem> {
  const limits: Limits = {
    timeoutMs: opts.timeoutMs ?? OSV_READ_DEFAULTS.timeoutMs,
    maxBytes: opts.maxBytes ?? OSV_READ_DEFAULTS.maxBytes,
    maxEntries: opts.maxEntries ?? OSV_READ_DEFAULTS.maxEntries,
    maxRecordBytes: opts.maxRecordBytes ?? OSV_READ_DEFAULTS.maxRecordBytes,
    maxExpansionRatio: opts.maxExpansionRatio ?? OSV_READ_DEFAULTS.maxExpansionRatio,
  };
  const ctx = new ReadContext(limits, opts);
  ctx.checkAbort();

  if (isUrl(source)) {
    const where = redactUrl(source);
    const download = await downloadToTempFile(source, 'osv-feed', {
      timeoutMs: limits.timeoutMs,
      maxBytes: limits.maxBytes,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    try {
      yield* readFile(download.path, where, ctx);
    } finally {
      await download.dispose();
    }
    return;
  }

  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(source);
  } catch (error) {
    throw new FeedError('feed-unreachable', `cannot read ${source}: ${messageOf(error)}`, { cause: error });
  }
  if (info.isDirectory()) {
    for (const file of await listJsonFiles(source)) {
      ctx.checkAbort();
      yield* readJsonFile(file, file, ctx);
    }
    return;
  }
  yield* readFile(source, source, ctx);
}

/** A zip (by its magic number, whatever the name) or a JSON file. */
async function* readFile(path: string, where: string, ctx: ReadContext): AsyncGenerator<FeedItem> {
  let zip: boolean;
  try {
    zip = await isZip(path);
  } catch (error) {
    throw new FeedError('feed-unreachable', `cannot read ${where}: ${messageOf(error)}`, { cause: error });
  }
  if (zip) yield* readZip(path, where, ctx);
  else yield* readJsonFile(path, where, ctx);
}

async function isZip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    // Local file header, or the end record of an empty archive.
    return (
      bytesRead === 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
    );
  } finally {
    await handle.close();
  }
}

async function listJsonFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.json$/i.test(entry.name)) {
        // Symlinked files are followed; symlinked directories are not (no loops, no escaping root).
        if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile())) files.push(path);
      }
    }
  };
  try {
    await walk(root);
  } catch (error) {
    throw new FeedError('feed-unreachable', `cannot list ${root}: ${messageOf(error)}`, { cause: error });
  }
  // Code-unit order: the same tree always yields the same sequence.
  return files.sort();
}

async function* readJsonFile(path: string, where: string, ctx: ReadContext): AsyncGenerator<FeedItem> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
      ctx.addBytes((chunk as Buffer).length, where);
      yield chunk as Buffer;
    }
  }
  yield* readRecords(chunks(), where, ctx);
}

async function* readZip(path: string, where: string, ctx: ReadContext): AsyncGenerator<FeedItem> {
  let zip: ZipFile;
  try {
    // decodeStrings makes yauzl validate every name (absolute, `..`, backslashes) before we see it;
    // validateEntrySizes makes it fail an entry that inflates to more than its header says.
    zip = await openZip(path, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: true,
      validateEntrySizes: true,
      strictFileNames: false,
    });
  } catch (error) {
    throw new FeedError('feed-format', `${where}: not a readable zip archive: ${messageOf(error)}`, { cause: error });
  }
  try {
    if (zip.entryCount > ctx.limits.maxEntries) {
      throw new FeedError('feed-too-large', `${where}: ${zip.entryCount} entries, the limit is ${ctx.limits.maxEntries}`);
    }
    const entries = zip.eachEntry();
    for (;;) {
      ctx.checkAbort();
      let next: IteratorResult<Entry>;
      try {
        next = await entries.next();
      } catch (error) {
        throw zipError(error, where);
      }
      if (next.done) break;
      const entry = next.value;
      if (entry.fileName.endsWith('/') || !/\.json$/i.test(entry.fileName)) continue;
      const entryWhere = `${where}!${entry.fileName}`;
      checkDeclaredSize(entry, entryWhere, ctx);
      if (entry.isEncrypted()) {
        yield countRejected(ctx, entryWhere, 'the zip entry is encrypted');
        continue;
      }
      let stream: Readable;
      try {
        stream = await zip.openReadStreamPromise(entry);
      } catch (error) {
        yield countRejected(ctx, entryWhere, `cannot open the zip entry: ${messageOf(error)}`);
        continue;
      }
      yield* readRecords(entryChunks(stream, entry, entryWhere, ctx), entryWhere, ctx);
    }
  } finally {
    zip.close();
  }
}

function zipError(error: unknown, where: string): FeedError {
  const message = messageOf(error);
  if (/^(absolute path|invalid relative path|invalid characters in fileName): /.test(message)) {
    const [reason, name] = [message.slice(0, message.indexOf(':')), message.slice(message.indexOf(':') + 2)];
    return new FeedError('feed-unsafe-archive', `${where}: refusing entry ${JSON.stringify(name)} (${reason})`, { cause: error });
  }
  return new FeedError('feed-format', `${where}: corrupt zip archive: ${message}`, { cause: error });
}

/** Fails early on what the headers admit to; `entryChunks` enforces the same limits on real bytes. */
function checkDeclaredSize(entry: Entry, where: string, ctx: ReadContext): void {
  const { uncompressedSize, compressedSize } = entry;
  if (uncompressedSize > BOMB_MIN_BYTES && uncompressedSize > ctx.limits.maxExpansionRatio * compressedSize) {
    throw new FeedError(
      'feed-unsafe-archive',
      `${where}: declares ${uncompressedSize} bytes from ${compressedSize} compressed (more than ${ctx.limits.maxExpansionRatio}x): zip bomb`,
    );
  }
  if (ctx.bytes + uncompressedSize > ctx.limits.maxBytes) {
    throw new FeedError(
      'feed-too-large',
      `${where}: declares ${uncompressedSize} bytes, past the ${ctx.limits.maxBytes}-byte limit of this feed`,
    );
  }
}

/**
 * Inflated bytes of one entry, counted as they come (headers can lie), with a CRC check at the end.
 * yauzl (validateEntrySizes) already cuts an entry off past its declared size, and the declared size
 * passed `checkDeclaredSize`; this count is the second line, independent of yauzl's behaviour.
 */
async function* entryChunks(stream: Readable, entry: Entry, where: string, ctx: ReadContext): AsyncGenerator<Buffer> {
  let bytes = 0;
  let crc = 0;
  const bombAt = Math.max(BOMB_MIN_BYTES, ctx.limits.maxExpansionRatio * entry.compressedSize);
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      bytes += buffer.length;
      if (bytes > bombAt) {
        throw new FeedError(
          'feed-unsafe-archive',
          `${where}: inflates past ${bytes} bytes from ${entry.compressedSize} compressed (more than ${ctx.limits.maxExpansionRatio}x): zip bomb`,
        );
      }
      ctx.addBytes(buffer.length, where);
      if (crc32) crc = crc32(buffer, crc);
      yield buffer;
    }
  } catch (error) {
    if (error instanceof FeedError) throw error;
    throw new Error(`corrupt zip entry: ${messageOf(error)}`, { cause: error });
  } finally {
    stream.destroy();
  }
  if (crc32 && crc >>> 0 !== entry.crc32 >>> 0) throw new Error('corrupt zip entry: CRC-32 mismatch');
}

function countRejected(ctx: ReadContext, where: string, reason: string): FeedItem {
  ctx.countItem(where);
  return { kind: 'rejected', where, reason };
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Turns the bytes of one file or zip entry into items. A top-level array is streamed element by
 * element; anything else is one record, buffered up to `maxRecordBytes`. I/O or inflate errors reject
 * this one source (FeedErrors, the feed-wide limits, still stop the read).
 */
async function* readRecords(chunks: AsyncGenerator<Buffer>, where: string, ctx: ReadContext): AsyncGenerator<FeedItem> {
  const head: Buffer[] = [];
  let size = 0;
  let first: number | undefined;
  let ended = false;
  try {
    try {
      while (first === undefined && size <= ctx.limits.maxRecordBytes) {
        const next = await chunks.next();
        if (next.done) {
          ended = true;
          break;
        }
        head.push(next.value);
        size += next.value.length;
        first = firstSignificantByte(head.length === 1 ? next.value : Buffer.concat(head));
      }
      if (first === 0x5b /* [ */) {
        yield* readArray(head, chunks, where, ctx);
        return;
      }
      while (!ended && size <= ctx.limits.maxRecordBytes) {
        const next = await chunks.next();
        if (next.done) ended = true;
        else {
          head.push(next.value);
          size += next.value.length;
        }
      }
    } catch (error) {
      if (error instanceof FeedError) throw error;
      yield countRejected(ctx, where, messageOf(error));
      return;
    }
    if (!ended) {
      yield countRejected(ctx, where, `the record is larger than ${ctx.limits.maxRecordBytes} bytes`);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(stripBom(Buffer.concat(head).toString('utf8')));
    } catch (error) {
      yield countRejected(ctx, where, `malformed JSON: ${messageOf(error, 200)}`);
      return;
    }
    ctx.countItem(where);
    yield parseOsvRecord(json, where);
  } finally {
    // Stops reading (and inflating) whatever was left when the record was refused or the caller left.
    await chunks.return(undefined);
  }
}

function firstSignificantByte(buffer: Buffer): number | undefined {
  let i = buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0;
  for (; i < buffer.length; i++) {
    const byte = buffer[i] as number;
    if (!WHITESPACE.has(byte)) return byte;
  }
  return undefined;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A file holding an array of records: each element is assembled and checked on its own. */
async function* readArray(head: Buffer[], rest: AsyncGenerator<Buffer>, where: string, ctx: ReadContext): AsyncGenerator<FeedItem> {
  let stopped: FeedError | undefined;
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    try {
      yield* rest;
    } catch (error) {
      if (error instanceof FeedError) stopped = error;
      throw error;
    }
  }
  const elements = streamArray.withParserAsStream();
  pipeline(Readable.from(all()), elements, () => undefined);
  const iterator = elements[Symbol.asyncIterator]();
  let count = 0;
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await iterator.next();
      } catch (error) {
        if (stopped) throw stopped;
        if (error instanceof FeedError) throw error;
        yield countRejected(ctx, where, `malformed JSON after ${count} records: ${messageOf(error, 200)}`);
        return;
      }
      if (next.done) return;
      ctx.checkAbort();
      const { key, value } = next.value as { key: number; value: unknown };
      ctx.countItem(where);
      count += 1;
      yield parseOsvRecord(value, `${where}[${key}]`);
    }
  } finally {
    elements.destroy();
  }
}

/** Query strings can carry tokens: never put them in `where`. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return basename(url);
  }
}
