import { useEffect, useRef } from 'react';
import type { Json } from './client';

type Deployment = Json<'/api/v1/deployments/{id}', 'get'>;

/** What a `deployment.progress` frame carries: the same payload as the SSE progress event. */
export interface DeploymentProgress {
  id: string;
  state: string;
  stateReason: string;
  waves: Array<Pick<Deployment['waves'][number], 'index' | 'name' | 'state' | 'hostCount' | 'counts'>>;
  summary: Deployment['summary'];
}

export type LiveMessage =
  | { type: 'deployment.progress'; deployment: DeploymentProgress }
  | { type: 'deployments.changed' }
  | { type: 'error'; message: string };

export type Subscription = { topic: 'deployment'; id: string } | { topic: 'deployments' };

type Listener = (message: LiveMessage) => void;

const keyOf = (s: Subscription) => (s.topic === 'deployment' ? `deployment:${s.id}` : s.topic);

/**
 * One WebSocket per tab to /api/v1/console/ws (the server checks its Origin and the session
 * cookie). Subscriptions are counted, re-sent after a reconnect, and reconnects back off to 30 s.
 */
class LiveSocket {
  private socket: WebSocket | null = null;
  private readonly subs = new Map<string, { sub: Subscription; listeners: Set<Listener> }>();
  private retryMs = 1000;
  private timer: ReturnType<typeof setTimeout> | null = null;

  subscribe(sub: Subscription, listener: Listener): () => void {
    const key = keyOf(sub);
    let entry = this.subs.get(key);
    if (!entry) {
      entry = { sub, listeners: new Set() };
      this.subs.set(key, entry);
      this.send({ type: 'subscribe', ...sub });
    }
    entry.listeners.add(listener);
    this.connect();
    return () => {
      const e = this.subs.get(key);
      if (!e) return;
      e.listeners.delete(listener);
      if (e.listeners.size === 0) {
        this.subs.delete(key);
        this.send({ type: 'unsubscribe', ...sub });
      }
    };
  }

  private send(frame: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private connect(): void {
    if (this.socket || this.timer) return;
    const url = new URL('/api/v1/console/ws', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 1000;
      for (const { sub } of this.subs.values()) this.send({ type: 'subscribe', ...sub });
    };
    socket.onmessage = (event) => {
      let message: LiveMessage;
      try {
        message = JSON.parse(String(event.data)) as LiveMessage;
      } catch {
        return;
      }
      const key =
        message.type === 'deployment.progress'
          ? `deployment:${message.deployment.id}`
          : message.type === 'deployments.changed'
            ? 'deployments'
            : null;
      const targets = key ? [this.subs.get(key)] : [...this.subs.values()];
      for (const entry of targets) for (const listener of entry?.listeners ?? []) listener(message);
    };
    socket.onclose = () => {
      this.socket = null;
      if (this.subs.size === 0) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
    };
  }
}

const live = new LiveSocket();

/** Calls `onMessage` for each live frame of the subscription while the component is mounted. */
export function useLive(sub: Subscription | null, onMessage: Listener): void {
  const handler = useRef(onMessage);
  handler.current = onMessage;
  const key = sub ? keyOf(sub) : null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key stands for the subscription
  useEffect(() => {
    if (!sub) return;
    return live.subscribe(sub, (m) => handler.current(m));
  }, [key]);
}
