import { BrierError, type PendingUpdate, pendingUpdateKey } from '@brier/protocol';
import type { CatalogueQuery, PatchesStore } from './types.js';

export interface PatchesServiceDeps {
  patches: PatchesStore;
  hostExists: (hostId: string) => Promise<boolean>;
  now: () => Date;
}

/** The fleet patch catalogue: what each host could install, and which updates the fleet needs. */
export function createPatchesService(deps: PatchesServiceDeps) {
  return {
    /** Stores a host's fresh list of pending updates; a repeated key keeps its last entry. */
    async recordReport(hostId: string, updates: readonly PendingUpdate[]): Promise<number> {
      const unique = new Map<string, PendingUpdate>();
      for (const u of updates) unique.set(pendingUpdateKey(u), u);
      await deps.patches.replaceForHost(hostId, [...unique.values()], deps.now());
      return unique.size;
    },
    catalogue: (query: CatalogueQuery) => deps.patches.catalogue(query),
    async forHost(hostId: string) {
      const found = await deps.patches.forHost(hostId);
      if (!found) throw new BrierError('not_found', 'no such host');
      return found;
    },
  };
}

export type PatchesService = ReturnType<typeof createPatchesService>;
