import Type from 'typebox';
import { sha256Hex } from './signing.js';

/** Text that may reach the database: no NUL (PostgreSQL cannot store it), no other C0 controls. */
const SAFE_TEXT = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$';

export function SafeText(maxLength: number, minLength = 0) {
  return Type.String({ minLength, maxLength, pattern: SAFE_TEXT });
}

/**
 * Text that identifies a package: SafeText without TAB, LF and CR either. `packageKey` joins fields
 * with TAB and `inventoryHash` joins lines with LF, so a field holding one could make two different
 * inventories hash alike (collectors strip all control characters anyway).
 */
const IDENT_TEXT = '^[^\\u0000-\\u001f\\u007f]*$';

export function IdentText(maxLength: number, minLength = 0) {
  return Type.String({ minLength, maxLength, pattern: IDENT_TEXT });
}

export const ECOSYSTEMS = ['dpkg', 'rpm', 'apk', 'windows', 'macos'] as const;
export const Ecosystem = Type.Union([
  Type.Literal('dpkg'),
  Type.Literal('rpm'),
  Type.Literal('apk'),
  Type.Literal('windows'),
  Type.Literal('macos'),
]);
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/** One installed package. `source`/`sourceVersion` are the source package where the ecosystem has one. */
export const PackageEntry = Type.Object(
  {
    ecosystem: Ecosystem,
    name: IdentText(256, 1),
    version: IdentText(256, 1),
    arch: IdentText(64),
    source: Type.Optional(IdentText(256)),
    sourceVersion: Type.Optional(IdentText(256)),
  },
  { additionalProperties: false },
);
export type PackageEntry = Type.Static<typeof PackageEntry>;

/** What identifies a package on a host: one version of it is installed at a time. */
export const PackageKey = Type.Object(
  { ecosystem: Ecosystem, name: IdentText(256, 1), arch: IdentText(64) },
  { additionalProperties: false },
);
export type PackageKey = Type.Static<typeof PackageKey>;

export const NetworkInterface = Type.Object(
  {
    name: SafeText(128),
    mac: Type.Optional(SafeText(64)),
    ipv4: Type.Array(SafeText(64), { maxItems: 64 }),
    ipv6: Type.Array(SafeText(128), { maxItems: 64 }),
  },
  { additionalProperties: false },
);

export const HostFacts = Type.Object(
  {
    hostname: SafeText(255, 1),
    os: Type.Object(
      {
        platform: SafeText(64),
        distro: SafeText(128),
        release: SafeText(64),
        codename: Type.Optional(SafeText(64)),
        kernel: Type.Optional(SafeText(128)),
        arch: Type.Optional(SafeText(64)),
      },
      { additionalProperties: false },
    ),
    hardware: Type.Object(
      {
        vendor: Type.Optional(SafeText(128)),
        model: Type.Optional(SafeText(128)),
        serial: Type.Optional(SafeText(128)),
        cpu: Type.Optional(SafeText(256)),
        cores: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
        memoryBytes: Type.Optional(Type.Integer({ minimum: 0 })),
      },
      { additionalProperties: false },
    ),
    network: Type.Array(NetworkInterface, { maxItems: 256 }),
    agentVersion: SafeText(64),
  },
  { additionalProperties: false },
);
export type HostFacts = Type.Static<typeof HostFacts>;

/** The most packages one host may report; a larger list is refused whole (`inventory_too_large`). */
export const MAX_PACKAGES_PER_HOST = 50_000;
/** Packages per `inventory.full` part, so each frame stays far below the channel's payload limit. */
export const PACKAGES_PER_PART = 2_000;
/** A delta larger than this is sent as a full snapshot instead. */
export const MAX_DELTA_ENTRIES = 2_000;

export function packageKey(p: PackageKey): string {
  return `${p.ecosystem}\t${p.name}\t${p.arch}`;
}

function packageLine(p: PackageEntry): string {
  return `${packageKey(p)}\t${p.version}\t${p.source ?? ''}\t${p.sourceVersion ?? ''}`;
}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The inventory hash both sides compute: sha256 over the sorted package lines. It covers packages
 * only (volatile facts such as addresses would otherwise force needless full uploads).
 */
export function inventoryHash(packages: readonly PackageEntry[]): string {
  const lines = packages.map(packageLine).sort(byKey);
  return sha256Hex(lines.join('\n'));
}

/** Deduplicates by key (last wins) so a list can be compared and stored as a set. */
export function indexPackages(packages: readonly PackageEntry[]): Map<string, PackageEntry> {
  const map = new Map<string, PackageEntry>();
  for (const p of packages) map.set(packageKey(p), p);
  return map;
}

export interface InventoryDelta {
  /** Packages added or whose version/source changed. */
  upsert: PackageEntry[];
  /** Packages no longer installed. */
  remove: PackageKey[];
}

export function diffInventory(previous: readonly PackageEntry[], current: readonly PackageEntry[]): InventoryDelta {
  const before = indexPackages(previous);
  const after = indexPackages(current);
  const upsert: PackageEntry[] = [];
  const remove: PackageKey[] = [];
  for (const [key, p] of after) {
    const old = before.get(key);
    if (!old || packageLine(old) !== packageLine(p)) upsert.push(p);
  }
  for (const [key, p] of before) {
    if (!after.has(key)) remove.push({ ecosystem: p.ecosystem, name: p.name, arch: p.arch });
  }
  return { upsert, remove };
}

export function applyDelta(packages: readonly PackageEntry[], delta: InventoryDelta): PackageEntry[] {
  const map = indexPackages(packages);
  for (const k of delta.remove) map.delete(packageKey(k));
  for (const p of delta.upsert) map.set(packageKey(p), p);
  return [...map.values()];
}
