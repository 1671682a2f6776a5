import path from 'node:path';
import type { BrierError, Ecosystem } from '@brier/protocol';
import type { Logger } from 'pino';
import type { PackageExecutor } from './executors/package-executor.js';
import { type Inventory, InventoryReporter } from './inventory-reporter.js';
import { NeighborsReporter, type NeighborsSnapshot } from './neighbors-reporter.js';
import { BundleStore } from './policy/bundle-store.js';
import { PolicyEngine, type PolicyPorts } from './policy/engine.js';
import type { FirewallControl } from './policy/ports.js';
import type { RateLimitOptions } from './policy/remediation-limiter.js';
import { unsupportedFirewall } from './quarantine/index.js';
import { QuarantineManager } from './quarantine/quarantine-manager.js';
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
  /**
   * Reads the host's neighbour tables (ARP, NDP), reported after each authentication and on the
   * inventory schedule. Default none: no neighbour reports.
   */
  collectNeighbors?: () => Promise<NeighborsSnapshot>;
  /**
   * Isolates and releases the host on signed quarantine orders. Default none: orders are verified
   * and answered 'failed' (code 'unsupported'). main.ts passes the platform's firewall.
   */
  firewall?: FirewallControl;
  /**
   * What desired-state policies may use on this machine (packages, services, antivirus; the firewall
   * defaults to `firewall`). Default none: rules needing a missing one report 'error', nothing is changed.
   */
  policyPorts?: PolicyPorts;
  /** Runs a policy evaluation every `ms` (returns a cancel function); default an unref'd setInterval. */
  policyEvery?: (ms: number, task: () => void) => () => void;
  /** Remediation attempts allowed per rule (default 3 an hour, then doubling pauses). */
  policyRateLimit?: Partial<RateLimitOptions>;
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
      void neighborsReporter?.connected();
      work.connected();
      quarantine.connected();
      policy.connected();
    },
    onMessage: (type, body) => {
      reporter.onMessage(type, body);
      updatesReporter.onMessage(type, body);
      work.onMessage(type, body);
      quarantine.onMessage(type, body);
      policy.onMessage(type, body);
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
  const neighborsReporter = deps.collectNeighbors
    ? new NeighborsReporter({ link, collect: deps.collectNeighbors, logger: deps.logger })
    : undefined;
  work = new WorkRunner({
    identity: deps.identity,
    ledger,
    link,
    executors: deps.executors ?? {},
    logger: deps.logger,
    // New versions reach the server as an inventory delta; pending updates shrink too.
    afterRun: () => {
      // A deployment is an action on the machine too: policies look again.
      void policy.evaluateAll();
      return Promise.all([reporter.scan(), updatesReporter.scan()]);
    },
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.rebooter ? { rebooter: deps.rebooter } : {}),
    ...(deps.rebootDelaySeconds !== undefined ? { rebootDelaySeconds: deps.rebootDelaySeconds } : {}),
  });
  const quarantine = new QuarantineManager({
    identity: deps.identity,
    firewall: deps.firewall ?? unsupportedFirewall('embedded'),
    stateDir: deps.state.dir,
    link,
    logger: deps.logger,
  });
  const policyPorts = deps.policyPorts ?? {};
  const policy = new PolicyEngine({
    store: new BundleStore({ dir: deps.state.dir, identity: deps.identity, logger: deps.logger }),
    ports: { ...policyPorts, ...(policyPorts.firewall || !deps.firewall ? {} : { firewall: deps.firewall }) },
    link,
    logger: deps.logger,
    stateDir: deps.state.dir,
    quarantine: () => quarantine.held(),
    ...(deps.policyEvery ? { every: deps.policyEvery } : {}),
    ...(deps.policyRateLimit ? { rateLimit: deps.policyRateLimit } : {}),
  });
  let cancel: (() => void) | undefined;

  return {
    fatal,
    link,
    ledger,
    /** Resolves when no signed work is queued or running. */
    workIdle: () => work.idle(),
    /** The held quarantine (`held()` feeds 'desired-state.sync'); `idle()` settles when no order is being applied. */
    quarantine,
    /** Desired-state policies: the held bundle, evaluations, remediation and compliance reports. */
    policy,
    start() {
      // A held isolation is put back first (a reboot cleared it); the Brier server stays reachable throughout.
      void quarantine.start();
      // Loads the stored bundle and evaluates it at once: enforcement does not wait for the server.
      policy.start();
      link.start();
      cancel = deps.scheduler.schedule(deps.inventoryCron, () => {
        if (!link.isReady) return;
        void reporter.scan();
        void updatesReporter.scan();
        void neighborsReporter?.scan();
      });
    },
    /** Re-reads inventory and pending updates now and reports what changed (if connected). */
    scanNow: () => Promise.all([reporter.scan(), updatesReporter.scan()]).then(() => undefined),
    async stop() {
      cancel?.();
      work.stop();
      quarantine.stop();
      policy.stop();
      await link.stop();
      // A run in progress finishes its current step (killing apt mid-transaction breaks hosts).
      await work.idle();
      await quarantine.idle();
      await policy.idle();
      if (ownLedger) ledger.close();
    },
  };
}

export type Agent = ReturnType<typeof buildAgent>;
