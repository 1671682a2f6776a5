import { isIP } from 'node:net';

/**
 * Which server addresses a quarantined host may still reach. The server cannot reliably know its
 * own address as an agent sees it (NAT, proxies, several interfaces), so, in order:
 *  1. the addresses configured in BRIER_QUARANTINE_ALLOW, plus the host of BRIER_PUBLIC_URL when it
 *     is an IP literal; ports: the public URL's port (explicit, else 443/80 by scheme), else any;
 *  2. failing both, the local address and port of the agent's live connection (what the agent's
 *     packets are addressed to, so right unless a proxy sits in between).
 * Nothing at all (no configuration and the host offline) means no isolate order can be made safely.
 */
export interface QuarantineAddressConfig {
  publicUrl: string | undefined;
  quarantineAllow: readonly string[];
}

export interface Endpoint {
  address: string;
  port: number;
}

/** At most this many addresses fit an order (QuarantineOrder.allow maxItems). */
export const MAX_ALLOW = 16;

/**
 * One spelling per address: IPv4 dotted quads as they are, IPv6 compressed lower case (RFC 5952),
 * IPv4-mapped IPv6 as the IPv4 address, no zone, no brackets. Undefined when it is not an address.
 */
export function canonicalIp(text: string): string | undefined {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const kind = isIP(bare);
  if (kind === 4) return bare;
  if (kind !== 6) return undefined;
  let canonical: string;
  try {
    canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const hi = Number.parseInt(mapped[1] ?? '0', 16);
    const lo = Number.parseInt(mapped[2] ?? '0', 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return canonical;
}

export function quarantineEndpoints(config: QuarantineAddressConfig, local: Endpoint | undefined): { allow: string[]; ports: number[] } {
  const allow = new Set<string>();
  for (const a of config.quarantineAllow) {
    const ip = canonicalIp(a);
    if (ip) allow.add(ip);
  }
  let ports: number[] = [];
  if (config.publicUrl) {
    try {
      const url = new URL(config.publicUrl);
      const ip = canonicalIp(url.hostname);
      if (ip) allow.add(ip);
      ports = [url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80];
    } catch {
      // config.ts validated the URL; an unparsable one simply adds nothing.
    }
  }
  if (allow.size === 0 && local) {
    const ip = canonicalIp(local.address);
    if (ip) {
      allow.add(ip);
      if (ports.length === 0 && local.port > 0) ports = [local.port];
    }
  }
  return { allow: [...allow].slice(0, MAX_ALLOW), ports };
}
