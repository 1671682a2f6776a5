import type { DeploymentsService, DeploymentView } from '../rollouts/deployments-service.js';
import { FINAL_DEPLOYMENT_STATES } from '../rollouts/types.js';

/**
 * Live deployment progress for watchers (the SSE route and the console WebSocket): one source, so
 * both transports coalesce, skip unchanged views and stop at a final state the same way.
 *
 * The feed is this process's only: behind several replicas a watcher on one would miss the others'
 * engine steps and agent reports until Postgres LISTEN/NOTIFY carries them (not built).
 */

/** Between events of one watcher, so a burst of engine steps makes one event. */
export const COALESCE_MS = 250;

export type DeploymentProgress = ReturnType<typeof progressOf>;

/** What a progress event carries: the state and per-wave counts, not the hosts or timeline. */
export function progressOf(v: DeploymentView) {
  return {
    id: v.id,
    state: v.state,
    stateReason: v.stateReason,
    waves: v.waves.map((w) => ({ index: w.index, name: w.name, state: w.state, hostCount: w.hostCount, counts: w.counts })),
    summary: v.summary,
  };
}

type Feed = Pick<DeploymentsService, 'get' | 'onChange'>;

export interface DeploymentWatchHandlers {
  /** A changed view: `json` is `payload` serialised (what SSE writes as data and the socket embeds). */
  progress(json: string, payload: DeploymentProgress): void;
  /** The watch ended by itself: the deployment reached a final state, or reading it failed. */
  end(why: 'final' | 'error', error?: unknown): void;
}

export interface DeploymentWatch {
  /** Sends the current view, then every change until stopped or final. */
  start(handlers: DeploymentWatchHandlers): void;
  stop(): void;
}

/**
 * Opens a watch on one deployment: subscribes to the change feed before the first read, so a change
 * between that read and the transport being ready is not lost. Throws (not_found) when there is no
 * such deployment, before the caller has committed to a stream.
 */
export async function openDeploymentWatch(deployments: Feed, id: string): Promise<DeploymentWatch> {
  let dirty = false;
  let wake: () => void = () => {};
  const unsubscribe = deployments.onChange((changedId) => {
    if (changedId !== id) return;
    dirty = true;
    wake();
  });
  let first: DeploymentView;
  try {
    first = await deployments.get(id);
  } catch (err) {
    unsubscribe();
    throw err;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let sending = false;
  let lastSentAt = 0;
  let lastData = '';
  let handlers: DeploymentWatchHandlers | undefined;

  const stop = () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  /** Sends the view unless it is the same as the last one sent; ends the watch at a final state. */
  const send = (view: DeploymentView) => {
    const payload = progressOf(view);
    const data = JSON.stringify(payload);
    if (data !== lastData) {
      lastData = data;
      lastSentAt = Date.now();
      handlers?.progress(data, payload);
    }
    if (FINAL_DEPLOYMENT_STATES.includes(view.state)) {
      stop();
      handlers?.end('final');
    }
  };

  const flush = async () => {
    timer = undefined;
    if (stopped || !dirty) return;
    dirty = false;
    sending = true;
    try {
      const view = await deployments.get(id);
      if (!stopped) send(view);
    } catch (err) {
      if (!stopped) {
        stop();
        handlers?.end('error', err);
      }
    } finally {
      sending = false;
    }
    if (dirty) wake();
  };

  return {
    start(h) {
      if (handlers !== undefined || stopped) return;
      handlers = h;
      // Coalesces bursts: at most one read and event per COALESCE_MS, the last change always sent.
      wake = () => {
        if (stopped || sending || timer !== undefined) return;
        timer = setTimeout(() => void flush(), Math.max(0, lastSentAt + COALESCE_MS - Date.now()));
      };
      lastSentAt = Date.now();
      send(first);
      if (dirty) wake();
    },
    stop,
  };
}

/**
 * Calls `changed` (at most once per COALESCE_MS) after any deployment was created or changed state,
 * for lists of deployments; per-host progress inside a deployment does not count. Returns the
 * unsubscribe function.
 */
export function watchDeploymentStates(deployments: Pick<DeploymentsService, 'onChange'>, changed: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let lastAt = 0;
  let closed = false;
  const unsubscribe = deployments.onChange((_id, stateChanged) => {
    if (!stateChanged || closed || timer !== undefined) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        if (closed) return;
        lastAt = Date.now();
        changed();
      },
      Math.max(0, lastAt + COALESCE_MS - Date.now()),
    );
  });
  return () => {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    unsubscribe();
  };
}
