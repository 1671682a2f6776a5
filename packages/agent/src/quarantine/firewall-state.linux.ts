import type { FirewallState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, firstLineOf, oneLine } from '../services/action-result.js';

/** One tool's opinion: enabled, not enabled, or null when it could not tell (missing, no permission). */
export interface FirewallVerdict {
  tool: 'nft' | 'iptables' | 'ufw';
  enabled: boolean | null;
  detail: string;
  /** The tool is not installed. */
  missing?: boolean;
}

export interface InputChain {
  family: string;
  table: string;
  name: string;
  policy: string;
  rules: number;
}

/** Families whose `input` hook filters traffic to this host (bridge and netdev hooks see other traffic). */
const HOST_FAMILIES = new Set(['ip', 'ip6', 'inet']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The filter base chains on the input hook in `nft -j list ruleset` output, with their policy and
 * rule count. Throws when the text is not nft's JSON document.
 */
export function parseNftInputChains(text: string): InputChain[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error('nft printed something that is not JSON', { cause: err });
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.nftables)) throw new Error('nft JSON has no "nftables" array');
  const chains = new Map<string, InputChain>();
  const key = (family: unknown, table: unknown, name: unknown) => `${String(family)}\0${String(table)}\0${String(name)}`;
  for (const item of parsed.nftables) {
    if (!isRecord(item) || !isRecord(item.chain)) continue;
    const c = item.chain;
    if (c.hook !== 'input' || c.type !== 'filter' || typeof c.family !== 'string' || !HOST_FAMILIES.has(c.family)) continue;
    chains.set(key(c.family, c.table, c.name), {
      family: c.family,
      table: String(c.table),
      name: String(c.name),
      policy: typeof c.policy === 'string' ? c.policy : 'accept',
      rules: 0,
    });
  }
  for (const item of parsed.nftables) {
    if (!isRecord(item) || !isRecord(item.rule)) continue;
    const chain = chains.get(key(item.rule.family, item.rule.table, item.rule.chain));
    if (chain) chain.rules++;
  }
  return [...chains.values()];
}

/** Filtering is on when an input chain drops by default or has any rule. */
export function nftVerdict(chains: readonly InputChain[]): FirewallVerdict {
  const active = chains.filter((c) => c.policy === 'drop' || c.rules > 0);
  if (active.length === 0) {
    return {
      tool: 'nft',
      enabled: false,
      detail: chains.length ? `nftables: ${chains.length} input chain(s), all accept with no rules` : 'nftables: no input chain',
    };
  }
  const shown = active.map((c) => `${c.family} ${c.table} ${c.name} policy ${c.policy}, ${c.rules} rule${c.rules === 1 ? '' : 's'}`);
  return { tool: 'nft', enabled: true, detail: `nftables: ${shown.join('; ')}` };
}

/** `iptables -S INPUT`: `-P INPUT <policy>` and one `-A INPUT …` line per rule. */
export function parseIptablesInput(text: string): { policy: string | null; rules: number } {
  let policy: string | null = null;
  let rules = 0;
  for (const line of text.split(/\r?\n/)) {
    const p = /^-P INPUT (\S+)/.exec(line);
    if (p?.[1]) policy = p[1];
    else if (line.startsWith('-A INPUT ')) rules++;
  }
  return { policy, rules };
}

/** `ufw status`: the first line says "Status: active" or "Status: inactive" (not translated). */
export function parseUfwStatus(text: string): boolean | null {
  const match = /^Status:\s*(active|inactive)\b/m.exec(text);
  return match ? match[1] === 'active' : null;
}

const TIMEOUT_MS = 30_000;

export async function nftState(run: CommandRunner): Promise<FirewallVerdict> {
  const ran = await attempt(run, 'nft', ['-j', 'list', 'ruleset'], { timeoutMs: TIMEOUT_MS });
  if (ran.failure)
    return { tool: 'nft', enabled: null, detail: `nftables: ${ran.failure.detail}`, missing: ran.failure.code === 'tool-missing' };
  if (ran.result.code !== 0) return { tool: 'nft', enabled: null, detail: `nftables: nft failed: ${firstLineOf(ran.result)}` };
  try {
    return nftVerdict(parseNftInputChains(ran.result.stdout));
  } catch (err) {
    return { tool: 'nft', enabled: null, detail: `nftables: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export async function iptablesState(run: CommandRunner): Promise<FirewallVerdict> {
  const ran = await attempt(run, 'iptables', ['-S', 'INPUT'], { timeoutMs: TIMEOUT_MS });
  if (ran.failure) {
    return { tool: 'iptables', enabled: null, detail: `iptables: ${ran.failure.detail}`, missing: ran.failure.code === 'tool-missing' };
  }
  if (ran.result.code !== 0) return { tool: 'iptables', enabled: null, detail: `iptables: failed: ${firstLineOf(ran.result)}` };
  const { policy, rules } = parseIptablesInput(ran.result.stdout);
  if (policy === null) return { tool: 'iptables', enabled: null, detail: 'iptables: no INPUT policy in the output' };
  // REJECT is not a valid chain policy in iptables, but some wrappers print it; treat it as DROP.
  const enabled = policy === 'DROP' || policy === 'REJECT' || rules > 0;
  return { tool: 'iptables', enabled, detail: `iptables: INPUT policy ${policy}, ${rules} rule${rules === 1 ? '' : 's'}` };
}

export async function ufwState(run: CommandRunner): Promise<FirewallVerdict> {
  const ran = await attempt(run, 'ufw', ['status'], { timeoutMs: TIMEOUT_MS });
  if (ran.failure)
    return { tool: 'ufw', enabled: null, detail: `ufw: ${ran.failure.detail}`, missing: ran.failure.code === 'tool-missing' };
  const active = ran.result.code === 0 ? parseUfwStatus(ran.result.stdout) : null;
  if (active === null) return { tool: 'ufw', enabled: null, detail: `ufw: cannot tell: ${firstLineOf(ran.result)}` };
  return { tool: 'ufw', enabled: active, detail: `ufw: ${active ? 'active' : 'inactive'}` };
}

/**
 * Whether the Linux host filters incoming traffic: nftables (which also shows iptables-nft rules),
 * then legacy iptables, then ufw; the first that says "on" decides. All tools missing or unable to
 * tell: off, saying why. Read-only; nothing is changed.
 */
export async function linuxFirewallState(run: CommandRunner): Promise<FirewallState> {
  const verdicts: FirewallVerdict[] = [];
  for (const check of [nftState, iptablesState, ufwState]) {
    const verdict = await check(run);
    verdicts.push(verdict);
    if (verdict.enabled === true) return { enabled: true, detail: oneLine(verdict.detail, 400) };
  }
  if (verdicts.every((v) => v.missing)) return { enabled: false, detail: 'no firewall tool found (nft, iptables, ufw)' };
  return {
    enabled: false,
    detail: oneLine(
      verdicts
        .filter((v) => !v.missing)
        .map((v) => v.detail)
        .join('; '),
      400,
    ),
  };
}
