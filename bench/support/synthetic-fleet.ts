import { type HostFacts, inventoryHash, type PackageEntry } from '@brier/protocol';

/**
 * Deterministic synthetic dpkg fleets for benchmarks: the same seed gives byte-identical inventories
 * on every machine, so figures from different runs measure the code, not the data.
 *
 * Shape (chosen to look like a Debian 12 fleet, not uniform noise):
 * - a pool of distinct binary package names, grouped under source packages the way Debian names them
 *   (libfoo3 and foo-utils from source foo, python3-bar from python-bar, ...);
 * - three tiers: a base every host has (~97% each), a common tier each host draws a share of
 *   (12-28% per host, its "role"), and a long tail (4%); with the defaults a host gets ~1,500 packages;
 * - each package has up to three versions (current, one and two security updates behind); each host
 *   has a patch lag, so a lagging host is behind on many packages at once, as real ones are;
 * - one host in ten is arm64: its architecture-specific packages are distinct catalogue rows.
 * Every entry carries source and source version, as the agent's dpkg collector reports them.
 */

export interface FleetOptions {
  hosts: number;
  /** Mean packages per host (approximately). */
  packagesPerHost: number;
  /** Distinct package names in the fleet; defaults to four times packagesPerHost. */
  poolSize?: number;
  seed?: number;
}

export interface SyntheticHost {
  hostname: string;
  arch: 'amd64' | 'arm64';
  facts: HostFacts;
  packages: PackageEntry[];
  /** inventoryHash(packages), computed once up front as the agent would before sending. */
  hash: string;
}

/** One package name of the pool, with its source package and versions. */
export interface FleetPackage {
  name: string;
  source: string;
  /** 'all' packages are the same catalogue row on every architecture. */
  archAll: boolean;
  /** [current, previous, older] as [binary version, source version]. */
  versions: Array<[string, string]>;
}

/** mulberry32: small, fast and good enough for shaping test data (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ONSETS = [
  'b',
  'c',
  'd',
  'f',
  'g',
  'h',
  'j',
  'k',
  'l',
  'm',
  'n',
  'p',
  'r',
  's',
  't',
  'v',
  'w',
  'x',
  'z',
  'br',
  'cr',
  'gl',
  'pl',
  'st',
  'tr',
];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'y'];
const CODAS = ['', '', 'b', 'd', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'x', 'z', 'ng', 'rt'];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function stem(rand: () => number): string {
  const syllables = 1 + Math.floor(rand() * 3);
  let s = '';
  for (let i = 0; i < syllables; i++) s += pick(rand, ONSETS) + pick(rand, VOWELS) + pick(rand, CODAS);
  return s;
}

/** Binary packages built from one source package, named as Debian would. */
function binariesOf(rand: () => number, src: string): Array<{ name: string; source: string; archAll: boolean }> {
  const kind = rand();
  if (kind < 0.12) {
    const source = `python-${src}`;
    return [{ name: `python3-${src}`, source, archAll: rand() < 0.7 }];
  }
  if (kind < 0.16) return [{ name: `fonts-${src}`, source: `fonts-${src}`, archAll: true }];
  if (kind < 0.2) return [{ name: `node-${src}`, source: `node-${src}`, archAll: true }];
  if (kind < 0.24) return [{ name: `golang-${src}-dev`, source: `golang-${src}`, archAll: true }];
  const out: Array<{ name: string; source: string; archAll: boolean }> = [];
  const soname = Math.floor(rand() * 12);
  if (kind < 0.6) out.push({ name: `lib${src}${soname}`, source: src, archAll: false });
  if (kind >= 0.45) out.push({ name: src, source: src, archAll: false });
  const extras = ['-common', '-data', '-utils', '-doc', '-dev', '-bin', '-tools'];
  const n = Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) {
    const suffix = pick(rand, extras);
    const base = suffix === '-dev' ? `lib${src}` : src;
    out.push({ name: base + suffix, source: src, archAll: suffix === '-common' || suffix === '-data' || suffix === '-doc' });
  }
  return out;
}

function upstreamVersion(rand: () => number): string {
  const major = Math.floor(rand() * (rand() < 0.2 ? 300 : 12));
  const parts = [String(major), String(Math.floor(rand() * 40))];
  if (rand() < 0.6) parts.push(String(Math.floor(rand() * 20)));
  let v = parts.join('.');
  if (rand() < 0.05) v += '+dfsg';
  if (rand() < 0.08) v = `1:${v}`;
  return v;
}

/** Current, previous and older versions: mostly Debian stable security updates (+deb12uN), sometimes a binNMU. */
function versionsOf(rand: () => number): Array<[string, string]> {
  const upstream = upstreamVersion(rand);
  const revision = 1 + Math.floor(rand() * 9);
  const update = 1 + Math.floor(rand() * 6);
  const binNmu = rand() < 0.05 ? `+b${1 + Math.floor(rand() * 3)}` : '';
  const versions: Array<[string, string]> = [];
  for (let back = 0; back < 3; back++) {
    const u = update - back;
    const source = u > 0 ? `${upstream}-${revision}+deb12u${u}` : `${upstream}-${revision}`;
    versions.push([source + binNmu, source]);
    if (u <= 0) break;
  }
  return versions;
}

