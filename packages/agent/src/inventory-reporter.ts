import {
  diffInventory,
  type HostFacts,
  indexPackages,
  inventoryHash,
  MAX_DELTA_ENTRIES,
  MAX_PACKAGES_PER_HOST,
  newMessageId,
  PACKAGES_PER_PART,
  type PackageEntry,
  type ServerMessageBodies,
} from '@brier/protocol';
import type { Logger } from 'pino';
import { coalescedRun } from './coalesced-run.js';
import type { AgentState } from './state/agent-state.js';
import type { ServerLink } from './transport/server-link.js';

export interface Inventory {
  facts: HostFacts;
  packages: PackageEntry[];
}

export interface InventoryReporterDeps {
  state: AgentState;
  link: Pick<ServerLink, 'send'>;
  collect: () => Promise<Inventory>;
  logger: Logger;
}

interface InFlight {
  mode: 'full' | 'delta';
  hash: string;
  packages: PackageEntry[];
  facts: HostFacts;
}

/**
 * Decides what to report: a full snapshot when the server's hash is not the one we last had
 * acknowledged (first contact, server restored from backup, our cache lost), otherwise only the
 * added, removed and changed packages, and nothing at all when nothing changed.
 *
 * At most one report is in flight: a delta can only be computed against a base the server has
 * acknowledged, so a scan that finds something new while a report is unanswered waits for the reply.
 */
export class InventoryReporter {
  private serverHash: string | null = null;
  private inFlight: InFlight | undefined;
  /** The server asked for a full snapshot (`inventory.request`); cleared once one is sent. */
  private wantFull = false;
  /** A scan found changes while a report was in flight: scan again once it is answered. */
  private rescanAfterReply = false;
  private readonly log: Logger;

  constructor(private readonly deps: InventoryReporterDeps) {
    this.log = deps.logger.child({ module: 'inventory' });
  }

  /** The link is (re)authenticated and the server holds `hash` for us. */
  connected(hash: string | null): Promise<void> {
    this.serverHash = hash;
    // Whatever was in flight on the old connection will never be answered.
    this.inFlight = undefined;
    this.rescanAfterReply = false;
    return this.scan();
  }

  /** Scans now; concurrent calls coalesce into at most one more scan after the current one. Never rejects. */
  readonly scan = coalescedRun(
    () => this.scanOnce(),
    (err) => this.log.error({ err }, 'inventory report failed'),
  );

  onMessage<K extends keyof ServerMessageBodies>(type: K, body: ServerMessageBodies[K]): void {
    if (type === 'inventory.ack') {
      const ack = body as ServerMessageBodies['inventory.ack'];
      const sent = this.inFlight;
      this.serverHash = ack.hash;
      this.inFlight = undefined;
      if (sent && sent.hash === ack.hash) {
        try {
          this.deps.state.writeSentInventory({ hash: sent.hash, packages: sent.packages, facts: sent.facts });
        } catch (err) {
          // Without the cache the next report is a full one: costly, but no reason to stop the agent.
          this.log.error({ err }, 'cannot store the acknowledged inventory');
        }
        this.log.info({ mode: ack.mode, added: ack.added, removed: ack.removed, changed: ack.changed }, 'inventory acknowledged');
      }
      this.afterReply();
    } else if (type === 'error') {
      const err = body as ServerMessageBodies['error'];
      this.log.warn({ code: err.code, detail: err.message }, 'server refused a message');
      const sent = this.inFlight;
      this.inFlight = undefined;
      if (err.code === 'inventory_hash_mismatch' && sent?.mode === 'delta') {
        // Our base is not what the server holds: start over with a full snapshot. (Not after a
        // refused full snapshot: sending it again would only be refused again, forever.)
        this.serverHash = null;
        this.sendFull(sent.packages, sent.facts);
        return;
      }
      this.afterReply();
    } else if (type === 'inventory.request') {
      if ((body as ServerMessageBodies['inventory.request']).full) this.wantFull = true;
      void this.scan();
    }
  }

  private afterReply(): void {
    if (!this.rescanAfterReply) return;
    this.rescanAfterReply = false;
    void this.scan();
  }

  private async scanOnce(): Promise<void> {
    let inventory: Inventory;
    try {
      inventory = await this.deps.collect();
    } catch (err) {
      this.log.error({ err }, 'inventory scan failed');
      return;
    }
    const packages = [...indexPackages(inventory.packages).values()];
    const { facts } = inventory;
    // Checked here, not only before a full snapshot: a small delta could also carry a host past it.
    if (packages.length > MAX_PACKAGES_PER_HOST) {
      this.log.error({ packages: packages.length, limit: MAX_PACKAGES_PER_HOST }, 'inventory exceeds the per-host limit; not sent');
      return;
    }
    const hash = inventoryHash(packages);
    if (this.inFlight) {
      if (!this.wantFull && this.inFlight.hash === hash && sameFacts(this.inFlight.facts, facts)) return;
      this.rescanAfterReply = true;
      return;
    }
    const last = this.deps.state.readSentInventory();
    if (this.wantFull || !last || this.serverHash === null || last.hash !== this.serverHash) {
      this.sendFull(packages, facts);
      return;
    }
    const delta = diffInventory(last.packages, packages);
    const factsChanged = !sameFacts(last.facts, facts);
    if (delta.upsert.length === 0 && delta.remove.length === 0 && !factsChanged) {
      this.log.debug('inventory unchanged');
      return;
    }
    if (delta.upsert.length > MAX_DELTA_ENTRIES || delta.remove.length > MAX_DELTA_ENTRIES) {
      this.sendFull(packages, facts);
      return;
    }
    this.inFlight = { mode: 'delta', hash, packages, facts };
    const sent = this.deps.link.send('inventory.delta', {
      baseHash: last.hash,
      hash,
      upsert: delta.upsert,
      remove: delta.remove,
      ...(factsChanged ? { facts } : {}),
    });
    if (!sent) {
      this.inFlight = undefined;
      return;
    }
    this.log.info({ upsert: delta.upsert.length, remove: delta.remove.length }, 'sent inventory delta');
  }

  private sendFull(packages: PackageEntry[], facts: HostFacts): void {
    const hash = inventoryHash(packages);
    const parts = Math.max(1, Math.ceil(packages.length / PACKAGES_PER_PART));
    const snapshotId = newMessageId();
    this.inFlight = { mode: 'full', hash, packages, facts };
    for (let part = 0; part < parts; part++) {
      const slice = packages.slice(part * PACKAGES_PER_PART, (part + 1) * PACKAGES_PER_PART);
      const sent = this.deps.link.send('inventory.full', {
        snapshotId,
        part,
        parts,
        hash,
        packages: slice,
        ...(part === 0 ? { facts } : {}),
      });
      if (!sent) {
        this.inFlight = undefined;
        return;
      }
    }
    this.wantFull = false;
    this.log.info({ packages: packages.length, parts }, 'sent full inventory');
  }
}

function sameFacts(a: HostFacts | null, b: HostFacts): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
