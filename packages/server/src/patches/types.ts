import type { PendingUpdate } from '@brier/protocol';

/** One row of the fleet patch catalogue: an update and how many hosts need it. */
export interface CatalogueEntry {
  ecosystem: string;
  manager: string;
  kind: string;
  name: string;
  candidateVersion: string;
  /** True when any reporting host's tool marked it as a security fix. */
  security: boolean;
  hostCount: number;
  advisories: string[];
  /** Distinct origins/suites the candidate comes from (e.g. `bookworm-security`). */
  suites: string[];
  title: string | null;
  rebootLikely: boolean;
}

export interface CatalogueQuery {
  q?: string | undefined;
  security?: boolean | undefined;
  limit: number;
  offset: number;
}

export interface HostUpdates {
  updates: PendingUpdate[];
  updatesAt: Date | null;
}

export interface PatchesStore {
  /** Replaces a host's pending updates with a fresh report, in one transaction. */
  replaceForHost(hostId: string, updates: readonly PendingUpdate[], at: Date): Promise<void>;
  forHost(hostId: string): Promise<HostUpdates | undefined>;
  catalogue(query: CatalogueQuery): Promise<{ items: CatalogueEntry[]; total: number }>;
  /** Hosts that need `name` at `candidateVersion` (for deployment targeting). */
  hostsNeeding(ecosystem: string, name: string, candidateVersion: string): Promise<string[]>;
}
