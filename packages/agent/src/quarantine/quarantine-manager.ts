import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import {
  type AgentMessageBodies,
  compileSchema,
  type QuarantineOrder,
  type ServerMessageBodies,
  verifyQuarantineOrder,
} from '@brier/protocol';
import type { Logger } from 'pino';
import Type from 'typebox';
import type { ActionResult, FirewallControl } from '../policy/ports.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { parseAllowList, QuarantineRequestError } from './allow-list.js';
import { oneLine } from './firewall-command.js';

/** The held quarantine, in the agent's state directory. */
export const QUARANTINE_STATE_FILE = 'quarantine.json';
/** How often the manager checks that the firewall still matches the held state (and puts it back). */
export const DEFAULT_RECONCILE_INTERVAL_MS = 60_000;

type Status = AgentMessageBodies['quarantine.status'];

/**
 * What the agent holds: the last order it applied and what that order asked for. Written before the
 * firewall is touched, so a crash in between is resolved at the next start by applying it again.
 */
const HeldState = Type.Object(
  {
    sequence: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    isolated: Type.Boolean(),
    allow: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 }),
    ports: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { maxItems: 8 }),
    updatedAt: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type HeldQuarantine = Type.Static<typeof HeldState>;
const checkHeld = compileSchema(HeldState);

const NOTHING_HELD: HeldQuarantine = { sequence: 0, isolated: false, allow: [], ports: [], updatedAt: new Date(0).toISOString() };

export interface QuarantineManagerDeps {
  /** `serverUrl`: when its host is an IP literal, that address (and port) is always allowed too. */
  identity: { hostId: string; serverPublicKey: string; serverUrl?: string };
  firewall: FirewallControl;
  /** The agent's state directory; QUARANTINE_STATE_FILE lives there. */
  stateDir: string;
  link: { send<K extends keyof AgentMessageBodies & string>(type: K, body: AgentMessageBodies[K]): boolean };
  logger: Logger;
  now?: () => Date;
  /** Runs `task` every `ms` until the returned function is called. Default: an unref'd setInterval. */
  every?: (ms: number, task: () => void) => () => void;
  reconcileIntervalMs?: number;
}

const defaultEvery = (ms: number, task: () => void): (() => void) => {
  const timer = setInterval(task, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/** The sequence a document claims, for reporting a refusal; never trusted for anything else. */
function claimedSequence(signed: unknown): number {
  try {
    const sequence = (signed as { document?: { sequence?: unknown } } | null)?.document?.sequence;
    return typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= 0 ? sequence : 0;
  } catch {
    return 0;
  }
}

/** The address and port of the agent's server when its URL names an IP literal. */
export function channelOf(serverUrl: string | undefined): { address: string; port: number } | undefined {
  if (!serverUrl) return undefined;
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) === 0) return undefined;
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { address: host, port };
}

/**
 * The agent side of quarantine. Orders arrive as 'quarantine.order'; each is verified against the
 * pinned server key and this host's id (a forged or altered one, even a release, changes nothing and
 * is reported 'refused'), must carry a sequence above the held one (an old order replayed cannot
 * undo a newer one), is written to QUARANTINE_STATE_FILE before the firewall is touched, and is
 * answered with 'quarantine.status'. The held state is the desired state: at start the firewall is
 * made to match it (a reboot clears nftables; the isolation comes back when the agent starts), and
 * again after every reconnect and every `reconcileIntervalMs`, so a failed firewall command is
 * retried and a table someone deleted is put back. `held()` feeds 'desired-state.sync'.
 *
 * The Brier channel stays up: the order allows the server's address, the agent's open WebSocket is a
 * connection to it, and reconnects go there; when the agent's server URL is an IP literal, that
 * address and port are added to the allow list too, so an order naming another address of the
 * server cannot cut off the only way a release could arrive. DNS is not allowed (see the firewalls).
 */
