import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AgentMessageBodies,
  AgentMessages,
  type AgentMessageType,
  Codec,
  compareVersions,
  type HostPolicy,
  type RuleResult,
  ServerMessages,
} from '@brier/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOUR, NOW, policy, type ServerKeys, serverKeys, signBundle } from './__fixtures__/signed-bundles.js';
import { BundleStore } from './bundle-store.js';
import { MAX_QUEUED_EVENTS, OUTBOX_FILE, PolicyEngine, type PolicyEngineDeps, type PolicyPorts } from './engine.js';
import type {
  ActionResult,
  AntivirusHealth,
  AntivirusProvider,
  FirewallControl,
  FirewallState,
  PackageControl,
  ServiceManager,
  ServiceState,
} from './ports.js';
import { REMEDIATION_STATE_FILE } from './remediation-limiter.js';

type Sent = { [K in AgentMessageType]: { type: K; body: AgentMessageBodies[K] } }[AgentMessageType];

/** Stands in for the ServerLink: every body goes through the real codec, so one that breaks the schema fails the test. */
class FakeLink {
  private readonly codec = new Codec(ServerMessages, AgentMessages);
  readonly sent: Sent[] = [];
  online = true;

  send<K extends AgentMessageType>(type: K, body: AgentMessageBodies[K]): boolean {
    if (!this.online) return false;
    const { type: sentType, body: sentBody } = JSON.parse(this.codec.encode(type, body)) as Sent;
    this.sent.push({ type: sentType, body: sentBody } as Sent);
    return true;
  }

  of<K extends AgentMessageType>(type: K): AgentMessageBodies[K][] {
    return this.sent.flatMap((m) => (m.type === type ? [m.body as AgentMessageBodies[K]] : []));
  }

  reports(): RuleResult[][] {
    return this.of('compliance.report').map((r) => r.results);
  }

  events() {
    return this.of('remediation.events').flatMap((m) => m.events);
  }
}

/** A package manager in memory; `installWorks: false` makes every install fail like a broken mirror. */
class FakePackages implements PackageControl {
  readonly installed = new Map<string, string>();
  readonly calls: string[] = [];
  installWorks = true;
  /** The version an install brings. */
  candidate = '1.0.9';
  /** While set, reads wait for it (to hold an evaluation open). */
  gate: Promise<void> | undefined;
  active = 0;
  maxActive = 0;
  reads = 0;

  async installedVersion(name: string): Promise<string | null> {
    this.reads++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.gate) await this.gate;
      return this.installed.get(name) ?? null;
    } finally {
      this.active--;
    }
  }

  async install(name: string): Promise<ActionResult> {
    this.calls.push(`install ${name}`);
    if (!this.installWorks) return { ok: false, code: 'not-available', detail: `no candidate version of ${name}` };
    this.installed.set(name, this.candidate);
    return { ok: true, detail: `installed ${name} ${this.candidate}` };
  }

  async remove(name: string): Promise<ActionResult> {
    this.calls.push(`remove ${name}`);
    this.installed.delete(name);
    return { ok: true, detail: `removed ${name}` };
  }

  atLeast(installed: string, minimum: string): boolean {
    return compareVersions('dpkg', installed, minimum) >= 0;
  }
}

class FakeServices implements ServiceManager {
  readonly kind = 'sysvinit';
  readonly states = new Map<string, ServiceState>();
  readonly calls: string[] = [];

  async status(name: string): Promise<ServiceState> {
    return this.states.get(name) ?? { exists: false, running: false, enabled: null, detail: 'no init script' };
  }

  async start(name: string): Promise<ActionResult> {
    this.calls.push(`start ${name}`);
    const state = await this.status(name);
    this.states.set(name, { ...state, running: true, detail: 'started' });
    return { ok: true, detail: `started ${name}` };
  }

  async enable(name: string): Promise<ActionResult> {
    this.calls.push(`enable ${name}`);
    const state = await this.status(name);
    this.states.set(name, { ...state, enabled: true });
    return { ok: true, detail: `enabled ${name}` };
  }
}

class FakeAntivirus implements AntivirusProvider {
  readonly name = 'clamav' as const;
  state: AntivirusHealth = {
    provider: 'clamav',
    installed: false,
    running: false,
    realTimeProtection: false,
    signatureAgeHours: null,
    detail: 'not installed',
  };
  readonly ensured: Array<{ want: { maxSignatureAgeHours: number }; current: AntivirusHealth }> = [];

