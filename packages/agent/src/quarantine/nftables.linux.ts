import type { ActionResult, FirewallControl, FirewallState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { type AllowList, parseAllowList, QuarantineRequestError } from './allow-list.js';
import { exitFailure, runFirewallCommand } from './firewall-command.js';

/** The agent's own table: nothing else is touched, and deleting it is the whole release. */
export const NFT_TABLE = 'brier_quarantine';
export const NFT_FAMILY = 'inet';

export interface NftablesFirewallDeps {
  run: CommandRunner;
  /** Default `nft`. */
  command?: string;
  /** Whether a host firewall is on (the firewall-enabled policy rule); default: not known. */
  state?: () => Promise<FirewallState>;
}

const set = (items: readonly (string | number)[]) => `{ ${items.join(', ')} }`;

/**
 * The rules for one isolation, as one nft script. Loaded with `nft -f -` it is a single kernel
 * transaction: the first two lines create the table if it is missing and then delete it, so the
 * third replaces any earlier isolation at once (no moment with no rules, no error when there was none).
 *
 * What passes (everything else is dropped, in both directions and when forwarded):
 * - loopback;
 * - TCP to the allowed addresses (on `ports`, or any port), and from them only as part of a
 *   connection already established (their replies). This is the Brier channel: the agent's open
 *   WebSocket is such a connection, and a reconnect goes to an allowed address. Established
 *   connections to anyone else are cut, not kept: an intruder's open session must not survive the
 *   quarantine, so there is no blanket `ct state established accept`;
 * - ICMP errors related to tracked connections (path MTU discovery for the Brier channel);
 * - IPv6 neighbour discovery (without it an IPv6 server on the same link becomes unreachable);
 *   ARP is not filtered by the inet family at all;
 * - DHCP and DHCPv6 client traffic, so the host keeps its address and with it the Brier channel.
 * DNS is not allowed: the order names the server by address, so no lookup is needed to reach it.
 * The forward chain drops everything, so containers or VMs behind the host are cut off as well.
 */
export function nftQuarantineScript(list: AllowList): string {
  if (list.v4.length + list.v6.length === 0) throw new QuarantineRequestError('no allowed address');
  const dport = list.ports.length > 0 ? `tcp dport ${set(list.ports)}` : 'meta l4proto tcp';
  const sport = list.ports.length > 0 ? `tcp sport ${set(list.ports)}` : 'meta l4proto tcp';
  const out: string[] = [];
  const into: string[] = [];
  if (list.v4.length > 0) {
    out.push(`    ip daddr ${set(list.v4)} ${dport} accept`);
    into.push(`    ip saddr ${set(list.v4)} ${sport} ct state established accept`);
  }
  if (list.v6.length > 0) {
    out.push(`    ip6 daddr ${set(list.v6)} ${dport} accept`);
    into.push(`    ip6 saddr ${set(list.v6)} ${sport} ct state established accept`);
  }
  return [
    '# Brier quarantine, written by brier-agent: everything is dropped except loopback and the Brier server.',
    `table ${NFT_FAMILY} ${NFT_TABLE}`,
    `delete table ${NFT_FAMILY} ${NFT_TABLE}`,
    `table ${NFT_FAMILY} ${NFT_TABLE} {`,
    '  chain input {',
    '    type filter hook input priority -10; policy drop;',
    '    iif "lo" accept',
    ...into,
    '    ct state related meta l4proto { icmp, ipv6-icmp } accept',
    '    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept',
    '    udp sport 67 udp dport 68 accept',
    '    udp sport 547 udp dport 546 accept',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority -10; policy drop;',
    '  }',
    '  chain output {',
    '    type filter hook output priority -10; policy drop;',
    '    oif "lo" accept',
    ...out,
    '    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept',
    '    udp sport 68 udp dport 67 accept',
    '    udp sport 546 udp dport 547 accept',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Removes the table in one transaction; creating it first makes the delete succeed when there is none. */
export const NFT_RELEASE_SCRIPT = `table ${NFT_FAMILY} ${NFT_TABLE}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`;

/** nft's answer when the table is not there ("Error: No such file or directory; did you mean …"). */
const NO_SUCH_TABLE = /No such file or directory/;

/**
 * Quarantine with nftables (Linux): a dedicated `inet brier_quarantine` table whose base chains drop
 * by default. The table lives in the kernel, so it outlasts the agent; a reboot clears it, and the
 * quarantine manager loads it again at agent start while its state says isolated.
 */
export class NftablesFirewall implements FirewallControl {
  readonly kind = 'nftables';
  private readonly command: string;

  constructor(private readonly deps: NftablesFirewallDeps) {
    this.command = deps.command ?? 'nft';
  }

  async state(): Promise<FirewallState> {
    if (this.deps.state) return this.deps.state();
    return { enabled: await this.isolated(), detail: 'only the Brier quarantine table is inspected here' };
  }

  async isolate(allow: readonly string[], ports: readonly number[]): Promise<ActionResult> {
    let script: string;
    try {
      script = nftQuarantineScript(parseAllowList(allow, ports));
    } catch (err) {
      if (err instanceof QuarantineRequestError) return { ok: false, code: err.code, detail: err.message };
      throw err;
    }
    const { result, failure } = await runFirewallCommand(this.deps.run, this.command, ['-f', '-'], script);
    if (failure) return failure;
    if (result.code !== 0) return exitFailure(this.command, result);
    const ports_ = ports.length > 0 ? `TCP ports ${[...new Set(ports)].join(', ')}` : 'any TCP port';
    return { ok: true, detail: `nftables table ${NFT_FAMILY} ${NFT_TABLE} loaded: only ${allow.join(', ')} (${ports_}) and loopback pass` };
  }

  async release(): Promise<ActionResult> {
    const { result, failure } = await runFirewallCommand(this.deps.run, this.command, ['-f', '-'], NFT_RELEASE_SCRIPT);
    if (failure) return failure;
    if (result.code !== 0) return exitFailure(this.command, result);
    return { ok: true, detail: `nftables table ${NFT_FAMILY} ${NFT_TABLE} removed` };
  }

  /** Whether the table exists. Throws when nft cannot tell (not root, broken nft); false when nft is missing. */
  async isolated(): Promise<boolean> {
    const { result, failure } = await runFirewallCommand(this.deps.run, this.command, ['list', 'table', NFT_FAMILY, NFT_TABLE]);
    if (failure) {
      if (failure.code === 'tool-missing') return false;
      throw new Error(failure.detail);
    }
    if (result.code === 0) return true;
    if (NO_SUCH_TABLE.test(result.stderr)) return false;
    throw new Error(exitFailure(this.command, result).detail);
  }
}
