import { createReadStream } from 'node:fs';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { parser } from 'stream-json';
import Assembler from 'stream-json/assembler.js';
import batch from 'stream-json/utils/batch.js';
import type { AffectedPackage, FeedItem, RangeEvent, SeverityInput } from '../../model.js';
import { FeedError, messageOf } from '../feed-error.js';
import { debianEcosystem } from './debian-releases.js';

/**
 * Reader for the Debian Security Tracker's JSON export
 * (https://security-tracker.debian.org/tracker/data/json, about 70 MB):
 *
 *   { "<source package>": { "<CVE-…|TEMP-…|DSA-…>": { description?, scope?, debianbug?,
 *       releases: { "<codename>": { status, fixed_version?, urgency?, repositories, nodsa?, nodsa_reason? } } } } }
 *
 * The file is keyed package → issue, so one CVE touching several source packages appears once per
 * package, far apart. Merging them would mean holding the whole file; instead this reader yields ONE
 * ADVISORY PER (package, issue), with `id` = the issue key, and the importer merges advisories that
 * share (source: 'debian-tracker', id) by concatenating their `affected` lists (each package's
 * entries are disjoint: they differ in `name`).
 *
 * The tracker has no modification time: every advisory gets `modified` = `opts.modified` (the
 * import's start time), so incremental imports of this feed must compare content, not `modified`.
 */
export interface ReadDebianTrackerOptions {
  /** Stamped on every advisory as `modified` (ISO 8601). Default: the time the read starts. */
  modified?: string | Date;
  signal?: AbortSignal;
  /** Input bytes past this stop the read with `feed-too-large`. Default 1 GiB (the real file is ~70 MB). */
  maxBytes?: number;
  /** Called after every item with the running totals (`entries` = items yielded). */
  onProgress?(progress: { entries: number; bytes: number }): void;
  /** Filled in while reading (create with `newDebianTrackerStats()`). */
  stats?: DebianTrackerStats;
}

export interface DebianTrackerStats {
  packages: number;
  advisories: number;
  rejected: number;
  /** Releases left out because the package is not affected there (`fixed_version: "0"`, `<not-affected>`). */
  notAffected: number;
  /** Releases left out for another reason, counted by reason (`unknown release: etch`, ...). */
  skipped: Record<string, number>;
}

export function newDebianTrackerStats(): DebianTrackerStats {
  return { packages: 0, advisories: 0, rejected: 0, notAffected: 0, skipped: {} };
}

export const DEBIAN_TRACKER_DEFAULTS = { maxBytes: 1024 ** 3 } as const;

/** Tracker markers, bare or in `<…>` form as `data/CVE/list` writes them. */
const MARKERS = new Set(['unfixed', 'not-affected', 'removed', 'undetermined', 'end-of-life', 'ignored', 'postponed', 'no-dsa']);
/** Statuses (and markers) that mean "affected, and no fixed version is known". */
const AFFECTED_NO_FIX = new Set(['open', 'undetermined', 'unfixed', 'removed', 'ignored', 'postponed', 'no-dsa', 'end-of-life']);

type Token = { name: string; value?: unknown };

/**
 * Streams the tracker JSON from a path or a Readable, never holding more than one (package, issue)
 * entry. Bad entries become `rejected` items; input that is not JSON, or not an object of packages at
 * the top, throws `FeedError` (`feed-format`).
 */
