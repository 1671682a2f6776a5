import {
  BrierError,
  type HostFacts,
  indexPackages,
  inventoryHash,
  MAX_PACKAGES_PER_HOST,
  type PackageEntry,
  type PackageKey,
} from '@brier/protocol';
import type { InventoryStore } from '../hosts/types.js';

export interface InventoryServiceDeps {
  inventory: InventoryStore;
  now: () => Date;
  /** Counts ingested package rows by mode, for /metrics. */
  onIngested?: (mode: 'full' | 'delta', packages: number) => void;
  /** Called after a host's inventory changed (vulnerability matching follows it). */
  onChanged?: (hostId: string) => void;
}

export interface IngestResult {
  hash: string;
  mode: 'full' | 'delta';
  added: number;
  removed: number;
  changed: number;
}

export function createInventoryService(deps: InventoryServiceDeps) {
  return {
    /**
     * Replaces a host's inventory with a complete snapshot. The claimed hash must be the hash of
     * what was received, so a truncated or reordered upload is refused before anything is written.
     */
    async ingestFull(
      hostId: string,
      packages: readonly PackageEntry[],
      facts: HostFacts | undefined,
      claimedHash: string,
    ): Promise<IngestResult> {
      if (packages.length > MAX_PACKAGES_PER_HOST) {
        throw new BrierError('inventory_too_large', `${packages.length} packages exceed the limit of ${MAX_PACKAGES_PER_HOST}`);
      }
      const unique = [...indexPackages(packages).values()];
      const hash = inventoryHash(unique);
      if (hash !== claimedHash) throw new BrierError('inventory_hash_mismatch', 'snapshot does not hash to the claimed value');
      const result = await deps.inventory.replace(hostId, unique, hash, facts, deps.now());
      deps.onIngested?.('full', unique.length);
      if (result.added + result.removed > 0 || facts !== undefined) deps.onChanged?.(hostId);
      return { hash, mode: 'full', ...result };
    },

    async ingestDelta(
      hostId: string,
      delta: { baseHash: string; hash: string; upsert: PackageEntry[]; remove: PackageKey[]; facts?: HostFacts | undefined },
    ): Promise<IngestResult> {
      const result = await deps.inventory.applyDelta(
        hostId,
        { baseHash: delta.baseHash, hash: delta.hash, upsert: delta.upsert, remove: delta.remove, facts: delta.facts },
        inventoryHash,
        deps.now(),
      );
      if (result === 'mismatch') throw new BrierError('inventory_hash_mismatch', 'delta does not apply to the inventory the server holds');
      deps.onIngested?.('delta', delta.upsert.length + delta.remove.length);
      deps.onChanged?.(hostId);
      return { hash: delta.hash, mode: 'delta', ...result };
    },

    packagesOf: (hostId: string) => deps.inventory.packagesOf(hostId),
  };
}

export type InventoryService = ReturnType<typeof createInventoryService>;
