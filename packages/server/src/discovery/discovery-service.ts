import { type AgentMessageBodies, BrierError } from '@brier/protocol';
import type { Logger } from 'pino';
import type { AuditSink } from '../rollouts/deployments-service.js';
import type { DeviceMark, DiscoveryStore, MarkState, UnmanagedDevice } from './discovery-repository.js';
import { normalizeMac, sightingsOf } from './neighbors.js';

export interface DiscoveryServiceDeps {
  store: DiscoveryStore;
  audit: AuditSink;
  now: () => Date;
  logger?: Logger | undefined;
}

export const MARK_STATES: readonly MarkState[] = ['known', 'ignored'];
const MAX_NOTE = 500;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Discovery: agents report their neighbour tables (ARP, NDP); the server keeps every MAC/IP pair
 * with who saw it and when, and lists the pairs that belong to no enrolled host. Operators mark a
 * MAC known (expected: a printer, a switch) or ignored, which takes it off the list.
 */
export function createDiscoveryService(deps: DiscoveryServiceDeps) {
  const { store, audit, now } = deps;
  const log = deps.logger?.child({ module: 'discovery' });

  async function onNeighbors(hostId: string, report: AgentMessageBodies['neighbors.report']): Promise<void> {
    const { sightings, skipped } = sightingsOf(report.neighbors);
    if (skipped.mac + skipped.state + skipped.ip > 0) log?.debug({ hostId, skipped }, 'neighbour entries skipped');
    if (sightings.length > 0) await store.recordSightings(hostId, sightings, now());
  }

  function unmanaged(
    query: { include?: readonly MarkState[]; limit?: number; offset?: number } = {},
  ): Promise<{ items: UnmanagedDevice[]; total: number }> {
    return store.unmanaged({ include: query.include ?? [], limit: query.limit ?? 1000, offset: query.offset ?? 0 });
  }

  async function mark(actor: string, macText: string, state: MarkState | null, note?: string): Promise<DeviceMark | null> {
    const mac = normalizeMac(macText);
    if (!mac) throw new BrierError('bad_request', 'not a MAC address (six hex octets separated by : or -)');
    if (state !== null && !MARK_STATES.includes(state)) throw new BrierError('bad_request', 'state must be known, ignored or null');
    const text = note?.trim() ?? '';
    if (text.length > MAX_NOTE || CONTROL.test(text))
      throw new BrierError('bad_request', `the note must be at most ${MAX_NOTE} characters without control characters`);
    const at = now();
    const stored = await store.setMark(mac, state === null ? null : { state, note: text || null, markedBy: actor, markedAt: at });
    await audit.record({ actor, action: 'device.mark', target: mac, detail: { state, ...(text ? { note: text } : {}) }, at });
    return stored;
  }

  return { onNeighbors, unmanaged, mark };
}

export type DiscoveryService = ReturnType<typeof createDiscoveryService>;
