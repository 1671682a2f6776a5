import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { ApiError, causeText, isRecord, itemsOf, type QueryParams, type UploadBody } from '../api-client.js';
import {
  type CliIo,
  choiceOption,
  commandGroup,
  dispatchSubcommand,
  EXIT_API_ERROR,
  idSegment,
  intOption,
  printResult,
  SERVER_JSON_HELP,
  SERVER_JSON_OPTIONS,
  SERVER_ONLY_HELP,
  type Subcommand,
  UsageError,
  withParsedArgs,
} from '../command.js';
import { cell, escapeControl, formatFields, formatTable, isUnsafeCodePoint, shellWord, timestamp, yesNo } from '../output.js';
import { deleteByIdSubcommand, listSubcommand } from '../resource-commands.js';

/** A vulnerability with open findings, as GET /vulnerabilities lists it. */
export interface VulnerabilityView {
  id: string;
  source: string;
  aliases: string[];
  summary: string | null;
  severity: string;
  severitySource: string;
  hostCount: number;
  overdueHostCount: number;
  dueAt?: string;
}

/** Why a finding holds: the record, the range and the comparison that decided it. */
export interface ExplanationView {
  record: string;
  source: string;
  ecosystem: string;
  package: string;
  matchedBy: string;
  comparedVersion: string;
  range: string;
  decision: string;
  fixedVersion: string | null;
  endOfLife: boolean;
}

/** One finding on one host. */
export interface FindingView {
  id: string;
  source: string;
  aliases: string[];
  package: string;
  installedVersion: string;
  fixedVersion?: string;
  severity: string;
  severityDetail: string;
  riskTier: number;
  firstSeenAt: string;
  dueAt: string;
  overdue: boolean;
  closedAt: string | null;
  closedReason: string | null;
  explanation: ExplanationView;
}

export interface OverdueFindingView extends FindingView {
  hostId: string;
  hostname: string;
}

export interface ExplainView {
  host: { id: string; ecosystem: string | null };
  records: Array<{
    source: string;
    id: string;
    aliases: string[];
    summary: string | null;
    severity: string;
    severityDetail: string;
    withdrawn: string | null;
  }>;
  findings: FindingView[];
  notAffected: Array<{ record: string; source: string; package: string; installedVersion: string; reason: string }>;
}

/** The final line of an import. */
export interface ImportResultView {
  importId: string;
  kind: string;
  read: number;
  stored: number;
  unchanged: number;
  rejected: number;
  withdrawn: number;
  rejections: Array<{ id?: string; where: string; reason: string }>;
  findings: { open: number; opened: number; closed: number };
}

export interface RemediateView {
  deployment: { id: string; state: string; name: string };
  plan: {
    records: string[];
    hostIds: string[];
    packages: Array<{ name: string; fixedVersion: string | null }>;
    unfixed: Array<{ hostId: string; package: string }>;
  };
}

export interface FeedView {
  id: string;
  kind: string;
  location: string;
  cron: string;
  lastRunAt: string | null;
  createdAt: string;
}

