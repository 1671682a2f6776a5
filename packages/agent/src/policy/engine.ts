import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type AgentMessageBodies,
  compileSchema,
  type HostPolicy,
  type PolicyBundle,
  type PolicyRule,
  RemediationEvent,
  type RuleResult,
  type ServerMessageBodies,
} from '@brier/protocol';
import type { Logger } from 'pino';
import Type from 'typebox';
import { coalescedRun } from '../coalesced-run.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import type { BundleOutcome, BundleStore } from './bundle-store.js';
import {
  type AntivirusName,
  antivirusFor,
  describePlan,
  type EvaluateContext,
  evaluateRule,
  type Observation,
  oneLine,
  type RemediationPlan,
  type RuleDecision,
} from './evaluate.js';
import { hashFile } from './file-hasher.js';
import type { ActionResult, AntivirusProvider, FileHasher, FirewallControl, PackageControl, ServiceManager } from './ports.js';
import { type RateLimitOptions, RemediationLimiter } from './remediation-limiter.js';

/** Remediation events waiting for the server, across restarts. */
export const OUTBOX_FILE = 'policy-outbox.json';
/** A compliance report goes out at least this often even when nothing changed. */
export const REPORT_EVERY_MS = 60 * 60_000;
/** Remediation events kept while offline; beyond this the oldest are dropped (the newest say most). */
export const MAX_QUEUED_EVENTS = 1_000;
/** Events per 'remediation.events' message (the schema allows 500). */
const EVENTS_PER_MESSAGE = 500;

/** What the engine can use on this machine; a missing one makes the rules needing it report 'error'. */
export interface PolicyPorts {
  packages?: PackageControl;
  services?: ServiceManager;
  /** The antivirus product by name, when this machine can have it. */
  antivirus?: (name: AntivirusName) => AntivirusProvider | undefined;
  firewall?: FirewallControl;
  /** Default: hashFile (reads the file). */
  hashFile?: FileHasher;
}

/** The link as the engine needs it: `send` answers false while offline (nothing is sent). */
export interface PolicyLink {
  send<K extends keyof AgentMessageBodies & string>(type: K, body: AgentMessageBodies[K]): boolean;
}

export interface PolicyEngineDeps {
  store: BundleStore;
  ports: PolicyPorts;
  link: PolicyLink;
  logger: Logger;
  /** The agent's state directory (rate limits and the event outbox live there). */
  stateDir: string;
  platform?: NodeJS.Platform;
  now?: () => Date;
  /** Runs `task` every `ms` until the returned function is called. Default: an unref'd setInterval. */
  every?: (ms: number, task: () => void) => () => void;
  /** The quarantine state for 'desired-state.sync'; default none ({sequence: 0, isolated: false}). */
  quarantine?: () => { sequence: number; isolated: boolean };
  rateLimit?: Partial<RateLimitOptions>;
  reportEveryMs?: number;
  maxQueuedEvents?: number;
}

type Status = RuleResult['status'];

interface Checked {
  result: RuleResult;
  event?: RemediationEvent;
  /** At least one remediation action succeeded: the machine changed. */
  changed?: boolean;
}

const OutboxFile = Type.Object(
  { version: Type.Literal(1), events: Type.Array(RemediationEvent, { maxItems: 100_000 }) },
  { additionalProperties: false },
);
const checkOutbox = compileSchema(OutboxFile);

const defaultEvery = (ms: number, task: () => void): (() => void) => {
  const timer = setInterval(task, ms);
  timer.unref();
  return () => clearInterval(timer);
};

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ruleKey(policyId: string, rule: number): string {
  return `${policyId}/${rule}`;
}

/**
 * Keeps the host's desired state: evaluates every rule of the held bundle on each policy's
 * interval, after every (re)connect, after a new bundle and once more after any remediation; in
 * enforce mode repairs what it can through the ports, rate limited per rule; reports the results
 * ('compliance.report', when something changed or at least hourly) and every repair attempt
 * ('remediation.events', with the state before and after). It works the same offline: reports wait
 * (the newest compliance report, and a bounded queue of events kept on disk) and go out on reconnect.
 * Evaluations never overlap: triggers during one coalesce into one more run after it.
 */
