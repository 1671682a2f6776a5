import { canonicalJson, MAX_FRAME_BYTES, MAX_NEIGHBORS, type Neighbor, sha256Hex } from '@brier/protocol';
import type { Logger } from 'pino';
import { coalescedRun } from './coalesced-run.js';
import type { ServerLink } from './transport/server-link.js';

export interface NeighborsSnapshot {
  /** Valid Neighbors (see collectors/neighbors); the reporter only enforces the frame limits. */
  neighbors: Neighbor[];
}

export interface NeighborsReporterDeps {
  link: Pick<ServerLink, 'send'>;
  collect: () => Promise<NeighborsSnapshot>;
  logger: Logger;
  /** Milliseconds since the epoch; tests inject a clock. */
  now?: () => number;
  /** An unchanged table is sent again after this long, so the server's last-seen times move on. */
  resendUnchangedMs?: number;
}

/** Six hours: "last seen" of a device that stays put is at most this stale. */
export const DEFAULT_RESEND_UNCHANGED_MS = 6 * 3_600_000;
/**
 * Bytes of the body of one report, leaving room for the envelope within MAX_FRAME_BYTES. A full
 * MAX_NEIGHBORS list of long IPv6 addresses and interface names can exceed a frame; it is cut.
 */
const BODY_BUDGET_BYTES = MAX_FRAME_BYTES - 4_096;
/** `{"neighbors":[` and `]}`. */
const BODY_OVERHEAD_BYTES = 16;

/**
 * Reports the host's neighbour tables: on every (re)authentication, since the server cannot know
 * what changed while we were away, and after a scheduled scan when the table changed (which
 * devices are where: a neighbour going from REACHABLE to STALE is no change) or when the last
 * report is older than `resendUnchangedMs`. There is no acknowledgement: a report the link
 * accepted counts as sent, and the next connection starts over.
 */
export class NeighborsReporter {
  private last: { hash: string; at: number } | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly resendUnchangedMs: number;

  constructor(private readonly deps: NeighborsReporterDeps) {
    this.log = deps.logger.child({ module: 'neighbors' });
    this.now = deps.now ?? Date.now;
    this.resendUnchangedMs = deps.resendUnchangedMs ?? DEFAULT_RESEND_UNCHANGED_MS;
  }

  connected(): Promise<void> {
    this.last = undefined;
    return this.scan();
  }

  /** Never rejects; concurrent calls coalesce into at most one more scan after the current one. */
  readonly scan = coalescedRun(
    () => this.scanOnce(),
    (err) => this.log.error({ err }, 'neighbour report failed'),
  );

  private async scanOnce(): Promise<void> {
    let snapshot: NeighborsSnapshot;
    try {
      snapshot = await this.deps.collect();
    } catch (err) {
      // Logged, not thrown: the next scheduled scan tries again.
      this.log.warn({ err }, 'cannot read the neighbour tables');
      return;
    }
    const neighbors = fitOneFrame(snapshot.neighbors);
    if (neighbors.length < snapshot.neighbors.length) {
      this.log.warn({ neighbors: snapshot.neighbors.length, sent: neighbors.length }, 'neighbour table cut to fit one report');
    }
    const hash = sha256Hex(canonicalJson(neighbors.map((n) => [n.interface, n.ip, n.mac]).sort(compareTuples)));
    const now = this.now();
    if (this.last && this.last.hash === hash && now - this.last.at < this.resendUnchangedMs) {
      this.log.debug('neighbour table unchanged');
      return;
    }
    if (!this.deps.link.send('neighbors.report', { neighbors })) return;
    this.last = { hash, at: now };
    this.log.info({ neighbors: neighbors.length }, 'sent neighbour table');
  }
}

/** The longest prefix of `neighbors` (at most MAX_NEIGHBORS) whose report body fits BODY_BUDGET_BYTES. */
export function fitOneFrame(neighbors: readonly Neighbor[], budgetBytes = BODY_BUDGET_BYTES): Neighbor[] {
  let bytes = BODY_OVERHEAD_BYTES;
  const limit = Math.min(neighbors.length, MAX_NEIGHBORS);
  for (let i = 0; i < limit; i++) {
    // One comma per entry overcounts by one byte: harmless.
    bytes += Buffer.byteLength(JSON.stringify(neighbors[i])) + 1;
    if (bytes > budgetBytes) return neighbors.slice(0, i);
  }
  return neighbors.slice(0, limit);
}

function compareTuples(a: string[], b: string[]): number {
  const x = a.join('\t');
  const y = b.join('\t');
  return x < y ? -1 : x > y ? 1 : 0;
}
