import type { Advisory, AffectedPackage, AffectedRange, SeverityInput } from '../../packages/server/src/vulns/model.js';
import { type FleetPackage, seededRandom } from './synthetic-fleet.js';

/**
 * Deterministic synthetic OSV feeds (Debian CVE records, `DEBIAN-CVE-…`) aimed at a synthetic fleet
 * (see synthetic-fleet.ts). Shape, chosen to look like OSV's Debian data rather than uniform noise:
 * - a share of the records (`fleetShare`, 15% by default) name source packages the fleet runs, with a
 *   skew (a few sources collect many records, as openssl or the kernel do); the rest name source
 *   packages nobody in the fleet runs, as most of a real feed does for any one fleet;
 * - fixed versions are placed around the fleet's own versions (it has current, previous and older
 *   security updates `…+deb12uN`): most records were fixed long ago (below every installed version),
 *   some at the current update (lagging hosts are affected), some at the previous one, a few at an
 *   update nobody has yet or with no fix at all (every host running the package is affected);
 * - a sprinkle of `last_affected` ranges and of two-range records (a regression), and several
 *   affected entries per record: often the same package for Debian:11 and Debian:13 too (which never
 *   apply to a Debian 12 host but are loaded and indexed), sometimes a second Debian:12 package.
 */

export interface FeedOptions {
  records: number;
  seed: number;
  /** The fleet's pool (fleetPool() with the fleet's options): which sources and versions exist. */
  pool: readonly FleetPackage[];
  /** Share of the records that name a source package the fleet runs. */
  fleetShare?: number;
}

/** A source package of the fleet and its source versions, current first. */
export interface FleetSource {
  name: string;
  versions: readonly string[];
}

/** Where a Debian:12 fixed version sits relative to the fleet's versions of the package. */
export type FixPlacement = 'old' | 'current' | 'previous' | 'last-affected' | 'regression' | 'next' | 'unfixed';

export interface AimedRecord {
  /** Index of the record in `SyntheticFeed.advisories`. */
  index: number;
  source: FleetSource;
  placement: FixPlacement;
}

export interface SyntheticFeed {
  advisories: Advisory[];
  /** The records naming a fleet source (their first Debian:12 entry), in feed order. */
  aimed: AimedRecord[];
}

/** Distinct source packages of the pool, in pool order, with their source versions (current first). */
export function fleetSources(pool: readonly FleetPackage[]): FleetSource[] {
  const seen = new Map<string, FleetSource>();
  for (const p of pool) {
    if (!seen.has(p.source)) seen.set(p.source, { name: p.source, versions: p.versions.map(([, source]) => source) });
  }
  return [...seen.values()];
}

/** The fleet's versions of a source package and versions just around them, in dpkg order. */
export interface VersionsAround {
  /** Below every version the fleet runs (the release's own version, or an earlier revision). */
  below: string;
  older: string;
  previous: string | undefined;
  current: string;
  /** The next security update (`+deb12u<N+1>`): no host runs it yet. */
  next: string;
}

const DEBIAN_VERSION = /^(.+)-(\d+)(?:\+deb12u(\d+))?$/;

export function versionsAround(source: FleetSource): VersionsAround {
  const current = source.versions[0] as string;
  const older = source.versions[source.versions.length - 1] as string;
  const m = DEBIAN_VERSION.exec(current);
  if (!m) throw new Error(`unexpected synthetic version ${current}`);
  const upstream = m[1] as string;
  const revision = Number(m[2]);
  const update = m[3] === undefined ? 0 : Number(m[3]);
  const olderIsUpdate = /\+deb12u\d+$/.test(older);
  const below = olderIsUpdate ? `${upstream}-${revision}` : revision > 1 ? `${upstream}-${revision - 1}` : `${upstream}~rc1-1`;
  return { below, older, previous: source.versions[1], current, next: `${upstream}-${revision}+deb12u${update + 1}` };
}

const CVSS_V3 = [
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
  'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N',
  'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:L',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N',
];
const URGENCIES = ['low', 'low', 'medium', 'medium', 'high', 'unimportant', 'low**'];

function rangeOf(...events: AffectedRange['events']): AffectedRange {
  return { type: 'ECOSYSTEM', events };
}

/** The Debian:12 ranges for a placement (falling back to 'old' where the package has too few versions). */
export function rangesFor(v: VersionsAround, placement: FixPlacement): AffectedRange[] {
  switch (placement) {
    case 'current':
      return [rangeOf({ introduced: '0' }, { fixed: v.current })];
    case 'previous':
      return v.previous === undefined || v.previous === v.older
        ? [rangeOf({ introduced: '0' }, { fixed: v.below })]
        : [rangeOf({ introduced: '0' }, { fixed: v.previous })];
    case 'last-affected':
      return [rangeOf({ introduced: '0' }, { last_affected: v.previous ?? v.below })];
    case 'regression':
      // Fixed once long ago, broken again in the previous update, fixed in the current one.
      return v.previous === undefined || v.previous === v.current
        ? [rangeOf({ introduced: '0' }, { fixed: v.below })]
        : [rangeOf({ introduced: '0' }, { fixed: v.below }), rangeOf({ introduced: v.previous }, { fixed: v.current })];
    case 'next':
      return [rangeOf({ introduced: '0' }, { fixed: v.next })];
    case 'unfixed':
      return [rangeOf({ introduced: '0' })];
    default:
      return [rangeOf({ introduced: '0' }, { fixed: v.below })];
  }
}