export class PolicyEngine {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly every: (ms: number, task: () => void) => () => void;
  private readonly platform: NodeJS.Platform;
  private readonly limiter: RemediationLimiter;
  private readonly hash: FileHasher;
  private readonly outboxFile: string;
  private readonly maxQueuedEvents: number;
  private readonly reportEveryMs: number;
  private cancelTimers: Array<() => void> = [];
  private started = false;
  private stopped = false;
  /** What the next run evaluates: everything, or only the policies whose interval came round. */
  private dueAll = false;
  private readonly duePolicies = new Set<string>();
  /**
   * The next run re-checks after a remediation changed the machine; it does not itself trigger
   * another, and does not try again the rules just attempted (`attempted`), so a failing repair
   * is not retried at once.
   */
  private followUp = false;
  private attempted = new Set<string>();
  /** Latest result per rule (`policyId/index`) of the held bundle. */
  private readonly results = new Map<string, RuleResult>();
  private events: RemediationEvent[] = [];
  private pendingReport: AgentMessageBodies['compliance.report'] | undefined;
  private lastReported: string | undefined;
  private lastReportAtMs = Number.NEGATIVE_INFINITY;
  private forceReport = false;
  private running: Promise<void> | undefined;
  private readonly coalesced = coalescedRun(
    () => this.runOnce(),
    (err) => this.log.error({ err }, 'policy evaluation failed'),
  );

  constructor(private readonly deps: PolicyEngineDeps) {
    this.log = deps.logger.child({ module: 'policy' });
    this.now = deps.now ?? (() => new Date());
    this.every = deps.every ?? defaultEvery;
    this.platform = deps.platform ?? process.platform;
    this.hash = deps.ports.hashFile ?? hashFile;
    this.limiter = new RemediationLimiter({
      dir: deps.stateDir,
      logger: deps.logger,
      ...(deps.rateLimit ? { options: deps.rateLimit } : {}),
    });
    this.outboxFile = path.join(deps.stateDir, OUTBOX_FILE);
    this.maxQueuedEvents = deps.maxQueuedEvents ?? MAX_QUEUED_EVENTS;
    this.reportEveryMs = deps.reportEveryMs ?? REPORT_EVERY_MS;
  }

  /**
   * Loads the stored bundle, the rate limits and the event outbox, schedules the evaluations and
   * runs the first one (offline too: a laptop enforces its last bundle without a server).
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.deps.store.load();
    this.limiter.load();
    this.loadOutbox();
    this.schedule(this.deps.store.bundle);
    void this.evaluateAll();
  }

  stop(): void {
    this.stopped = true;
    for (const cancel of this.cancelTimers) cancel();
    this.cancelTimers = [];
  }

  /** Resolves when no evaluation is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The latest result of every rule evaluated so far, in bundle order. */
  currentResults(): RuleResult[] {
    return this.reportOf(this.deps.store.bundle)?.results ?? [];
  }

  /**
   * The link is (re)authenticated: say which bundle is enforced (and the quarantine state) so the
   * server can send what changed, deliver what waited, and evaluate again.
   */
  connected(): void {
    const quarantine = this.deps.quarantine?.() ?? { sequence: 0, isolated: false };
    this.send('desired-state.sync', {
      bundleSequence: this.deps.store.sequence,
      quarantineSequence: quarantine.sequence,
      isolated: quarantine.isolated,
    });
    if (this.pendingReport && this.send('compliance.report', this.pendingReport)) this.pendingReport = undefined;
    this.flushEvents();
    // What was sent before the connection dropped may never have arrived.
    this.forceReport = true;
    void this.evaluateAll();
  }

  onMessage<K extends keyof ServerMessageBodies>(type: K, body: ServerMessageBodies[K]): void {
    if (type !== 'policy.bundle') return;
    this.receive((body as ServerMessageBodies['policy.bundle']).signed);
  }

