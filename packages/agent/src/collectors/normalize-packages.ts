import { compileSchema, type Ecosystem, PackageEntry, packageKey } from '@brier/protocol';
import { cleanText } from './clean-text.js';

const checkEntry = compileSchema(PackageEntry);

/**
 * What a parser read from a tool, shaped like a PackageEntry but not yet checked: it may hold
 * control characters or over-long text until `normalizePackage` has seen it.
 */
export interface RawPackage {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  arch: string;
  source?: string;
  sourceVersion?: string;
}

export interface NormalizedPackages {
  packages: PackageEntry[];
  /** Entries that could not be made valid (empty or over-long name, version or arch). */
  invalid: number;
  /** Entries dropped because an earlier one had the same (ecosystem, name, arch). */
  duplicates: number;
}

/**
 * Makes one parsed entry safe for the wire and the database, or returns undefined. Identifying
 * fields that are too long are refused rather than cut: a truncated name is a different package.
 * An unusable source is omitted, since the entry still stands without it.
 */
export function normalizePackage(raw: RawPackage): PackageEntry | undefined {
  const name = cleanText(raw.name);
  const version = cleanText(raw.version);
  const arch = cleanText(raw.arch);
  if (name === '' || name.length > 256 || version === '' || version.length > 256 || arch.length > 64) return undefined;
  const entry: RawPackage = { ecosystem: raw.ecosystem, name, version, arch };
  const source = raw.source === undefined ? '' : cleanText(raw.source);
  if (source !== '' && source.length <= 256) entry.source = source;
  const sourceVersion = raw.sourceVersion === undefined ? '' : cleanText(raw.sourceVersion);
  if (sourceVersion !== '' && sourceVersion.length <= 256) entry.sourceVersion = sourceVersion;
  try {
    // Last guard: whatever the rules above miss, the protocol schema decides.
    return checkEntry(entry, 'package');
  } catch {
    return undefined;
  }
}

/**
 * Normalises every entry and keeps the first of each (ecosystem, name, arch): the protocol holds one
 * version per key, so a second one (an rpm install-only kernel, an app in two folders) cannot be sent.
 */
export function normalizePackages(raw: readonly RawPackage[]): NormalizedPackages {
  const byKey = new Map<string, PackageEntry>();
  let invalid = 0;
  let duplicates = 0;
  for (const r of raw) {
    const entry = normalizePackage(r);
    if (!entry) {
      invalid++;
      continue;
    }
    const key = packageKey(entry);
    if (byKey.has(key)) duplicates++;
    else byKey.set(key, entry);
  }
  return { packages: [...byKey.values()], invalid, duplicates };
}