  async health(): Promise<AntivirusHealth> {
    return this.state;
  }

  async ensure(want: { maxSignatureAgeHours: number }, current: AntivirusHealth): Promise<ActionResult[]> {
    this.ensured.push({ want, current });
    this.state = { ...this.state, installed: true, running: true, signatureAgeHours: 2, detail: 'clamd running' };
    return [
      { ok: true, detail: 'installed clamav clamav-daemon' },
      { ok: true, detail: 'started clamd' },
    ];
  }
}

class FakeFirewall implements FirewallControl {
  readonly kind = 'nftables';
  current: FirewallState = { enabled: false, detail: 'no ruleset' };
  readonly calls: string[] = [];
  async state() {
    return this.current;
  }
  async isolate(): Promise<ActionResult> {
    this.calls.push('isolate');
    return { ok: true, detail: '' };
  }
  async release(): Promise<ActionResult> {
    this.calls.push('release');
    return { ok: true, detail: '' };
  }
  async isolated() {
    return false;
  }
}

/** Timers the test fires by hand. */
class ManualTimers {
  readonly timers: Array<{ ms: number; task: () => void; cancelled: boolean }> = [];
  every = (ms: number, task: () => void) => {
    const timer = { ms, task, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  active() {
    return this.timers.filter((t) => !t.cancelled);
  }
  fire(ms: number) {
    for (const t of this.active()) if (t.ms === ms) t.task();
  }
}

const logger = pino({ level: 'silent' });
const hostId = randomUUID();
const INTERVAL_MS = 15 * 60_000;
let dir: string;
let keys: ServerKeys;
let link: FakeLink;
let timers: ManualTimers;
let clock: { now: Date };
let packages: FakePackages;
let services: FakeServices;
let sequence: number;
let engines: PolicyEngine[];

function engine(extra: Partial<PolicyEngineDeps> = {}, ports: PolicyPorts = { packages, services }) {
  const store = new BundleStore({ dir, identity: { hostId, serverPublicKey: keys.serverPublicKey }, logger, now: () => clock.now });
  const e = new PolicyEngine({
    store,
    ports,
    link,
    logger,
    stateDir: dir,
    platform: 'linux',
    now: () => clock.now,
    every: timers.every,
    ...extra,
  });
  engines.push(e);
  return e;
}

async function deliver(e: PolicyEngine, policies: HostPolicy[]) {
  e.onMessage('policy.bundle', { signed: signBundle(keys.signer, hostId, ++sequence, policies, clock.now) });
  await e.idle();
}

function advance(ms: number) {
  clock.now = new Date(clock.now.getTime() + ms);
}

async function tick(e: PolicyEngine, ms = INTERVAL_MS) {
  advance(ms);
  timers.fire(ms);
  await e.idle();
}

const statuses = (results: RuleResult[] | undefined) => results?.map((r) => r.status);

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'brier-policy-'));
  keys = serverKeys();
  link = new FakeLink();
  timers = new ManualTimers();
  clock = { now: NOW };
  packages = new FakePackages();
  services = new FakeServices();
  sequence = 0;
  engines = [];
});

