import {
  AGENT_WS_PATH,
  type AgentMessageBodies,
  AgentMessages,
  BrierError,
  Codec,
  errorCodeOfClose,
  importPrivateKey,
  MAX_FRAME_BYTES,
  PURPOSE,
  randomToken,
  type ServerMessageBodies,
  ServerMessages,
  signFields,
  verifyFields,
} from '@brier/protocol';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Identity } from '../state/agent-state.js';
import { fullJitterDelayMs } from './backoff.js';

export interface ServerLinkOptions {
  identity: Identity;
  logger: Logger;
  /** Called after every successful (mutually authenticated) connection. */
  onReady: (serverInventoryHash: string | null) => void;
  onMessage: <K extends keyof ServerMessageBodies>(type: K, body: ServerMessageBodies[K]) => void;
  /** Called when the server says this identity is finished (revoked or unknown); the link stops. */
  onFatal: (error: BrierError) => void;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
}

/** How long a host waiting for approval pauses between attempts at least. */
const PENDING_RETRY_MIN_MS = 15_000;
/** Missing this many server heartbeats in a row means the connection is dead. */
const MISSED_HEARTBEATS = 2.5;

/**
 * The agent's one connection to its server: connect, answer the challenge, check the server's
 * proof against the pinned key, keep a heartbeat watchdog, and reconnect with full-jitter backoff.
 */
export class ServerLink {
  private readonly codec = new Codec(ServerMessages, AgentMessages);
  private readonly log: Logger;
  private readonly privateKey;
  private ws: WebSocket | undefined;
  private attempt = 0;
  private stopped = true;
  private ready = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private heartbeatIntervalMs = 30_000;
  private minDelayMs = 0;

  constructor(private readonly options: ServerLinkOptions) {
    this.log = options.logger.child({ module: 'transport' });
    this.privateKey = importPrivateKey(options.identity.privateKeyPem);
  }

  get isReady(): boolean {
    return this.ready;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes the connection and stops reconnecting; resolves once the socket is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.watchdog);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => ws.terminate(), 3_000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      ws.close(1000, 'agent stopping');
    });
  }

  send<K extends keyof AgentMessageBodies & string>(type: K, body: AgentMessageBodies[K]): boolean {
    if (!this.ready || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(this.codec.encode(type, body));
    return true;
  }

  private url(): string {
    const base = new URL(this.options.identity.serverUrl);
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    base.pathname = base.pathname.replace(/\/+$/, '') + AGENT_WS_PATH;
    return base.toString();
  }

  private connect(): void {
    if (this.stopped) return;
    const nonce = randomToken();
    const ws = new WebSocket(this.url(), { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 15_000, perMessageDeflate: false });
    this.ws = ws;
    this.ready = false;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.onFrame(ws, nonce, Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
    });
    ws.on('ping', () => this.armWatchdog(ws));
    ws.on('unexpected-response', (_req, res) => {
      this.log.warn({ status: res.statusCode }, 'server refused the connection');
      ws.terminate();
    });
    ws.on('error', (err) => this.log.debug({ err }, 'connection error'));
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
  }

  private onFrame(ws: WebSocket, nonce: string, frame: Buffer): void {
    let msg: ReturnType<typeof this.codec.decode>;
    try {
      msg = this.codec.decode(frame);
    } catch (err) {
      this.log.warn({ err }, 'server sent an invalid frame');
      ws.close(4400, 'invalid frame');
      return;
    }
    const { identity } = this.options;
    if (this.codec.is(msg, 'challenge')) {
      this.heartbeatIntervalMs = msg.body.heartbeatIntervalMs;
      this.armWatchdog(ws);
      const signature = signFields(this.privateKey, PURPOSE.authAnswer, [msg.body.nonce, identity.hostId, identity.serverFingerprint]);
      ws.send(this.codec.encode('auth', { hostId: identity.hostId, nonce, signature }));
      return;
    }
    if (this.codec.is(msg, 'auth.ok')) {
      // The server must prove it holds the key pinned at enrolment, or we are talking to an impostor.
      if (
        msg.body.hostId !== identity.hostId ||
        !verifyFields(identity.serverPublicKey, PURPOSE.authAck, [nonce, identity.hostId], msg.body.signature)
      ) {
        this.log.error('server failed to prove its identity; disconnecting');
        ws.close(4401, 'server identity not proven');
        return;
      }
      this.ready = true;
      this.attempt = 0;
      this.minDelayMs = 0;
      this.log.info('connected to server');
      this.options.onReady(msg.body.inventoryHash);
      return;
    }
    if (!this.ready) {
      if (this.codec.is(msg, 'error')) this.log.warn({ code: msg.body.code, detail: msg.body.message }, 'server refused authentication');
      return;
    }
    this.options.onMessage(msg.type, msg.body as never);
  }

  private armWatchdog(ws: WebSocket): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.log.warn('no heartbeat from server; reconnecting');
      ws.terminate();
    }, this.heartbeatIntervalMs * MISSED_HEARTBEATS);
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    clearTimeout(this.watchdog);
    this.ready = false;
    this.ws = undefined;
    const errorCode = errorCodeOfClose(code);
    if (errorCode === 'host_revoked' || errorCode === 'host_unknown') {
      this.stopped = true;
      this.options.onFatal(new BrierError(errorCode, reason || 'identity refused by server'));
      return;
    }
    if (errorCode === 'host_pending') this.minDelayMs = PENDING_RETRY_MIN_MS;
    if (this.stopped) return;
    const delay = Math.max(
      this.minDelayMs,
      fullJitterDelayMs(this.attempt++, this.options.backoffBaseMs ?? 1_000, this.options.backoffCapMs ?? 300_000, this.options.random),
    );
    this.log.info({ code, reason, delayMs: delay }, 'disconnected; will reconnect');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}
