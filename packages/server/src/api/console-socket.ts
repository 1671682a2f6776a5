import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { BrierError } from '@brier/protocol';
import type { Logger } from 'pino';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { AuthService, Principal } from '../auth/auth-service.js';
import { can } from '../auth/roles.js';
import type { DeploymentsService } from '../rollouts/deployments-service.js';
import { SESSION_COOKIE } from './authorize.js';
import { openDeploymentWatch, watchDeploymentStates } from './deployment-feed.js';
import { claimedOrigin, isTrustedOrigin, originOf, ownOrigin } from './origins.js';

/**
 * The console's live channel: `GET /api/v1/console/ws`, upgraded after three checks (the Origin is
 * ours, the session is live, its role may read deployments). Protocol, JSON text frames:
 *
 *   client  {"type":"subscribe","topic":"deployment","id":"<uuid>"}   progress of one deployment
 *           {"type":"subscribe","topic":"deployments"}                 list changes
 *           {"type":"unsubscribe","topic":"deployment","id":"<uuid>"} / {"type":"unsubscribe","topic":"deployments"}
 *   server  {"type":"deployment.progress","deployment":{...}}   at once on subscribe, then after changes
 *                                                                 (coalesced, 250 ms), until final
 *           {"type":"deployments.changed"}                        a deployment was created or changed state
 *           {"type":"error","message":"..."}                      a frame was refused; nothing changed
 *
 * The session is checked again on every subscribe and every keep-alive ping: a revoked or expired
 * session closes the socket with 4401.
 */
export const CONSOLE_WS_PATH = '/api/v1/console/ws';
/** Client frames are tiny (a subscription); anything bigger is refused by ws with close code 1009. */
export const CONSOLE_WS_MAX_PAYLOAD = 4 * 1024;
export const CONSOLE_WS_MAX_SUBSCRIPTIONS = 50;
/** Close code when the session behind the socket is no longer valid (application range 4000-4999). */
export const CLOSE_UNAUTHENTICATED = 4401;
/** A client this far behind in reading is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ConsoleSocketDeps {
  auth: AuthService;
  deployments: Pick<DeploymentsService, 'get' | 'onChange'>;
  config: { publicUrl: string | undefined; trustProxy: boolean; heartbeatIntervalMs: number };
  /** Parses a Cookie header (fastify's, so cookies are read the same way as on HTTP routes). */
  parseCookie: (header: string) => Record<string, string | undefined>;
  logger: Logger;
}

interface Subscription {
  stop(): void;
}

interface Connection {
  ws: WebSocket;
  token: string;
  principal: Principal;
  subs: Map<string, Subscription>;
  /** Subscriptions being opened (counted against the limit until they are in `subs`). */
  opening: Set<string>;
  alive: boolean;
  closed: boolean;
  queue: Promise<void>;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(',')[0]?.trim() || undefined;
}

