import { isIPv4 } from 'node:net';
import type { Neighbor } from '@brier/protocol';
import { canonicalIp } from '../policies/quarantine-addresses.js';
import type { Sighting } from './discovery-repository.js';

/**
 * Which neighbour-table entries describe a device worth listing. The wire schema already refused
 * malformed MACs and IPs; these rules drop entries that are well formed but are not a device:
 *
 * - MAC 00:00:00:00:00:00 (incomplete entries), ff:ff:ff:ff:ff:ff (broadcast) and every group
 *   address (the I/G bit, lowest bit of the first octet: 01:00:5e:… IPv4 and 33:33:… IPv6 multicast);
 * - entries the kernel marks FAILED or INCOMPLETE (no live device answered);
 * - IPs that are no address after canonicalisation, unspecified (0.0.0.0, ::), loopback (127/8,
 *   ::1), IPv4 multicast (224/4) and limited broadcast (255.255.255.255), IPv6 multicast (ff00::/8);
 * - IPv6 link-local addresses (fe80::/10): every IPv6 device has one next to its real addresses,
 *   they repeat per interface and carry a zone, so listing them would only double every device.
 *   IPv4 link-local (169.254/16) is kept: a device there is a real device without DHCP.
 *
 * Repeated (mac, ip) pairs in one report are kept once (the last interface wins).
 */
export type SkipReason = 'mac' | 'state' | 'ip';

const SKIPPED_STATES = new Set(['failed', 'incomplete']);

export function normalizeMac(text: string): string | undefined {
  const mac = text.trim().toLowerCase().replaceAll('-', ':');
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) ? mac : undefined;
}

/** Zero, broadcast or multicast (group) MAC: not one device. */
export function isNoiseMac(mac: string): boolean {
  if (mac === '00:00:00:00:00:00') return true;
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return (first & 1) === 1;
}

export function isNoiseIp(ip: string): boolean {
  if (isIPv4(ip)) {
    const [a = 0] = ip.split('.').map(Number);
    return a === 0 || a === 127 || a >= 224;
  }
  return ip === '::' || ip === '::1' || /^ff/.test(ip) || /^fe[89ab]/.test(ip);
}

export function sightingsOf(neighbors: readonly Neighbor[]): { sightings: Sighting[]; skipped: Record<SkipReason, number> } {
  const skipped: Record<SkipReason, number> = { mac: 0, state: 0, ip: 0 };
  const byPair = new Map<string, Sighting>();
  for (const n of neighbors) {
    const mac = normalizeMac(n.mac);
    if (!mac || isNoiseMac(mac)) {
      skipped.mac += 1;
      continue;
    }
    if (n.state !== undefined && SKIPPED_STATES.has(n.state.trim().toLowerCase())) {
      skipped.state += 1;
      continue;
    }
    const ip = canonicalIp(n.ip);
    if (!ip || isNoiseIp(ip)) {
      skipped.ip += 1;
      continue;
    }
    byPair.set(`${mac} ${ip}`, { mac, ip, interface: n.interface });
  }
  return { sightings: [...byPair.values()], skipped };
}