  /** Takes a signed bundle (from the server); a new one is scheduled and evaluated at once. */
  receive(signed: unknown): BundleOutcome {
    const outcome = this.deps.store.accept(signed);
    if (outcome.outcome === 'accepted') {
      this.forgetOutside(outcome.bundle);
      if (this.started && !this.stopped) {
        this.schedule(outcome.bundle);
        void this.evaluateAll();
      }
    }
    return outcome;
  }

  /** Evaluates every policy now (reconnect, new bundle, after an action such as a deployment). */
  evaluateAll(): Promise<void> {
    this.dueAll = true;
    return this.run();
  }

  private run(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const running = this.coalesced();
    this.running = running;
    void running.finally(() => {
      if (this.running === running) this.running = undefined;
    });
    return running;
  }

  private schedule(bundle: PolicyBundle | undefined): void {
    for (const cancel of this.cancelTimers) cancel();
    this.cancelTimers = [];
    if (this.stopped) return;
    for (const policy of bundle?.policies ?? []) {
      this.cancelTimers.push(
        this.every(policy.intervalMinutes * 60_000, () => {
          this.duePolicies.add(policy.id);
          void this.run();
        }),
      );
    }
    // Long intervals still leave a report at least every reportEveryMs.
    this.cancelTimers.push(
      this.every(this.reportEveryMs, () => {
        // A run in progress reports when it ends, with results that belong together.
        if (!this.running) this.report(this.deps.store.bundle);
      }),
    );
  }

  /** Drops results and limits of policies (or versions) the bundle no longer has. */
  private forgetOutside(bundle: PolicyBundle): void {
    const keys = new Set<string>();
    const versions = new Map(bundle.policies.map((p) => [p.id, p.version]));
    for (const policy of bundle.policies) {
      for (const [i] of policy.rules.entries()) keys.add(ruleKey(policy.id, i));
    }
    for (const [key, result] of this.results) {
      if (!keys.has(key) || versions.get(result.policyId) !== result.policyVersion) this.results.delete(key);
    }
    this.limiter.retain(keys);
  }

  private async runOnce(): Promise<void> {
    const bundle = this.deps.store.bundle;
    const all = this.dueAll;
    const due = new Set(this.duePolicies);
    const followUp = this.followUp;
    const justAttempted = followUp ? this.attempted : new Set<string>();
    this.dueAll = false;
    this.duePolicies.clear();
    this.followUp = false;
    this.attempted = new Set();
    if (!bundle) return;

    let changed = false;
    const attempted = new Set<string>();
    for (const policy of bundle.policies) {
      if (!all && !due.has(policy.id)) continue;
      for (const [index, rule] of policy.rules.entries()) {
        if (this.stopped) return;
        const key = ruleKey(policy.id, index);
        const checked = await this.check(policy, index, rule, { followUp, mayRemediate: !justAttempted.has(key) });
        this.results.set(key, checked.result);
        if (checked.event) {
          attempted.add(key);
          this.queueEvent(checked.event);
        }
        if (checked.changed) changed = true;
      }
    }
    this.report(bundle);
    this.flushEvents();
    if (changed && !followUp) {
      // Once more, since one repair can change what other rules see (installing a package makes its service exist).
      this.followUp = true;
      this.attempted = attempted;
      this.dueAll = true;
      void this.run();
    }
  }