export function createConsoleSocket(deps: ConsoleSocketDeps) {
  const { auth, deployments, config } = deps;
  const log = deps.logger.child({ module: 'console-socket' });
  const publicOrigin = originOf(config.publicUrl);
  const wss = new WebSocketServer({ noServer: true, maxPayload: CONSOLE_WS_MAX_PAYLOAD });
  const connections = new Set<Connection>();

  function refuse(socket: Duplex, status: 401 | 403 | 503, text: string) {
    // Node removes its own error listener from upgraded sockets: a peer resetting the connection
    // while we answer must not raise an uncaught 'error'.
    socket.on('error', () => socket.destroy());
    if (socket.destroyed) return;
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
    );
  }

  /** The origin this request was addressed to, as the fastify routes compute it (request.protocol, request.host). */
  function ownOriginOf(req: IncomingMessage): string | null {
    const encrypted = (req.socket as Partial<TLSSocket>).encrypted === true;
    const protocol = (config.trustProxy && firstHeader(req.headers['x-forwarded-proto'])) || (encrypted ? 'https' : 'http');
    const host = (config.trustProxy && firstHeader(req.headers['x-forwarded-host'])) || req.headers.host;
    return ownOrigin(protocol, host);
  }

  function tokenOf(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization;
    if (header) return /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const cookie = req.headers.cookie;
    if (!cookie) return undefined;
    try {
      return deps.parseCookie(cookie)[SESSION_COOKIE] || undefined;
    } catch {
      return undefined;
    }
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    // Browsers always send Origin on a WebSocket: without it, or from another site, no upgrade
    // (cross-site WebSocket hijacking would otherwise ride on the operator's cookie).
    const claimed = claimedOrigin(req.headers, { referer: false });
    if (!claimed || !isTrustedOrigin(claimed, ownOriginOf(req), publicOrigin)) return refuse(socket, 403, 'cross-site request refused');
    const token = tokenOf(req);
    if (!token) return refuse(socket, 401, 'unauthenticated');
    let principal: Principal;
    try {
      principal = await auth.authenticate(token);
    } catch (err) {
      if (err instanceof BrierError && err.code === 'unauthenticated') return refuse(socket, 401, 'unauthenticated');
      log.error({ err }, 'console socket: authentication failed');
      return refuse(socket, 503, 'unavailable');
    }
    if (!can(principal.user.role, 'deployments:read')) return refuse(socket, 403, 'forbidden');
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, token, principal));
  }

  function send(c: Connection, frame: string) {
    if (c.closed || c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      log.warn({ user: c.principal.user.username }, 'console socket: client too slow, dropped');
      c.ws.terminate();
      return;
    }
    c.ws.send(frame);
  }

  const sendError = (c: Connection, message: string) => send(c, JSON.stringify({ type: 'error', message }));

  function closeConnection(c: Connection, code?: number, reason?: string) {
    if (!c.closed) {
      c.closed = true;
      for (const sub of c.subs.values()) sub.stop();
      c.subs.clear();
      connections.delete(c);
    }
    if (code !== undefined && c.ws.readyState === c.ws.OPEN) c.ws.close(code, reason);
  }

  /** False (and the socket closed) when the session was revoked, expired or its user disabled. */
  async function sessionLive(c: Connection): Promise<boolean> {
    try {
      c.principal = await auth.authenticate(c.token);
    } catch (err) {
      if (!(err instanceof BrierError && err.code === 'unauthenticated')) {
        log.error({ err }, 'console socket: checking the session failed');
        return true; // a database hiccup does not log the operator out; the next check decides
      }
      closeConnection(c, CLOSE_UNAUTHENTICATED, 'session revoked or expired');
      return false;
    }
    if (!can(c.principal.user.role, 'deployments:read')) {
      closeConnection(c, CLOSE_UNAUTHENTICATED, 'no longer allowed to read deployments');
      return false;
    }
    return true;
  }

  async function subscribe(c: Connection, key: string, topic: 'deployment' | 'deployments', id: string | undefined) {
    if (c.subs.has(key) || c.opening.has(key)) return sendError(c, `already subscribed to ${key}`);
    if (c.subs.size + c.opening.size >= CONSOLE_WS_MAX_SUBSCRIPTIONS)
      return sendError(c, `at most ${CONSOLE_WS_MAX_SUBSCRIPTIONS} subscriptions per connection`);
    c.opening.add(key);
    try {
      if (!(await sessionLive(c)) || c.closed) return;
      if (topic === 'deployments') {
        const stop = watchDeploymentStates(deployments, () => send(c, '{"type":"deployments.changed"}'));
        c.subs.set(key, { stop });
        return;
      }
      let watch: Awaited<ReturnType<typeof openDeploymentWatch>>;
      try {
        watch = await openDeploymentWatch(deployments, id ?? '');
      } catch (err) {
        if (err instanceof BrierError && err.code === 'not_found') return sendError(c, `no deployment ${id}`);
        throw err;
      }
      if (c.closed) return watch.stop();
      c.subs.set(key, watch);
      watch.start({
        progress: (json) => send(c, `{"type":"deployment.progress","deployment":${json}}`),
        end: (why, err) => {
          // Final: nothing more will change. A failed read: the console may subscribe again.
          if (why === 'error') log.warn({ err, deploymentId: id }, 'console socket: reading a deployment failed');
          if (c.subs.get(key) === watch) c.subs.delete(key);
        },
      });
    } finally {
      c.opening.delete(key);
    }
  }

  /** One client frame; anything malformed is answered with an error frame and changes nothing. */
  async function handle(c: Connection, frame: string) {
    let msg: unknown;
    try {
      msg = JSON.parse(frame);
    } catch {
      return sendError(c, 'frames must be JSON');
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return sendError(c, 'frames must be JSON objects');
    const { type, topic, id, ...rest } = msg as Record<string, unknown>;
    if (type !== 'subscribe' && type !== 'unsubscribe')
      return sendError(c, `unknown frame type${typeof type === 'string' ? ` ${JSON.stringify(type.slice(0, 40))}` : ''}`);
    if (Object.keys(rest).length > 0) return sendError(c, `unknown fields: ${Object.keys(rest).slice(0, 5).join(', ')}`);
    let key: string;
    if (topic === 'deployments') {
      if (id !== undefined) return sendError(c, 'topic deployments takes no id');
      key = 'deployments';
    } else if (topic === 'deployment') {
      if (typeof id !== 'string' || !UUID.test(id)) return sendError(c, 'topic deployment needs an id that is a UUID');
      key = `deployment:${id.toLowerCase()}`;
    } else {
      return sendError(c, 'topic must be deployment or deployments');
    }
    if (type === 'unsubscribe') {
      const sub = c.subs.get(key);
      if (!sub) return sendError(c, `not subscribed to ${key}`);
      sub.stop();
      c.subs.delete(key);
      return;
    }
    return subscribe(c, key, topic, typeof id === 'string' ? id.toLowerCase() : undefined);
  }

  function onConnection(ws: WebSocket, token: string, principal: Principal) {
    const c: Connection = {
      ws,
      token,
      principal,
      subs: new Map(),
      opening: new Set(),
      alive: true,
      closed: false,
      queue: Promise.resolve(),
    };
    connections.add(c);
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        sendError(c, 'binary frames are not accepted');
        return;
      }
      const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString('utf8');
      // Frames are handled in order; a bug in one must not stop the others or end the process.
      c.queue = c.queue
        .then(() => handle(c, text))
        .catch((err: unknown) => {
          log.error({ err }, 'console socket: a frame failed');
          sendError(c, 'the server could not handle this frame');
        });
    });
    // ws reports protocol violations (an oversized frame: 1009) here and then closes.
    ws.on('error', (err) => log.debug({ err }, 'console socket error'));
    ws.on('close', () => closeConnection(c));
  }

  // Keep-alive: a peer that has not answered the previous ping by the next tick is gone; each tick
  // also checks that the session is still live.
  const heartbeat = setInterval(() => {
    for (const c of connections) {
      if (!c.alive) {
        closeConnection(c);
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
      c.queue = c.queue.then(() => sessionLive(c).then(() => undefined));
    }
  }, config.heartbeatIntervalMs);
  heartbeat.unref();

  return {
    /** Wire to the HTTP server's 'upgrade' event before the agent gateway. False when the path is not ours. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      if ((req.url ?? '').split('?')[0] !== CONSOLE_WS_PATH) return false;
      upgrade(req, socket, head).catch((err: unknown) => {
        log.error({ err }, 'console socket: upgrade failed');
        socket.destroy();
      });
      return true;
    },
    connectedCount: () => connections.size,
    async close() {
      clearInterval(heartbeat);
      for (const c of [...connections]) closeConnection(c, 1001, 'server shutting down');
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export type ConsoleSocket = ReturnType<typeof createConsoleSocket>;
