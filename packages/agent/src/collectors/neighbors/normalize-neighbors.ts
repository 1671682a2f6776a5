import { isIP } from 'node:net';
import { MAX_NEIGHBORS, type Neighbor } from '@brier/protocol';
import { cleanText } from '../clean-text.js';

/**
 * One neighbour-table entry as a platform parser read it, before any checking. `state` uses the
 * Linux NUD names (REACHABLE, STALE, DELAY, PROBE, PERMANENT, INCOMPLETE, FAILED, NOARP, …) whatever
 * the platform; undefined means the tool only says the entry is complete (/proc/net/arp, `arp -an`).
 */
export interface RawNeighbor {
  ip: string;
  mac: string;
  interface: string;
  state?: string | undefined;
}

/** States whose link-layer address was actually resolved (or set by an administrator). */
export const USABLE_STATES: ReadonlySet<string> = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT']);

/** Neighbor.interface is SafeText(64); a longer name is refused, not cut (two cut names could collide). */
const MAX_INTERFACE_CHARS = 64;
const MAX_IP_CHARS = 64;

export interface NormalizedNeighbors {
  /** Valid for the protocol schema, unique by (interface, ip, mac), sorted, at most MAX_NEIGHBORS. */
  neighbors: Neighbor[];
  /** Entries whose MAC, address or interface name could not be used (garbage, too long). */
  invalid: number;
  /** Entries left out on purpose: unresolved states, broadcast, multicast and all-zero MACs. */
  skipped: number;
  /** Entries that repeated one already listed. */
  duplicates: number;
  /** Valid entries left out past MAX_NEIGHBORS. */
  dropped: number;
}

/**
 * A MAC in lower-case colon form (`aa:bb:cc:dd:ee:ff`), or undefined when `text` is not six octets.
 * Accepts `:` or `-` separators (Windows prints `AA-BB-…`) and octets of one digit (macOS prints
 * `0:1c:42:0:0:18`); nothing else, so an InfiniBand address or a stray word is no MAC.
 */
export function normalizeMac(text: string): string | undefined {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9A-Fa-f]{1,2}$/.test(p))) return undefined;
  // Mixed separators ("aa:bb-cc…") are not a form any tool prints.
  if (text.includes(':') && text.includes('-')) return undefined;
  return parts.map((p) => p.toLowerCase().padStart(2, '0')).join(':');
}

/** Broadcast, multicast (group bit: the lowest bit of the first octet) and all-zero MACs name no device. */
export function isDeviceMac(mac: string): boolean {
  if (mac === '00:00:00:00:00:00') return false;
  return (Number.parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

/**
 * The address without a zone (`fe80::1%en0`: the interface is reported separately), lower-cased, or
 * undefined when it is neither IPv4 nor IPv6.
 */
export function normalizeIp(text: string): string | undefined {
  const bare = text.trim().replace(/%.*$/, '').toLowerCase();
  if (bare.length < 2 || bare.length > MAX_IP_CHARS || isIP(bare) === 0) return undefined;
  return bare;
}

/**
 * Turns raw entries into protocol Neighbors: unresolved entries and non-device MACs are skipped,
 * malformed ones counted as invalid, control characters removed from interface names, duplicates
 * dropped, and the list sorted (so the same table always gives the same report, and a cut keeps
 * the same entries) and cut at MAX_NEIGHBORS.
 */
export function normalizeNeighbors(raw: Iterable<RawNeighbor>, max = MAX_NEIGHBORS): NormalizedNeighbors {
  let invalid = 0;
  let skipped = 0;
  let duplicates = 0;
  const byKey = new Map<string, Neighbor>();
  for (const entry of raw) {
    const state = entry.state === undefined ? undefined : entry.state.trim().toUpperCase();
    if (state !== undefined && !USABLE_STATES.has(state)) {
      skipped++;
      continue;
    }
    const mac = normalizeMac(entry.mac);
    const ip = normalizeIp(entry.ip);
    const iface = cleanText(entry.interface);
    if (mac === undefined || ip === undefined || iface === '' || iface.length > MAX_INTERFACE_CHARS) {
      invalid++;
      continue;
    }
    if (!isDeviceMac(mac)) {
      skipped++;
      continue;
    }
    const key = `${iface}\t${ip}\t${mac}`;
    if (byKey.has(key)) {
      duplicates++;
      continue;
    }
    byKey.set(key, { ip, mac, interface: iface, ...(state !== undefined ? { state } : {}) });
  }
  const sorted = [...byKey.values()].sort(compareNeighbors);
  const neighbors = sorted.slice(0, max);
  return { neighbors, invalid, skipped, duplicates, dropped: sorted.length - neighbors.length };
}

function compareNeighbors(a: Neighbor, b: Neighbor): number {
  return cmp(a.interface, b.interface) || cmp(a.ip, b.ip) || cmp(a.mac, b.mac);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