export interface ImportRunView {
  id: string;
  kind: string;
  location: string;
  actor: string;
  startedAt: string;
  finishedAt: string | null;
  counts: Record<string, number>;
  error: string | null;
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type SlaMatrixView = Record<(typeof SEVERITIES)[number], Record<'1' | '2' | '3' | '4' | '5', number>>;

const TIERS = ['1', '2', '3', '4', '5'] as const;
const IMPORT_KINDS = ['osv', 'debian-tracker', 'auto'] as const;
const FEED_KINDS = ['osv', 'debian-tracker'] as const;
/** The server's bounds on one SLA cell, in whole hours. */
const SLA_MIN_HOURS = 1;
const SLA_MAX_HOURS = 87_600;
/** Same grammar as the server's record ids: CVE-2024-1234, GHSA-…, DSA-5555-1, DEBIAN-CVE-… */
const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const MAX_RECORD_ID = 128;
/** Longest import name the server records. */
const MAX_IMPORT_NAME = 200;
const SUMMARY_CHARS = 60;
const REJECTIONS_SHOWN = 10;
/** A download that sends nothing for this long is given up; a slow one that keeps sending is not. */
const DOWNLOAD_IDLE_MS = 5 * 60_000;
/** Without a terminal to redraw, progress is a new line at most this often. */
const PROGRESS_LINE_INTERVAL_MS = 2_000;

const usage = `Usage: brier vulns <command> [options]

What the fleet is exposed to: vulnerability feeds matched against inventory, with due dates.

Commands:
  import PATH|URL       Import a feed (OSV zip, JSON, a directory of OSV files, Debian tracker)
  list                  Vulnerabilities with open findings, worst first
  host HOST_ID          One host's findings
  explain HOST_ID CVE   Why a host is, or is not, affected by one record
  overdue               Findings past their due date
  remediate CVE         Create a deployment that fixes one record where it is open
  sla                   Show or set the due-date matrix (hours per severity and risk tier)
  tier                  Set the risk tier of a host or a group
  feeds                 List, schedule and remove feeds the server imports by itself
  imports               Recent imports with their counts

Run 'brier vulns <command> --help' for its options.
`;

// ---------------------------------------------------------------------------------------------
// Operand checks: all run before the server is contacted.

function recordId(value: string, what: string, usageText: string): string {
  if (value.length > MAX_RECORD_ID || !RECORD_ID.test(value)) {
    throw new UsageError(`${what} must be a record id such as CVE-2024-1234, got ${JSON.stringify(value)}`, usageText);
  }
  return value;
}

/** `1`..`5`, or `none` to remove the tier. */
function tierOperand(value: string, usageText: string): number | null {
  if (value === 'none') return null;
  if (!(TIERS as readonly string[]).includes(value))
    throw new UsageError(`tier must be 1-5 or none, got ${JSON.stringify(value)}`, usageText);
  return Number(value);
}

/** A name shown to people later (site, group, feed location): no control or bidi characters. */
function plainText(value: string, what: string, max: number, usageText: string): string {
  if (value.trim() === '') throw new UsageError(`${what} must not be empty`, usageText);
  if ([...value].length > max) throw new UsageError(`${what} is longer than ${max} characters`, usageText);
  if ([...value].some((ch) => isUnsafeCodePoint(ch.codePointAt(0) ?? 0))) {
    throw new UsageError(`${what} must not contain control characters`, usageText);
  }
  return value;
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function aliasesCell(aliases: readonly string[] | undefined): string {
  const list = aliases ?? [];
  if (list.length === 0) return '-';
  return cell(list.slice(0, 3).join(',') + (list.length > 3 ? ',…' : ''));
}

// ---------------------------------------------------------------------------------------------
// import

const importUsage = `Usage: brier vulns import PATH|URL [--kind osv|debian-tracker|auto] [--json]

Import a vulnerability feed and match it against the fleet. The CLI reads or downloads the feed
and uploads it; the server never fetches anything from the internet for this.

  PATH   an OSV .zip as osv.dev publishes it, a .json file (one OSV record, an array of them, or
         the Debian Security Tracker JSON), or a directory searched for OSV *.json files
  URL    an http(s) address of such a .zip or .json file, uploaded as it downloads

Progress goes to stderr. Records the server rejects are counted and listed, not an error.

Options:
  --kind KIND          osv, debian-tracker or auto (default: the server tells them apart)
${SERVER_JSON_HELP}
`;

interface FeedSource {
  /** Produces nothing until the upload pulls; `return()` releases a file or download not read to the end. */
  body: AsyncGenerator<Uint8Array>;
  contentType: string;
  /** What the server records as the import's location. */
  name: string;
  /** Directory imports: files left out because they do not hold OSV records. */
  skipped: () => number;
}

/** Something the server may record: control characters made visible, bounded length. */
function importName(text: string): string {
  return [...escapeControl(text)].slice(0, MAX_IMPORT_NAME).join('');
}

function isUrl(operand: string): boolean {
  return /^https?:\/\//i.test(operand);
}

/** Media type for a feed: a zip by extension or declared type, JSON (octet-stream) otherwise. */
function feedType(fileName: string, declared?: string | null): string {
  if (extname(fileName).toLowerCase() === '.zip') return 'application/zip';
  const type = (declared ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/zip' || type === 'application/x-zip-compressed') return 'application/zip';
  return 'application/octet-stream';
}

function parseUrl(operand: string): URL {
  try {
    return new URL(operand);
  } catch (err) {
    throw new UsageError(`invalid URL ${JSON.stringify(operand)}`, importUsage, { cause: err });
  }
}

async function openUrl(url: URL, io: CliIo, progress: ProgressReporter): Promise<FeedSource> {
  const abort = new AbortController();
  const giveUp = () => abort.abort(new DOMException(`nothing received for ${DOWNLOAD_IDLE_MS} ms`, 'TimeoutError'));
  let timer = setTimeout(giveUp, DOWNLOAD_IDLE_MS);
  // Credentials or a signed query belong to this download, not to the server's import log.
  const shown = `${url.origin}${url.pathname}`;
  let res: Response;
  try {
    res = await io.fetch(url, { signal: abort.signal, redirect: 'follow' });
  } catch (err) {
    clearTimeout(timer);
    throw new Error(`cannot download ${shown}: ${causeText(err)}`, { cause: err });
  }
  clearTimeout(timer);
  if (!res.ok || res.body === null) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`cannot download ${shown}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  }
  const body = res.body;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const reader = body.getReader();
    try {
      for (;;) {
        // Only the wait for the next chunk counts, not the time the upload takes to send it on.
        timer = setTimeout(giveUp, DOWNLOAD_IDLE_MS);
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (err) {
          throw new Error(`download of ${shown} broke off: ${causeText(err)}`, { cause: err });
        } finally {
          clearTimeout(timer);
        }
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
  progress.note(`brier: downloading ${escapeControl(shown)}\n`);
  return {
    body: chunks(),
    contentType: feedType(url.pathname, res.headers.get('content-type')),
    name: importName(shown),
    skipped: () => 0,
  };
}

/** Every regular `*.json` file under `dir`, in a stable order. */
async function jsonFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true })).filter((n) => n.toLowerCase().endsWith('.json')).sort();
  const files: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    if ((await stat(file)).isFile()) files.push(file);
  }
  return files;
}

/**
 * One JSON array of every OSV record in `files`, produced a file at a time. Each file is parsed
 * before anything of it is sent, so one that is not JSON, or holds something other than records,
 * is reported and left out instead of spoiling the whole upload.
 */
async function* osvArray(dir: string, files: readonly string[], skip: (file: string, reason: string) => void): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let first = true;
  yield encoder.encode('[');
  for (const file of files) {
    let records: unknown[];
    try {
      const value: unknown = JSON.parse(await readFile(file, 'utf8'));
      records = Array.isArray(value) ? value : [value];
      if (!records.every(isRecord)) throw new Error('not an OSV record (a JSON object) or an array of them');
    } catch (err) {
      skip(relative(dir, file), err instanceof Error ? err.message : String(err));
      continue;
    }
    if (records.length === 0) continue;
    yield encoder.encode(`${first ? '' : ','}${records.map((r) => JSON.stringify(r)).join(',')}`);
    first = false;
  }
  yield encoder.encode(']');
}

async function openPath(operand: string, progress: ProgressReporter): Promise<FeedSource> {
  const path = resolve(operand);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    throw new UsageError(`cannot read ${operand}: ${err instanceof Error ? err.message : String(err)}`, importUsage, { cause: err });
  }
  if (info.isDirectory()) {
    const files = await jsonFiles(path);
    if (files.length === 0) throw new UsageError(`no *.json files in ${operand}`, importUsage);
    let skipped = 0;
    const skip = (file: string, reason: string) => {
      skipped += 1;
      progress.note(`brier: skipped ${escapeControl(file)}: ${escapeControl(reason)}\n`);
    };
    return { body: osvArray(path, files, skip), contentType: 'application/octet-stream', name: importName(path), skipped: () => skipped };
  }
  if (!info.isFile()) throw new UsageError(`${operand} is neither a file nor a directory`, importUsage);
  return { body: fileChunks(path), contentType: feedType(path), name: importName(path), skipped: () => 0 };
}

/** A file's bytes, opened only when the first chunk is asked for. */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  yield* createReadStream(path);
}

async function* counted(source: AsyncIterable<Uint8Array>, onBytes: (total: number) => void): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    onBytes(total);
    yield chunk;
  }
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export interface ProgressReporter {
  /** A progress line, replacing the previous one. */
  update: (text: string) => void;
  /** A message that must stay (a skipped file): printed whole, the progress line redrawn after it. */
  note: (text: string) => void;
  /** Clears the progress line before the summary. */
  done: () => void;
}

/**
 * Progress on stderr. On a terminal the one line is rewritten in place (`\r`, clear line); in a log
 * file or pipe a new line is written at most every PROGRESS_LINE_INTERVAL_MS per phase (the words
 * before the first ':'), so a long import does not flood it. `text` must already be safe (see `cell`).
 */
export function progressReporter(write: (s: string) => void, tty: boolean, now: () => number = Date.now): ProgressReporter {
  let current = '';
  let onScreen = false;
  let lastLineAt: number | undefined;
  let lastPhase = '';
  return {
    update(text) {
      if (text === current) return;
      current = text;
      if (tty) {
        write(`\r\u001b[2K${text}`);
        onScreen = true;
        return;
      }
      // The first line of a new phase ("uploading:", then "importing:") is always shown.
      const phase = text.slice(0, text.indexOf(':') + 1);
      const at = now();
      if (phase === lastPhase && lastLineAt !== undefined && at - lastLineAt < PROGRESS_LINE_INTERVAL_MS) return;
      lastLineAt = at;
      lastPhase = phase;
      write(`${text}\n`);
    },
    note(text) {
      if (!tty) {
        write(text);
        return;
      }
      write(`${onScreen ? '\r\u001b[2K' : ''}${text}${current === '' ? '' : current}`);
      onScreen = current !== '';
    },
    done() {
      if (tty && onScreen) write('\r\u001b[2K');
      onScreen = false;
    },
  };
}

function renderImport(result: ImportResultView, skipped: number): string {
  const f = result.findings ?? { open: 0, opened: 0, closed: 0 };
  const fields: [string, string][] = [
    ['Import', `${cell(result.importId)} (${cell(result.kind)})`],
    [
      'Records',
      `read ${cell(result.read)}, stored ${cell(result.stored)}, unchanged ${cell(result.unchanged)}, rejected ${cell(result.rejected)}, withdrawn ${cell(result.withdrawn)}`,
    ],
    ['Findings', `opened ${cell(f.opened)}, closed ${cell(f.closed)}, open now ${cell(f.open)}`],
  ];
  if (skipped > 0) fields.push(['Skipped', `${skipped} file${skipped === 1 ? '' : 's'} that did not hold OSV records (see above)`]);
  let out = formatFields(fields);
  const rejections = Array.isArray(result.rejections) ? result.rejections : [];
  if (result.rejected > 0 || rejections.length > 0) {
    // The server may itself keep only the first rejections; say how many of them are shown.
    const shown = rejections.slice(0, REJECTIONS_SHOWN);
    const count = typeof result.rejected === 'number' ? result.rejected : rejections.length;
    out += `\n${cell(count)} record${count === 1 ? '' : 's'} rejected`;
    if (shown.length === 0) return `${out}.\n`;
    out += `${shown.length < count ? `; the first ${shown.length}` : ''}:\n`;
    out += formatTable(
      ['ID', 'WHERE', 'REASON'],
      shown.map((r) => [cell(r.id), cell(r.where), cell(r.reason)]),
    );
  }
  return out;
}

const importFeed = withParsedArgs(
  { usage: importUsage, options: { ...SERVER_JSON_OPTIONS, kind: { type: 'string' } }, operands: ['PATH|URL'] },
  async ({ values, positionals }, ctx) => {
    const operand = positionals[0] ?? '';
    if (operand.trim() === '') throw new UsageError('missing PATH|URL', importUsage);
    const kind = choiceOption('kind', values.kind, IMPORT_KINDS, importUsage);
    const env = ctx.io.env;
    // CliIo does not say whether stderr is a terminal; a real one has a TERM and a TTY stderr.
    const tty = process.stderr.isTTY === true && env.TERM !== undefined && env.TERM !== 'dumb';
    const progress = progressReporter(ctx.io.stderr, tty);
    // A local path is checked before the session is resolved, a download started only after it.
    let open: () => Promise<FeedSource>;
    if (isUrl(operand)) {
      const url = parseUrl(operand);
      open = () => openUrl(url, ctx.io, progress);
    } else {
      const local = await openPath(operand, progress);
      open = async () => local;
    }
    const { client } = await ctx.session(values.server);
    const source = await open();

    let result: ImportResultView | undefined;
    let failure: { code?: unknown; detail?: unknown } | undefined;
    const body: UploadBody = {
      stream: counted(source.body, (bytes) => progress.update(`uploading: ${mib(bytes)} sent`)),
      contentType: source.contentType,
    };
    const query: QueryParams = { kind, name: source.name };
    try {
      await client.upload('/vulnerabilities/imports', query, body, (line) => {
        if (!isRecord(line)) return;
        if (isRecord(line.progress)) {
          const p = line.progress;
          progress.update(`importing: read ${cell(p.read)}, stored ${cell(p.stored)}, rejected ${cell(p.rejected)}`);
        } else if (isRecord(line.result)) {
          result = line.result as unknown as ImportResultView;
        } else if (isRecord(line.error)) {
          failure = line.error;
        } else if (typeof line.importId === 'string') {
          // A server that answered the whole result at once instead of streaming.
          result = line as unknown as ImportResultView;
        }
      });
    } finally {
      progress.done();
      await source.body.return(undefined);
    }
    if (failure !== undefined) {
      ctx.io.stderr(`brier: the import failed: ${cell(failure.detail)} (code ${cell(failure.code)})\n`);
      return EXIT_API_ERROR;
    }
    if (result === undefined) {
      throw new ApiError({ title: 'Unexpected response from server', detail: 'the import ended without a result' });
    }
    return printResult(ctx, values.json, result, (r) => renderImport(r, source.skipped()));
  },
);

// ---------------------------------------------------------------------------------------------
// list, host, overdue

const LIST_OPTIONS = {
  severity: { type: 'string' },
  overdue: { type: 'boolean' },
  id: { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string' },
} as const;

const listUsage = `Usage: brier vulns list [--severity critical|high|medium|low] [--overdue] [--id CVE]
                       [--limit N] [--offset N] [--json]

List the vulnerabilities with open findings, worst first, with how many hosts have them, how many
of those are overdue, and the earliest due date.

Options:
  --severity S         Only this severity: critical, high, medium or low
  --overdue            Only vulnerabilities overdue on at least one host
  --id CVE             Only this record (by id or alias)
  --limit N            At most N entries (server default when omitted)
  --offset N           Skip the first N entries
${SERVER_JSON_HELP}
`;

const list = listSubcommand<VulnerabilityView, typeof LIST_OPTIONS>({
  usage: listUsage,
  options: LIST_OPTIONS,
  request: ({ values }) => ({
    path: '/vulnerabilities',
    query: {
      severity: choiceOption('severity', values.severity, SEVERITIES, listUsage),
      overdue: values.overdue ? 'true' : undefined,
      id: values.id === undefined ? undefined : recordId(values.id, '--id', listUsage),
      limit: intOption('limit', values.limit, listUsage, 1),
      offset: intOption('offset', values.offset, listUsage),
    },
  }),
  headers: ['ID', 'SEVERITY', 'HOSTS', 'OVERDUE', 'DUE', 'ALIASES', 'SUMMARY'],
  row: (v) => [
    cell(v.id),
    cell(v.severity),
    cell(v.hostCount),
    cell(v.overdueHostCount),
    timestamp(v.dueAt),
    aliasesCell(v.aliases),
    truncate(cell(v.summary), SUMMARY_CHARS),
  ],
  showTotal: true,
});

const hostUsage = `Usage: brier vulns host HOST_ID [--closed] [--json]

List one host's open findings: the record, the package and version installed, the version that
fixes it, the severity and the due date. 'brier vulns explain HOST_ID CVE' says why.

Options:
  --closed             Include closed findings (fixed, or no longer matched)
${SERVER_JSON_HELP}
`;

const host = listSubcommand<FindingView, { closed: { type: 'boolean' } }>({
  usage: hostUsage,
  options: { closed: { type: 'boolean' } },
  operands: ['HOST_ID'],
  request: ({ values, positionals }) => ({
    path: `/hosts/${idSegment(positionals[0] ?? '', hostUsage)}/vulnerabilities`,
    query: { closed: values.closed ? 'true' : undefined },
  }),
  headers: ['ID', 'PACKAGE', 'INSTALLED', 'FIXED', 'SEVERITY', 'DUE', 'OVERDUE'],
  row: (f) => [
    cell(f.id),
    cell(f.package),
    cell(f.installedVersion),
    cell(f.fixedVersion),
    cell(f.severity),
    timestamp(f.dueAt),
    f.closedAt ? 'closed' : yesNo(f.overdue),
  ],
});

const overdueUsage = `Usage: brier vulns overdue [--limit N] [--offset N] [--json]

List open findings past their due date, most overdue first.

Options:
  --limit N            At most N findings (server default when omitted)
  --offset N           Skip the first N findings
${SERVER_JSON_HELP}
`;

const overdue = listSubcommand<OverdueFindingView, { limit: { type: 'string' }; offset: { type: 'string' } }>({
  usage: overdueUsage,
  options: { limit: { type: 'string' }, offset: { type: 'string' } },
  request: ({ values }) => ({
    path: '/vulnerabilities/overdue',
    query: { limit: intOption('limit', values.limit, overdueUsage, 1), offset: intOption('offset', values.offset, overdueUsage) },
  }),
  headers: ['HOST', 'ID', 'PACKAGE', 'SEVERITY', 'TIER', 'DUE'],
  row: (f) => [cell(f.hostname), cell(f.id), cell(f.package), cell(f.severity), cell(f.riskTier), timestamp(f.dueAt)],
  showTotal: true,
});

// ---------------------------------------------------------------------------------------------
// explain

const explainUsage = `Usage: brier vulns explain HOST_ID CVE [--json]

Say why a host is, or is not, affected by one record (CVE id or any alias): the range in the feed,
the version compared, the comparison that decided it, and the fix.

Options:
${SERVER_JSON_HELP}
`;

function explainFinding(f: FindingView): string {
  const e: Partial<ExplanationView> = isRecord(f.explanation) ? f.explanation : {};
  const others = (f.aliases ?? []).filter((a) => a !== f.id);
  const lines = [
    `${cell(f.package)} ${cell(f.installedVersion)} is affected by ${cell(f.id)}${others.length > 0 ? ` (${cell(others.join(', '))})` : ''}:`,
    `  range ${cell(e.range)}`,
    `  decision: ${cell(e.decision)}`,
    `  matched by ${e.matchedBy === 'source' ? 'source' : 'binary'} package ${cell(e.package)} ${cell(e.comparedVersion)} on ${cell(e.ecosystem)} (${cell(e.source)})`,
  ];
  const fixed = f.fixedVersion ?? e.fixedVersion;
  if (fixed) lines.push(`  fix: upgrade to ${cell(fixed)} or later`);
  else lines.push(e.endOfLife ? '  fix: none, this release is end-of-life for the package' : '  fix: none known yet');
  lines.push(`  severity ${cell(f.severity)}${f.severityDetail ? ` (${cell(f.severityDetail)})` : ''}; risk tier ${cell(f.riskTier)}`);
  if (f.closedAt) {
    lines.push(`  closed ${timestamp(f.closedAt)}${f.closedReason ? ` (${cell(f.closedReason)})` : ''}`);
  } else {
    lines.push(`  first seen ${timestamp(f.firstSeenAt)}; due ${timestamp(f.dueAt)}${f.overdue ? ' (overdue)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

function renderExplain(x: ExplainView, asked: string): string {
  const blocks: string[] = [];
  for (const r of x.records ?? []) {
    const others = (r.aliases ?? []).filter((a) => a !== r.id);
    const facts = [
      `${cell(r.id)} (${cell(r.source)})${others.length > 0 ? `, also ${cell(others.join(', '))}` : ''}`,
      `severity ${cell(r.severity)}${r.severityDetail ? ` (${cell(r.severityDetail)})` : ''}`,
      ...(r.withdrawn ? [`withdrawn ${timestamp(r.withdrawn)}`] : []),
    ];
    blocks.push(`${facts.join('; ')}${r.summary ? `\n  ${cell(r.summary)}` : ''}\n`);
  }
  for (const f of x.findings ?? []) blocks.push(explainFinding(f));
  const notAffected = (x.notAffected ?? []).map(
    (n) => `not affected: ${cell(n.package)} ${cell(n.installedVersion)}: ${cell(n.reason)} (${cell(n.record)})\n`,
  );
  if (notAffected.length > 0) blocks.push(notAffected.join(''));
  if ((x.findings ?? []).length === 0 && notAffected.length === 0) {
    blocks.push(`Host ${cell(x.host?.id)} has no installed package that ${cell(asked)} names.\n`);
  }
  return blocks.join('\n');
}

const explain = withParsedArgs(
  { usage: explainUsage, options: SERVER_JSON_OPTIONS, operands: ['HOST_ID', 'CVE'] },
  async ({ values, positionals }, ctx) => {
    const hostId = idSegment(positionals[0] ?? '', explainUsage);
    const record = recordId(positionals[1] ?? '', 'CVE', explainUsage);
    const { client } = await ctx.session(values.server);
    const result = await client.get<ExplainView>(`/hosts/${hostId}/vulnerabilities/${encodeURIComponent(record)}`);
    if (!isRecord(result)) throw new ApiError({ title: 'Unexpected response from server', detail: 'expected an explanation object' });
    return printResult(ctx, values.json, result, (x) => renderExplain(x, record));
  },
);

// ---------------------------------------------------------------------------------------------
// remediate

const remediateUsage = `Usage: brier vulns remediate CVE [--hosts ID[,ID…]] [--name NAME] [--critical] [--emergency] [--json]

Create a deployment that upgrades the affected packages to their latest version on exactly the
hosts with an open finding of this record (or the given subset of them). It is approved, piloted
and rolled out like any other: follow it with 'brier deploy show ID'.

Options:
  --hosts LIST         Only these host ids
  --name NAME          The deployment's name (default: Remediate CVE)
  --critical           Needs a second person's approval
  --emergency          Needs approval; ignores maintenance windows and bake times
${SERVER_JSON_HELP}
`;

function renderRemediation(r: RemediateView): string {
  const plan = r.plan ?? { records: [], hostIds: [], packages: [], unfixed: [] };
  const packages = (plan.packages ?? []).map(
    (p) => `${p.name} ${p.fixedVersion ? `(fixed in ${p.fixedVersion})` : '(no fixed version known)'}`,
  );
  const unfixed = (plan.unfixed ?? []).map((u) => `${u.package} on ${u.hostId}`);
  const fields: [string, string][] = [
    ['Deployment', cell(r.deployment?.id)],
    ['Name', cell(r.deployment?.name)],
    ['State', cell(r.deployment?.state)],
    ['Records', cell((plan.records ?? []).join(', '))],
    ['Hosts', cell((plan.hostIds ?? []).length)],
    ['Packages', cell(packages.join(', '))],
  ];
  if (unfixed.length > 0) fields.push(['Unfixed', cell(unfixed.join(', '))]);
  return `${formatFields(fields)}\nFollow it with: brier deploy show ${shellWord(String(r.deployment?.id ?? ''))}\n`;
}

const remediate = withParsedArgs(
  {
    usage: remediateUsage,
    options: {
      ...SERVER_JSON_OPTIONS,
      hosts: { type: 'string' },
      name: { type: 'string' },
      critical: { type: 'boolean' },
      emergency: { type: 'boolean' },
    },
    operands: ['CVE'],
  },
  async ({ values, positionals }, ctx) => {
    const record = recordId(positionals[0] ?? '', 'CVE', remediateUsage);
    const hostIds = splitList(values.hosts);
    if (values.hosts !== undefined && hostIds.length === 0) throw new UsageError('--hosts needs at least one host id', remediateUsage);
    const name = values.name === undefined ? undefined : plainText(values.name, '--name', 200, remediateUsage);
    const body = {
      ...(hostIds.length > 0 ? { hostIds } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(values.critical ? { critical: true } : {}),
      ...(values.emergency ? { emergency: true } : {}),
    };
    const { client } = await ctx.session(values.server);
    const result = await client.post<RemediateView>(`/vulnerabilities/${encodeURIComponent(record)}/remediate`, body);
    if (!isRecord(result)) throw new ApiError({ title: 'Unexpected response from server', detail: 'expected a deployment and its plan' });
    return printResult(ctx, values.json, result, renderRemediation);
  },
);

// ---------------------------------------------------------------------------------------------
// sla

const slaUsage = `Usage: brier vulns sla [--set FILE] [--json]

Show the SLA matrix: the hours from a finding's first sighting to its due date, per severity and
host risk tier (T5 the most important hosts). With --set, replace it (administrators only); open
findings get new due dates.

Options:
  --set FILE           A JSON file with the whole matrix, '-' for stdin, e.g.
                       {"critical": {"1": 336, "2": 168, "3": 72, "4": 48, "5": 24}, "high": {…},
                        "medium": {…}, "low": {…}}
${SERVER_JSON_HELP}
`;

/** The matrix's shape, checked here so a typo costs no request; the server checks its rules. */
export function parseSlaMatrix(text: string, usageText: string): SlaMatrixView {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--set: not JSON: ${err instanceof Error ? err.message : String(err)}`, usageText, { cause: err });
  }
  if (!isRecord(value)) throw new UsageError('--set: expected a JSON object with critical, high, medium and low', usageText);
  for (const key of Object.keys(value)) {
    if (!(SEVERITIES as readonly string[]).includes(key)) throw new UsageError(`--set: unknown severity ${JSON.stringify(key)}`, usageText);
  }
  const matrix: Partial<SlaMatrixView> = {};
  for (const severity of SEVERITIES) {
    const row = value[severity];
    if (!isRecord(row)) throw new UsageError(`--set: ${severity} must be an object of tiers 1-5 to hours`, usageText);
    for (const key of Object.keys(row)) {
      if (!(TIERS as readonly string[]).includes(key))
        throw new UsageError(`--set: ${severity} has an unknown tier ${JSON.stringify(key)}`, usageText);
    }
    const cells: Partial<Record<(typeof TIERS)[number], number>> = {};
    for (const tier of TIERS) {
      const hours = row[tier];
      if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < SLA_MIN_HOURS || hours > SLA_MAX_HOURS) {
        throw new UsageError(
          `--set: ${severity} tier ${tier} must be whole hours from ${SLA_MIN_HOURS} to ${SLA_MAX_HOURS}, got ${JSON.stringify(hours ?? null)}`,
          usageText,
        );
      }
      cells[tier] = hours;
    }
    matrix[severity] = cells as Record<(typeof TIERS)[number], number>;
  }
  return matrix as SlaMatrixView;
}

function renderSla(matrix: SlaMatrixView): string {
  const rows = SEVERITIES.map((severity) => {
    const row: unknown = isRecord(matrix) ? matrix[severity] : undefined;
    return [severity, ...['5', '4', '3', '2', '1'].map((tier) => cell(isRecord(row) ? row[tier] : undefined))];
  });
  return `${formatTable(['SEVERITY', 'T5', 'T4', 'T3', 'T2', 'T1'], rows)}Hours from first sight to due; T5 is the most important tier.\n`;
}

const sla = withParsedArgs({ usage: slaUsage, options: { ...SERVER_JSON_OPTIONS, set: { type: 'string' } } }, async ({ values }, ctx) => {
  let matrix: SlaMatrixView | undefined;
  if (values.set !== undefined) {
    let text: string;
    try {
      text = values.set === '-' ? await ctx.io.readStdin() : await readFile(values.set, 'utf8');
    } catch (err) {
      throw new UsageError(`--set: cannot read ${values.set}: ${err instanceof Error ? err.message : String(err)}`, slaUsage, {
        cause: err,
      });
    }
    matrix = parseSlaMatrix(text, slaUsage);
  }
  const { client } = await ctx.session(values.server);
  const result =
    matrix === undefined
      ? await client.get<SlaMatrixView>('/vulnerabilities/sla')
      : await client.put<SlaMatrixView>('/vulnerabilities/sla', matrix);
  return printResult(ctx, values.json, result, renderSla);
});

// ---------------------------------------------------------------------------------------------
// tier

const tierUsage = `Usage: brier vulns tier <host|group> …

Set how much a host matters, 1 (least) to 5 (most: crown jewels, internet-facing). With severity,
the tier sets a finding's due date. A host without its own tier takes the highest of its groups'.

Commands:
  host HOST_ID (1-5|none) [--site NAME]   A host's own tier ('none': inherit) and site
  group NAME (1-5|none)                   A group's tier ('none' removes it)

Run 'brier vulns tier <command> --help' for its options.
`;

const tierHostUsage = `Usage: brier vulns tier host HOST_ID (1-5|none) [--site NAME] [--json]

Set a host's own risk tier; 'none' makes it inherit the highest tier of its groups (or 3).

Options:
  --site NAME          Also set the host's site (for the dashboards); --site '' clears it
${SERVER_JSON_HELP}
`;

const tierGroupUsage = `Usage: brier vulns tier group NAME (1-5|none) [--json]

Set the risk tier of a host group; 'none' removes it. Prints every group's tier.

Options:
${SERVER_JSON_HELP}
`;

const tierHost = withParsedArgs(
  { usage: tierHostUsage, options: { ...SERVER_JSON_OPTIONS, site: { type: 'string' } }, operands: ['HOST_ID', 'TIER'] },
  async ({ values, positionals }, ctx) => {
    const id = positionals[0] ?? '';
    const path = `/hosts/${idSegment(id, tierHostUsage)}/risk`;
    const riskTier = tierOperand(positionals[1] ?? '', tierHostUsage);
    const site = values.site === undefined ? undefined : values.site === '' ? null : plainText(values.site, '--site', 100, tierHostUsage);
    const { client } = await ctx.session(values.server);
    const result = await client.put<{ riskTier: number | null; site: string | null; effectiveTier: number }>(path, {
      riskTier,
      ...(site !== undefined ? { site } : {}),
    });
    return printResult(
      ctx,
      values.json,
      result,
      (r) =>
        `Host ${cell(id)}: tier ${r.riskTier === null ? 'inherited' : cell(r.riskTier)} (effective ${cell(r.effectiveTier)}), site ${r.site === null ? 'none' : cell(r.site)}\n`,
    );
  },
);

const tierGroup = withParsedArgs(
  { usage: tierGroupUsage, options: SERVER_JSON_OPTIONS, operands: ['NAME', 'TIER'] },
  async ({ values, positionals }, ctx) => {
    const group = plainText(positionals[0] ?? '', 'group NAME', 100, tierGroupUsage);
    const path = `/groups/${idSegment(group, tierGroupUsage)}/tier`;
    const riskTier = tierOperand(positionals[1] ?? '', tierGroupUsage);
    const { client } = await ctx.session(values.server);
    const items = itemsOf<{ group: string; riskTier: number }>(await client.put<unknown>(path, { riskTier }));
    return printResult(ctx, values.json, items, (rows) =>
      formatTable(
        ['GROUP', 'TIER'],
        rows.map((g) => [cell(g.group), cell(g.riskTier)]),
      ),
    );
  },
);

const tier: Subcommand = (args, ctx) => dispatchSubcommand('vulns tier', tierUsage, { host: tierHost, group: tierGroup }, args, ctx);

// ---------------------------------------------------------------------------------------------
// feeds and imports

const feedsUsage = `Usage: brier vulns feeds <list|add|remove> [options]

Feeds the server imports by itself on a schedule (cron, UTC), from an http(s) URL or a path on the
server's machine.

Commands:
  list                                      The scheduled feeds
  add --kind KIND --cron EXPR LOCATION      Schedule a feed (administrators only)
  remove ID                                 Remove a scheduled feed (administrators only)

Run 'brier vulns feeds <command> --help' for its options.
`;

const feedsListUsage = `Usage: brier vulns feeds list [--json]

List the scheduled feeds with their last run.

Options:
${SERVER_JSON_HELP}
`;

const feedsAddUsage = `Usage: brier vulns feeds add --kind osv|debian-tracker --cron EXPR LOCATION [--json]

Schedule a feed: LOCATION is an http(s) URL or an absolute path on the server's machine, imported
whenever EXPR (a cron expression, UTC) fires.

Options:
  --kind KIND          osv or debian-tracker
  --cron EXPR          When to import, e.g. '0 3 * * *' (daily at 03:00 UTC)
${SERVER_JSON_HELP}
`;

const feedsRemoveUsage = `Usage: brier vulns feeds remove ID

Remove a scheduled feed. Records it imported stay.

Options:
${SERVER_ONLY_HELP}
`;

const feedsList = listSubcommand<FeedView>({
  usage: feedsListUsage,
  request: '/vulnerabilities/feeds',
  headers: ['ID', 'KIND', 'CRON', 'LAST RUN', 'LOCATION'],
  row: (f) => [cell(f.id), cell(f.kind), cell(f.cron), timestamp(f.lastRunAt, 'never'), cell(f.location)],
});

const feedsAdd = withParsedArgs(
  { usage: feedsAddUsage, options: { ...SERVER_JSON_OPTIONS, kind: { type: 'string' }, cron: { type: 'string' } }, operands: ['LOCATION'] },
  async ({ values, positionals }, ctx) => {
    const kind = choiceOption('kind', values.kind, FEED_KINDS, feedsAddUsage);
    if (kind === undefined) throw new UsageError('--kind is required', feedsAddUsage);
    if (values.cron === undefined) throw new UsageError('--cron is required', feedsAddUsage);
    const cron = plainText(values.cron, '--cron', 100, feedsAddUsage);
    const location = plainText(positionals[0] ?? '', 'LOCATION', 2000, feedsAddUsage);
    if (!isUrl(location) && !location.startsWith('/')) {
      throw new UsageError('LOCATION must be an http(s) URL or an absolute path on the server', feedsAddUsage);
    }
    const { client } = await ctx.session(values.server);
    const feed = await client.post<FeedView>('/vulnerabilities/feeds', { kind, location, cron });
    return printResult(ctx, values.json, feed, (f) =>
      formatFields([
        ['ID', cell(f.id)],
        ['Kind', cell(f.kind)],
        ['Cron', cell(f.cron)],
        ['Location', cell(f.location)],
      ]),
    );
  },
);

const feedsRemove = deleteByIdSubcommand({ usage: feedsRemoveUsage, collection: '/vulnerabilities/feeds', noun: 'Feed', done: 'removed' });

const feeds: Subcommand = (args, ctx) =>
  dispatchSubcommand('vulns feeds', feedsUsage, { list: feedsList, add: feedsAdd, remove: feedsRemove }, args, ctx);

const importsUsage = `Usage: brier vulns imports [--limit N] [--json]

List recent feed imports, newest first, with their counts and errors.

Options:
  --limit N            At most N imports (server default when omitted)
${SERVER_JSON_HELP}
`;

function countsCell(counts: unknown): string {
  if (!isRecord(counts)) return '-';
  return cell(
    Object.entries(counts)
      .map(([k, n]) => `${k} ${typeof n === 'number' ? n : JSON.stringify(n)}`)
      .join(', '),
  );
}

const imports = listSubcommand<ImportRunView, { limit: { type: 'string' } }>({
  usage: importsUsage,
  options: { limit: { type: 'string' } },
  request: ({ values }) => ({ path: '/vulnerabilities/imports', query: { limit: intOption('limit', values.limit, importsUsage, 1) } }),
  headers: ['ID', 'KIND', 'STARTED', 'FINISHED', 'BY', 'COUNTS', 'ERROR', 'LOCATION'],
  row: (i) => [
    cell(i.id),
    cell(i.kind),
    timestamp(i.startedAt),
    timestamp(i.finishedAt, 'running'),
    cell(i.actor),
    countsCell(i.counts),
    truncate(cell(i.error), SUMMARY_CHARS),
    cell(i.location),
  ],
});

export const vulnsCommand = commandGroup({
  name: 'vulns',
  summary: 'Import vulnerability feeds; list, explain and remediate findings',
  usage,
  subcommands: { import: importFeed, list, host, explain, overdue, remediate, sla, tier, feeds, imports },
});
