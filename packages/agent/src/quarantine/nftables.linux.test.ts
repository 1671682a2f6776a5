// The scripts are checked as text and, when this runs as root with `ip` and `nft` (CI), loaded into
// a real kernel inside a throwaway network namespace. Failure outputs in __fixtures__/nft were
// captured from nft 1.0.6.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, failInCi, inNamespace, netnsRuns, netnsSkipReason } from '../../../../test/support/netns.js';
import { out, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import type { RunOptions } from '../run-command.js';
import { parseAllowList } from './allow-list.js';
import { NFT_RELEASE_SCRIPT, NFT_TABLE, NftablesFirewall, nftQuarantineScript } from './nftables.linux.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/nft/${name}`, import.meta.url), 'utf8');

describe('nftQuarantineScript', () => {
  it('replaces the table in one transaction and drops by default in every chain', () => {
    const script = nftQuarantineScript(parseAllowList(['10.0.0.5'], [8443]));
    const lines = script.split('\n');
    expect(lines.slice(1, 4)).toEqual([`table inet ${NFT_TABLE}`, `delete table inet ${NFT_TABLE}`, `table inet ${NFT_TABLE} {`]);
    expect(script.match(/policy drop;/g)).toHaveLength(3);
    expect(script).toContain('type filter hook input priority -10; policy drop;');
    expect(script).toContain('type filter hook forward priority -10; policy drop;');
    expect(script).toContain('type filter hook output priority -10; policy drop;');
    expect(script).toContain('iif "lo" accept');
    expect(script).toContain('oif "lo" accept');
  });

  it('lets out TCP to an IPv4 server on its ports, and in only its replies', () => {
    const script = nftQuarantineScript(parseAllowList(['10.0.0.5', '10.0.0.6'], [443, 8443]));
    expect(script).toContain('    ip daddr { 10.0.0.5, 10.0.0.6 } tcp dport { 443, 8443 } accept\n');
    expect(script).toContain('    ip saddr { 10.0.0.5, 10.0.0.6 } tcp sport { 443, 8443 } ct state established accept\n');
    expect(script).not.toContain('ip6 daddr');
  });

  it('writes IPv6 servers into ip6 rules', () => {
    const script = nftQuarantineScript(parseAllowList(['2001:db8::10'], [443]));
    expect(script).toContain('    ip6 daddr { 2001:db8::10 } tcp dport { 443 } accept\n');
    expect(script).toContain('    ip6 saddr { 2001:db8::10 } tcp sport { 443 } ct state established accept\n');
    expect(script).not.toMatch(/^\s+ip daddr/m);
  });

  it('allows any TCP port on the server when the order names no port', () => {
    const script = nftQuarantineScript(parseAllowList(['10.0.0.5', '2001:db8::10'], []));
    expect(script).toContain('    ip daddr { 10.0.0.5 } meta l4proto tcp accept\n');
    expect(script).toContain('    ip6 saddr { 2001:db8::10 } meta l4proto tcp ct state established accept\n');
    expect(script).not.toContain('dport {');
  });

  it('keeps no other established connection open, and allows neither DNS nor other UDP', () => {
    const script = nftQuarantineScript(parseAllowList(['10.0.0.5'], [443]));
    // The only blanket ct rule is for ICMP errors; an intruder's open session is cut.
    expect(script).not.toMatch(/^\s*ct state established(,related)? accept$/m);
    expect(script).not.toMatch(/dport 53\b/);
    expect(script.match(/^\s*udp .*accept$/gm)).toEqual([
      '    udp sport 67 udp dport 68 accept',
      '    udp sport 547 udp dport 546 accept',
      '    udp sport 68 udp dport 67 accept',
      '    udp sport 546 udp dport 547 accept',
    ]);
  });
});

describe('NftablesFirewall with recorded output', () => {
  it('loads the script on stdin with nft -f - (argument array, no shell)', async () => {
    const runner = scriptedRunner([{ cmd: 'nft', args: ['-f', '-'], reply: out('') }]);
    const result = await new NftablesFirewall({ run: runner.run }).isolate(['10.0.0.5'], [8443]);
    expect(result).toMatchObject({ ok: true });
    expect(result.detail).toContain('10.0.0.5');
    expect((runner.calls[0]?.opts as RunOptions | undefined)?.input).toBe(nftQuarantineScript(parseAllowList(['10.0.0.5'], [8443])));
  });

  it.each([
    ['an nft injection', ['10.0.0.5 } accept; flush ruleset; {']],
    ['a host name', ['brier.example.com']],
    ['no address at all', []],
  ])('refuses %s without running any command', async (_what, allow) => {
    const runner = scriptedRunner([]);
    const result = await new NftablesFirewall({ run: runner.run }).isolate(allow, [443]);
    expect(result).toMatchObject({ ok: false, code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });

  it('reports nft run without root as command-failed, quoting nft', async () => {
    const runner = scriptedRunner([{ cmd: 'nft', args: ['-f', '-'], reply: out('', 1, fixture('load-not-root.stderr.txt')) }]);
    const result = await new NftablesFirewall({ run: runner.run }).isolate(['10.0.0.5'], []);
    expect(result).toMatchObject({ ok: false, code: 'command-failed' });
    expect(result.detail).toContain('Operation not permitted');
  });

  it('reports a missing nft as tool-missing and a hung one as timeout', async () => {
    const missing = scriptedRunner([{ cmd: 'nft', args: ['-f', '-'], reply: { throws: 'ENOENT' } }]);
    expect(await new NftablesFirewall({ run: missing.run }).isolate(['10.0.0.5'], [])).toMatchObject({ ok: false, code: 'tool-missing' });
    const hung = scriptedRunner([{ cmd: 'nft', args: ['-f', '-'], reply: { throws: 'ETIMEDOUT' } }]);
    expect(await new NftablesFirewall({ run: hung.run }).release()).toMatchObject({ ok: false, code: 'timeout' });
  });

  it('releases by deleting only its own table, in a script that succeeds when there is none', async () => {
    const runner = scriptedRunner([{ cmd: 'nft', args: ['-f', '-'], reply: out('') }]);
    expect(await new NftablesFirewall({ run: runner.run }).release()).toMatchObject({ ok: true });
    expect((runner.calls[0]?.opts as RunOptions | undefined)?.input).toBe(NFT_RELEASE_SCRIPT);
    expect(NFT_RELEASE_SCRIPT).toBe('table inet brier_quarantine\ndelete table inet brier_quarantine\n');
  });

  it('reads isolated() from whether the table exists', async () => {
    const list = ['list', 'table', 'inet', NFT_TABLE];
    const runner = scriptedRunner([
      { cmd: 'nft', args: list, reply: out(fixture('list-isolated.stdout.txt')) },
      { cmd: 'nft', args: list, reply: out('', 1, fixture('list-missing.stderr.txt')) },
      { cmd: 'nft', args: list, reply: { throws: 'ENOENT' } },
    ]);
    const firewall = new NftablesFirewall({ run: runner.run });
    expect(await firewall.isolated()).toBe(true);
    expect(await firewall.isolated()).toBe(false);
    expect(await firewall.isolated()).toBe(false);
  });

  it('throws from isolated() when nft cannot tell (not root), rather than answer false', async () => {
    const runner = scriptedRunner([
      { cmd: 'nft', args: ['list', 'table', 'inet', NFT_TABLE], reply: out('', 1, fixture('list-not-root.stderr.txt')) },
    ]);
    await expect(new NftablesFirewall({ run: runner.run }).isolated()).rejects.toThrow(/Operation not permitted/);
  });
});

describe.skipIf(!netnsRuns())(`NftablesFirewall in a real kernel (${netnsSkipReason() ?? 'root, ip and nft present'})`, () => {
  let ns: Awaited<ReturnType<typeof createNamespace>> | undefined;
  beforeAll(async () => {
    failInCi();
    ns = await createNamespace();
  });
  afterAll(async () => {
    await ns?.remove();
  });

  it('loads IPv4, IPv6 and any-port isolations, replaces them, and releases idempotently', async () => {
    if (!ns) throw new Error('no namespace');
    const run = inNamespace(ns.name);
    const firewall = new NftablesFirewall({ run });
    expect(await firewall.isolated()).toBe(false);
    expect(await firewall.release()).toMatchObject({ ok: true });

    expect(await firewall.isolate(['10.0.0.5', '2001:db8::10', '::ffff:10.0.0.7'], [443, 8443])).toMatchObject({ ok: true });
    expect(await firewall.isolated()).toBe(true);
    const listed = (await run('nft', ['list', 'table', 'inet', NFT_TABLE])).stdout;
    expect(listed).toContain('ip daddr 10.0.0.5 tcp dport { 443, 8443 } accept');
    expect(listed).toMatch(/policy drop;[\s\S]*policy drop;[\s\S]*policy drop;/);

    // A second isolation replaces the first (no duplicate rules, no error).
    expect(await firewall.isolate(['10.0.0.9'], [])).toMatchObject({ ok: true });
    const replaced = (await run('nft', ['list', 'table', 'inet', NFT_TABLE])).stdout;
    expect(replaced).toContain('ip daddr 10.0.0.9 meta l4proto tcp accept');
    expect(replaced).not.toContain('10.0.0.5');

    expect(await firewall.release()).toMatchObject({ ok: true });
    expect(await firewall.isolated()).toBe(false);
    expect(await firewall.release()).toMatchObject({ ok: true });
  });
});
