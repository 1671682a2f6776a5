/**
 * The persistence of discovery: what agents saw in their neighbour tables, and operators' verdicts
 * on devices. Implemented in store/desired-state-store.ts; the domain never sees SQL.
 */

export interface Sighting {
  /** Lower-case, colon-separated. */
  mac: string;
  /** Canonical spelling (see canonicalIp), no zone. */
  ip: string;
  interface: string;
}

export type MarkState = 'known' | 'ignored';

export interface DeviceMark {
  mac: string;
  state: MarkState;
  note: string | null;
  markedBy: string;
  markedAt: Date;
}

export interface UnmanagedDevice {
  mac: string;
  ip: string;
  /** Earliest first sighting by any agent, latest last sighting. */
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** The (not revoked) agents that saw it, by hostname. */
  seenBy: { hostId: string; hostname: string }[];
  mark: DeviceMark | null;
}

export interface DiscoveryStore {
  /** Upserts what one agent saw (one statement per chunk): new pairs get firstSeenAt, all get lastSeenAt. No duplicates. */
  recordSightings(hostId: string, sightings: readonly Sighting[], at: Date): Promise<void>;
  /**
   * MAC/IP pairs whose MAC and IP belong to no enrolled (not revoked) host's interfaces, and whose
   * MAC is not marked (or marked with a state in `include`); most recently seen first, with how
   * many there are in all.
   */
  unmanaged(query: { include: readonly MarkState[]; limit: number; offset: number }): Promise<{ items: UnmanagedDevice[]; total: number }>;
  /** Sets (or with null, clears) the mark of a MAC; returns the stored mark (null when cleared). */
  setMark(mac: string, mark: Omit<DeviceMark, 'mac'> | null): Promise<DeviceMark | null>;
}
