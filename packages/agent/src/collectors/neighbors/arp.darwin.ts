import { type CommandRunner, stdoutOf } from '../../run-command.js';
import { NeighborsError } from './neighbors-error.js';
import type { RawNeighbor } from './normalize-neighbors.js';

/** `-a` every entry, `-n` no name lookups (which could hang on DNS and leak what we look at). */
export const ARP_ARGS = ['-an'] as const;
export const NDP_ARGS = ['-an'] as const;

/** `? (192.168.1.1) at 0:1c:42:0:0:18 on en0 ifscope [ethernet]`; the MAC may be `(incomplete)`. */
const ARP_LINE = /^\S+ \((?<ip>[^)\s]+)\) at (?<mac>\S+) on (?<iface>\S+)(?<rest>.*)$/;

/** ndp's one-letter states (netinet6/nd6.h via ndp.c). */
const NDP_STATES: Record<string, string> = {
  R: 'REACHABLE',
  S: 'STALE',
  D: 'DELAY',
  P: 'PROBE',
  I: 'INCOMPLETE',
  N: 'NONE',
  W: 'WAITDELETE',
  '?': 'UNKNOWN',
};

/**
 * Parses macOS `arp -an` (IPv4). It does not print how fresh an entry is, only `permanent` for
 * static ones; unresolved entries print `(incomplete)` in place of the MAC. Lines of another shape
 * are ignored.
 */
export function parseArpAn(output: string): RawNeighbor[] {
  const entries: RawNeighbor[] = [];
  for (const line of output.split('\n')) {
    const m = ARP_LINE.exec(line.trim());
    if (!m?.groups) continue;
    const { ip = '', mac = '', iface = '', rest = '' } = m.groups;
    const incomplete = mac === '(incomplete)';
    const state = incomplete ? 'INCOMPLETE' : /\bpermanent\b/.test(rest) ? 'PERMANENT' : undefined;
    entries.push({ ip, mac: incomplete ? '' : mac, interface: iface, state });
  }
  return entries;
}

/**
 * Parses macOS `ndp -an` (IPv6): a header line, then `address  lladdr  netif  expire  St  flags  probes`
 * columns. Link-local addresses carry their zone (`fe80::1%en0`), which the normaliser removes.
 * An entry whose expiry is `permanent` is PERMANENT whatever its letter.
 */
export function parseNdpAn(output: string): RawNeighbor[] {
  const entries: RawNeighbor[] = [];
  for (const line of output.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5 || fields[0] === 'Neighbor') continue;
    const [ip = '', mac = '', iface = '', expire = '', letter = ''] = fields;
    const incomplete = mac === '(incomplete)';
    const state = incomplete ? 'INCOMPLETE' : expire === 'permanent' ? 'PERMANENT' : (NDP_STATES[letter] ?? 'UNKNOWN');
    entries.push({ ip, mac: incomplete ? '' : mac, interface: iface, state });
  }
  return entries;
}

/**
 * Both tables. One tool failing does not lose the other's entries: the server learns devices from
 * what is listed, so one table alone reports fewer of them, not wrong ones. Both failing is
 * NeighborsError `unavailable`.
 */
export async function collectDarwinNeighbors(run: CommandRunner): Promise<RawNeighbor[]> {
  const opts = { timeoutMs: 30_000, maxOutputBytes: 32 * 1024 * 1024 };
  const [arp, ndp] = await Promise.allSettled([
    run('arp', ARP_ARGS, opts).then((r) => parseArpAn(stdoutOf('arp', r))),
    run('ndp', NDP_ARGS, opts).then((r) => parseNdpAn(stdoutOf('ndp', r))),
  ]);
  if (arp.status === 'rejected' && ndp.status === 'rejected') {
    throw new NeighborsError('unavailable', 'neither `arp -an` nor `ndp -an` could be read', {
      cause: new AggregateError([arp.reason, ndp.reason], 'both tools failed'),
    });
  }
  return [...(arp.status === 'fulfilled' ? arp.value : []), ...(ndp.status === 'fulfilled' ? ndp.value : [])];
}
