import { type AgentMessageBodies, BrierError, type SignedQuarantineOrder, signQuarantineOrder } from '@brier/protocol';
import type { Logger } from 'pino';
import type { Actor, AuditSink, WorkSigner } from '../rollouts/deployments-service.js';
import { nextSequence } from './bundles.js';
import { KeyedLock } from './keyed-lock.js';
import type {
  QuarantineAction,
  QuarantineListQuery,
  QuarantineRequestRow,
  QuarantineRequestState,
  QuarantineRow,
  QuarantineState,
  QuarantineStore,
} from './policies-repository.js';

/** How long a signed order stays valid: one captured in transit cannot be replayed after this. */
export const ORDER_TTL_MS = 24 * 3_600_000;
/** An order this close to expiry is re-signed rather than resent (the agent would refuse it as expired). */
const RESIGN_MARGIN_MS = 5 * 60_000;
const MAX_REASON = 500;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export interface QuarantineView {
  hostId: string;
  /** What the server asked for last (null: never asked). */
  action: QuarantineAction | null;
  /** What the agent reported doing with it: `pending` until it says; `none` without any order. */
  state: QuarantineState | 'none';
  sequence: number | null;
  reason: string | null;
  detail: string | null;
  requestedBy: string | null;
  requestedAt: Date | null;
  updatedAt: Date | null;
  notAfter: Date | null;
  allow: string[];
  ports: number[];
}

export interface QuarantineServiceDeps {
  store: QuarantineStore;
  hosts: { get(id: string): Promise<{ id: string; hostname: string; status: string } | undefined> };
  audit: AuditSink;
  signing: () => WorkSigner;
  /** Pushes a signed order to a connected agent; false when offline (it gets the order on its next sync). */
  sendOrder: (hostId: string, signed: SignedQuarantineOrder) => boolean;
  /** The server addresses (and ports) an isolated host may still reach (see quarantine-addresses.ts). */
  endpoints: (hostId: string) => { allow: string[]; ports: number[] };
  now: () => Date;
  logger?: Logger | undefined;
}

function viewOf(hostId: string, row: QuarantineRow | undefined): QuarantineView {
  if (!row)
    return {
      hostId,
      action: null,
      state: 'none',
      sequence: null,
      reason: null,
      detail: null,
      requestedBy: null,
      requestedAt: null,
      updatedAt: null,
      notAfter: null,
      allow: [],
      ports: [],
    };
  return {
    hostId,
    action: row.action,
    state: row.state,
    sequence: row.sequence,
    reason: row.reason,
    detail: row.detail,
    requestedBy: row.requestedBy,
    requestedAt: row.requestedAt,
    updatedAt: row.updatedAt,
    notAfter: new Date(row.signed.document.notAfter),
    allow: row.signed.document.allow,
    ports: row.signed.document.ports,
  };
}

function checkReason(reason: string | undefined, fallback: string | undefined): string {
  const text = (reason ?? '').trim() || fallback || '';
  if (text.length === 0) throw new BrierError('bad_request', 'a quarantine needs a reason');
  if (text.length > MAX_REASON || CONTROL.test(text))
    throw new BrierError('bad_request', `the reason must be at most ${MAX_REASON} characters without control characters`);
  return text;
}

/**
 * Quarantine: signed isolate and release orders, one current order per host, resent on every sync
 * until the agent reports what it did; and quarantines a policy asks for (antivirus unhealthy for
 * longer than the policy allows), which wait for an approver.
 */
