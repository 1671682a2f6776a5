import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  AGENT_WS_PATH,
  type AgentMessageBodies,
  AgentMessages,
  BrierError,
  Codec,
  type ErrorCode,
  type HostFacts,
  MAX_FRAME_BYTES,
  MAX_PACKAGES_PER_HOST,
  type PackageEntry,
  PURPOSE,
  randomToken,
  type ServerMessageBodies,
  ServerMessages,
  type SignedAssignment,
  type SignedPolicyBundle,
  type SignedQuarantineOrder,
  signFields,
  verifyFields,
  wsCloseCodeOf,
} from '@brier/protocol';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ServerIdentity } from '../auth/server-identity.js';
import type { HostsStore } from '../hosts/types.js';
import type { InventoryService } from '../inventory/inventory-service.js';
import type { PatchesService } from '../patches/patches-service.js';
import { TokenBucket } from './token-bucket.js';

export interface GatewayConfig {
  heartbeatIntervalMs: number;
  authTimeoutMs: number;
  handshakesPerSecond: number;
  handshakeBurst: number;
}

export interface GatewayMetrics {
  handshakeRejected(): void;
  sessionOpened(): void;
  sessionClosed(): void;
  protocolError(code: ErrorCode): void;
}

/**
 * Where signed work comes from and where agents' progress goes (the deployments service). Identity
 * is the connection's: an agent can only sync and report for itself.
 */
export interface WorkDelivery {
  /** After authentication: the agent's ledger holds sequences up to `highestSequence`; returns the work to (re)send, in order. */
  onSync(hostId: string, highestSequence: number): Promise<SignedAssignment[]>;
  onStatus(hostId: string, status: AgentMessageBodies['assignment.status']): Promise<void>;
}

/**
 * Policies, quarantine and discovery (the desired-state services): what the agent reports goes
 * there, and after authentication it answers with what the host must hold. Identity is the
 * connection's, never the message's.
 */
export interface DesiredStateDelivery {
  /** After authentication: the signed bundle / order to (re)send, given what the agent holds. */
  onSync(
    hostId: string,
    held: AgentMessageBodies['desired-state.sync'],
  ): Promise<{ bundle?: SignedPolicyBundle | undefined; quarantine?: SignedQuarantineOrder | undefined }>;
  onCompliance(hostId: string, report: AgentMessageBodies['compliance.report']): Promise<void>;
  onRemediations(hostId: string, report: AgentMessageBodies['remediation.events']): Promise<void>;
  onQuarantineStatus(hostId: string, status: AgentMessageBodies['quarantine.status']): Promise<void>;
  onNeighbors(hostId: string, report: AgentMessageBodies['neighbors.report']): Promise<void>;
}

export interface GatewayDeps {
  hosts: Pick<HostsStore, 'get' | 'setOnline' | 'touchLastSeen' | 'isKeyRevoked'>;
  inventory: InventoryService;
  patches: Pick<PatchesService, 'recordReport'>;
  work: WorkDelivery;
  desiredState: DesiredStateDelivery;
  identity: ServerIdentity;
  config: GatewayConfig;
  logger: Logger;
  now: () => Date;
  metrics?: GatewayMetrics;
}

type Codecs = Codec<typeof AgentMessages, typeof ServerMessages>;

interface Snapshot {
  id: string;
  parts: number;
  hash: string;
  facts: HostFacts | undefined;
  received: Map<number, PackageEntry[]>;
  count: number;
  /** Set once the snapshot went over the per-host limit: its remaining parts are refused, not restarted. */
  refused: boolean;
}

interface Session {
  ws: WebSocket;
  nonce: string;
  hostId: string | undefined;
  /** The host id an `auth` being checked claims: a revocation meanwhile must reach this session too. */
  claimedHostId: string | undefined;
  alive: boolean;
  authTimer: NodeJS.Timeout | undefined;
  /** Messages of one session are handled strictly in order. */
  queue: Promise<void>;
  snapshot: Snapshot | undefined;
  closed: boolean;
  /** This server's end of the connection: the address and port the agent's packets are sent to. */
  local: { address: string; port: number } | undefined;
}

/** Errors that end the connection: the peer is not speaking the protocol or not who it claims. */
const FATAL: ReadonlySet<ErrorCode> = new Set([
  'invalid_message',
  'unknown_message_type',
  'payload_too_large',
  'unauthenticated',
  'bad_signature',
  'host_unknown',
  'host_revoked',
  'host_pending',
  'auth_timeout',
]);

