import { BrierError } from '@brier/protocol';
import type { AuditStore } from '../audit/types.js';
import type { HostHistoryKind, HostHistoryRow, HostQuery, HostStatus, HostsStore, PlacedHost, SoftwareQuery } from './types.js';

export interface HostHistoryItem {
  at: Date;
  kind: HostHistoryKind;
  /** What happened, in words; reasons and details come from agents and operators (untrusted text). */
  summary: string;
  actor: string | null;
  /** The deployment, policy or audit entry it refers to. */
  ref: string | null;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v));
const withReason = (what: string, reason: unknown) => (text(reason) ? `${what}: ${text(reason)}` : what);

/** The words of one history entry. */
export function summarizeHistory(row: HostHistoryRow): string {
  const d = row.detail;
  switch (row.kind) {
    case 'deployment':
      return `deployment ${JSON.stringify(text(d.name))} (wave ${Number(d.wave) + 1}): ${withReason(text(d.state), d.reason)}`;
    case 'remediation':
      return `policy ${JSON.stringify(text(d.policy) || '(deleted)')} rule ${text(d.rule)}: ${text(d.action)} ${
        d.ok === true ? 'succeeded' : 'failed'
      } (before: ${text(d.before)}; after: ${text(d.after)})`;
    default:
      break;
  }
  switch (row.action) {
    case 'quarantine.state':
      return withReason(`${text(d.state)} (${text(d.order)} order ${text(d.sequence)}, as the agent reported)`, d.detail);
    case 'host.quarantine':
      return withReason('quarantine ordered', d.reason);
    case 'host.release':
      return withReason('release from quarantine ordered', d.reason);
    case 'quarantine.request':
      return withReason('quarantine requested by a policy', d.reason);
    case 'quarantine.request.approve':
      return 'quarantine request approved';
    case 'quarantine.request.reject':
      return withReason('quarantine request rejected', d.reason);
    case 'host.enroll':
      return 'enrolled';
    case 'host.approve':
      return 'approved';
    case 'host.revoke':
      return 'revoked';
    case 'host.groups': {
      const groups = Array.isArray(d.groups) ? d.groups.map(text) : [];
      return `groups set to ${groups.length > 0 ? groups.join(', ') : '(none)'}`;
    }
    case 'host.attributes': {
      const parts: string[] = [];
      if ('riskTier' in d) parts.push(`risk tier ${d.riskTier === null ? 'inherited' : text(d.riskTier)}`);
      if ('site' in d) parts.push(`site ${d.site === null ? '(none)' : text(d.site)}`);
      return parts.length > 0 ? `${parts.join(', ')} set` : 'attributes set';
    }
    case 'assignment.sync':
      return 'pending work resent when the agent reconnected';
    default:
      return row.action;
  }
}

export interface HostsServiceDeps {
  hosts: HostsStore;
  audit: AuditStore;
  now: () => Date;
  /** Called after a host is revoked or deleted so a live connection is cut at once. */
  onIdentityWithdrawn?: (hostId: string) => void;
}

export function createHostsService(deps: HostsServiceDeps) {
  const { hosts, audit, now } = deps;

  async function placed(id: string): Promise<PlacedHost> {
    const host = await hosts.placed(id);
    if (!host) throw new BrierError('not_found', 'no such host');
    return host;
  }

  async function transition(actor: string, id: string, status: HostStatus): Promise<PlacedHost> {
    const current = await hosts.get(id);
    if (!current) throw new BrierError('not_found', 'no such host');
    if (current.status === 'revoked') throw new BrierError('conflict', 'a revoked host stays revoked; enrol the machine again');
    if (current.status === status) return placed(id);
    const at = now();
    const updated = await hosts.setStatus(id, status, at);
    if (!updated) throw new BrierError('not_found', 'no such host');
    await audit.record({
      actor,
      action: `host.${status === 'approved' ? 'approve' : 'revoke'}`,
      target: id,
      detail: { hostname: current.hostname },
      at,
    });
    if (status === 'revoked') deps.onIdentityWithdrawn?.(id);
    return placed(id);
  }

  return {
    list: (query: HostQuery) => hosts.list(query),
    /** At start-up: no connection survives a restart, so no host can still be online. */
    markAllOffline: () => hosts.markAllOffline(now()),
    /** One host with its site, groups, effective tier and open findings. */
    get: placed,
    facets: () => hosts.facets(),
    counts: () => hosts.counts(),
    groups: () => hosts.groups(),
    /** The host's history: audit entries about it, its deployments, remediations and quarantine, newest first. */
    async history(id: string, limit: number, offset: number): Promise<{ items: HostHistoryItem[]; total: number }> {
      if (!(await hosts.get(id))) throw new BrierError('not_found', 'no such host');
      const page = await hosts.history(id, limit, offset);
      return {
        total: page.total,
        items: page.items.map((r) => ({ at: r.at, kind: r.kind, summary: summarizeHistory(r), actor: r.actor, ref: r.ref })),
      };
    },
    async software(id: string, query: SoftwareQuery) {
      if (!(await hosts.get(id))) throw new BrierError('not_found', 'no such host');
      return hosts.software(id, query);
    },
    approve: (actor: string, id: string) => transition(actor, id, 'approved'),
    revoke: (actor: string, id: string) => transition(actor, id, 'revoked'),
    async delete(actor: string, id: string): Promise<void> {
      const current = await hosts.get(id);
      if (!current) throw new BrierError('not_found', 'no such host');
      // Deleting never frees the identity: the key goes to the revoked list first.
      if (current.status !== 'revoked') await hosts.setStatus(id, 'revoked', now());
      await hosts.delete(id);
      await audit.record({ actor, action: 'host.delete', target: id, detail: { hostname: current.hostname }, at: now() });
      deps.onIdentityWithdrawn?.(id);
    },
  };
}

export type HostsService = ReturnType<typeof createHostsService>;
