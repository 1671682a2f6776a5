import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { parser } from 'stream-json';
import type { FeedItem } from '../model.js';
import { type DebianTrackerStats, readDebianTracker } from './debian/debian-tracker.js';
import { downloadToTempFile, isUrl } from './download.js';
import { FeedError, messageOf } from './feed-error.js';
import { OSV_READ_DEFAULTS, type ReadOsvOptions, readOsv } from './osv/osv-source.js';

export { DEBIAN_RELEASES, debianEcosystem } from './debian/debian-releases.js';
export {
  DEBIAN_TRACKER_DEFAULTS,
  type DebianTrackerStats,
  newDebianTrackerStats,
  type ReadDebianTrackerOptions,
  readDebianTracker,
} from './debian/debian-tracker.js';
export { FeedError, type FeedErrorCode, isFeedError } from './feed-error.js';
export { parseOsvRecord } from './osv/osv-record.js';
export { OSV_READ_DEFAULTS, type ReadOsvOptions, readOsv } from './osv/osv-source.js';

export type FeedKind = 'osv' | 'debian-tracker';

/** Options for either reader; each uses what applies to it. */
export interface ReadFeedOptions extends ReadOsvOptions {
  /** Debian tracker: stamped on every advisory as `modified`. Default: the time the read starts. */
  modified?: string | Date;
  /** Debian tracker: counters filled in while reading. */
  stats?: DebianTrackerStats;
}

const TRACKER_HOST = 'security-tracker.debian.org';

/**
 * Reads a feed of the given kind. `source` is a path or an `http(s)://` URL: for OSV a directory,
 * `.json` or `.zip` (see `readOsv`); for the Debian tracker one JSON file, downloaded first when it is
 * a URL (same timeout and byte cap as OSV downloads).
 */
export async function* readFeed(kind: FeedKind, source: string, opts: ReadFeedOptions = {}): AsyncIterable<FeedItem> {
  if (kind === 'osv') {
    yield* readOsv(source, opts);
    return;
  }
  const trackerOpts = {
    maxBytes: opts.maxBytes ?? OSV_READ_DEFAULTS.maxBytes,
    ...(opts.modified === undefined ? {} : { modified: opts.modified }),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.stats ? { stats: opts.stats } : {}),
  };
  if (!isUrl(source)) {
    await requireFile(source);
    yield* readDebianTracker(source, trackerOpts);
    return;
  }
  const download = await downloadToTempFile(source, 'debian-tracker.json', {
    timeoutMs: opts.timeoutMs ?? OSV_READ_DEFAULTS.timeoutMs,
    maxBytes: trackerOpts.maxBytes,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    yield* readDebianTracker(download.path, trackerOpts);
  } finally {
    await download.dispose();
  }
}

async function requireFile(path: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new FeedError('feed-unreachable', `cannot read ${path}: ${messageOf(error)}`, { cause: error });
  }
  if (!info.isFile()) throw new FeedError('feed-format', `${path}: the Debian tracker feed is a single JSON file`);
}

/** The top-level property names of an OSV record (from the OSV schema). */
const OSV_FIELDS = new Set([
  'schema_version',
  'id',
  'modified',
  'published',
  'withdrawn',
  'aliases',
  'related',
  'upstream',
  'summary',
  'details',
  'severity',
  'affected',
  'references',
  'credits',
  'database_specific',
]);

/** How much of a file detection reads: the first package entry of the tracker starts well within it. */
const SNIFF_BYTES = 64 * 1024;

/**
 * Which reader a source needs. A `.json` file whose top level is an object keyed by names that are
 * not OSV fields, with objects as values (package → issues), is the Debian tracker; so is a URL on
 * security-tracker.debian.org. Everything else (directories, zips, OSV records and arrays) is OSV.
 */
export async function detectFeedKind(source: string): Promise<FeedKind> {
  if (isUrl(source)) {
    try {
      return new URL(source).hostname === TRACKER_HOST ? 'debian-tracker' : 'osv';
    } catch {
      return 'osv';
    }
  }
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(source);
  } catch (error) {
    throw new FeedError('feed-unreachable', `cannot read ${source}: ${messageOf(error)}`, { cause: error });
  }
  if (!info.isFile() || (await startsWithZipMagic(source))) return 'osv';
  return (await looksLikeTracker(source)) ? 'debian-tracker' : 'osv';
}

async function startsWithZipMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x50 && head[1] === 0x4b;
  } finally {
    await handle.close();
  }
}

async function looksLikeTracker(path: string): Promise<boolean> {
  const tokens = createReadStream(path, { start: 0, end: SNIFF_BYTES - 1 }).pipe(
    parser.asStream({ packValues: true, streamValues: false }),
  );
  const seen: { name: string; value?: unknown }[] = [];
  try {
    for await (const token of tokens as AsyncIterable<{ name: string; value?: unknown }>) {
      seen.push(token);
      if (seen.length === 3) break;
    }
  } catch {
    // Not JSON, or cut off at SNIFF_BYTES before three tokens: not the tracker.
  } finally {
    tokens.destroy();
  }
  const [first, key, value] = seen;
  return first?.name === 'startObject' && key?.name === 'keyValue' && !OSV_FIELDS.has(String(key.value)) && value?.name === 'startObject';
}
