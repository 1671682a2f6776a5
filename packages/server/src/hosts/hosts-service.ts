import { BrierError } from '@brier/protocol';
import type { AuditStore } from '../audit/types.js';
import type { Host, HostQuery, HostStatus, HostsStore, SoftwareQuery } from './types.js';

export interface HostsServiceDeps {
  hosts: HostsStore;
  audit: AuditStore;
  now: () => Date;
  /** Called after a host is revoked or deleted so a live connection is cut at once. */
  onIdentityWithdrawn?: (hostId: string) => void;
}

export function createHostsService(deps: HostsServiceDeps) {
  const { hosts, audit, now } = deps;

  async function transition(actor: string, id: string, status: HostStatus): Promise<Host> {
    const current = await hosts.get(id);
    if (!current) throw new BrierError('not_found', 'no such host');
    if (current.status === 'revoked') throw new BrierError('conflict', 'a revoked host stays revoked; enrol the machine again');
    if (current.status === status) return current;
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
    return updated;
  }

  return {
    list: (query: HostQuery) => hosts.list(query),
    /** At start-up: no connection survives a restart, so no host can still be online. */
    markAllOffline: () => hosts.markAllOffline(now()),
    async get(id: string): Promise<Host> {
      const host = await hosts.get(id);
      if (!host) throw new BrierError('not_found', 'no such host');
      return host;
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