  private async check(
    policy: HostPolicy,
    index: number,
    rule: PolicyRule,
    { followUp, mayRemediate }: { followUp: boolean; mayRemediate: boolean },
  ): Promise<Checked> {
    const key = ruleKey(policy.id, index);
    const packages = this.deps.ports.packages;
    const context: EvaluateContext = packages ? { atLeast: (installed, minimum) => packages.atLeast(installed, minimum) } : {};
    const observed = await this.observe(rule);
    const decision = evaluateRule(rule, policy.mode, observed, context);
    const result = (status: Status, detail: string): RuleResult => ({
      policyId: policy.id,
      policyVersion: policy.version,
      rule: index,
      kind: rule.kind,
      status,
      detail: oneLine(detail),
      checkedAt: this.now().toISOString(),
    });
    if (decision.status === 'compliant') {
      this.limiter.settled(key);
      // The re-check right after a repair keeps saying so until the next regular evaluation.
      const previous = this.results.get(key);
      const sticky = followUp && previous?.status === 'remediated' && previous.policyVersion === policy.version;
      return { result: result(sticky ? 'remediated' : 'compliant', decision.detail) };
    }
    if (!decision.plan || !mayRemediate) return { result: result(decision.status, decision.detail) };

    const nowMs = this.now().getTime();
    const paused = this.limiter.pausedUntil(key, nowMs);
    if (paused !== null) {
      return { result: result('noncompliant', `${decision.detail}; remediation paused until ${new Date(paused).toISOString()}`) };
    }
    this.limiter.record(key, nowMs);
    const actions = await this.remediate(decision.plan, observed);
    const after = evaluateRule(rule, policy.mode, await this.observe(rule), context);
    const failures = actions.filter((a) => !a.ok);
    const done = actions.map((a) => `${a.ok ? '' : 'failed: '}${a.detail}`).join('; ');
    const ok = failures.length === 0 && after.status === 'compliant';
    const event: RemediationEvent = {
      policyId: policy.id,
      policyVersion: policy.version,
      rule: index,
      action: oneLine(describePlan(decision.plan), 200),
      ok,
      before: decision.detail,
      after: oneLine(done ? `${after.detail} (${done})` : after.detail),
      at: this.now().toISOString(),
    };
    this.log.info({ policyId: policy.id, rule: index, action: event.action, ok }, 'remediation attempted');
    return {
      result: result(this.statusAfter(after, failures), this.detailAfter(after, failures)),
      event,
      changed: actions.some((a) => a.ok),
    };
  }

  private statusAfter(after: RuleDecision, failures: ActionResult[]): Status {
    if (after.status === 'compliant') return failures.length ? 'compliant' : 'remediated';
    return after.status;
  }

  private detailAfter(after: RuleDecision, failures: ActionResult[]): string {
    if (failures.length === 0) return after.detail;
    return `${after.detail}; remediation failed: ${failures.map((f) => `${f.detail}${f.code ? ` [${f.code}]` : ''}`).join('; ')}`;
  }

  private antivirus(provider: AntivirusName | 'auto'): AntivirusProvider | string {
    const name = antivirusFor(provider, this.platform);
    if (!name) return `no antivirus provider for platform ${this.platform}`;
    return this.deps.ports.antivirus?.(name) ?? `antivirus provider ${name} is not available on this host`;
  }

  /** Reads what the rule is about from the machine; a failure is an observation too (status 'error'). */
  private async observe(rule: PolicyRule): Promise<Observation> {
    const { ports } = this.deps;
    try {
      switch (rule.kind) {
        case 'package-installed':
        case 'package-absent':
          if (!ports.packages) return { kind: 'failed', detail: 'no package manager for policies on this host' };
          return { kind: 'package', installed: await ports.packages.installedVersion(rule.name) };
        case 'service-running':
          if (!ports.services) return { kind: 'failed', detail: 'no service manager on this host' };
          return { kind: 'service', state: await ports.services.status(rule.name) };
        case 'antivirus': {
          const provider = this.antivirus(rule.provider);
          if (typeof provider === 'string') return { kind: 'failed', detail: provider };
          return { kind: 'antivirus', health: await provider.health() };
        }
        case 'firewall-enabled':
          if (!ports.firewall) return { kind: 'failed', detail: 'no firewall control on this host' };
          return { kind: 'firewall', state: await ports.firewall.state() };
        case 'file-present':
          return { kind: 'file', sha256: await this.hash(rule.path) };
      }
    } catch (err) {
      return { kind: 'failed', detail: `cannot check ${rule.kind}: ${errorText(err)}` };
    }
  }

