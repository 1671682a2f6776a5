import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AgentMessageBodies,
  AgentMessages,
  type AgentMessageType,
  Codec,
  type HostFacts,
  inventoryHash,
  MAX_DELTA_ENTRIES,
  MAX_PACKAGES_PER_HOST,
  PACKAGES_PER_PART,
  type PackageEntry,
  type ServerMessageBodies,
  ServerMessages,
} from '@brier/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Inventory, InventoryReporter } from './inventory-reporter.js';
import { AgentState } from './state/agent-state.js';

type Sent = { [K in AgentMessageType]: { type: K; body: AgentMessageBodies[K] } }[AgentMessageType];
type FullBody = AgentMessageBodies['inventory.full'];
type DeltaBody = AgentMessageBodies['inventory.delta'];

/**
 * Stands in for the ServerLink: every frame goes through the real codec (so a body that breaks the
 * protocol schema fails the test) and is recorded decoded.
 */
class FakeLink {
  private readonly codec = new Codec(ServerMessages, AgentMessages);
  readonly sent: Sent[] = [];
  readonly encodeErrors: unknown[] = [];
  ready = true;

  send<K extends AgentMessageType>(type: K, body: AgentMessageBodies[K]): boolean {
    if (!this.ready) return false;
    try {
      const frame = JSON.parse(this.codec.encode(type, body)) as Sent;
      this.sent.push(frame);
    } catch (err) {
      this.encodeErrors.push(err);
      throw err;
    }
    return true;
  }

  fulls(): FullBody[] {
    return this.sent.flatMap((m) => (m.type === 'inventory.full' ? [m.body] : []));
  }

  deltas(): DeltaBody[] {
    return this.sent.flatMap((m) => (m.type === 'inventory.delta' ? [m.body] : []));
  }

  clear(): void {
    this.sent.length = 0;
  }
}

const facts: HostFacts = {
  hostname: 'web-1',
  os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', codename: 'bookworm', arch: 'x64' },
  hardware: { cores: 4 },
  network: [{ name: 'eth0', ipv4: ['10.0.0.5'], ipv6: [] }],
  agentVersion: '0.1.0',
};

function packages(count: number, version = '1.0-1'): PackageEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    ecosystem: 'dpkg' as const,
    name: `pkg-${String(i).padStart(6, '0')}`,
    version,
    arch: 'amd64',
  }));
}

function ack(hash: string, mode: 'full' | 'delta' = 'full'): ServerMessageBodies['inventory.ack'] {
  return { hash, mode, added: 0, removed: 0, changed: 0 };
}

/** Lets fire-and-forget scans (started by a server message) run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

let dir: string;
let state: AgentState;
let link: FakeLink;
/** What the next collect() returns; tests change it to script the machine. */
let current: Inventory;
let collects: number;

function newReporter(collect: () => Promise<Inventory> = async () => structuredClone(current)): InventoryReporter {
  return new InventoryReporter({
    state,
    link,
    collect: async () => {
      collects++;
      return collect();
    },
    logger: pino({ level: 'silent' }),
  });
}

/** Runs the first contact to the end: full snapshot sent and acknowledged, cache written. */
async function reportedOnce(reporter: InventoryReporter): Promise<string> {
  await reporter.connected(null);
  const [first] = link.fulls();
  reporter.onMessage('inventory.ack', ack(first!.hash));
  link.clear();
  return first!.hash;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'brier-reporter-'));
  state = new AgentState(dir);
  link = new FakeLink();
  current = { facts, packages: packages(10) };
  collects = 0;
});