function placementOf(r: number): FixPlacement {
  if (r < 0.6) return 'old';
  if (r < 0.8) return 'current';
  if (r < 0.88) return 'previous';
  if (r < 0.92) return 'last-affected';
  if (r < 0.96) return 'regression';
  if (r < 0.985) return 'next';
  return 'unfixed';
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function entry(name: string, ecosystem: string, ranges: AffectedRange[]): AffectedPackage {
  return { ecosystem, name, keyedBy: 'source', ranges, versions: [] };
}

export function generateFeed(options: FeedOptions): SyntheticFeed {
  // A stream of its own, so the feed does not depend on how many hosts were drawn.
  const rand = seededRandom((options.seed ^ 0x5eed_feed) >>> 0);
  const share = options.fleetShare ?? 0.15;
  const sources = fleetSources(options.pool);
  const taken = new Set<string>([...options.pool.map((p) => p.name), ...sources.map((s) => s.name)]);

  // Packages nobody in the fleet runs: about five records each on average, a few with many.
  const strangers: Array<{ name: string; version: string }> = [];
  const strangerCount = Math.max(50, Math.round((options.records * (1 - share)) / 5));
  while (strangers.length < strangerCount) {
    let name = '';
    const length = 4 + Math.floor(rand() * 8);
    for (let i = 0; i < length; i++) name += LETTERS[Math.floor(rand() * LETTERS.length)];
    if (rand() < 0.2) name = `lib${name}`;
    if (taken.has(name)) continue;
    taken.add(name);
    const version = `${Math.floor(rand() * 30)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 10)}-${1 + Math.floor(rand() * 6)}`;
    strangers.push({ name, version });
  }

  // Skewed choice: index = n * r^2 gives the first few items many records, the tail one or none.
  const skewed = <T>(items: readonly T[]): T => items[Math.floor(items.length * rand() ** 2)] as T;

  const advisories: Advisory[] = [];
  const aimed: AimedRecord[] = [];
  for (let i = 0; i < options.records; i++) {
    const year = 2005 + (i % 21);
    const cve = `CVE-${year}-${String(10_000 + i)}`;
    const affected: AffectedPackage[] = [];
    let name: string;
    let other: (release: string) => AffectedRange[];
    if (rand() < share && sources.length > 0) {
      const source = skewed(sources);
      const v = versionsAround(source);
      const placement = placementOf(rand());
      aimed.push({ index: i, source, placement });
      affected.push(entry(source.name, 'Debian:12', rangesFor(v, placement)));
      name = source.name;
      other = (release) => [rangeOf({ introduced: '0' }, { fixed: release === 'Debian:11' ? `${v.below}~deb11u1` : v.next })];
    } else {
      const stranger = skewed(strangers);
      const r = rand();
      const ranges =
        r < 0.9
          ? [rangeOf({ introduced: '0' }, { fixed: stranger.version })]
          : r < 0.95
            ? [rangeOf({ introduced: '0' }, { last_affected: stranger.version })]
            : [rangeOf({ introduced: '0' })];
      affected.push(entry(stranger.name, 'Debian:12', ranges));
      name = stranger.name;
      other = () => [rangeOf({ introduced: '0' }, { fixed: stranger.version })];
    }
    if (rand() < 0.35) affected.push(entry(name, 'Debian:11', other('Debian:11')));
    if (rand() < 0.25) affected.push(entry(name, 'Debian:13', other('Debian:13')));
    if (rand() < 0.08) {
      // A second package in the same record: mostly one the fleet does not run.
      if (rand() < 0.3 && sources.length > 0) {
        const second = skewed(sources);
        affected.push(entry(second.name, 'Debian:12', rangesFor(versionsAround(second), 'old')));
      } else {
        const second = skewed(strangers);
        affected.push(entry(second.name, 'Debian:12', [rangeOf({ introduced: '0' }, { fixed: second.version })]));
      }
    }
    const s = rand();
    const severity: SeverityInput[] =
      s < 0.45
        ? [{ type: 'CVSS_V3', score: CVSS_V3[Math.floor(rand() * CVSS_V3.length)] as string }]
        : s < 0.85
          ? [{ type: 'DEBIAN_URGENCY', score: URGENCIES[Math.floor(rand() * URGENCIES.length)] as string }]
          : [];
    const month = String(1 + (i % 12)).padStart(2, '0');
    const day = String(1 + (i % 28)).padStart(2, '0');
    advisories.push({
      source: 'osv',
      id: `DEBIAN-${cve}`,
      aliases: [cve],
      modified: `2026-${month}-${day}T00:00:00Z`,
      published: `${year}-${month}-${day}T00:00:00Z`,
      summary: `${name}: synthetic vulnerability ${i}`,
      severity,
      affected,
    });
  }
  return { advisories, aimed };
}

/**
 * A feed update: `count` records aimed at the fleet, spread over the feed, get a new Debian:12 fixed
 * version (a fix that landed, or one that moved up), and a newer `modified`. Returns the new editions.
 */
export function reviseFixedVersions(feed: SyntheticFeed, count: number): Advisory[] {
  const step = Math.max(1, Math.floor(feed.aimed.length / count));
  const out: Advisory[] = [];
  for (let k = 0; k < feed.aimed.length && out.length < count; k += step) {
    const { index, source, placement } = feed.aimed[k] as AimedRecord;
    const old = feed.advisories[index] as Advisory;
    // Old fixes corrected upward open findings on lagging hosts; current ones moving to an update
    // nobody has yet open them everywhere; a fix finally released closes them on up-to-date hosts.
    const next: FixPlacement =
      placement === 'current' ? 'next' : placement === 'next' || placement === 'unfixed' ? 'current' : k % 2 === 0 ? 'current' : 'old';
    const [first, ...rest] = old.affected;
    if (first === undefined) continue;
    out.push({
      ...old,
      modified: '2026-11-27T00:00:00Z',
      affected: [{ ...first, ranges: rangesFor(versionsAround(source), next === placement ? 'current' : next) }, ...rest],
    });
  }
  return out;
}
