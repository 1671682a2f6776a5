import {
  canonicalJson,
  type PendingUpdate,
  type ServerMessageBodies,
  sha256Hex,
  UPDATES_PER_REPORT,
  type UpdateManager,
} from '@brier/protocol';
import type { Logger } from 'pino';
import { coalescedRun } from './coalesced-run.js';
import type { ServerLink } from './transport/server-link.js';

export interface PendingUpdatesSnapshot {
  updates: PendingUpdate[];
  sources: UpdateManager[];
}

export interface UpdatesReporterDeps {
  link: Pick<ServerLink, 'send'>;
  collect: () => Promise<PendingUpdatesSnapshot>;
  logger: Logger;
  now?: () => Date;
}

/**
 * Reports the host's pending updates: on every (re)connect, since the server may have lost them,
 * and after a scheduled check only when the list changed. A list longer than one frame holds is
 * cut, security fixes first, and marked `truncated`.
 */
export class UpdatesReporter {
  private lastAcked: string | undefined;
  private inFlight: string | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: UpdatesReporterDeps) {
    this.log = deps.logger.child({ module: 'updates' });
  }

  connected(): Promise<void> {
    this.lastAcked = undefined;
    this.inFlight = undefined;
    return this.scan();
  }

  /**
   * Never rejects: a failed check is logged and retried at the next one. A call while a check runs
   * gets one more check after it, since the running one may have read the state before a change.
   */
  readonly scan = coalescedRun(
    () => this.scanOnce(),
    (err) => this.log.error({ err }, 'pending-update check failed'),
  );

  onMessage<K extends keyof ServerMessageBodies>(type: K, _body: ServerMessageBodies[K]): void {
    if (type === 'updates.ack' && this.inFlight) {
      this.lastAcked = this.inFlight;
      this.inFlight = undefined;
    }
  }

  private async scanOnce(): Promise<void> {
    let snapshot: PendingUpdatesSnapshot;
    try {
      snapshot = await this.deps.collect();
    } catch (err) {
      this.log.error({ err }, 'pending-update check failed');
      return;
    }
    const ordered = [...snapshot.updates].sort((a, b) => Number(b.security) - Number(a.security));
    const updates = ordered.slice(0, UPDATES_PER_REPORT);
    const hash = sha256Hex(canonicalJson({ updates, sources: snapshot.sources }));
    if (hash === this.lastAcked || hash === this.inFlight) return;
    const sent = this.deps.link.send('updates.report', {
      updates,
      sources: snapshot.sources,
      collectedAt: (this.deps.now ?? (() => new Date()))().toISOString(),
      truncated: ordered.length > updates.length,
    });
    if (sent) {
      this.inFlight = hash;
      this.log.info({ updates: updates.length, security: updates.filter((u) => u.security).length }, 'sent pending updates');
    }
  }
}
