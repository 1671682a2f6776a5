import { isValidVersion } from '@brier/protocol';
import { type Explanation, evaluateAffected } from './affected.js';
import type { AffectedPackage } from './model.js';
import { ecosystemApplies, schemeOf } from './os-ecosystem.js';

/** A catalogue entry as the matcher needs it (the software table's columns). */
export interface SoftwareEntry {
  id: number;
  /** The inventory's package ecosystem: dpkg, rpm, apk, windows, macos. */
  ecosystem: string;
  name: string;
  version: string;
  /** '' when the package has no separate source package. */
  source: string;
  sourceVersion: string;
}

/** An affected entry with the record it belongs to. */
export interface AffectedEntry extends AffectedPackage {
  source: string;
  advisoryId: string;
}

export interface Match {
  softwareId: number;
  osEcosystem: string;
  source: string;
  advisoryId: string;
  fixedVersion: string | null;
  explanation: Explanation;
}

export interface MatchStats {
  /** (entry, OS ecosystem) pairs evaluated. */
  evaluated: number;
  matches: number;
  /** Installed versions the ecosystem's ordering refuses: never matched, counted here. */
  invalidVersions: number;
}

/** Which inventory ecosystem a version scheme's packages come from. */
const INVENTORY_OF_SCHEME: Record<string, string> = { dpkg: 'dpkg', rpm: 'rpm', apk: 'apk' };

/**
 * Looks up affected entries by package name, built once per matching run. Debian-style feeds key
 * entries by source package; an installed package is looked up by its source name for those and by
 * its own name for the rest.
 */
export class AffectedIndex {
  private readonly byName = new Map<string, AffectedEntry[]>();

  constructor(entries: Iterable<AffectedEntry>) {
    for (const e of entries) {
      const list = this.byName.get(e.name);
      if (list) list.push(e);
      else this.byName.set(e.name, [e]);
    }
  }

  get size(): number {
    return this.byName.size;
  }

  candidates(name: string): readonly AffectedEntry[] {
    return this.byName.get(name) ?? [];
  }
}

/**
 * Matches catalogue entries against the index under each OS ecosystem hosts run (`Debian:12`, ...).
 * Pure: the caller loads entries and stores the result.
 */
export function matchSoftware(
  software: Iterable<SoftwareEntry>,
  index: AffectedIndex,
  osEcosystems: readonly string[],
  stats: MatchStats = { evaluated: 0, matches: 0, invalidVersions: 0 },
): Match[] {
  const out: Match[] = [];
  const schemes = osEcosystems.map((eco) => ({ eco, scheme: schemeOf(eco) }));
  for (const s of software) {
    const sourceName = s.source === '' ? s.name : s.source;
    const bySource = sourceName === s.name ? index.candidates(s.name) : [...index.candidates(sourceName), ...index.candidates(s.name)];
    if (bySource.length === 0) continue;
    for (const { eco, scheme } of schemes) {
      if (scheme === undefined || INVENTORY_OF_SCHEME[scheme] !== s.ecosystem) continue;
      for (const entry of bySource) {
        const keyName = entry.keyedBy === 'source' ? sourceName : s.name;
        if (entry.name !== keyName || !ecosystemApplies(entry.ecosystem, eco)) continue;
        const compared = entry.keyedBy === 'source' && s.sourceVersion !== '' ? s.sourceVersion : s.version;
        stats.evaluated += 1;
        if (!isValidVersion(scheme, compared)) {
          stats.invalidVersions += 1;
          continue;
        }
        const verdict = evaluateAffected(scheme, entry, compared);
        if (!verdict.affected) continue;
        stats.matches += 1;
        out.push({
          softwareId: s.id,
          osEcosystem: eco,
          source: entry.source,
          advisoryId: entry.advisoryId,
          fixedVersion: verdict.fixedVersion,
          explanation: {
            record: entry.advisoryId,
            source: entry.source,
            ecosystem: entry.ecosystem,
            package: entry.name,
            matchedBy: entry.keyedBy,
            comparedVersion: compared,
            range: verdict.range,
            decision: verdict.decision,
            fixedVersion: verdict.fixedVersion,
            endOfLife: entry.endOfLife === true,
          },
        });
      }
    }
  }
  return dedupe(out);
}

/** One match per (software, ecosystem, record): a record listing a package twice explains once. */
function dedupe(matches: Match[]): Match[] {
  const seen = new Set<string>();
  return matches.filter((m) => {
    const key = `${m.softwareId}\t${m.osEcosystem}\t${m.source}\t${m.advisoryId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
