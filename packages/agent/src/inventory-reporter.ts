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
  hash: string;
  packages: PackageEntry[];
  facts: HostFacts;
}

/**
 * Decides what to report: a full snapshot when the server's hash is not the one we last had
 * acknowledged (first contact, server restored from backup, our cache lost), otherwise only the
 * added, removed and changed packages, and nothing at all when nothing changed.
 */
export class InventoryReporter {
  private serverHash: string | null = null;
  private inFlight: InFlight | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly log: Logger;

  constructor(private readonly deps: InventoryReporterDeps) {
    this.log = deps.logger.child({ module: 'inventory' });
  }

  /** The link is (re)authenticated and the server holds `hash` for us. */
  connected(hash: string | null): Promise<void> {
    this.serverHash = hash;
    this.inFlight = undefined;
    return this.scan();
  }

  /** Scans now; concurrent calls coalesce into at most one more scan after the current one. */
  scan(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.scanOnce();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  onMessage<K extends keyof ServerMessageBodies>(type: K, body: ServerMessageBodies[K]): void {
    if (type === 'inventory.ack') {
      const ack = body as ServerMessageBodies['inventory.ack'];
      const sent = this.inFlight;
      this.serverHash = ack.hash;
      if (sent && sent.hash === ack.hash) {
        this.deps.state.writeSentInventory({ hash: sent.hash, packages: sent.packages, facts: sent.facts });
        this.log.info({ mode: ack.mode, added: ack.added, removed: ack.removed, changed: ack.changed }, 'inventory acknowledged');
      }
      this.inFlight = undefined;
    } else if (type === 'error') {
      const err = body as ServerMessageBodies['error'];
      this.log.warn({ code: err.code, detail: err.message }, 'server refused a message');
      if (err.code === 'inventory_hash_mismatch' && this.inFlight) {
        // Our base is not what the server holds: start over with a full snapshot.
        const { packages, facts } = this.inFlight;
        this.serverHash = null;
        this.sendFull(packages, facts);
      } else {
        this.inFlight = undefined;
      }
    } else if (type === 'inventory.request') {
      if ((body as ServerMessageBodies['inventory.request']).full) this.serverHash = null;
      void this.scan();
    }
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
    const last = this.deps.state.readSentInventory();
    if (!last || this.serverHash === null || last.hash !== this.serverHash) {
      this.sendFull(packages, facts);
      return;
    }
    const delta = diffInventory(last.packages, packages);
    const factsChanged = JSON.stringify(last.facts) !== JSON.stringify(facts);
    if (delta.upsert.length === 0 && delta.remove.length === 0 && !factsChanged) {
      this.log.debug('inventory unchanged');
      return;
    }
    if (delta.upsert.length > MAX_DELTA_ENTRIES || delta.remove.length > MAX_DELTA_ENTRIES) {
      this.sendFull(packages, facts);
      return;
    }
    const hash = inventoryHash(packages);
    this.inFlight = { hash, packages, facts };
    this.deps.link.send('inventory.delta', {
      baseHash: last.hash,
      hash,
      upsert: delta.upsert,
      remove: delta.remove,
      ...(factsChanged ? { facts } : {}),
    });
    this.log.info({ upsert: delta.upsert.length, remove: delta.remove.length }, 'sent inventory delta');
  }

  private sendFull(packages: PackageEntry[], facts: HostFacts): void {
    if (packages.length > MAX_PACKAGES_PER_HOST) {
      this.log.error({ packages: packages.length, limit: MAX_PACKAGES_PER_HOST }, 'inventory exceeds the per-host limit; not sent');
      return;
    }
    const hash = inventoryHash(packages);
    const parts = Math.max(1, Math.ceil(packages.length / PACKAGES_PER_PART));
    const snapshotId = newMessageId();
    this.inFlight = { hash, packages, facts };
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
    this.log.info({ packages: packages.length, parts }, 'sent full inventory');
  }
}
