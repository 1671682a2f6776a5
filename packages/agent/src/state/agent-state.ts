import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compileSchema, HostFacts, PackageEntry } from '@brier/protocol';
import Type from 'typebox';
import { writeFileAtomic } from './atomic-write.js';

/** What the agent knows about itself and its server; written once at enrolment. */
const B64url43 = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
/** What identifies a connection is checked here, at start-up, rather than failing on every auth frame. */
export const Identity = Type.Object({
  hostId: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
  privateKeyPem: Type.String({ minLength: 1 }),
  publicKey: B64url43,
  serverUrl: Type.String({ pattern: '^https?://' }),
  serverPublicKey: B64url43,
  serverFingerprint: B64url43,
  enrolledAt: Type.String(),
});
export type Identity = Type.Static<typeof Identity>;

/** The last inventory the server acknowledged: the base for the next delta. */
export const SentInventory = Type.Object({
  hash: Type.String(),
  packages: Type.Array(PackageEntry),
  facts: Type.Union([HostFacts, Type.Null()]),
});
export type SentInventory = Type.Static<typeof SentInventory>;

const checkIdentity = compileSchema(Identity);
const checkSent = compileSchema(SentInventory);

export class StateError extends Error {
  override name = 'StateError';
}

/**
 * The agent's durable state directory (mode 0700). Every write is atomic, so a power cut never
 * leaves a half-written identity behind.
 */
export class AgentState {
  constructor(readonly dir: string) {}

  private file(name: string) {
    return path.join(this.dir, name);
  }

  ensureDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (cause) {
      throw new StateError(`cannot create state directory ${this.dir} (${(cause as Error).message}; run as root, or pass --state-dir)`, {
        cause,
      });
    }
  }

  private read(name: string): unknown {
    let text: string;
    try {
      text = readFileSync(this.file(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateError(`cannot read ${this.file(name)}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new StateError(`${this.file(name)} is damaged (not JSON: ${(cause as Error).message})`, { cause });
    }
  }

  /** The stored identity, undefined when there is none; throws StateError when it is unreadable or damaged. */
  readIdentity(): Identity | undefined {
    const raw = this.read('identity.json');
    if (raw === undefined) return undefined;
    try {
      return checkIdentity(raw, 'identity.json');
    } catch (cause) {
      throw new StateError(`${this.file('identity.json')} is damaged (${(cause as Error).message})`, { cause });
    }
  }

  writeIdentity(identity: Identity): void {
    this.ensureDir();
    writeFileAtomic(this.file('identity.json'), `${JSON.stringify(identity, null, 2)}\n`);
  }

  readSentInventory(): SentInventory | undefined {
    try {
      const raw = this.read('inventory.json');
      return raw === undefined ? undefined : checkSent(raw, 'inventory.json');
    } catch {
      // A damaged cache only costs one full upload; it must never stop the agent.
      return undefined;
    }
  }

  writeSentInventory(sent: SentInventory): void {
    this.ensureDir();
    writeFileAtomic(this.file('inventory.json'), JSON.stringify(sent));
  }
}