export class QuarantineManager {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly file: string;
  private state: HeldQuarantine;
  /** The file could not be read: the sequence is unknown (0), and the firewall's own state is adopted at start. */
  private damaged = false;
  private chain: Promise<void> = Promise.resolve();
  /** Statuses that could not be sent (offline), oldest first; sent on the next connect. */
  private unsent: Status[] = [];
  private cancelTimer: (() => void) | undefined;
  private stopped = false;
  /** A release may not have taken (it failed, or the agent just started): checks look at the firewall until one succeeds. */
  private releaseUnconfirmed = true;

  constructor(private readonly deps: QuarantineManagerDeps) {
    this.log = deps.logger.child({ module: 'quarantine' });
    this.now = deps.now ?? (() => new Date());
    this.file = path.join(deps.stateDir, QUARANTINE_STATE_FILE);
    this.state = this.load();
  }

  private load(): HeldQuarantine {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...NOTHING_HELD };
      this.damaged = true;
      this.log.error({ err }, 'cannot read the quarantine state; keeping the firewall as it is');
      return { ...NOTHING_HELD };
    }
    try {
      return checkHeld(JSON.parse(text), QUARANTINE_STATE_FILE);
    } catch (err) {
      // Guessing "released" could free an infected host, guessing "isolated" could cut off a healthy
      // one: keep whatever the firewall shows, and hold sequence 0 so the server sends its latest order.
      this.damaged = true;
      this.log.error({ err }, 'the quarantine state is damaged; keeping the firewall as it is');
      return { ...NOTHING_HELD };
    }
  }

  /** The held order's sequence and whether it isolates, for 'desired-state.sync'. */
  held(): { sequence: number; isolated: boolean } {
    return { sequence: this.state.sequence, isolated: this.state.isolated };
  }

  /** Makes the firewall match the held state (re-isolating after a reboot), then checks it on a timer. */
  start(): Promise<void> {
    this.stopped = false;
    this.cancelTimer ??= (this.deps.every ?? defaultEvery)(this.deps.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS, () => {
      void this.enqueue(() => this.reconcile('check'));
    });
    return this.enqueue(() => this.reconcile('start'));
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Resolves when no order or check is in progress. */
  async idle(): Promise<void> {
    for (;;) {
      const current = this.chain;
      await current;
      if (current === this.chain) return;
    }
  }

  /** The link is (re)authenticated: send what could not be sent, and check the firewall. */
  connected(): void {
    const pending = this.unsent.splice(0);
    for (const status of pending) this.report(status);
    void this.enqueue(() => this.reconcile('check'));
  }

  onMessage<K extends keyof ServerMessageBodies>(type: K, body: ServerMessageBodies[K]): void {
    if (type !== 'quarantine.order') return;
    const signed: unknown = (body as ServerMessageBodies['quarantine.order']).signed;
    void this.enqueue(() => this.apply(signed));
  }

  /** Runs one step at a time, in arrival order; a step's failure is logged and never stops the chain. */
  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step).catch((err: unknown) => {
      this.log.error({ err }, 'quarantine step failed');
    });
    this.chain = next;
    return next;
  }

  private report(status: Status): void {
    if (!this.deps.link.send('quarantine.status', status)) this.unsent.push(status);
  }

  private refuse(sequence: number, code: string, detail: string): void {
    this.log.warn({ sequence, code, detail }, 'quarantine order refused');
    this.report({ sequence, state: 'refused', code, detail: oneLine(detail, 1000) });
  }

  /** The order's allow list, plus the agent's own server when its URL is an IP literal. */
  private allowOf(order: { allow: readonly string[]; ports: readonly number[] }): { allow: string[]; ports: number[] } {
    const allow = [...order.allow];
    const ports = [...order.ports];
    const channel = channelOf(this.deps.identity.serverUrl);
    if (channel) {
      if (!allow.some((a) => a.toLowerCase() === channel.address.toLowerCase())) allow.push(channel.address);
      if (ports.length > 0 && !ports.includes(channel.port)) ports.push(channel.port);
    }
    return { allow, ports };
  }

  private async apply(signed: unknown): Promise<void> {
    const verified = verifyQuarantineOrder(signed, {
      pinnedServerPublicKey: this.deps.identity.serverPublicKey,
      hostId: this.deps.identity.hostId,
      now: this.now(),
    });
    if (!verified.ok) {
      this.refuse(claimedSequence(signed), verified.reason, `the order failed verification (${verified.reason}); nothing was changed`);
      return;
    }
    const order: QuarantineOrder = verified.document;
    if (order.sequence <= this.state.sequence) {
      this.refuse(
        order.sequence,
        'stale_sequence',
        `order ${order.sequence} is not newer than the held order ${this.state.sequence}; nothing was changed`,
      );
      return;
    }
    const isolate = order.action === 'isolate';
    if (isolate) {
      try {
        const wanted = this.allowOf(order);
        parseAllowList(wanted.allow, wanted.ports);
      } catch (err) {
        if (!(err instanceof QuarantineRequestError)) throw err;
        this.refuse(order.sequence, 'invalid_allow_list', err.message);
        return;
      }
    }
    const next: HeldQuarantine = {
      sequence: order.sequence,
      isolated: isolate,
      allow: isolate ? [...order.allow] : [],
      ports: isolate ? [...order.ports] : [],
      updatedAt: this.now().toISOString(),
    };
    // Durable before acting: a crash after this line is finished by the next start, never forgotten.
    try {
      writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
    } catch (err) {
      this.log.error({ err, sequence: order.sequence }, 'cannot record the quarantine order; not applied');
      this.report({ sequence: order.sequence, state: 'failed', code: 'state-write-failed', detail: oneLine((err as Error).message, 1000) });
      return;
    }
    this.state = next;
    this.damaged = false;
    this.log.info({ sequence: order.sequence, action: order.action, allow: order.allow, ports: order.ports }, 'applying quarantine order');
    const result = await this.enforce();
    this.reportResult(result);
  }

  /** Applies the held state to the firewall. */
  private async enforce(): Promise<ActionResult> {
    if (!this.state.isolated) {
      const result = await this.deps.firewall.release();
      this.releaseUnconfirmed = !result.ok;
      return result;
    }
    const wanted = this.allowOf(this.state);
    return this.deps.firewall.isolate(wanted.allow, wanted.ports);
  }

  private reportResult(result: ActionResult, note?: string): void {
    const { sequence, isolated } = this.state;
    if (result.ok) {
      this.log.info({ sequence, isolated, detail: result.detail }, isolated ? 'host isolated' : 'host released');
      this.report({
        sequence,
        state: isolated ? 'isolated' : 'released',
        detail: oneLine(note ? `${note}: ${result.detail}` : result.detail, 1000),
      });
    } else {
      this.log.error({ sequence, isolated, code: result.code, detail: result.detail }, 'quarantine firewall command failed');
      this.report({ sequence, state: 'failed', code: result.code ?? 'command-failed', detail: oneLine(result.detail, 1000) });
    }
  }

  /**
   * Makes the firewall match the held state. At start an isolation is always loaded again (after a
   * reboot the rules are gone; loading is atomic and idempotent); on checks only when it is missing.
   * A release is repeated while the firewall still shows an isolation (a release that failed, or a
   * table left behind); once one is confirmed, checks leave a released firewall alone (no command runs).
   */
  private async reconcile(reason: 'start' | 'check'): Promise<void> {
    if (this.stopped && reason === 'check') return;
    if (this.damaged) {
      const actual = await this.deps.firewall.isolated();
      this.log.warn({ isolated: actual }, 'quarantine state unknown; the firewall is left as it is until the server sends an order');
      this.state = { ...this.state, isolated: actual };
      return;
    }
    if (this.state.isolated) {
      if (reason === 'check' && (await this.deps.firewall.isolated())) return;
      this.reportResult(
        await this.enforce(),
        reason === 'start' ? 'isolation re-applied at agent start' : 'isolation was missing and was re-applied',
      );
      return;
    }
    if (!this.releaseUnconfirmed) return;
    if (await this.deps.firewall.isolated()) this.reportResult(await this.enforce(), 'leftover isolation removed');
    else this.releaseUnconfirmed = false;
  }
}
