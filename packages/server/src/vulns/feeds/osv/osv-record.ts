import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Advisory, AffectedPackage, AffectedRange, FeedItem, RangeEvent, RangeType, SeverityInput } from '../../model.js';
import { OSV_SCHEMA } from './osv-schema.js';

// ajv-formats is CommonJS: under NodeNext the default import is `module.exports`, whose `default`
// is the plugin itself (the package sets both).
const addFormats = addFormatsModule.default;

/** How many ajv errors a rejection reason quotes: enough to see the problem, short enough to log. */
const REASON_ERRORS = 3;
/** Fallback summary length (characters) taken from `details` when a record has no `summary`. */
const SUMMARY_FROM_DETAILS = 300;

let validator: ValidateFunction | undefined;

/** Compiled once, on first use, then shared (ajv compilation takes tens of milliseconds). */
function validateOsv(): ValidateFunction {
  if (!validator) {
    // strict: false because the upstream schema uses `title` inside `if`/`items` and union types,
    // which ajv's strict mode reports as warnings; the schema is copied verbatim, never adapted.
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    validator = ajv.compile(OSV_SCHEMA);
  }
  return validator;
}

/** The parts of an OSV record this module reads, as the schema guarantees them after validation. */
interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}
interface OsvRange {
  type: RangeType;
  repo?: string;
  events: OsvEvent[];
}
interface OsvSeverity {
  type: 'CVSS_V2' | 'CVSS_V3' | 'CVSS_V4' | 'Ubuntu';
  score: string;
}
interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  severity?: OsvSeverity[] | null;
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}
interface OsvRecord {
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[] | null;
  summary?: string;
  details?: string;
  severity?: OsvSeverity[] | null;
  affected?: OsvAffected[] | null;
  database_specific?: Record<string, unknown>;
}

/** A record the schema allows but matching cannot use; becomes a rejection with this reason. */
class SemanticError extends Error {}

const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

/**
 * Validates one OSV record against the OSV JSON Schema and maps it to an `Advisory`. Never throws:
 * a record that fails the schema, or that the schema allows but matching could not use (an affected
 * entry with nothing to match, a range that does not start anywhere, repeated event values), comes
 * back as `{kind: 'rejected'}` with a reason, so nothing is ever half imported.
 *
 * `where` says where the record came from (file, zip entry, array index) for the rejection.
 */
export function parseOsvRecord(json: unknown, where: string): FeedItem {
  const id = idOf(json);
  const validate = validateOsv();
  if (!validate(json)) {
    return rejected(id, where, `does not match the OSV schema: ${describeErrors(validate.errors ?? [])}`);
  }
  try {
    return { kind: 'advisory', advisory: toAdvisory(json as OsvRecord) };
  } catch (error) {
    if (error instanceof SemanticError) return rejected(id, where, error.message);
    throw error;
  }
}

function rejected(id: string | undefined, where: string, reason: string): FeedItem {
  return id === undefined ? { kind: 'rejected', where, reason } : { kind: 'rejected', id, where, reason };
}

function idOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const id = (json as { id?: unknown }).id;
  // Bounded: the id lands in logs and the rejection list even when the record is hostile.
  return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : undefined;
}

function describeErrors(errors: ErrorObject[]): string {
  // `allErrors` reports the branches of every failed `oneOf`; the first few are the informative ones.
  const parts = errors.slice(0, REASON_ERRORS).map((e) => {
    const path = JSON.stringify((e.instancePath || '/').slice(0, 120));
    const extra = e.keyword === 'additionalProperties' ? ` (${JSON.stringify(String(e.params.additionalProperty).slice(0, 60))})` : '';
    return `${path} ${e.message ?? e.keyword}${extra}`;
  });
  const more = errors.length > REASON_ERRORS ? ` (+${errors.length - REASON_ERRORS} more)` : '';
  return `${parts.join('; ')}${more}`;
}

function toAdvisory(record: OsvRecord): Advisory {
  const severity = new SeverityList();
  for (const s of record.severity ?? []) severity.add(osvSeverity(s));
  const databaseSeverity = stringField(record.database_specific, 'severity');
  if (databaseSeverity) severity.add({ type: 'DATABASE', score: databaseSeverity });

  const affected: AffectedPackage[] = [];
  (record.affected ?? []).forEach((entry, index) => {
    for (const pkg of toAffected(entry, `affected[${index}]`)) {
      affected.push(pkg);
      for (const s of pkg.severity ?? []) severity.add(s);
    }
  });

  const advisory: Advisory = {
    source: 'osv',
    id: record.id,
    aliases: [...(record.aliases ?? [])],
    modified: record.modified,
    severity: severity.list(),
    affected,
  };
  if (record.published) advisory.published = record.published;
  if (record.withdrawn) advisory.withdrawn = record.withdrawn;
  const summary = summaryOf(record);
  if (summary) advisory.summary = summary;
  return advisory;
}

function summaryOf(record: OsvRecord): string | undefined {
  if (record.summary?.trim()) return record.summary.trim();
  const firstLine = record.details
    ?.split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (!firstLine) return undefined;
  return firstLine.length > SUMMARY_FROM_DETAILS ? `${firstLine.slice(0, SUMMARY_FROM_DETAILS)}…` : firstLine;
}

/**
 * One OSV `affected` entry becomes one AffectedPackage, except a package-less entry with only GIT
 * ranges (allowed by OSV for upstream commits): it becomes one package per repository under the
 * `GIT` ecosystem the schema itself names, so the commit ranges are kept (never matched).
 */