  /** Carries out a plan through the ports; an exception is a failed action, never a crash. */
  private async remediate(plan: RemediationPlan, observed: Observation): Promise<ActionResult[]> {
    const { ports } = this.deps;
    const missing = (what: string): ActionResult[] => [{ ok: false, code: 'tool-missing', detail: `no ${what} on this host` }];
    try {
      switch (plan.action) {
        case 'install-package':
          return ports.packages ? [await ports.packages.install(plan.name)] : missing('package manager');
        case 'remove-package':
          return ports.packages ? [await ports.packages.remove(plan.name)] : missing('package manager');
        case 'start-service': {
          if (!ports.services) return missing('service manager');
          const results: ActionResult[] = [];
          if (plan.start) results.push(await ports.services.start(plan.name));
          if (plan.enable && results.every((r) => r.ok)) results.push(await ports.services.enable(plan.name));
          return results;
        }
        case 'ensure-antivirus': {
          const provider = ports.antivirus?.(plan.provider);
          if (!provider || observed.kind !== 'antivirus') return missing(`antivirus provider ${plan.provider}`);
          return await provider.ensure({ maxSignatureAgeHours: plan.maxSignatureAgeHours }, observed.health);
        }
      }
    } catch (err) {
      return [{ ok: false, code: 'command-failed', detail: errorText(err) }];
    }
  }

  private reportOf(bundle: PolicyBundle | undefined): AgentMessageBodies['compliance.report'] | undefined {
    if (!bundle) return undefined;
    const results: RuleResult[] = [];
    for (const policy of bundle.policies) {
      for (const [index] of policy.rules.entries()) {
        const result = this.results.get(ruleKey(policy.id, index));
        if (result && result.policyVersion === policy.version) results.push(result);
      }
    }
    return { bundleSequence: bundle.sequence, results };
  }

  /** Sends the compliance report when it changed, when forced, or when the last is an hour old. */
  private report(bundle: PolicyBundle | undefined): void {
    const report = this.reportOf(bundle);
    // An empty bundle is reported too: the server then clears what the host reported before.
    if (!report) return;
    const fingerprint = JSON.stringify([
      report.bundleSequence,
      report.results.map((r) => [r.policyId, r.policyVersion, r.rule, r.status, r.detail]),
    ]);
    const nowMs = this.now().getTime();
    if (!this.forceReport && fingerprint === this.lastReported && nowMs - this.lastReportAtMs < this.reportEveryMs) return;
    this.lastReported = fingerprint;
    this.lastReportAtMs = nowMs;
    if (this.send('compliance.report', report)) {
      this.forceReport = false;
      this.pendingReport = undefined;
    } else {
      // Offline: only the newest report matters; it goes out on reconnect.
      this.pendingReport = report;
    }
  }

  private queueEvent(event: RemediationEvent): void {
    this.events.push(event);
    const excess = this.events.length - this.maxQueuedEvents;
    if (excess > 0) {
      this.events.splice(0, excess);
      this.log.warn({ dropped: excess }, 'remediation events dropped while offline (oldest first)');
    }
    this.saveOutbox();
  }

  private flushEvents(): void {
    let sentAny = false;
    while (this.events.length > 0) {
      const chunk = this.events.slice(0, EVENTS_PER_MESSAGE);
      if (!this.send('remediation.events', { events: chunk })) break;
      this.events.splice(0, chunk.length);
      sentAny = true;
    }
    if (sentAny) this.saveOutbox();
  }

  /** Sends one message; false when offline. A body the schema refuses is a bug: logged, and counted as sent. */
  private send<K extends keyof AgentMessageBodies & string>(type: K, body: AgentMessageBodies[K]): boolean {
    try {
      return this.deps.link.send(type, body);
    } catch (err) {
      this.log.error({ err, type }, 'cannot encode a policy message; dropping it');
      return true;
    }
  }

  private loadOutbox(): void {
    let text: string;
    try {
      text = readFileSync(this.outboxFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err }, 'cannot read the remediation outbox');
      return;
    }
    try {
      this.events = checkOutbox(JSON.parse(text), OUTBOX_FILE).events.slice(-this.maxQueuedEvents);
    } catch (err) {
      this.log.warn({ err }, 'remediation outbox is damaged; starting empty');
    }
  }

  private saveOutbox(): void {
    try {
      mkdirSync(this.deps.stateDir, { recursive: true, mode: 0o700 });
      writeFileAtomic(this.outboxFile, JSON.stringify({ version: 1, events: this.events }));
    } catch (err) {
      this.log.error({ err }, 'cannot store the remediation outbox');
    }
  }
}