export function createQuarantineService(deps: QuarantineServiceDeps) {
  const { store, audit, now } = deps;
  const log = deps.logger?.child({ module: 'quarantine' });
  const lock = new KeyedLock();

  async function hostOf(hostId: string) {
    const host = await deps.hosts.get(hostId);
    if (!host) throw new BrierError('not_found', 'no such host', { details: { id: hostId } });
    if (host.status === 'revoked') throw new BrierError('conflict', 'the host is revoked');
    return host;
  }

  /**
   * Signs and stores a new order for the host (sequence above the stored one and above `floor`),
   * then pushes it when `push`. `allowed` sees the stored order first, under the host's lock.
   */
  async function issue(
    actor: string,
    hostId: string,
    action: QuarantineAction,
    reason: string,
    options: { push?: boolean; floor?: number; allowed?: (previous: QuarantineRow | undefined) => void } = {},
  ): Promise<QuarantineRow> {
    return lock.run([hostId], async () => {
      const previous = await store.get(hostId);
      options.allowed?.(previous);
      const at = now();
      const { allow, ports } = deps.endpoints(hostId);
      if (action === 'isolate' && allow.length === 0)
        throw new BrierError(
          'conflict',
          'cannot tell which address the host reaches the server at: set BRIER_QUARANTINE_ALLOW (or an IP BRIER_PUBLIC_URL), or quarantine while the host is connected',
        );
      const sequence = nextSequence(previous?.sequence ?? 0, at, options.floor ?? 0);
      const signed = signQuarantineOrder(deps.signing(), {
        kind: 'quarantine-order',
        hostId,
        action,
        sequence,
        issuedAt: at.toISOString(),
        notAfter: new Date(at.getTime() + ORDER_TTL_MS).toISOString(),
        allow,
        ports,
        reason,
      });
      const row: QuarantineRow = {
        hostId,
        action,
        sequence,
        signed,
        state: 'pending',
        detail: null,
        reason,
        requestedBy: actor,
        requestedAt: at,
        updatedAt: at,
      };
      if (!(await store.save(row))) throw new BrierError('conflict', 'the quarantine of this host changed meanwhile; try again');
      if (options.push ?? true) deps.sendOrder(hostId, signed);
      return row;
    });
  }

  async function isolate(actor: string, hostId: string, reason: string): Promise<QuarantineView> {
    await hostOf(hostId);
    const text = checkReason(reason, undefined);
    const row = await issue(actor, hostId, 'isolate', text, {
      allowed: (previous) => {
        if (previous?.action === 'isolate') throw new BrierError('conflict', 'the host is already quarantined');
      },
    });
    await audit.record({
      actor,
      action: 'host.quarantine',
      target: hostId,
      detail: { reason: text, sequence: row.sequence, allow: row.signed.document.allow, ports: row.signed.document.ports },
      at: row.requestedAt,
    });
    return viewOf(hostId, row);
  }

  async function release(actor: string, hostId: string, reason?: string): Promise<QuarantineView> {
    await hostOf(hostId);
    const text = checkReason(reason, `released by ${actor}`);
    const row = await issue(actor, hostId, 'release', text, {
      allowed: (previous) => {
        // Without any stored order a release is still allowed: the server may have lost its record
        // (a restored database) of a host that is isolated.
        if (previous?.action === 'release') throw new BrierError('conflict', 'the host is not quarantined');
      },
    });
    await audit.record({
      actor,
      action: 'host.release',
      target: hostId,
      detail: { reason: text, sequence: row.sequence },
      at: row.requestedAt,
    });
    return viewOf(hostId, row);
  }

  async function view(hostId: string): Promise<QuarantineView> {
    const host = await deps.hosts.get(hostId);
    if (!host) throw new BrierError('not_found', 'no such host', { details: { id: hostId } });
    return viewOf(hostId, await store.get(hostId));
  }

  /**
   * What to (re)send after an agent authenticated. The stored order goes again while the agent has
   * not reached its sequence (re-signed when it is about to expire, so a host away for days still
   * gets isolated), or when the agent's isolation disagrees with it and the agent never answered it.
   * An agent past the server's sequence (a restored database) whose state disagrees gets a fresh
   * order above it. An agent at the order's sequence in the ordered state confirms a pending order.
   */
  async function onSync(hostId: string, held: AgentMessageBodies['desired-state.sync']): Promise<SignedQuarantineOrder | undefined> {
    const row = await store.get(hostId);
    if (!row) {
      if (held.isolated) log?.warn({ hostId }, 'agent says it is isolated but the server has no quarantine order for it');
      return undefined;
    }
    const wantIsolated = row.action === 'isolate';
    if (held.quarantineSequence > row.sequence) {
      if (held.isolated === wantIsolated) return undefined;
      const fresh = await issue(row.requestedBy, hostId, row.action, row.reason, { push: false, floor: held.quarantineSequence });
      return fresh.signed;
    }
    if (held.quarantineSequence < row.sequence) {
      const expiresAt = Date.parse(row.signed.document.notAfter);
      if (row.state === 'pending' && expiresAt - RESIGN_MARGIN_MS <= now().getTime()) {
        const fresh = await issue(row.requestedBy, hostId, row.action, row.reason, { push: false });
        return fresh.signed;
      }
      return row.signed;
    }
    if (held.isolated !== wantIsolated && (row.state === 'pending' || row.state === 'isolated' || row.state === 'released'))
      return row.signed;
    // The agent applied the order but its status never arrived (the connection dropped): its sync says so.
    if (held.isolated === wantIsolated && row.state === 'pending')
      await store.setState(hostId, row.sequence, wantIsolated ? 'isolated' : 'released', 'confirmed by the agent at sync', now());
    return undefined;
  }

  async function onStatus(hostId: string, status: AgentMessageBodies['quarantine.status']): Promise<void> {
    const detail = [status.code, status.detail].filter((p) => p !== undefined && p !== '').join(': ') || null;
    const updated = await store.setState(hostId, status.sequence, status.state, detail, now());
    if (!updated) log?.info({ hostId, sequence: status.sequence }, 'quarantine status for an order that is not the current one ignored');
    else log?.info({ hostId, sequence: status.sequence, state: status.state }, 'quarantine status recorded');
  }

  /**
   * After a compliance report: an antivirus rule of a policy with quarantineAfterMinutes that has
   * been noncompliant for longer asks an approver to quarantine the host (once per host and policy
   * while a request is pending; not while the host is quarantined).
   */
  async function checkPolicyRequests(hostId: string): Promise<QuarantineRequestRow[]> {
    const at = now();
    const overdue = await store.overdueAntivirus(hostId, at);
    if (overdue.length === 0) return [];
    if ((await store.get(hostId))?.action === 'isolate') return [];
    const created: QuarantineRequestRow[] = [];
    const seen = new Set<string>();
    for (const o of overdue) {
      if (seen.has(o.policyId)) continue;
      seen.add(o.policyId);
      const reason =
        `antivirus rule ${o.rule} of policy "${o.policyName}" noncompliant since ${o.sinceAt.toISOString()} (more than ${o.quarantineAfterMinutes} minutes)`.slice(
          0,
          MAX_REASON,
        );
      const request = await store.createRequest({ hostId, policyId: o.policyId, reason, requestedAt: at });
      if (!request) continue;
      created.push(request);
      await audit.record({
        actor: 'policy',
        action: 'quarantine.request',
        target: hostId,
        detail: { requestId: request.id, policyId: o.policyId, reason },
        at,
      });
      log?.warn({ hostId, policyId: o.policyId }, 'quarantine requested by policy');
    }
    return created;
  }

  async function loadRequest(id: string): Promise<QuarantineRequestRow> {
    const request = await store.getRequest(id);
    if (!request) throw new BrierError('not_found', 'no such quarantine request', { details: { id } });
    return request;
  }

  /** An approver applies the quarantine the policy asked for, through the same path as an operator's. */
  async function approve(actor: Actor, id: string): Promise<{ request: QuarantineRequestRow; quarantine: QuarantineView }> {
    const request = await loadRequest(id);
    if (request.state !== 'pending') throw new BrierError('conflict', `the request is ${request.state}`);
    await hostOf(request.hostId);
    const current = await store.get(request.hostId);
    const needed = current?.action !== 'isolate';
    if (needed && deps.endpoints(request.hostId).allow.length === 0)
      throw new BrierError('conflict', 'cannot tell which address the host reaches the server at: set BRIER_QUARANTINE_ALLOW');
    const at = now();
    const decided = await store.decideRequest(id, 'approved', actor.username, at);
    if (!decided) throw new BrierError('conflict', 'the request was decided meanwhile');
    await audit.record({
      actor: actor.username,
      action: 'quarantine.request.approve',
      target: request.hostId,
      detail: { requestId: id },
      at,
    });
    const quarantine = needed
      ? await isolate(actor.username, request.hostId, `${request.reason}; approved by ${actor.username}`.slice(0, MAX_REASON))
      : viewOf(request.hostId, current);
    return { request: decided, quarantine };
  }

  async function reject(actor: Actor, id: string, reason?: string): Promise<QuarantineRequestRow> {
    const request = await loadRequest(id);
    if (request.state !== 'pending') throw new BrierError('conflict', `the request is ${request.state}`);
    const at = now();
    const decided = await store.decideRequest(id, 'rejected', actor.username, at);
    if (!decided) throw new BrierError('conflict', 'the request was decided meanwhile');
    await audit.record({
      actor: actor.username,
      action: 'quarantine.request.reject',
      target: request.hostId,
      detail: { requestId: id, ...(reason ? { reason } : {}) },
      at,
    });
    return decided;
  }

  /** Hosts in quarantine (or with any order in `query.state`/`query.action`), newest order first. */
  async function list(query: QuarantineListQuery) {
    const page = await store.list(query);
    return {
      total: page.total,
      items: page.items.map((r) => ({ ...viewOf(r.hostId, r), hostname: r.hostname, online: r.online })),
    };
  }

  return {
    isolate,
    release,
    view,
    list,
    onSync,
    onStatus,
    checkPolicyRequests,
    requests: (state?: QuarantineRequestState) => store.listRequests(state),
    approve,
    reject,
  };
}

export type QuarantineService = ReturnType<typeof createQuarantineService>;
