import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AgentMessageBodies,
  AgentMessages,
  type AgentMessageType,
  Codec,
  certifyWorkKey,
  type DesiredStateSigner,
  generateKeyPair,
  importPrivateKey,
  type QuarantineOrder,
  ServerMessages,
  type SignedQuarantineOrder,
  signQuarantineOrder,
} from '@brier/protocol';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionResult, FirewallControl } from '../policy/ports.js';
import { channelOf, QUARANTINE_STATE_FILE, QuarantineManager } from './quarantine-manager.js';

type Status = AgentMessageBodies['quarantine.status'];
const NOW = new Date('2026-05-01T12:00:00.000Z');
const DAY = 86_400_000;

/** Stands in for the ServerLink: frames go through the real codec, so a body that breaks the schema fails. */
class FakeLink {
  private readonly codec = new Codec(ServerMessages, AgentMessages);
  online = true;
  readonly statuses: Status[] = [];
  send<K extends AgentMessageType>(type: K, body: AgentMessageBodies[K]): boolean {
    if (!this.online) return false;
    this.codec.encode(type, body);
    if (type === 'quarantine.status') this.statuses.push(body as Status);
    return true;
  }
}

/** Records calls and what the state file held at the moment of each one. */
class FakeFirewall implements FirewallControl {
  readonly kind = 'fake';
  applied = false;
  readonly calls: Array<{ op: string; allow?: readonly string[]; ports?: readonly number[]; fileAtCall: unknown }> = [];
  next: ActionResult[] = [];
  constructor(private readonly stateFile: string) {}
  private fileNow(): unknown {
    try {
      return JSON.parse(readFileSync(this.stateFile, 'utf8'));
    } catch {
      return undefined;
    }
  }
  private answer(): ActionResult {
    return this.next.shift() ?? { ok: true, detail: 'done' };
  }
  async state() {
    return { enabled: true, detail: 'fake' };
  }
  async isolate(allow: readonly string[], ports: readonly number[]) {
    this.calls.push({ op: 'isolate', allow: [...allow], ports: [...ports], fileAtCall: this.fileNow() });
    const result = this.answer();
    if (result.ok) this.applied = true;
    return result;
  }
  async release() {
    this.calls.push({ op: 'release', fileAtCall: this.fileNow() });
    const result = this.answer();
    if (result.ok) this.applied = false;
    return result;
  }
  async isolated() {
    this.calls.push({ op: 'isolated', fileAtCall: undefined });
    return this.applied;
  }
  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}

function signerFor(identityPrivateKeyPem: string): DesiredStateSigner {
  const work = generateKeyPair();
  return {
    privateKey: importPrivateKey(work.privateKeyPem),
    certificate: certifyWorkKey(
      importPrivateKey(identityPrivateKeyPem),
      work.publicKey,
      new Date(NOW.getTime() - DAY),
      new Date(NOW.getTime() + DAY),
    ),
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(options: { serverUrl?: string; dir?: string } = {}) {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'brier-quarantine-'));
  if (!options.dir) dirs.push(dir);
  const server = generateKeyPair();
  const hostId = randomUUID();
  return { dir, server, hostId, signer: signerFor(server.privateKeyPem), ...build(dir, server.publicKey, hostId, options.serverUrl) };
}

function build(dir: string, serverPublicKey: string, hostId: string, serverUrl?: string) {
  const link = new FakeLink();
  const firewall = new FakeFirewall(path.join(dir, QUARANTINE_STATE_FILE));
  const manager = new QuarantineManager({
    identity: { hostId, serverPublicKey, ...(serverUrl ? { serverUrl } : {}) },
    firewall,
    stateDir: dir,
    link,
    logger: pino({ level: 'silent' }),
    now: () => NOW,
    every: () => () => {},
  });
  return { link, firewall, manager };
}

function order(
  signer: DesiredStateSigner,
  hostId: string,
  fields: Partial<Omit<QuarantineOrder, 'nonce' | 'keyId'>> & { sequence: number; action: 'isolate' | 'release' },
): SignedQuarantineOrder {
  return signQuarantineOrder(signer, {
    kind: 'quarantine-order',
    hostId,
    issuedAt: NOW.toISOString(),
    notAfter: new Date(NOW.getTime() + 3_600_000).toISOString(),
    allow: fields.action === 'isolate' ? ['10.20.0.5'] : [],
    ports: fields.action === 'isolate' ? [8443] : [],
    reason: 'test',
    ...fields,
  });
}

async function deliver(manager: QuarantineManager, signed: unknown) {
  manager.onMessage('quarantine.order', { signed } as never);
  await manager.idle();
}