function buildPool(rand: () => number, size: number): FleetPackage[] {
  const pool: FleetPackage[] = [];
  const names = new Set<string>();
  const sources = new Set<string>();
  while (pool.length < size) {
    const src = stem(rand);
    if (src.length < 3 || sources.has(src)) continue;
    sources.add(src);
    const versions = versionsOf(rand);
    for (const b of binariesOf(rand, src)) {
      if (pool.length >= size || names.has(b.name)) continue;
      names.add(b.name);
      pool.push({ ...b, versions });
    }
  }
  // Shuffle (Fisher-Yates) so tiers mix libraries, tools and data packages.
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j] as FleetPackage, pool[i] as FleetPackage];
  }
  return pool;
}

/** A host's packages without the facts and hash, as `streamFleet` yields them. */
export interface SyntheticHostPackages {
  hostname: string;
  arch: 'amd64' | 'arm64';
  packages: PackageEntry[];
}

/**
 * The package pool a fleet with these options is drawn from: every name, its source package and its
 * three versions. Built from the same seed as `generateFleet`/`streamFleet` (the pool is the first
 * thing drawn), so it is exactly the pool those hosts were drawn from: feeds can be aimed at it.
 */
export function fleetPool(options: FleetOptions): readonly FleetPackage[] {
  return buildPool(seededRandom(options.seed ?? 20_240_601), options.poolSize ?? options.packagesPerHost * 4);
}

/**
 * The fleet one host at a time, without facts or inventory hash: for fleets too large to hold
 * (10,000 hosts are 15 million entries). Yields the same hosts, in the same order, as `generateFleet`.
 */
export function* streamFleet(options: FleetOptions): Generator<SyntheticHostPackages> {
  const rand = seededRandom(options.seed ?? 20_240_601);
  const poolSize = options.poolSize ?? options.packagesPerHost * 4;
  const pool = buildPool(rand, poolSize);
  // Tier sizes scale with the pool; probabilities are tuned so the mean lands near packagesPerHost.
  const baseEnd = Math.round(poolSize * (2 / 3) * (options.packagesPerHost / poolSize));
  const commonEnd = Math.min(poolSize, baseEnd + Math.round((poolSize - baseEnd) * 0.4));
  const base = 0.97 * baseEnd;
  const tailShare = 0.04;
  const tail = tailShare * (poolSize - commonEnd);
  const commonMean = Math.max(0, Math.min(1, (options.packagesPerHost - base - tail) / Math.max(1, commonEnd - baseEnd)));

  for (let h = 0; h < options.hosts; h++) {
    const arch = rand() < 0.1 ? 'arm64' : 'amd64';
    const commonShare = commonMean * (0.6 + 0.8 * rand());
    // Patch lag: the chance that any one package is behind its current version on this host.
    const lag = rand() * 0.3;
    const packages: PackageEntry[] = [];
    for (let i = 0; i < pool.length; i++) {
      const spec = pool[i] as FleetPackage;
      const p = i < baseEnd ? 0.97 : i < commonEnd ? commonShare : tailShare;
      if (rand() >= p) continue;
      let back = 0;
      while (back < spec.versions.length - 1 && rand() < lag) back++;
      const [version, sourceVersion] = spec.versions[back] as [string, string];
      packages.push({ ecosystem: 'dpkg', name: spec.name, version, arch: spec.archAll ? 'all' : arch, source: spec.source, sourceVersion });
    }
    yield { hostname: `bench-${String(h).padStart(5, '0')}`, arch, packages };
  }
}

export function generateFleet(options: FleetOptions): SyntheticHost[] {
  const hosts: SyntheticHost[] = [];
  let h = 0;
  for (const { hostname, arch, packages } of streamFleet(options)) {
    hosts.push({
      hostname,
      arch,
      packages,
      hash: inventoryHash(packages),
      facts: {
        hostname,
        os: { platform: 'linux', distro: 'debian', release: '12', codename: 'bookworm', kernel: '6.1.0-21-amd64', arch },
        hardware: { vendor: 'QEMU', model: 'Standard PC', cores: 2, memoryBytes: 4 * 1024 ** 3 },
        network: [{ name: 'eth0', ipv4: [`10.${(h >> 16) & 255}.${(h >> 8) & 255}.${h & 255}`], ipv6: [] }],
        agentVersion: '0.1.0',
      },
    });
    h++;
  }
  return hosts;
}

/** Key of one catalogue row, as the store's natural key (ecosystem, name, version, arch, source, source version). */
export function catalogueKey(p: PackageEntry): string {
  return `${p.ecosystem}\t${p.name}\t${p.version}\t${p.arch}\t${p.source ?? ''}\t${p.sourceVersion ?? ''}`;
}

export function fleetStats(hosts: readonly SyntheticHost[]) {
  const catalogue = new Set<string>();
  const names = new Set<string>();
  let links = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const host of hosts) {
    links += host.packages.length;
    min = Math.min(min, host.packages.length);
    max = Math.max(max, host.packages.length);
    for (const p of host.packages) {
      catalogue.add(catalogueKey(p));
      names.add(p.name);
    }
  }
  return { links, catalogue: catalogue.size, names: names.size, minPerHost: hosts.length ? min : 0, maxPerHost: max };
}