afterEach(() => {
  for (const e of engines) e.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('PolicyEngine evaluating', () => {
  it('installs a missing package in enforce mode, re-checks it and reports it remediated with an event', async () => {
    const e = engine();
    e.start();
    const p = policy({ rules: [{ kind: 'package-installed', name: 'clamav' }] });
    await deliver(e, [p]);

    expect(packages.calls).toEqual(['install clamav']);
    const [event, ...more] = link.events();
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      policyId: p.id,
      policyVersion: 1,
      rule: 0,
      action: 'install package clamav',
      ok: true,
      before: 'clamav is not installed',
    });
    expect(event?.after).toContain('clamav 1.0.9 is installed');
    expect(link.reports().at(-1)).toMatchObject([{ policyId: p.id, rule: 0, kind: 'package-installed', status: 'remediated' }]);
    expect(link.reports().at(-1)?.[0]?.checkedAt).toBe(NOW.toISOString());

    // The next regular evaluation sees it compliant.
    await tick(e);
    expect(statuses(link.reports().at(-1))).toEqual(['compliant']);
    expect(packages.calls).toEqual(['install clamav']);
  });

  it('only reports in audit mode, never changing the machine', async () => {
    const e = engine();
    e.start();
    await deliver(e, [
      policy({
        mode: 'audit',
        rules: [
          { kind: 'package-installed', name: 'clamav' },
          { kind: 'package-absent', name: 'telnet' },
          { kind: 'service-running', name: 'ssh' },
        ],
      }),
    ]);
    packages.installed.set('telnet', '0.17');
    services.states.set('ssh', { exists: true, running: false, enabled: true, detail: 'stopped' });
    await tick(e);
    expect(packages.calls).toEqual([]);
    expect(services.calls).toEqual([]);
    expect(link.events()).toEqual([]);
    expect(statuses(link.reports().at(-1))).toEqual(['noncompliant', 'noncompliant', 'noncompliant']);
  });

  it('upgrades a package older than the minimum by installing the candidate', async () => {
    packages.installed.set('clamav', '0.103.8');
    const e = engine();
    e.start();
    await deliver(e, [policy({ rules: [{ kind: 'package-installed', name: 'clamav', minVersion: '1.0' }] })]);
    expect(packages.calls).toEqual(['install clamav']);
    expect(link.events()[0]).toMatchObject({ before: 'clamav 0.103.8 is installed, older than 1.0', ok: true });
    expect(statuses(link.reports().at(-1))).toEqual(['remediated']);
  });

  it('starts and enables a stopped service, removes a forbidden package, and repairs antivirus with its current health', async () => {
    services.states.set('clamav-daemon', { exists: true, running: false, enabled: false, detail: 'stopped' });
    packages.installed.set('telnet', '0.17');
    const av = new FakeAntivirus();
    const e = engine({}, { packages, services, antivirus: (name) => (name === 'clamav' ? av : undefined) });
    e.start();
    await deliver(e, [
      policy({
        rules: [
          { kind: 'service-running', name: 'clamav-daemon' },
          { kind: 'package-absent', name: 'telnet' },
          { kind: 'antivirus', provider: 'auto', maxSignatureAgeHours: 24 },
        ],
      }),
    ]);
    expect(services.calls).toEqual(['start clamav-daemon', 'enable clamav-daemon']);
    expect(packages.calls).toEqual(['remove telnet']);
    expect(av.ensured).toEqual([{ want: { maxSignatureAgeHours: 24 }, current: expect.objectContaining({ installed: false }) }]);
    expect(link.events().map((ev) => [ev.action, ev.ok])).toEqual([
      ['start and enable service clamav-daemon', true],
      ['remove package telnet', true],
      ['repair antivirus clamav', true],
    ]);
    expect(statuses(link.reports().at(-1))).toEqual(['remediated', 'remediated', 'remediated']);
  });

  it('never remediates a firewall or a file, and says so', async () => {
    const firewall = new FakeFirewall();
    const file = path.join(dir, 'banner');
    const e = engine({}, { packages, services, firewall });
    e.start();
    await deliver(e, [policy({ rules: [{ kind: 'firewall-enabled' }, { kind: 'file-present', path: file, sha256: 'a'.repeat(64) }] })]);
    expect(firewall.calls).toEqual([]);
    expect(link.events()).toEqual([]);
    const results = link.reports().at(-1);
    expect(statuses(results)).toEqual(['noncompliant', 'noncompliant']);
    for (const r of results ?? []) expect(r.detail).toContain('not remediated automatically');
  });

  it('reads files with the real hasher by default', async () => {
    const file = path.join(dir, 'banner');
    writeFileSync(file, 'hello\n');
    const e = engine();
    e.start();
    await deliver(e, [
      policy({ rules: [{ kind: 'file-present', path: file, sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' }] }),
    ]);
    expect(statuses(link.reports().at(-1))).toEqual(['compliant']);
  });

  it('reports error for rules this host has no means to check, and for ports that throw', async () => {
    const broken: PackageControl = {
      installedVersion: async () => {
        throw new Error('dpkg-query could not read the installed packages');
      },
      install: async () => ({ ok: true, detail: '' }),
      remove: async () => ({ ok: true, detail: '' }),
      atLeast: () => true,
    };
    const e = engine({ platform: 'freebsd' }, { packages: broken });
    e.start();
    await deliver(e, [
      policy({
        rules: [
          { kind: 'package-installed', name: 'clamav' },
          { kind: 'service-running', name: 'ssh' },
          { kind: 'antivirus', provider: 'auto' },
          { kind: 'antivirus', provider: 'defender' },
          { kind: 'firewall-enabled' },
        ],
      }),
    ]);
    const results = link.reports().at(-1) ?? [];
    expect(statuses(results)).toEqual(['error', 'error', 'error', 'error', 'error']);
    expect(results.map((r) => r.detail)).toEqual([
      'cannot check package-installed: dpkg-query could not read the installed packages',
      'no service manager on this host',
      'no antivirus provider for platform freebsd',
      'antivirus provider defender is not available on this host',
      'no firewall control on this host',
    ]);
  });

  it('turns a remediation that throws into a failed event instead of crashing', async () => {
    const failing: PackageControl = {
      installedVersion: async () => null,
      install: async () => {
        throw new Error('spawn apt-get EACCES');
      },
      remove: async () => ({ ok: true, detail: '' }),
      atLeast: () => true,
    };
    const e = engine({}, { packages: failing });
    e.start();
    await deliver(e, [policy()]);
    expect(link.events()[0]).toMatchObject({ ok: false, after: 'clamav is not installed (failed: spawn apt-get EACCES)' });
    expect(link.reports().at(-1)?.[0]).toMatchObject({ status: 'noncompliant' });
    expect(link.reports().at(-1)?.[0]?.detail).toContain('remediation failed: spawn apt-get EACCES [command-failed]');
  });

  it('re-checks everything once after a remediation, so a repair that helps another rule shows at once', async () => {
    // The service rule comes first: it cannot be started before the package rule installs it.
    const e = engine();
    e.start();
    const p = policy({
      rules: [
        { kind: 'service-running', name: 'clamav-daemon' },
        { kind: 'package-installed', name: 'clamav-daemon' },
      ],
    });
    packages.install = async (name) => {
      packages.calls.push(`install ${name}`);
      packages.installed.set(name, '1.0');
      services.states.set(name, { exists: true, running: false, enabled: true, detail: 'stopped' });
      return { ok: true, detail: `installed ${name}` };
    };
    await deliver(e, [p]);
    expect(services.calls).toEqual(['start clamav-daemon']);
    expect(link.reports().map(statuses)).toEqual([
      ['noncompliant', 'remediated'],
      ['remediated', 'remediated'],
    ]);
  });
});

describe('PolicyEngine scheduling', () => {
  it("schedules each policy on its own interval and re-evaluates only that policy's rules then", async () => {
    const e = engine();
    e.start();
    packages.installed.set('a', '1').set('b', '1');
    await deliver(e, [
      policy({ intervalMinutes: 15, rules: [{ kind: 'package-installed', name: 'a' }] }),
      policy({ intervalMinutes: 60, rules: [{ kind: 'package-installed', name: 'b' }] }),
    ]);
    expect(
      timers
        .active()
        .map((t) => t.ms)
        .sort((x, y) => x - y),
    ).toEqual([15 * 60_000, 60 * 60_000, 60 * 60_000]);
    const reads = packages.reads;
    await tick(e, 15 * 60_000);
    expect(packages.reads - reads).toBe(1);
  });

  it('replaces the timers when a new bundle arrives', async () => {
    const e = engine();
    e.start();
    packages.installed.set('clamav', '1');
    await deliver(e, [policy({ intervalMinutes: 5 })]);
    await deliver(e, [policy({ intervalMinutes: 10 })]);
    expect(timers.active().map((t) => t.ms)).toEqual([10 * 60_000, HOUR]);
  });

  it('evaluates after every reconnect, first saying which bundle it enforces', async () => {
    const e = engine({ quarantine: () => ({ sequence: 4, isolated: true }) });
    e.start();
    packages.installed.set('clamav', '1');
    await deliver(e, [policy()]);
    const reads = packages.reads;
    link.sent.length = 0;
    e.connected();
    await e.idle();
    expect(link.sent[0]).toEqual({ type: 'desired-state.sync', body: { bundleSequence: 1, quarantineSequence: 4, isolated: true } });
    expect(packages.reads - reads).toBe(1);
    // Sent again although nothing changed: the last one may have been lost with the connection.
    expect(link.reports()).toHaveLength(1);
  });

  it('sends desired-state.sync with sequence 0 and no quarantine by default', () => {
    const e = engine();
    e.start();
    e.connected();
    expect(link.sent[0]).toEqual({ type: 'desired-state.sync', body: { bundleSequence: 0, quarantineSequence: 0, isolated: false } });
  });

  it('reports only when something changed, or when the last report is an hour old', async () => {
    packages.installed.set('clamav', '1');
    const e = engine();
    e.start();
    await deliver(e, [policy()]);
    expect(link.reports()).toHaveLength(1);
    await tick(e);
    await tick(e);
    expect(link.reports()).toHaveLength(1);
    packages.installed.set('clamav', '2');
    await tick(e);
    expect(link.reports()).toHaveLength(2);
    await tick(e, HOUR);
    expect(link.reports()).toHaveLength(3);
  });

  it('never runs two evaluations at once: triggers during one coalesce into one more', async () => {
    packages.installed.set('clamav', '1');
    const e = engine();
    e.start();
    await deliver(e, [policy({ rules: [{ kind: 'package-installed', name: 'clamav' }] })]);
    let open: () => void = () => {};
    packages.gate = new Promise((resolve) => {
      open = resolve;
    });
    const reads = packages.reads;
    void e.evaluateAll();
    for (let i = 0; i < 5; i++) {
      void e.evaluateAll();
      timers.fire(INTERVAL_MS);
      e.connected();
    }
    await Promise.resolve();
    packages.gate = undefined;
    open();
    await e.idle();
    expect(packages.maxActive).toBe(1);
    expect(packages.reads - reads).toBe(2);
  });

  it('stops scheduling after stop()', async () => {
    const e = engine();
    e.start();
    await deliver(e, [policy()]);
    e.stop();
    expect(timers.active()).toEqual([]);
    const reads = packages.reads;
    await e.evaluateAll();
    expect(packages.reads).toBe(reads);
  });
});

describe('PolicyEngine rate limiting', () => {
  it('pauses remediation of a rule after three failed attempts within an hour, then backs off doubling', async () => {
    packages.installWorks = false;
    const e = engine();
    e.start();
    await deliver(e, [policy()]);
    await tick(e);
    await tick(e);
    expect(packages.calls).toHaveLength(3);
    expect(link.events().map((ev) => ev.ok)).toEqual([false, false, false]);

    await tick(e);
    expect(packages.calls).toHaveLength(3);
    const paused = link.reports().at(-1)?.[0];
    expect(paused?.status).toBe('noncompliant');
    const firstPause = new Date(NOW.getTime() + 2 * INTERVAL_MS + HOUR).toISOString();
    expect(paused?.detail).toBe(`clamav is not installed; remediation paused until ${firstPause}`);

    // After the pause: three more attempts, then a pause twice as long.
    advance(HOUR);
    for (let i = 0; i < 3; i++) await tick(e);
    expect(packages.calls).toHaveLength(6);
    const secondAttempt = clock.now.getTime();
    await tick(e);
    expect(link.reports().at(-1)?.[0]?.detail).toContain(`remediation paused until ${new Date(secondAttempt + 2 * HOUR).toISOString()}`);
    expect(packages.calls).toHaveLength(6);
  });

  it('keeps the limits across a restart, so a restart loop cannot reset them', async () => {
    packages.installWorks = false;
    const first = engine();
    first.start();
    await deliver(first, [policy()]);
    await tick(first);
    await tick(first);
    first.stop();
    expect(packages.calls).toHaveLength(3);
    expect(JSON.parse(readFileSync(path.join(dir, REMEDIATION_STATE_FILE), 'utf8'))).toMatchObject({ version: 1 });

    const second = engine();
    second.start();
    await second.idle();
    expect(packages.calls).toHaveLength(3);
    expect(link.reports().at(-1)?.[0]?.detail).toContain('remediation paused until');
  });

  it('starts afresh when the stored limits are damaged', async () => {
    writeFileSync(path.join(dir, REMEDIATION_STATE_FILE), '{"version":1,"rules":{"x":{"attempts":"no"}}}');
    const e = engine();
    e.start();
    await deliver(e, [policy()]);
    expect(packages.calls).toEqual(['install clamav']);
  });

  it('counts successful repairs too, so a rule that keeps breaking is not repaired more than three times an hour', async () => {
    const e = engine();
    e.start();
    await deliver(e, [policy({ intervalMinutes: 10 })]);
    for (let i = 0; i < 3; i++) {
      packages.installed.delete('clamav');
      await tick(e, 10 * 60_000);
    }
    // Attempts at 0, 10, 20 and 30 minutes: the third started a pause.
    expect(packages.calls).toHaveLength(3);
    expect(link.reports().at(-1)?.[0]?.detail).toContain('remediation paused until');
  });
});

describe('PolicyEngine offline', () => {
  it('keeps enforcing the stored bundle without a server and delivers everything on reconnect', async () => {
    // A bundle received earlier.
    const before = engine();
    before.start();
    packages.installed.set('clamav', '1');
    const p = policy();
    await deliver(before, [p]);
    before.stop();

    link.online = false;
    link.sent.length = 0;
    packages.installed.delete('clamav');
    const e = engine();
    e.start();
    await e.idle();
    expect(packages.calls).toEqual(['install clamav']);
    expect(link.sent).toEqual([]);

    link.online = true;
    e.connected();
    await e.idle();
    expect(link.sent.map((m) => m.type)).toEqual(['desired-state.sync', 'compliance.report', 'remediation.events', 'compliance.report']);
    expect(link.events()).toMatchObject([{ policyId: p.id, action: 'install package clamav', ok: true }]);
    expect(JSON.parse(readFileSync(path.join(dir, OUTBOX_FILE), 'utf8'))).toEqual({ version: 1, events: [] });
  });

  it('keeps only the newest events while offline, across a restart', async () => {
    packages.installWorks = false;
    link.online = false;
    const first = engine({ maxQueuedEvents: 2, rateLimit: { maxAttempts: 100 } });
    first.start();
    await deliver(first, [policy()]);
    for (let i = 0; i < 4; i++) await tick(first);
    first.stop();
    expect(packages.calls).toHaveLength(5);

    advance(INTERVAL_MS);
    const second = engine({ maxQueuedEvents: 2, rateLimit: { maxAttempts: 100 } });
    second.start();
    await second.idle();
    expect(packages.calls).toHaveLength(6);
    link.online = true;
    second.connected();
    await second.idle();
    // Of six attempts: the first engine's last (kept on disk over the restart) and the second's.
    const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000).toISOString();
    // Then the reconnect's own evaluation attempts once more.
    expect(link.events().map((ev) => ev.at)).toEqual([minutes(60), minutes(75), minutes(75)]);
    expect(MAX_QUEUED_EVENTS).toBeGreaterThan(2);
  });

  it('sends only the newest compliance report after being offline', async () => {
    link.online = false;
    packages.installed.set('clamav', '1');
    const e = engine();
    e.start();
    await deliver(e, [policy()]);
    packages.installed.set('clamav', '2');
    await tick(e);
    link.online = true;
    e.connected();
    const first = link.of('compliance.report')[0];
    expect(first?.results[0]?.detail).toBe('clamav 2 is installed');
    await e.idle();
  });

  it('ignores a damaged outbox', async () => {
    writeFileSync(path.join(dir, OUTBOX_FILE), 'not json');
    packages.installed.set('clamav', '1');
    const e = engine();
    e.start();
    await deliver(e, [policy()]);
    e.connected();
    await e.idle();
    expect(link.events()).toEqual([]);
  });
});

describe('PolicyEngine and bundles', () => {
  it('refuses a bad bundle and keeps enforcing the held one', async () => {
    packages.installed.set('clamav', '1');
    const e = engine();
    e.start();
    const first = signBundle(keys.signer, hostId, ++sequence, [policy()]);
    expect(e.receive(first).outcome).toBe('accepted');
    await deliver(e, [policy()]);
    expect(e.receive(first).outcome).toBe('refused');
    expect(e.receive(signBundle(keys.signer, randomUUID(), 9, [])).outcome).toBe('refused');
    const impostor = serverKeys();
    expect(e.receive(signBundle(impostor.signer, hostId, 9, [])).outcome).toBe('refused');
    await e.idle();
    expect(e.currentResults()).toHaveLength(1);
  });

  it('reports an empty result list when the new bundle has no policies', async () => {
    packages.installed.set('clamav', '1');
    const e = engine();
    e.start();
    await deliver(e, [policy()]);
    await deliver(e, []);
    expect(link.of('compliance.report').at(-1)).toEqual({ bundleSequence: 2, results: [] });
    expect(timers.active().map((t) => t.ms)).toEqual([HOUR]);
  });

  it('drops the results of policies the new bundle no longer has', async () => {
    packages.installed.set('clamav', '1').set('ssh', '1');
    const e = engine();
    e.start();
    const keep = policy({ rules: [{ kind: 'package-installed', name: 'ssh' }] });
    await deliver(e, [policy(), keep]);
    expect(e.currentResults()).toHaveLength(2);
    await deliver(e, [keep]);
    expect(e.currentResults().map((r) => r.policyId)).toEqual([keep.id]);
    expect(link.of('compliance.report').at(-1)).toMatchObject({ bundleSequence: 2, results: [{ policyId: keep.id }] });
  });
});