afterEach(() => {
  expect(link.encodeErrors).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

describe('InventoryReporter on first contact', () => {
  it('sends a full snapshot in ceil(n/2000) parts, facts in part 0 only, hashed like inventoryHash', async () => {
    current = { facts, packages: packages(2 * PACKAGES_PER_PART + 500) };
    await newReporter().connected(null);

    const parts = link.fulls();
    expect(link.sent.map((m) => m.type)).toEqual(['inventory.full', 'inventory.full', 'inventory.full']);
    expect(parts.map((p) => p.part)).toEqual([0, 1, 2]);
    expect(new Set(parts.map((p) => p.parts))).toEqual(new Set([3]));
    expect(new Set(parts.map((p) => p.snapshotId)).size).toBe(1);
    expect(new Set(parts.map((p) => p.hash))).toEqual(new Set([inventoryHash(current.packages)]));
    expect(parts[0]!.facts).toEqual(facts);
    expect(parts[1]!.facts).toBeUndefined();
    expect(parts[2]!.facts).toBeUndefined();
    expect(parts.map((p) => p.packages.length)).toEqual([PACKAGES_PER_PART, PACKAGES_PER_PART, 500]);
    expect(parts.flatMap((p) => p.packages)).toEqual(current.packages);
  });

  it('sends one part with facts for an empty inventory', async () => {
    current = { facts, packages: [] };
    await newReporter().connected(null);
    expect(link.fulls()).toEqual([expect.objectContaining({ part: 0, parts: 1, packages: [], facts, hash: inventoryHash([]) })]);
  });

  it('sends each (ecosystem, name, arch) once, hashing what it sent', async () => {
    const [a, b] = packages(2);
    current = { facts, packages: [a!, b!, { ...a!, version: '2.0' }] };
    await newReporter().connected(null);
    const [full] = link.fulls();
    expect(full!.packages).toHaveLength(2);
    expect(full!.hash).toBe(inventoryHash(full!.packages));
  });

  it('writes nothing to the state directory until the server acknowledges', async () => {
    await newReporter().connected(null);
    expect(state.readSentInventory()).toBeUndefined();
  });

  it('stores the acknowledged snapshot as the base for deltas', async () => {
    const reporter = newReporter();
    await reporter.connected(null);
    const hash = link.fulls()[0]!.hash;
    reporter.onMessage('inventory.ack', ack(hash));
    expect(state.readSentInventory()).toEqual({ hash, packages: current.packages, facts });
  });

  it('does not store anything when the acknowledged hash is not the one it sent', async () => {
    const reporter = newReporter();
    await reporter.connected(null);
    reporter.onMessage('inventory.ack', ack('f'.repeat(64)));
    expect(state.readSentInventory()).toBeUndefined();
  });
});

describe('InventoryReporter on later contact', () => {
  it('sends nothing when the server holds the last acknowledged hash and nothing changed', async () => {
    const hash = await reportedOnce(newReporter());
    // A restarted agent: a new reporter on the same state directory.
    await newReporter().connected(hash);
    expect(link.sent).toEqual([]);
  });

  it('sends one delta with the added package', async () => {
    const hash = await reportedOnce(newReporter());
    const added: PackageEntry = { ecosystem: 'dpkg', name: 'curl', version: '7.88.1-10+deb12u5', arch: 'amd64' };
    current = { facts, packages: [...current.packages, added] };
    await newReporter().connected(hash);
    expect(link.sent).toHaveLength(1);
    expect(link.deltas()).toEqual([{ baseHash: hash, hash: inventoryHash(current.packages), upsert: [added], remove: [] }]);
  });

  it('sends one delta with the changed package', async () => {
    const hash = await reportedOnce(newReporter());
    const changed = { ...current.packages[3]!, version: '1.0-2' };
    current = { facts, packages: current.packages.map((p, i) => (i === 3 ? changed : p)) };
    await newReporter().connected(hash);
    expect(link.deltas()).toEqual([{ baseHash: hash, hash: inventoryHash(current.packages), upsert: [changed], remove: [] }]);
  });

  it('sends one delta with the key of the removed package', async () => {
    const hash = await reportedOnce(newReporter());
    const gone = current.packages[5]!;
    current = { facts, packages: current.packages.filter((p) => p !== gone) };
    await newReporter().connected(hash);
    expect(link.deltas()).toEqual([
      {
        baseHash: hash,
        hash: inventoryHash(current.packages),
        upsert: [],
        remove: [{ ecosystem: 'dpkg', name: gone.name, arch: 'amd64' }],
      },
    ]);
  });

  it('sends the facts with a delta only when they changed, even with no package change', async () => {
    const hash = await reportedOnce(newReporter());
    const moved = { ...facts, network: [{ name: 'eth0', ipv4: ['10.0.9.9'], ipv6: [] }] };
    current = { ...current, facts: moved };
    await newReporter().connected(hash);
    expect(link.deltas()).toEqual([{ baseHash: hash, hash, upsert: [], remove: [], facts: moved }]);
  });

  it('makes the next delta against the newly acknowledged state', async () => {
    const reporter = newReporter();
    await reportedOnce(reporter);
    current = { facts, packages: [...current.packages, ...packages(12).slice(10)] };
    await reporter.scan();
    const first = link.deltas()[0]!;
    reporter.onMessage('inventory.ack', ack(first.hash, 'delta'));
    expect(state.readSentInventory()?.hash).toBe(first.hash);
    link.clear();

    current = { facts, packages: current.packages.slice(1) };
    await reporter.scan();
    expect(link.deltas()).toEqual([
      expect.objectContaining({ baseHash: first.hash, upsert: [], remove: [expect.objectContaining({ name: 'pkg-000000' })] }),
    ]);
  });

  it('sends a full snapshot when the server holds another hash than the one it last acknowledged', async () => {
    await reportedOnce(newReporter());
    current = { facts, packages: [...current.packages, ...packages(11).slice(10)] };
    await newReporter().connected('e'.repeat(64));
    expect(link.deltas()).toEqual([]);
    expect(link.fulls()).toEqual([expect.objectContaining({ part: 0, parts: 1, packages: current.packages, facts })]);
  });

  it('sends a full snapshot when the server holds nothing, even if the cache says otherwise', async () => {
    await reportedOnce(newReporter());
    await newReporter().connected(null);
    expect(link.fulls()).toHaveLength(1);
  });

  it('sends a full snapshot when its cache is damaged', async () => {
    const hash = await reportedOnce(newReporter());
    writeFileSync(path.join(dir, 'inventory.json'), '{"hash": "trunc');
    await newReporter().connected(hash);
    expect(link.fulls()).toHaveLength(1);
  });

  it('sends a full snapshot instead of a delta of more than MAX_DELTA_ENTRIES upserts', async () => {
    const hash = await reportedOnce(newReporter());
    current = { facts, packages: [...current.packages, ...packages(10 + MAX_DELTA_ENTRIES + 1).slice(10)] };
    await newReporter().connected(hash);
    expect(link.deltas()).toEqual([]);
    expect(link.fulls().flatMap((p) => p.packages)).toHaveLength(current.packages.length);
  });

  it('sends a full snapshot instead of a delta of more than MAX_DELTA_ENTRIES removals', async () => {
    current = { facts, packages: packages(MAX_DELTA_ENTRIES + 5) };
    const hash = await reportedOnce(newReporter());
    current = { facts, packages: current.packages.slice(0, 4) };
    await newReporter().connected(hash);
    expect(link.deltas()).toEqual([]);
    expect(link.fulls()).toEqual([expect.objectContaining({ packages: current.packages })]);
  });

  it('sends a delta of exactly MAX_DELTA_ENTRIES changes', async () => {
    const hash = await reportedOnce(newReporter());
    current = { facts, packages: packages(10 + MAX_DELTA_ENTRIES) };
    await newReporter().connected(hash);
    expect(link.fulls()).toEqual([]);
    expect(link.deltas()[0]!.upsert).toHaveLength(MAX_DELTA_ENTRIES);
  });
});

describe('InventoryReporter when the server refuses', () => {
  it('answers inventory_hash_mismatch after a delta with a full snapshot of the same inventory', async () => {
    const reporter = newReporter();
    const hash = await reportedOnce(reporter);
    current = { facts, packages: [...current.packages, ...packages(11).slice(10)] };
    await reporter.scan();
    expect(link.deltas()).toHaveLength(1);
    link.clear();

    reporter.onMessage('error', { code: 'inventory_hash_mismatch', message: 'base hash does not match' });
    expect(link.fulls()).toEqual([
      expect.objectContaining({ part: 0, parts: 1, hash: inventoryHash(current.packages), packages: current.packages, facts }),
    ]);
    expect(collects).toBe(2);
    // The cache still holds the old, acknowledged state until the full snapshot is acknowledged.
    expect(state.readSentInventory()?.hash).toBe(hash);
    reporter.onMessage('inventory.ack', ack(inventoryHash(current.packages)));
    expect(state.readSentInventory()?.hash).toBe(inventoryHash(current.packages));
  });

  it('does not resend a full snapshot the server refused with inventory_hash_mismatch', async () => {
    const reporter = newReporter();
    await reporter.connected(null);
    link.clear();
    reporter.onMessage('error', { code: 'inventory_hash_mismatch', message: 'snapshot does not hash to the claimed value' });
    await settle();
    expect(link.sent).toEqual([]);
  });

  it('sends nothing, and stays usable, when the inventory exceeds MAX_PACKAGES_PER_HOST', async () => {
    current = { facts, packages: packages(MAX_PACKAGES_PER_HOST + 1) };
    const reporter = newReporter();
    await reporter.connected(null);
    expect(link.sent).toEqual([]);

    current = { facts, packages: packages(3) };
    await reporter.scan();
    expect(link.fulls()).toHaveLength(1);
  });

  it('does not let a small delta carry the host past MAX_PACKAGES_PER_HOST', async () => {
    current = { facts, packages: packages(MAX_PACKAGES_PER_HOST) };
    const hash = await reportedOnce(newReporter());
    expect(state.readSentInventory()?.packages).toHaveLength(MAX_PACKAGES_PER_HOST);
    current = { facts, packages: packages(MAX_PACKAGES_PER_HOST + 1) };
    await newReporter().connected(hash);
    expect(link.sent).toEqual([]);
  });

  it('sends nothing and does not throw when collecting fails', async () => {
    const reporter = newReporter(async () => {
      throw new Error('dpkg-query: not found');
    });
    await expect(reporter.connected(null)).resolves.toBeUndefined();
    expect(link.sent).toEqual([]);
  });

  it('does not reject when a collected entry breaks the protocol schema', async () => {
    current = { facts, packages: [{ ecosystem: 'dpkg', name: 'bad\u0000name', version: '1', arch: '' }] };
    const reporter = newReporter();
    await expect(reporter.connected(null)).resolves.toBeUndefined();
    expect(link.sent).toEqual([]);
    link.encodeErrors.length = 0;
  });

  it('keeps running when the acknowledged inventory cannot be stored', async () => {
    const blocked = path.join(dir, 'not-a-directory');
    writeFileSync(blocked, '');
    state = new AgentState(path.join(blocked, 'state'));
    const reporter = newReporter();
    await reporter.connected(null);
    expect(() => reporter.onMessage('inventory.ack', ack(link.fulls()[0]!.hash))).not.toThrow();
  });
});

describe('InventoryReporter scheduling', () => {
  it('coalesces concurrent scans into the running one plus at most one more', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reporter = newReporter(async () => {
      await gate;
      return structuredClone(current);
    });
    const scans = [reporter.connected(null), reporter.scan(), reporter.scan(), reporter.scan()];
    expect(collects).toBe(1);
    release();
    await Promise.all(scans);
    expect(collects).toBe(2);
    // The second pass found what is already on its way: one snapshot, not two.
    expect(link.fulls()).toHaveLength(1);
  });

  it('waits for the reply to the report in flight before reporting newer changes', async () => {
    const reporter = newReporter();
    const hash = await reportedOnce(reporter);
    current = { facts, packages: [...current.packages, ...packages(11).slice(10)] };
    await reporter.scan();
    const first = link.deltas()[0]!;
    expect(first.baseHash).toBe(hash);

    current = { facts, packages: [...current.packages, ...packages(12).slice(11)] };
    await reporter.scan();
    expect(link.sent).toHaveLength(1);

    reporter.onMessage('inventory.ack', ack(first.hash, 'delta'));
    await settle();
    expect(link.deltas()).toHaveLength(2);
    expect(link.deltas()[1]).toEqual({
      baseHash: first.hash,
      hash: inventoryHash(current.packages),
      upsert: [expect.objectContaining({ name: 'pkg-000011' })],
      remove: [],
    });
  });

  it('forgets a report in flight when the link reconnects', async () => {
    const reporter = newReporter();
    await reporter.connected(null);
    expect(link.fulls()).toHaveLength(1);
    // The connection dropped before the ack: the new connection gets the snapshot again.
    await reporter.connected(null);
    expect(link.fulls()).toHaveLength(2);
  });

  it('reports again once the link is ready when it could not send', async () => {
    link.ready = false;
    const reporter = newReporter();
    await reporter.connected(null);
    expect(link.sent).toEqual([]);
    link.ready = true;
    await reporter.scan();
    expect(link.fulls()).toHaveLength(1);
  });

  it('scans when the server asks, with a full snapshot when it asks for one', async () => {
    const reporter = newReporter();
    const hash = await reportedOnce(reporter);
    reporter.onMessage('inventory.request', { full: false });
    await settle();
    expect(link.sent).toEqual([]);

    reporter.onMessage('inventory.request', { full: true });
    await settle();
    expect(link.fulls()).toEqual([expect.objectContaining({ hash, packages: current.packages })]);
  });
});