describe('QuarantineManager', () => {
  it('isolates on a signed order, after recording it, and reports isolated', async () => {
    const t = setup();
    await t.manager.start();
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate' }));
    const isolate = t.firewall.calls.find((c) => c.op === 'isolate');
    expect(isolate).toMatchObject({ allow: ['10.20.0.5'], ports: [8443] });
    // Persisted before acting: the file already said isolated when the firewall was called.
    expect(isolate?.fileAtCall).toMatchObject({ sequence: 5, isolated: true, allow: ['10.20.0.5'], ports: [8443] });
    expect(t.link.statuses.at(-1)).toMatchObject({ sequence: 5, state: 'isolated' });
    expect(t.manager.held()).toEqual({ sequence: 5, isolated: true });
  });

  it('releases on a signed release with a higher sequence', async () => {
    const t = setup();
    await t.manager.start();
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate' }));
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 6, action: 'release' }));
    const release = t.firewall.calls.find((c) => c.op === 'release');
    expect(release?.fileAtCall).toMatchObject({ sequence: 6, isolated: false });
    expect(t.link.statuses.at(-1)).toMatchObject({ sequence: 6, state: 'released' });
    expect(t.manager.held()).toEqual({ sequence: 6, isolated: false });
  });

  it.each([
    ['signed by a key the agent did not pin', 'bad_certificate'],
    ['altered after signing', 'bad_signature'],
    ['addressed to another host', 'wrong_host'],
    ['expired', 'expired'],
    ['not even an order', 'malformed'],
  ])('refuses a release %s and changes nothing', async (what, reason) => {
    const t = setup();
    await t.manager.start();
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate' }));
    const before = readFileSync(path.join(t.dir, QUARANTINE_STATE_FILE), 'utf8');
    const callsBefore = t.firewall.calls.length;
    let bad: unknown;
    if (what.startsWith('signed by')) bad = order(signerFor(generateKeyPair().privateKeyPem), t.hostId, { sequence: 6, action: 'release' });
    else if (what.startsWith('altered')) {
      const genuine = order(t.signer, t.hostId, { sequence: 6, action: 'isolate', allow: ['10.20.0.5'] });
      bad = { ...genuine, document: { ...genuine.document, action: 'release', allow: [], ports: [] } };
    } else if (what.startsWith('addressed')) bad = order(t.signer, randomUUID(), { sequence: 6, action: 'release' });
    else if (what === 'expired')
      bad = order(t.signer, t.hostId, { sequence: 6, action: 'release', notAfter: new Date(NOW.getTime() - 1000).toISOString() });
    else bad = { document: { action: 'release', sequence: 6 } };
    await deliver(t.manager, bad);
    expect(t.link.statuses.at(-1)).toMatchObject({ sequence: 6, state: 'refused', code: reason });
    expect(t.firewall.calls.length).toBe(callsBefore);
    expect(readFileSync(path.join(t.dir, QUARANTINE_STATE_FILE), 'utf8')).toBe(before);
    expect(t.manager.held()).toEqual({ sequence: 5, isolated: true });
  });

  it('refuses a replayed or older order and changes nothing', async () => {
    const t = setup();
    await t.manager.start();
    const release4 = order(t.signer, t.hostId, { sequence: 4, action: 'release' });
    const isolate5 = order(t.signer, t.hostId, { sequence: 5, action: 'isolate' });
    await deliver(t.manager, isolate5);
    const callsBefore = t.firewall.calls.length;
    await deliver(t.manager, isolate5);
    await deliver(t.manager, release4);
    expect(t.link.statuses.slice(-2)).toMatchObject([
      { sequence: 5, state: 'refused', code: 'stale_sequence' },
      { sequence: 4, state: 'refused', code: 'stale_sequence' },
    ]);
    expect(t.firewall.calls.length).toBe(callsBefore);
    expect(t.manager.held()).toEqual({ sequence: 5, isolated: true });
  });

  it('refuses an isolation that would leave no address to reach, without recording it', async () => {
    const t = setup();
    await t.manager.start();
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate', allow: [] }));
    expect(t.link.statuses.at(-1)).toMatchObject({ sequence: 5, state: 'refused', code: 'invalid_allow_list' });
    expect(t.firewall.ops()).not.toContain('isolate');
    expect(t.manager.held()).toEqual({ sequence: 0, isolated: false });
  });

  it('reports a failed firewall command with its code, keeps the order, and retries it on the next check', async () => {
    const t = setup();
    await t.manager.start();
    t.firewall.next.push({ ok: false, code: 'tool-missing', detail: 'nft is not installed or not on PATH' });
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate' }));
    expect(t.link.statuses.at(-1)).toMatchObject({ sequence: 5, state: 'failed', code: 'tool-missing' });
    expect(t.manager.held()).toEqual({ sequence: 5, isolated: true });
    t.manager.connected();
    await t.manager.idle();
    expect(t.firewall.applied).toBe(true);
    expect(t.link.statuses.at(-1)).toMatchObject({ sequence: 5, state: 'isolated' });
  });

  it('does not act on an order it could not record', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'brier-quarantine-'));
    dirs.push(dir);
    // A non-empty directory where the file belongs: the rename fails, for root too.
    mkdirSync(path.join(dir, QUARANTINE_STATE_FILE, 'x'), { recursive: true });
    const t = setup({ dir });
    await t.manager.start();
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate' }));
    expect(t.link.statuses.at(-1)).toMatchObject({ sequence: 5, state: 'failed', code: 'state-write-failed' });
    expect(t.firewall.ops()).not.toContain('isolate');
    expect(t.manager.held().sequence).toBe(0);
  });

  it('re-applies a held isolation at start (after a reboot cleared the rules) and reports it once connected', async () => {
    const t = setup();
    await t.manager.start();
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate' }));
    t.manager.stop();

    // A new agent process on the same state directory; the kernel rules are gone.
    const again = build(t.dir, t.server.publicKey, t.hostId);
    again.link.online = false;
    expect(again.manager.held()).toEqual({ sequence: 5, isolated: true });
    await again.manager.start();
    expect(again.firewall.calls[0]).toMatchObject({ op: 'isolate', allow: ['10.20.0.5'], ports: [8443] });
    expect(again.firewall.applied).toBe(true);
    again.link.online = true;
    again.manager.connected();
    await again.manager.idle();
    expect(again.link.statuses[0]).toMatchObject({ sequence: 5, state: 'isolated' });
    expect(again.link.statuses[0]?.detail).toContain('re-applied at agent start');
  });

  it('puts a deleted isolation back on a check, and leaves a confirmed release alone', async () => {
    const t = setup();
    await t.manager.start();
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate' }));
    t.firewall.applied = false; // someone deleted the table
    t.manager.connected();
    await t.manager.idle();
    expect(t.firewall.applied).toBe(true);
    expect(t.link.statuses.at(-1)?.detail).toContain('was missing');

    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 6, action: 'release' }));
    const calls = t.firewall.calls.length;
    t.manager.connected();
    await t.manager.idle();
    expect(t.firewall.calls.length).toBe(calls);
  });

  it('removes an isolation left behind when the held state says released', async () => {
    const t = setup();
    t.firewall.applied = true;
    await t.manager.start();
    expect(t.firewall.ops()).toEqual(['isolated', 'release']);
    expect(t.link.statuses.at(-1)).toMatchObject({ sequence: 0, state: 'released' });
  });

  it('keeps the firewall as it is when the state file is damaged, and holds sequence 0 so the server resends', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'brier-quarantine-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, QUARANTINE_STATE_FILE), '{"sequence": 5, "isolated": tr');
    const t = setup({ dir });
    t.firewall.applied = true;
    await t.manager.start();
    expect(t.firewall.ops()).toEqual(['isolated']);
    expect(t.manager.held()).toEqual({ sequence: 0, isolated: true });
    // The server's latest order (any sequence above 0) is then taken and recorded.
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 7, action: 'release' }));
    expect(t.firewall.applied).toBe(false);
    expect(JSON.parse(readFileSync(path.join(dir, QUARANTINE_STATE_FILE), 'utf8'))).toMatchObject({ sequence: 7, isolated: false });
  });

  it('always allows the server of an IP-literal URL, on its port', async () => {
    const t = setup({ serverUrl: 'http://10.20.0.9:8080' });
    await t.manager.start();
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate', allow: ['10.20.0.5'], ports: [8443] }));
    expect(t.firewall.calls.find((c) => c.op === 'isolate')).toMatchObject({ allow: ['10.20.0.5', '10.20.0.9'], ports: [8443, 8080] });
    // What is recorded is the order as signed.
    expect(JSON.parse(readFileSync(path.join(t.dir, QUARANTINE_STATE_FILE), 'utf8'))).toMatchObject({
      allow: ['10.20.0.5'],
      ports: [8443],
    });
  });

  it('sends statuses that could not be sent once the link is back', async () => {
    const t = setup();
    t.link.online = false;
    await t.manager.start();
    await deliver(t.manager, order(t.signer, t.hostId, { sequence: 5, action: 'isolate' }));
    expect(t.link.statuses).toEqual([]);
    t.link.online = true;
    t.manager.connected();
    await t.manager.idle();
    expect(t.link.statuses[0]).toMatchObject({ sequence: 5, state: 'isolated' });
  });

  it('ignores other message types', async () => {
    const t = setup();
    t.manager.onMessage('assignment.offer', {} as never);
    await t.manager.idle();
    expect(t.link.statuses).toEqual([]);
  });
});

describe('channelOf', () => {
  it('finds IPv4 and IPv6 literals with their ports, and nothing for host names', () => {
    expect(channelOf('https://10.0.0.1')).toEqual({ address: '10.0.0.1', port: 443 });
    expect(channelOf('http://[2001:db8::1]:8080/brier')).toEqual({ address: '2001:db8::1', port: 8080 });
    expect(channelOf('https://brier.example.com')).toBeUndefined();
    expect(channelOf('not a url')).toBeUndefined();
    expect(channelOf(undefined)).toBeUndefined();
  });
});
