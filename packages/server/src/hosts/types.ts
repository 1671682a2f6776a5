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

export interface HostQuery {
  q?: string | undefined;
  status?: HostStatus | undefined;
  online?: boolean | undefined;
  limit: number;
  offset: number;
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
  list(query: HostQuery): Promise<{ items: Host[]; total: number }>;
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