/** Characters the error schema (SafeText) refuses; schema messages can echo attacker-chosen keys. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

function printable(text: string, maxLength: number): string {
  const clean = text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return Array.from(clean).slice(0, maxLength).join('');
}

/** A WebSocket close reason may be at most 123 bytes of UTF-8 (RFC 6455 5.5); ws throws beyond that. */
function closeReason(text: string): string {
  let out = '';
  for (const ch of printable(text, 123)) {
    if (Buffer.byteLength(out + ch) > 123) break;
    out += ch;
  }
  return out;
}

export function createAgentGateway(deps: GatewayDeps) {
  const { config, identity, logger, now } = deps;
  const log = logger.child({ module: 'gateway' });
  const codec: Codecs = new Codec(AgentMessages, ServerMessages);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const handshakes = new TokenBucket(config.handshakesPerSecond, config.handshakeBurst);
  const sessions = new Set<Session>();
  const byHost = new Map<string, Session>();
  const seen = new Set<string>();
  /** Offline marks still being written; close() waits for them so none lands after the database closed. */
  const offlineWrites = new Set<Promise<void>>();

  function send<K extends keyof ServerMessageBodies & string>(s: Session, type: K, body: ServerMessageBodies[K], ref?: string) {
    if (s.closed) return;
    s.ws.send(codec.encode(type, body, ref));
  }

  function fail(s: Session, err: BrierError, ref?: string) {
    deps.metrics?.protocolError(err.code);
    send(s, 'error', { code: err.code, message: printable(err.message, 1024), ...(ref ? { ref } : {}) });
    if (FATAL.has(err.code)) close(s, err.code, err.message);
  }

  function close(s: Session, code: ErrorCode, reason: string) {
    if (s.closed) return;
    s.ws.close(wsCloseCodeOf(code), closeReason(reason));
    s.closed = true;
  }

  async function authenticate(s: Session, body: { hostId: string; nonce: string; signature: string }) {
    if (s.hostId) throw new BrierError('invalid_message', 'already authenticated');
    s.claimedHostId = body.hostId;
    const host = await deps.hosts.get(body.hostId);
    // The socket may have gone (peer left, auth timeout) while we waited: never register a dead session.
    if (s.closed) return;
    if (!host) throw new BrierError('host_unknown', 'no host with that id');
    if (!verifyFields(host.publicKey, PURPOSE.authAnswer, [s.nonce, host.id, identity.fingerprint], body.signature)) {
      throw new BrierError('bad_signature', 'challenge answer does not verify');
    }
    if (host.status === 'revoked' || (await deps.hosts.isKeyRevoked(host.publicKey))) throw new BrierError('host_revoked');
    if (s.closed) return;
    if (host.status === 'pending') throw new BrierError('host_pending', 'an administrator must approve this host');
    clearTimeout(s.authTimer);
    s.authTimer = undefined;
    const previous = byHost.get(host.id);
    if (previous && previous !== s) close(previous, 'superseded', 'replaced by a newer connection');
    s.hostId = host.id;
    byHost.set(host.id, s);
    // Counted together with hostId, so the close handler's decrement always pairs with it.
    deps.metrics?.sessionOpened();
    await deps.hosts.setOnline(host.id, true, now());
    send(s, 'auth.ok', {
      hostId: host.id,
      signature: signFields(identity.privateKey, PURPOSE.authAck, [body.nonce, host.id]),
      inventoryHash: host.inventoryHash,
    });
    log.info({ hostId: host.id }, 'agent authenticated');
  }

  async function handleFull(
    s: Session,
    hostId: string,
    body: { snapshotId: string; part: number; parts: number; hash: string; facts?: HostFacts | undefined; packages: PackageEntry[] },
    id: string,
  ) {
    if (body.part >= body.parts) throw new BrierError('invalid_message', 'part must be below parts');
    let snap = s.snapshot;
    if (!snap || snap.id !== body.snapshotId) {
      snap = { id: body.snapshotId, parts: body.parts, hash: body.hash, facts: undefined, received: new Map(), count: 0, refused: false };
      s.snapshot = snap;
    }
    if (snap.refused) throw new BrierError('inventory_too_large', 'this snapshot was already refused as too large');
    if (snap.parts !== body.parts || snap.hash !== body.hash) {
      s.snapshot = undefined;
      throw new BrierError('invalid_message', 'snapshot parts disagree on parts or hash');
    }
    if (snap.received.has(body.part)) throw new BrierError('invalid_message', 'snapshot part sent twice');
    snap.count += body.packages.length;
    if (snap.count > MAX_PACKAGES_PER_HOST) {
      // Keep only the marker (not the packages): otherwise the later parts of the same snapshot
      // would silently start a fresh one and count from zero again.
      snap.received.clear();
      snap.refused = true;
      throw new BrierError('inventory_too_large', `more than ${MAX_PACKAGES_PER_HOST} packages`);
    }
    snap.received.set(body.part, body.packages);
    if (body.facts) snap.facts = body.facts;
    if (snap.received.size < snap.parts) return;
    s.snapshot = undefined;
    const packages: PackageEntry[] = [];
    for (let i = 0; i < snap.parts; i++) packages.push(...(snap.received.get(i) ?? []));
    const result = await deps.inventory.ingestFull(hostId, packages, snap.facts, snap.hash);
    send(
      s,
      'inventory.ack',
      { hash: result.hash, mode: result.mode, added: result.added, removed: result.removed, changed: result.changed },
      id,
    );
  }

  /**
   * What an authenticated agent may send, one handler per message type. The codec has already
   * refused unknown types and checked the body against its schema; typing the table by
   * AgentMessageBodies makes a message type without a handler a compile error.
   */
  type Handlers = {
    [K in Exclude<keyof AgentMessageBodies, 'auth'>]: (
      s: Session,
      hostId: string,
      body: AgentMessageBodies[K],
      id: string,
    ) => Promise<void>;
  };
  const handlers: Handlers = {
    'inventory.full': (s, hostId, body, id) => handleFull(s, hostId, body, id),
    'inventory.delta': async (s, hostId, body, id) => {
      const r = await deps.inventory.ingestDelta(hostId, body);
      send(s, 'inventory.ack', { hash: r.hash, mode: r.mode, added: r.added, removed: r.removed, changed: r.changed }, id);
    },
    'assignment.sync': async (s, hostId, body) => {
      for (const signed of await deps.work.onSync(hostId, body.highestSequence)) send(s, 'assignment.offer', { signed });
    },
    'assignment.status': (_s, hostId, body) => deps.work.onStatus(hostId, body),
    'desired-state.sync': async (s, hostId, body) => {
      const { bundle, quarantine } = await deps.desiredState.onSync(hostId, body);
      if (quarantine) send(s, 'quarantine.order', { signed: quarantine });
      if (bundle) send(s, 'policy.bundle', { signed: bundle });
    },
    'compliance.report': (_s, hostId, body) => deps.desiredState.onCompliance(hostId, body),
    'remediation.events': (_s, hostId, body) => deps.desiredState.onRemediations(hostId, body),
    'quarantine.status': (_s, hostId, body) => deps.desiredState.onQuarantineStatus(hostId, body),
    'neighbors.report': (_s, hostId, body) => deps.desiredState.onNeighbors(hostId, body),
    'updates.report': async (s, hostId, body, id) => {
      const count = await deps.patches.recordReport(hostId, body.updates);
      send(s, 'updates.ack', { count }, id);
    },
  };

  async function dispatch(s: Session, frame: Buffer) {
    // After a fatal error or a revocation the session is over: frames still in flight change nothing.
    if (s.closed) return;
    let msgId: string | undefined;
    try {
      const msg = codec.decode(frame);
      msgId = msg.id;
      if (codec.is(msg, 'auth')) return await authenticate(s, msg.body);
      const hostId = s.hostId;
      if (!hostId) throw new BrierError('unauthenticated', 'authenticate first');
      const handler = handlers[msg.type as keyof Handlers] as (s: Session, hostId: string, body: unknown, id: string) => Promise<void>;
      await handler(s, hostId, msg.body, msg.id);
    } catch (err) {
      if (err instanceof BrierError) return fail(s, err, msgId);
      log.error({ err, hostId: s.hostId }, 'agent message failed');
      fail(s, new BrierError('internal', 'the server could not handle this message', { cause: err }), msgId);
    }
  }

  function onConnection(ws: WebSocket, req: IncomingMessage) {
    const { localAddress, localPort } = req.socket;
    const s: Session = {
      ws,
      nonce: randomToken(),
      hostId: undefined,
      claimedHostId: undefined,
      alive: true,
      authTimer: undefined,
      queue: Promise.resolve(),
      snapshot: undefined,
      closed: false,
      local: localAddress && localPort ? { address: localAddress, port: localPort } : undefined,
    };
    sessions.add(s);
    s.authTimer = setTimeout(() => fail(s, new BrierError('auth_timeout')), config.authTimeoutMs);
    ws.on('pong', () => {
      s.alive = true;
      if (s.hostId) seen.add(s.hostId);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        fail(s, new BrierError('invalid_message', 'binary frames are not accepted'));
        return;
      }
      const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      // dispatch handles its own errors; this catch only keeps a bug from rejecting the queue (every
      // later frame would be skipped) or surfacing as an unhandled rejection that ends the process.
      s.queue = s.queue
        .then(() => dispatch(s, frame))
        .catch((err: unknown) => {
          log.error({ err, hostId: s.hostId }, 'agent session failed');
          s.closed = true;
          ws.terminate();
        });
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws reports protocol violations here (oversized frame, invalid UTF-8, bad opcode), then closes
      // with the matching code (1009, 1007, 1002); nothing was handled.
      log.debug({ err, hostId: s.hostId }, 'agent socket error');
      deps.metrics?.protocolError(err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'payload_too_large' : 'invalid_message');
    });
    ws.on('close', () => {
      s.closed = true;
      clearTimeout(s.authTimer);
      sessions.delete(s);
      const hostId = s.hostId;
      if (!hostId) return;
      // Every authenticated session was counted once when opened, superseded ones included.
      deps.metrics?.sessionClosed();
      if (byHost.get(hostId) === s) {
        byHost.delete(hostId);
        // Written after the session's own queue (so after its online mark, whatever the database's
        // connection pool does), and not at all if a newer session of the host took over meanwhile.
        const write = s.queue
          .then(() => (byHost.has(hostId) ? undefined : deps.hosts.setOnline(hostId, false, now())))
          .catch((err: unknown) => log.error({ err, hostId }, 'cannot mark host offline'))
          .finally(() => offlineWrites.delete(write));
        offlineWrites.add(write);
      }
    });
    send(s, 'challenge', { nonce: s.nonce, heartbeatIntervalMs: config.heartbeatIntervalMs });
  }

  // Heartbeats: a peer that has not answered the previous ping by the next tick is dead. Last-seen
  // times are flushed in one statement per tick rather than one write per pong.
  const heartbeat = setInterval(() => {
    for (const s of sessions) {
      if (!s.alive) {
        s.ws.terminate();
        continue;
      }
      s.alive = false;
      s.ws.ping();
    }
    if (seen.size > 0) {
      const ids = [...seen];
      seen.clear();
      deps.hosts.touchLastSeen(ids, now()).catch((err: unknown) => log.error({ err }, 'cannot record last-seen'));
    }
  }, config.heartbeatIntervalMs);
  heartbeat.unref();

  function reject(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}) {
    // Node removes its own error listener from upgraded sockets: without one, a peer that resets the
    // connection while we answer would raise an uncaught 'error' and end the process.
    socket.on('error', () => socket.destroy());
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
  }

  return {
    /** Wire to the HTTP server's 'upgrade' event. Returns false when the path is not ours. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      const path = (req.url ?? '').split('?')[0];
      if (path !== AGENT_WS_PATH) return false;
      if (!handshakes.take()) {
        deps.metrics?.handshakeRejected();
        reject(socket, 503, 'Service Unavailable', { 'Retry-After': '1' });
        return true;
      }
      wss.handleUpgrade(req, socket, head, onConnection);
      return true;
    },
    /** Cuts a host's live connection, e.g. after it was revoked. */
    disconnect(hostId: string, code: ErrorCode = 'host_revoked') {
      // Sessions still checking an answer for this host too: they read its status before the change.
      for (const s of sessions) {
        if (s.hostId === hostId || s.claimedHostId === hostId) close(s, code, 'identity withdrawn');
      }
    },
    isOnline: (hostId: string) => byHost.has(hostId),
    /** The server address and port a connected host's agent reached (quarantine lets it keep them); undefined when offline. */
    localAddressOf(hostId: string): { address: string; port: number } | undefined {
      return byHost.get(hostId)?.local;
    },
    /** Pushes signed work to a connected host; false when it is offline (it will sync on reconnect). */
    offer(hostId: string, signed: SignedAssignment): boolean {
      const s = byHost.get(hostId);
      if (!s || s.closed) return false;
      send(s, 'assignment.offer', { signed });
      return true;
    },
    /** Pushes a signed policy bundle to a connected host; false when offline (sent on its next sync). */
    sendPolicyBundle(hostId: string, signed: SignedPolicyBundle): boolean {
      const s = byHost.get(hostId);
      if (!s || s.closed) return false;
      send(s, 'policy.bundle', { signed });
      return true;
    },
    /** Pushes a signed quarantine order to a connected host; false when offline. */
    sendQuarantineOrder(hostId: string, signed: SignedQuarantineOrder): boolean {
      const s = byHost.get(hostId);
      if (!s || s.closed) return false;
      send(s, 'quarantine.order', { signed });
      return true;
    },
    connectedCount: () => byHost.size,
    /** Closes every agent connection (agents reconnect to whichever server is up). */
    async close() {
      clearInterval(heartbeat);
      for (const s of sessions) close(s, 'unavailable', 'server shutting down');
      await Promise.allSettled([...sessions].map((s) => s.queue));
      for (const s of sessions) s.ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await Promise.allSettled([...offlineWrites]);
    },
  };
}

export type AgentGateway = ReturnType<typeof createAgentGateway>;
