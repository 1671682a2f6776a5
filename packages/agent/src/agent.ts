import path from 'node:path';
import type { BrierError, Ecosystem } from '@brier/protocol';
import type { Logger } from 'pino';
import type { PackageExecutor } from './executors/package-executor.js';
import { type Inventory, InventoryReporter } from './inventory-reporter.js';
import type { Rebooter } from './reboot/rebooter.js';
import type { AgentState, Identity } from './state/agent-state.js';
import { LEDGER_FILE, Ledger } from './state/ledger.js';
import { ServerLink } from './transport/server-link.js';
import { type PendingUpdatesSnapshot, UpdatesReporter } from './updates-reporter.js';
import { WorkRunner } from './work-runner.js';

export interface Scheduler {
  /** Runs `task` on the cron expression; returns a function that cancels it. */
  schedule(cronExpression: string, task: () => void): () => void;
}

export interface AgentDeps {
  state: AgentState;
  identity: Identity;
  collect: () => Promise<Inventory>;
  /** Reads the updates this host could install (apt, dnf, …). */
  collectUpdates: () => Promise<PendingUpdatesSnapshot>;
  logger: Logger;
  scheduler: Scheduler;
  /** When the agent re-checks its inventory (cron syntax). */
  inventoryCron: string;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /**
   * Package managers that run signed work, by ecosystem. Default none: every assignment then fails
   * with code 'tool-missing' (reported honestly, nothing runs).
   */
  executors?: Partial<Record<Ecosystem, PackageExecutor>>;
  /** The durable assignment ledger. Default: LEDGER_FILE in `state.dir`, opened here and closed by stop(). */
  ledger?: Ledger;
  /** Waits between busy attempts of a run (tests inject a fast one). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Restarts the host as assignments' rebootPolicy asks. Default none: the policy is only logged and
   * the host is never restarted (tests and embedded agents). main.ts passes the platform's rebooter.
   */
  rebooter?: Rebooter;
  /** Delay between scheduling a restart and the restart; default WorkRunner's DEFAULT_REBOOT_DELAY_SECONDS. */
  rebootDelaySeconds?: number;
}

/**
 * Builds the agent from its parts without starting anything: main.ts (or a test) calls start(),
 * and stop() on SIGTERM. `fatal` settles when the server refuses this identity for good.
 */
export function buildAgent(deps: AgentDeps) {
  let rejectFatal: (err: BrierError) => void = () => {};
  const fatal = new Promise<never>((_resolve, reject) => {
    rejectFatal = reject;
  });
  // A fatal error nobody awaits must not crash the process as an unhandled rejection.
  fatal.catch(() => {});

  let reporter: InventoryReporter;
  let updatesReporter: UpdatesReporter;
  let work: WorkRunner;
  const ownLedger = deps.ledger === undefined;
  const ledger = deps.ledger ?? Ledger.open(path.join(deps.state.dir, LEDGER_FILE));
  const link = new ServerLink({
    identity: deps.identity,
    logger: deps.logger,
    onReady: (hash) => {
      void reporter.connected(hash);
      void updatesReporter.connected();
      work.connected();
    },
    onMessage: (type, body) => {
      reporter.onMessage(type, body);
      updatesReporter.onMessage(type, body);
      work.onMessage(type, body);
    },
    onFatal: (err) => {
      deps.logger.error({ code: err.code, detail: err.message }, 'server refused this identity; stopping');
      cancel?.();
      rejectFatal(err);
    },
    ...(deps.backoffBaseMs !== undefined ? { backoffBaseMs: deps.backoffBaseMs } : {}),
    ...(deps.backoffCapMs !== undefined ? { backoffCapMs: deps.backoffCapMs } : {}),
  });
  reporter = new InventoryReporter({ state: deps.state, link, collect: deps.collect, logger: deps.logger });
  updatesReporter = new UpdatesReporter({ link, collect: deps.collectUpdates, logger: deps.logger });
  work = new WorkRunner({
    identity: deps.identity,
    ledger,
    link,
    executors: deps.executors ?? {},
    logger: deps.logger,
    // New versions reach the server as an inventory delta; pending updates shrink too.
    afterRun: () => Promise.all([reporter.scan(), updatesReporter.scan()]),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.rebooter ? { rebooter: deps.rebooter } : {}),
    ...(deps.rebootDelaySeconds !== undefined ? { rebootDelaySeconds: deps.rebootDelaySeconds } : {}),
  });
  let cancel: (() => void) | undefined;

  return {
    fatal,
    link,
    ledger,
    /** Resolves when no signed work is queued or running. */
    workIdle: () => work.idle(),
    start() {
      link.start();
      cancel = deps.scheduler.schedule(deps.inventoryCron, () => {
        if (!link.isReady) return;
        void reporter.scan();
        void updatesReporter.scan();
      });
    },
    /** Re-reads inventory and pending updates now and reports what changed (if connected). */
    scanNow: () => Promise.all([reporter.scan(), updatesReporter.scan()]).then(() => undefined),
    async stop() {
      cancel?.();
      work.stop();
      await link.stop();
      // A run in progress finishes its current step (killing apt mid-transaction breaks hosts).
      await work.idle();
      if (ownLedger) ledger.close();
    },
  };
}

export type Agent = ReturnType<typeof buildAgent>;
