// pf cannot run on the Linux test machine. The outputs in __fixtures__/pf/ that the tests play back
// were RECONSTRUCTED by hand in the format macOS pfctl prints (its manual page and published
// transcripts); they were NOT captured on a Mac.
import { readFile, rm } from 'node:fs/promises';
import type { ActionResult, FirewallControl, FirewallState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { type AllowList, parseAllowList, QuarantineRequestError } from './allow-list.js';
import { exitFailure, oneLine, runFirewallCommand } from './firewall-command.js';

/**
 * The anchor the rules live in. The stock /etc/pf.conf of macOS evaluates `anchor "com.apple/*"`
 * and nothing else, so rules in a top-level anchor of our own would be loaded but never consulted;
 * a sub-anchor of com.apple is, without editing pf.conf (which macOS updates put back).
 */
export const PF_ANCHOR = 'com.apple/brier-quarantine';
/** The last rule of the anchor; its presence is what `isolated()` looks for. */
const FINAL_RULE = 'block drop quick all';

export interface PfFirewallDeps {
  run: CommandRunner;
  /** Default `/sbin/pfctl`. */
  command?: string;
  /**
   * Where the reference token of `pfctl -E` is kept between agent runs, so the release gives back
   * exactly the reference the isolation took (`pfctl -X`), leaving pf as enabled as it was before.
   * Without it the token lives in memory only.
   */
  tokenFile?: string;
  state?: () => Promise<FirewallState>;
}

const list = (items: readonly (string | number)[]) => `{ ${items.join(', ')} }`;

/**
 * The anchor's rules for one isolation. Every rule is `quick`, so the first match decides and
 * nothing later in the main ruleset can pass what the final block drops. The Brier channel passes
 * statelessly (`no state`, both directions): pf's TCP state needs the handshake to know window
 * scaling, and the agent's WebSocket was opened long before, so a state created mid-stream could
 * drop its packets; stateless rules also survive the state flush that cuts everyone else's open
 * connections. Neighbour discovery and the DHCP client pass as on Linux; DNS does not.
 */
export function pfQuarantineRules(allowList: AllowList): string {
  const addresses = [...allowList.v4, ...allowList.v6];
  if (addresses.length === 0) throw new QuarantineRequestError('no allowed address');
  const port = allowList.ports.length > 0 ? ` port ${list(allowList.ports)}` : '';
  return [
    '# Brier quarantine, written by brier-agent: everything is dropped except loopback and the Brier server.',
    'pass quick on lo0 all no state',
    `pass out quick proto tcp from any to ${list(addresses)}${port} flags any no state`,
    `pass in quick proto tcp from ${list(addresses)}${port} to any flags any no state`,
    'pass out quick inet6 proto ipv6-icmp all icmp6-type { neighbrsol, neighbradv, routersol } no state',
    'pass in quick inet6 proto ipv6-icmp all icmp6-type { neighbrsol, neighbradv, routeradv } no state',
    'pass out quick inet proto udp from any port 68 to any port 67 no state',
    'pass in quick inet proto udp from any port 67 to any port 68 no state',
    'pass out quick inet6 proto udp from any port 546 to any port 547 no state',
    'pass in quick inet6 proto udp from any port 547 to any port 546 no state',
    FINAL_RULE,
    '',
  ].join('\n');
}

/** `pfctl -E` prints "Token : 1234…" (on stderr, with its other chatter). */
export function parsePfToken(output: string): string | undefined {
  return /^Token\s*:\s*([0-9]{1,20})\s*$/m.exec(output)?.[1];
}

/** `pfctl -s info` starts with "Status: Enabled for …" or "Status: Disabled". */
export function pfEnabled(output: string): boolean {
  return /^Status:\s*Enabled\b/m.test(output);
}

/**
 * Quarantine with pf (macOS): the rules go into their own anchor, loaded with `pfctl -a ANCHOR -f -`
 * (one transaction), pf is enabled with a reference token (`pfctl -E`) so the release can give its
 * reference back without switching off a pf someone else enabled, and the state table is flushed so
 * open connections other than the Brier channel are cut.
 */
export class PfFirewall implements FirewallControl {
  readonly kind = 'pf';
  private readonly command: string;
  private token: string | undefined;

  constructor(private readonly deps: PfFirewallDeps) {
    this.command = deps.command ?? '/sbin/pfctl';
  }

  async state(): Promise<FirewallState> {
    if (this.deps.state) return this.deps.state();
    const { result } = await runFirewallCommand(this.deps.run, this.command, ['-s', 'info']);
    const enabled = result?.code === 0 && pfEnabled(result.stdout);
    return { enabled, detail: enabled ? 'pf enabled' : 'pf disabled or unreadable' };
  }

  private async savedToken(): Promise<string | undefined> {
    if (this.token !== undefined || !this.deps.tokenFile) return this.token;
    try {
      const text = (await readFile(this.deps.tokenFile, 'utf8')).trim();
      this.token = /^[0-9]{1,20}$/.test(text) ? text : undefined;
    } catch {
      this.token = undefined;
    }
    return this.token;
  }

  private async saveToken(token: string | undefined): Promise<void> {
    this.token = token;
    if (!this.deps.tokenFile) return;
    if (token === undefined) await rm(this.deps.tokenFile, { force: true });
    else writeFileAtomic(this.deps.tokenFile, `${token}\n`);
  }

  async isolate(allow: readonly string[], ports: readonly number[]): Promise<ActionResult> {
    let rules: string;
    try {
      rules = pfQuarantineRules(parseAllowList(allow, ports));
    } catch (err) {
      if (err instanceof QuarantineRequestError) return { ok: false, code: err.code, detail: err.message };
      throw err;
    }
    const load = await runFirewallCommand(this.deps.run, this.command, ['-a', PF_ANCHOR, '-f', '-'], rules);
    if (load.failure) return load.failure;
    if (load.result.code !== 0) return exitFailure(this.command, load.result);

    // Take a reference unless ours is still held (a re-isolation, or the agent restarted without a reboot).
    const info = await runFirewallCommand(this.deps.run, this.command, ['-s', 'info']);
    if (info.failure) return info.failure;
    if (!(await this.savedToken()) || !pfEnabled(info.result.stdout)) {
      const enable = await runFirewallCommand(this.deps.run, this.command, ['-E']);
      if (enable.failure) return enable.failure;
      if (enable.result.code !== 0) return exitFailure(this.command, enable.result);
      const token = parsePfToken(`${enable.result.stdout}\n${enable.result.stderr}`);
      if (!token) return { ok: false, code: 'command-failed', detail: `${this.command} -E printed no reference token` };
      await this.saveToken(token);
    }

    const flush = await runFirewallCommand(this.deps.run, this.command, ['-F', 'states']);
    if (flush.failure) return flush.failure;
    if (flush.result.code !== 0) return exitFailure(this.command, flush.result);
    return { ok: true, detail: `pf anchor ${PF_ANCHOR} loaded: only ${allow.join(', ')} and loopback pass` };
  }

  async release(): Promise<ActionResult> {
    const flush = await runFirewallCommand(this.deps.run, this.command, ['-a', PF_ANCHOR, '-F', 'rules']);
    if (flush.failure) return flush.failure;
    if (flush.result.code !== 0) return exitFailure(this.command, flush.result);
    const token = await this.savedToken();
    if (token === undefined) return { ok: true, detail: `pf anchor ${PF_ANCHOR} emptied` };
    const give = await runFirewallCommand(this.deps.run, this.command, ['-X', token]);
    await this.saveToken(undefined);
    // A token from before a reboot is unknown to pf: the rules are gone, which is what matters.
    const note =
      give.result?.code === 0
        ? 'pf reference released'
        : `pf reference not released (${oneLine(give.result?.stderr ?? give.failure?.detail ?? '', 120)})`;
    return { ok: true, detail: `pf anchor ${PF_ANCHOR} emptied; ${note}` };
  }

  /** The anchor holds the quarantine rules and pf is enabled. Throws when pfctl cannot tell. */
  async isolated(): Promise<boolean> {
    const rules = await runFirewallCommand(this.deps.run, this.command, ['-a', PF_ANCHOR, '-s', 'rules']);
    if (rules.failure) {
      if (rules.failure.code === 'tool-missing') return false;
      throw new Error(rules.failure.detail);
    }
    if (rules.result.code !== 0) throw new Error(exitFailure(this.command, rules.result).detail);
    if (!rules.result.stdout.split('\n').some((line) => line.trim() === FINAL_RULE)) return false;
    const info = await runFirewallCommand(this.deps.run, this.command, ['-s', 'info']);
    if (info.failure) throw new Error(info.failure.detail);
    return info.result.code === 0 && pfEnabled(info.result.stdout);
  }
}