export async function* readDebianTracker(input: Readable | string, opts: ReadDebianTrackerOptions = {}): AsyncIterable<FeedItem> {
  const stamp = opts.modified === undefined ? new Date() : new Date(opts.modified);
  if (Number.isNaN(stamp.getTime()))
    throw new RangeError(`readDebianTracker: modified is not a date: ${String(opts.modified).slice(0, 60)}`);
  const modified = stamp.toISOString();
  const maxBytes = opts.maxBytes ?? DEBIAN_TRACKER_DEFAULTS.maxBytes;
  const stats = opts.stats ?? newDebianTrackerStats();
  const where = typeof input === 'string' ? input : 'debian-tracker';
  opts.signal?.throwIfAborted();

  let bytes = 0;
  let entries = 0;
  let limitError: FeedError | undefined;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        limitError = new FeedError('feed-too-large', `${where}: more than ${maxBytes} bytes`);
        callback(limitError);
        return;
      }
      callback(null, chunk);
    },
  });
  const source = typeof input === 'string' ? createReadStream(input, { highWaterMark: 256 * 1024 }) : input;
  let sourceError: unknown;
  source.once('error', (error: unknown) => {
    sourceError = error;
  });
  // Packed values only: one token per key, string and number instead of a chunk stream each.
  const tokens = parser.asStream({ packValues: true, streamValues: false });
  // Tokens in arrays of 1024: one await per batch instead of per token (about 2x faster).
  const batches = batch.asStream({ batchSize: 1024 });
  pipeline(source, meter, tokens, batches, () => undefined);

  const emit = (item: FeedItem): FeedItem => {
    entries += 1;
    if (item.kind === 'advisory') stats.advisories += 1;
    else stats.rejected += 1;
    opts.onProgress?.({ entries, bytes });
    return item;
  };

  // Position in the document: 0 before the top object, 1 inside it (package keys), 2 inside a
  // package (issue keys). Values below depth 2 are assembled (an issue) or skipped (junk).
  let depth = 0;
  let pkg = '';
  let key = '';
  let assembler: Assembler | undefined;
  let skipping = 0;
  let ended = false;
  try {
    for await (const tokenBatch of batches as AsyncIterable<Token[]>) {
      for (const token of tokenBatch) {
        if (assembler) {
          assembler.consume(token as Parameters<Assembler['consume']>[0]);
          if (assembler.done) {
            const value = assembler.current;
            assembler = undefined;
            opts.signal?.throwIfAborted();
            yield emit(toItem(pkg, key, value, modified, stats));
          }
          continue;
        }
        if (skipping > 0) {
          if (token.name === 'startObject' || token.name === 'startArray') skipping += 1;
          else if (token.name === 'endObject' || token.name === 'endArray') skipping -= 1;
          continue;
        }
        if (ended) throw new FeedError('feed-format', `${where}: unexpected data after the top-level object`);
        switch (depth) {
          case 0:
            if (token.name !== 'startObject')
              throw new FeedError('feed-format', `${where}: the top level is not an object of source packages`);
            depth = 1;
            break;
          case 1:
            if (token.name === 'keyValue') pkg = String(token.value);
            else if (token.name === 'endObject') ended = true;
            else if (token.name === 'startObject') {
              stats.packages += 1;
              depth = 2;
            } else {
              if (token.name === 'startArray') skipping = 1;
              yield emit(rejected(pkg, undefined, 'the package entry is not an object of issues'));
            }
            break;
          case 2:
            if (token.name === 'keyValue') key = String(token.value);
            else if (token.name === 'endObject') depth = 1;
            else if (token.name === 'startObject' || token.name === 'startArray') {
              assembler = new Assembler();
              assembler.consume(token as Parameters<Assembler['consume']>[0]);
            } else {
              yield emit(toItem(pkg, key, token.value, modified, stats));
            }
            break;
        }
      }
    }
  } catch (error) {
    if (limitError) throw limitError;
    if (error instanceof FeedError || opts.signal?.aborted) throw error;
    if (sourceError !== undefined) {
      throw new FeedError('feed-unreachable', `cannot read ${where}: ${messageOf(sourceError)}`, { cause: sourceError });
    }
    throw new FeedError('feed-format', `${where}: not valid tracker JSON: ${messageOf(error)}`, { cause: error });
  } finally {
    batches.destroy();
    tokens.destroy();
  }
  if (!ended) throw new FeedError('feed-format', `${where}: the JSON ends before the top-level object closes`);
}