function toAffected(entry: OsvAffected, where: string): AffectedPackage[] {
  const ranges = (entry.ranges ?? []).map((r, i) => toRange(r, `${where}.ranges[${i}]`));
  const versions = [...(entry.versions ?? [])];
  const severity = affectedSeverity(entry);

  if (!entry.package) {
    if (ranges.length === 0) throw new SemanticError(`${where} has neither a package nor ranges: nothing to match`);
    const nonGit = (entry.ranges ?? []).find((r) => r.type !== 'GIT');
    if (nonGit) throw new SemanticError(`${where} has a ${nonGit.type} range but no package to order its versions by`);
    const byRepo = new Map<string, AffectedRange[]>();
    (entry.ranges ?? []).forEach((r, i) => {
      // The schema requires `repo` on GIT ranges; the fallback only keeps the type checker honest.
      const repo = r.repo ?? '';
      byRepo.set(repo, [...(byRepo.get(repo) ?? []), ranges[i] as AffectedRange]);
    });
    return [...byRepo].map(([repo, repoRanges]) =>
      withSeverity({ ecosystem: 'GIT', name: repo, keyedBy: 'binary', ranges: repoRanges, versions }, severity),
    );
  }

  const { ecosystem, name } = entry.package;
  if (ranges.length === 0 && versions.length === 0) {
    throw new SemanticError(`${where} (${ecosystem} ${name}) lists neither ranges nor versions: nothing to match`);
  }
  return [withSeverity({ ecosystem, name, keyedBy: keyedByOf(ecosystem, entry.package.purl), ranges, versions }, severity)];
}

function withSeverity(pkg: AffectedPackage, severity: SeverityInput[]): AffectedPackage {
  if (severity.length > 0) pkg.severity = severity;
  return pkg;
}

/**
 * Debian and Ubuntu OSV records name the source package (one record covers every binary built from
 * it). A purl with `arch=source` (as Alpine's records carry) says the same explicitly.
 */
export function keyedByOf(ecosystem: string, purl?: string): 'source' | 'binary' {
  const base = ecosystem.split(':', 1)[0];
  if (base === 'Debian' || base === 'Ubuntu') return 'source';
  if (purl && /[?&]arch=source(&|$)/.test(purl)) return 'source';
  return 'binary';
}

function toRange(range: OsvRange, where: string): AffectedRange {
  const events: RangeEvent[] = [];
  const seen = new Set<string>();
  range.events.forEach((event, i) => {
    const keys = Object.keys(event);
    const key = keys[0];
    if (keys.length !== 1 || !isEventKey(key)) {
      throw new SemanticError(
        `${where}.events[${i}] must have exactly one of ${EVENT_KEYS.join(', ')} (has ${keys.slice(0, 5).join(', ') || 'none'})`,
      );
    }
    const value = event[key] as string;
    if (value === '') throw new SemanticError(`${where}.events[${i}].${key} is empty`);
    // The same version (or commit) opening and closing a range, or listed twice, makes the range
    // ambiguous; the OSV linter flags it and matching cannot resolve it.
    if (seen.has(value)) throw new SemanticError(`${where} events are not distinct: ${JSON.stringify(value.slice(0, 80))} appears twice`);
    seen.add(value);
    events.push({ [key]: value } as RangeEvent);
  });
  if (!events.some((e) => 'introduced' in e)) throw new SemanticError(`${where} has no introduced event: the range starts nowhere`);
  return { type: range.type, events };
}

function isEventKey(key: string | undefined): key is (typeof EVENT_KEYS)[number] {
  return (EVENT_KEYS as readonly (string | undefined)[]).includes(key);
}

function osvSeverity(s: OsvSeverity): SeverityInput {
  // OSV's `Ubuntu` type is Ubuntu's priority word (negligible..critical): a free-text rating.
  return s.type === 'Ubuntu' ? { type: 'DATABASE', score: s.score } : { type: s.type, score: s.score };
}

/**
 * Per-package severities in the forms feeds actually use: OSV `affected[].severity`; Debian's
 * `ecosystem_specific.urgency` (DEBIAN_URGENCY); `ecosystem_specific.severity` (OSS-Fuzz, Android,
 * AlmaLinux/Rocky) and `database_specific.severity` as free-text ratings.
 */
function affectedSeverity(entry: OsvAffected): SeverityInput[] {
  const list = new SeverityList();
  for (const s of entry.severity ?? []) list.add(osvSeverity(s));
  const debian = entry.package?.ecosystem.split(':', 1)[0] === 'Debian';
  for (const bag of [entry.ecosystem_specific, entry.database_specific]) {
    const urgency = stringField(bag, 'urgency');
    // Only Debian's urgency vocabulary (`low**`, `unimportant`, ...) is what DEBIAN_URGENCY means.
    if (urgency) list.add({ type: debian ? 'DEBIAN_URGENCY' : 'DATABASE', score: urgency });
    const rating = stringField(bag, 'severity');
    if (rating) list.add({ type: 'DATABASE', score: rating });
  }
  return list.list();
}

function stringField(bag: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = bag?.[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Severities in first-seen order without duplicates. */
class SeverityList {
  private readonly items: SeverityInput[] = [];
  private readonly keys = new Set<string>();

  add(s: SeverityInput): void {
    const key = `${s.type}\u0000${s.score}`;
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.items.push(s);
  }

  list(): SeverityInput[] {
    return [...this.items];
  }
}
