import type { HostFacts, PackageEntry, PackageKey } from '@brier/protocol';

export type HostStatus = 'pending' | 'approved' | 'revoked';

export interface Host {
  id: string;
  hostname: string;
  publicKey: string;
  status: HostStatus;
  enrolledAt: Date;
  approvedAt: Date | null;
  revokedAt: Date | null;
  online: boolean;
  lastSeenAt: Date | null;
  os: { platform: string; distro: string; release: string; codename: string | null; kernel: string | null; arch: string | null };
  facts: HostFacts | null;
  inventoryHash: string | null;
  inventoryAt: Date | null;
  packageCount: number;
}

/** Where a host stands in the fleet, as the console's tables show it next to the host. */
export interface HostPlacement {
  site: string | null;
  /** Its groups, sorted. */
  groups: string[];
  /** The effective risk tier (1-5): the host's own, else its groups' highest, else the default. */
  tier: number;
  /** The host's own risk tier; null when it inherits (from its groups, or the default). */
  riskTier: number | null;
  /** Open vulnerability findings. */
  openFindings: number;
}

export type PlacedHost = Host & HostPlacement;

export const HOST_SORTS = ['hostname', 'lastSeenAt', 'tier'] as const;
export type HostSort = (typeof HOST_SORTS)[number];

export interface HostQuery {
  q?: string | undefined;
  status?: HostStatus | undefined;
  online?: boolean | undefined;
  site?: string | undefined;
  group?: string | undefined;
  /** A distro (`debian`) or distro and release (`debian 12`), case-insensitive. */
  os?: string | undefined;
  /** The effective tier. */
  tier?: number | undefined;
  sort?: HostSort | undefined;
  order?: 'asc' | 'desc' | undefined;
  limit: number;
  offset: number;
}

export interface FacetCount {
  name: string;
  count: number;
}

/** The values the hosts filters offer, each with its number of hosts. */
export interface HostFacets {
  sites: FacetCount[];
  groups: FacetCount[];
  /** `distro release`, e.g. `debian 12`. */
  os: FacetCount[];
}

export interface HostCounts {
  total: number;
  approved: number;
  pending: number;
  revoked: number;
  online: number;
}

export type HostHistoryKind = 'audit' | 'deployment' | 'remediation' | 'quarantine';

/** One thing that happened to a host, as stored: `detail` carries what its summary is written from. */
export interface HostHistoryRow {
  at: Date;
  kind: HostHistoryKind;
  /** The audit action, or `deployment`, `remediation`, `quarantine.state`. */
  action: string;
  actor: string | null;
  ref: string | null;
  detail: Record<string, unknown>;
}

/** A host group: a name hosts, tiers or maintenance windows use. */
export interface GroupSummary {
  name: string;
  hostCount: number;
  /** The group's risk tier, if one is set. */
  tier: number | null;
}

export interface SoftwareQuery {
  q?: string | undefined;
  limit: number;
  offset: number;
}

export interface InstalledSoftware {
  ecosystem: string;
  name: string;
  version: string;
  arch: string;
  source: string | null;
  sourceVersion: string | null;
}

export interface HostsStore {
  create(input: { hostname: string; publicKey: string; status: HostStatus; enrollmentTokenId: string | null; at: Date }): Promise<Host>;
  get(id: string): Promise<Host | undefined>;
  /** One host with its site, groups, effective tier and open findings. */
  placed(id: string): Promise<PlacedHost | undefined>;
  /** A page of hosts with their placement: one query for the page, one for the total. */
  list(query: HostQuery): Promise<{ items: PlacedHost[]; total: number }>;
  facets(): Promise<HostFacets>;
  counts(): Promise<HostCounts>;
  /** The host's audit entries, deployments, remediations and quarantine state, newest first. */
  history(id: string, limit: number, offset: number): Promise<{ items: HostHistoryRow[]; total: number }>;
  groups(): Promise<GroupSummary[]>;
  setStatus(id: string, status: HostStatus, at: Date): Promise<Host | undefined>;
  delete(id: string): Promise<boolean>;
  isKeyRevoked(publicKey: string): Promise<boolean>;
  setOnline(id: string, online: boolean, at: Date): Promise<void>;
  /** One statement for many hosts: heartbeats are batched, never a write per pong. */
  touchLastSeen(ids: readonly string[], at: Date): Promise<void>;
  markAllOffline(at: Date): Promise<void>;
  software(id: string, query: SoftwareQuery): Promise<{ items: InstalledSoftware[]; total: number }>;
}

export interface InventoryWriteResult {
  added: number;
  removed: number;
  /** Packages whose installed version (or source) changed; counted in neither added nor removed. */
  changed: number;
}

export interface InventoryStore {
  /** Replaces the host's whole package set; returns links added and removed (`changed` is 0: a full snapshot does not know). */
  replace(
    hostId: string,
    packages: readonly PackageEntry[],
    hash: string,
    facts: HostFacts | undefined,
    at: Date,
  ): Promise<InventoryWriteResult>;
  /**
   * Applies a delta if the stored hash equals `baseHash`; then checks the resulting set hashes to
   * `hash` with `verify`, rolling everything back (and returning 'mismatch') when it does not.
   */
  applyDelta(
    hostId: string,
    delta: { baseHash: string; hash: string; upsert: readonly PackageEntry[]; remove: readonly PackageKey[]; facts: HostFacts | undefined },
    verify: (packages: PackageEntry[]) => string,
    at: Date,
  ): Promise<InventoryWriteResult | 'mismatch'>;
  /** All packages of a host (for verification and tests). */
  packagesOf(hostId: string): Promise<PackageEntry[]>;
}