function rejected(pkg: string, id: string | undefined, reason: string): FeedItem {
  const where = id === undefined ? pkg : `${pkg}/${id}`;
  return id === undefined ? { kind: 'rejected', where, reason } : { kind: 'rejected', id, where, reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** `<end-of-life>` → `end-of-life`; other strings unchanged. */
function marker(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bare = /^<(.+)>$/.exec(value)?.[1] ?? value;
  return MARKERS.has(bare) ? bare : undefined;
}

/** Maps one (package, issue) entry; see the module comment for the rules. */
export function toItem(pkg: string, id: string, value: unknown, modified: string, stats: DebianTrackerStats): FeedItem {
  if (pkg === '' || id === '') return rejected(pkg, id || undefined, 'empty package name or issue id');
  if (!isRecord(value)) return rejected(pkg, id, 'the issue entry is not an object');
  const releases = value.releases;
  // The tracker writes `"releases": []` for an issue with no release data (an empty PHP-style map).
  if (!(releases === undefined || isRecord(releases) || (Array.isArray(releases) && releases.length === 0))) {
    return rejected(pkg, id, '`releases` is not an object of codenames');
  }

  const severity: SeverityInput[] = [];
  const affected: AffectedPackage[] = [];
  for (const [codename, release] of Object.entries(isRecord(releases) ? releases : {})) {
    const pkgEntry = toAffected(pkg, codename, release, stats);
    if (!pkgEntry) continue;
    affected.push(pkgEntry);
    for (const s of pkgEntry.severity ?? []) {
      if (!severity.some((known) => known.score === s.score)) severity.push(s);
    }
  }

  const summary = text(value.description);
  return {
    kind: 'advisory',
    advisory: {
      source: 'debian-tracker',
      id,
      aliases: [],
      modified,
      ...(summary ? { summary } : {}),
      severity,
      affected,
    },
  };
}

function skip(stats: DebianTrackerStats, reason: string): undefined {
  stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
  return undefined;
}

/**
 * One release of one package. Semantics (security-tracker's JSON export and data/CVE/list):
 * - `fixed_version: "0"` or `<not-affected>` anywhere: never affected → omitted.
 * - a real `fixed_version` v (whatever the status: `open` with a version means the fix is known but
 *   not yet in the archive) → introduced 0, fixed v.
 * - `end-of-life` (as urgency, status or fixed_version): no fix will come → introduced 0, endOfLife.
 * - `open`, `undetermined`, `<unfixed>`, `<removed>` (gone from the archive, installed copies stay
 *   vulnerable), `<ignored>`/`<postponed>`/`<no-dsa>` (no DSA planned, still affected) → introduced 0.
 * - `resolved` without a usable version, an unknown status or codename → skipped and counted.
 */
function toAffected(pkg: string, codename: string, release: unknown, stats: DebianTrackerStats): AffectedPackage | undefined {
  const ecosystem = debianEcosystem(codename);
  if (!ecosystem) return skip(stats, `unknown release: ${codename.slice(0, 40)}`);
  if (!isRecord(release)) return skip(stats, 'release entry is not an object');
  const status = text(release.status);
  const fixed = text(release.fixed_version);
  const urgency = text(release.urgency);
  const markers = [status, fixed, urgency].map(marker);

  if (fixed === '0' || markers.includes('not-affected')) {
    stats.notAffected += 1;
    return undefined;
  }
  const endOfLife = markers.includes('end-of-life');
  const fixedVersion = fixed !== undefined && marker(fixed) === undefined && !fixed.startsWith('<') ? fixed : undefined;

  const events: RangeEvent[] = [{ introduced: '0' }];
  if (fixedVersion) events.push({ fixed: fixedVersion });
  else {
    const state = marker(fixed) ?? marker(status) ?? status;
    if (state === 'resolved') {
      if (!endOfLife) return skip(stats, 'resolved without a fixed version');
    } else if (!endOfLife && (state === undefined || !AFFECTED_NO_FIX.has(state))) {
      return skip(stats, `unknown status: ${String(status).slice(0, 40)}`);
    }
  }

  const entry: AffectedPackage = { ecosystem, name: pkg, keyedBy: 'source', ranges: [{ type: 'ECOSYSTEM', events }], versions: [] };
  if (endOfLife) entry.endOfLife = true;
  // `end-of-life` in the urgency slot is a release state, not an urgency; everything else is kept
  // raw (`low**`, `not yet assigned`) for the scorer to normalise.
  if (urgency && marker(urgency) !== 'end-of-life') entry.severity = [{ type: 'DEBIAN_URGENCY', score: urgency }];
  return entry;
}
