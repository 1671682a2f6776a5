import { isIP } from 'node:net';

/**
 * What an isolation lets through, checked before any firewall command is built: that check is what
 * makes putting the addresses and ports into an nft, pf or PowerShell script safe, since nothing
 * else from the order ever reaches one.
 */
export interface AllowList {
  /** Dotted-quad IPv4 addresses, as given, without duplicates. */
  v4: string[];
  /** IPv6 addresses, lower-cased, without duplicates (no zone ids). */
  v6: string[];
  /** TCP ports on those addresses, ascending, without duplicates; empty: any port. */
  ports: number[];
}

/** As the QuarantineOrder schema: at most 16 addresses and 8 ports. */
export const MAX_ALLOW_ADDRESSES = 16;
export const MAX_ALLOW_PORTS = 8;

/** A request no firewall command was built for; `code` is the ActionResult code it is reported with. */
export class QuarantineRequestError extends Error {
  override name = 'QuarantineRequestError';
  readonly code = 'invalid-request';
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * Validates and normalises an isolation's allow list. Every address must be a literal IPv4 or IPv6
 * address (node:net isIP; no names, prefixes or zone ids), every port an integer 1-65535. An empty
 * address list is refused: it would cut the Brier server off too, and then no release could ever
 * arrive. Throws QuarantineRequestError.
 */
export function parseAllowList(allow: readonly unknown[], ports: readonly unknown[]): AllowList {
  if (!Array.isArray(allow) || !Array.isArray(ports)) throw new QuarantineRequestError('allow and ports must be lists');
  if (allow.length === 0)
    throw new QuarantineRequestError('an isolation must allow at least the Brier server address, or no release could ever reach the host');
  if (allow.length > MAX_ALLOW_ADDRESSES) throw new QuarantineRequestError(`at most ${MAX_ALLOW_ADDRESSES} allowed addresses`);
  if (ports.length > MAX_ALLOW_PORTS) throw new QuarantineRequestError(`at most ${MAX_ALLOW_PORTS} allowed ports`);
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const address of allow) {
    // isIP accepts a zone id ("fe80::1%eth0"); the firewalls take addresses only.
    if (typeof address !== 'string' || address.length > 64 || address.includes('%'))
      throw new QuarantineRequestError(`not an IP address: ${shown(address)}`);
    const family = isIP(address);
    if (family === 4) v4.add(address);
    else if (family === 6) v6.add(address.toLowerCase());
    else throw new QuarantineRequestError(`not an IP address: ${shown(address)}`);
  }
  const portSet = new Set<number>();
  for (const port of ports) {
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new QuarantineRequestError(`not a TCP port: ${shown(port)}`);
    portSet.add(port);
  }
  return { v4: [...v4], v6: [...v6], ports: [...portSet].sort((a, b) => a - b) };
}

// ------------------------------------------------------------------ ranges (Windows Firewall)

const V4_MAX = 0xffff_ffffn;
const V6_MAX = (1n << 128n) - 1n;

export function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** The 128-bit value of an IPv6 address that isIP accepted (`::` and a dotted-quad tail allowed). */
export function ipv6ToBigInt(address: string): bigint {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBigInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  if (groups.length !== 8) throw new RangeError(`not an IPv6 address: ${shown(address)}`);
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

export function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** Eight groups, no `::` shortening: unambiguous for every parser. */
export function formatIpv6(value: bigint): string {
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  return groups.join(':');
}

/** The gaps in [min, max] left by `excluded` (inclusive intervals, any order, may overlap). */
export function complementRanges(excluded: ReadonlyArray<readonly [bigint, bigint]>, min: bigint, max: bigint): Array<[bigint, bigint]> {
  const sorted = [...excluded].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const gaps: Array<[bigint, bigint]> = [];
  let next = min;
  for (const [lo, hi] of sorted) {
    if (hi < next) continue;
    if (lo > next) gaps.push([next, lo - 1n]);
    if (hi >= max) return gaps;
    next = hi + 1n;
  }
  if (next <= max) gaps.push([next, max]);
  return gaps;
}

const LOOPBACK_V4: readonly [bigint, bigint] = [ipv4ToBigInt('127.0.0.0'), ipv4ToBigInt('127.255.255.255')];
const LOOPBACK_V6: readonly [bigint, bigint] = [1n, 1n];

function rangeText(lo: bigint, hi: bigint, format: (v: bigint) => string): string {
  return lo === hi ? format(lo) : `${format(lo)}-${format(hi)}`;
}

/**
 * Every address except the allowed ones and loopback, as Windows Firewall address ranges
 * ("a-b" or a single address), IPv4 first. A block rule on these wins over any allow rule.
 */
export function addressesOutside(list: AllowList): string[] {
  const v4 = complementRanges([LOOPBACK_V4, ...list.v4.map((a) => [ipv4ToBigInt(a), ipv4ToBigInt(a)] as const)], 0n, V4_MAX);
  const v6 = complementRanges([LOOPBACK_V6, ...list.v6.map((a) => [ipv6ToBigInt(a), ipv6ToBigInt(a)] as const)], 0n, V6_MAX);
  return [...v4.map(([lo, hi]) => rangeText(lo, hi, formatIpv4)), ...v6.map(([lo, hi]) => rangeText(lo, hi, formatIpv6))];
}

/** Every TCP/UDP port except `ports`, as "a-b" or "a" (empty when `ports` is empty: nothing to exclude). */
export function portsOutside(ports: readonly number[]): string[] {
  if (ports.length === 0) return [];
  return complementRanges(
    ports.map((p) => [BigInt(p), BigInt(p)] as const),
    1n,
    65535n,
  ).map(([lo, hi]) => rangeText(lo, hi, String));
}
