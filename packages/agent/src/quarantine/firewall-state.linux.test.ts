import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { out, type ScriptedStep, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { type CommandRunner, runCommand } from '../run-command.js';
import {
  iptablesState,
  linuxFirewallState,
  nftState,
  nftVerdict,
  parseIptablesInput,
  parseNftInputChains,
  parseUfwStatus,
  ufwState,
} from './firewall-state.linux.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/firewall-state/${name}`, import.meta.url), 'utf8');
const NFT: ScriptedStep['args'] = ['-j', 'list', 'ruleset'];
const IPT: ScriptedStep['args'] = ['-S', 'INPUT'];
const UFW: ScriptedStep['args'] = ['status'];
const missing = { throws: 'ENOENT' } as const;

describe('parseNftInputChains (captured nft -j output)', () => {
  it('finds an input chain with policy drop and its three rules', () => {
    expect(parseNftInputChains(fixture('nft-input-drop.json'))).toEqual([
      { family: 'inet', table: 'filter', name: 'input', policy: 'drop', rules: 3 },
    ]);
  });

  it('finds an iptables-nft style INPUT chain with policy accept and one rule, ignoring nat chains', () => {
    expect(parseNftInputChains(fixture('nft-input-accept-with-rule.json'))).toEqual([
      { family: 'ip', table: 'filter', name: 'INPUT', policy: 'accept', rules: 1 },
    ]);
  });

  it('finds nothing in an empty ruleset or one without an input hook', () => {
    expect(parseNftInputChains(fixture('nft-empty.json'))).toEqual([]);
    expect(parseNftInputChains(fixture('nft-no-input-chain.json'))).toEqual([]);
  });

  it('throws on output that is not nft JSON', () => {
    expect(() => parseNftInputChains('table inet filter {')).toThrow(/not JSON/);
    expect(() => parseNftInputChains('{"tables": []}')).toThrow(/no "nftables" array/);
  });
});

describe('nftVerdict', () => {
  it('is on for a drop policy or any rule, off for accept chains without rules', () => {
    expect(nftVerdict(parseNftInputChains(fixture('nft-input-drop.json')))).toMatchObject({
      enabled: true,
      detail: expect.stringContaining('inet filter input policy drop, 3 rules'),
    });
    expect(nftVerdict(parseNftInputChains(fixture('nft-input-accept-with-rule.json')))).toMatchObject({ enabled: true });
    expect(nftVerdict(parseNftInputChains(fixture('nft-accept-empty.json')))).toMatchObject({
      enabled: false,
      detail: expect.stringContaining('all accept'),
    });
    expect(nftVerdict([])).toMatchObject({ enabled: false, detail: 'nftables: no input chain' });
  });
});

describe('iptables and ufw parsers (reconstructed output)', () => {
  it('reads the INPUT policy and counts its rules', () => {
    expect(parseIptablesInput(fixture('iptables-s-input-drop.txt'))).toEqual({ policy: 'DROP', rules: 3 });
    expect(parseIptablesInput(fixture('iptables-s-input-accept.txt'))).toEqual({ policy: 'ACCEPT', rules: 0 });
    expect(parseIptablesInput(fixture('iptables-s-input-accept-with-rule.txt'))).toEqual({ policy: 'ACCEPT', rules: 1 });
  });

  it('reads ufw status active and inactive, and null for anything else', () => {
    expect(parseUfwStatus(fixture('ufw-status-active.txt'))).toBe(true);
    expect(parseUfwStatus(fixture('ufw-status-inactive.txt'))).toBe(false);
    expect(parseUfwStatus(fixture('ufw-not-root.stderr.txt'))).toBeNull();
  });
});

describe('the single-tool checks', () => {
  it('cannot tell from nft when it is not run as root', async () => {
    const { run } = scriptedRunner([{ cmd: 'nft', args: NFT, reply: out('', 1, fixture('nft-not-root.stderr.txt')) }]);
    expect(await nftState(run)).toMatchObject({ enabled: null, detail: expect.stringContaining('Operation not permitted') });
  });

  it('cannot tell from iptables when it is not run as root', async () => {
    const { run } = scriptedRunner([{ cmd: 'iptables', args: IPT, reply: out('', 4, fixture('iptables-not-root.stderr.txt')) }]);
    expect(await iptablesState(run)).toMatchObject({ enabled: null, detail: expect.stringContaining('Permission denied') });
  });

  it('reports iptables with an accepting, empty INPUT chain as off', async () => {
    const { run } = scriptedRunner([{ cmd: 'iptables', args: IPT, reply: out(fixture('iptables-s-input-accept.txt')) }]);
    expect(await iptablesState(run)).toMatchObject({ enabled: false, detail: 'iptables: INPUT policy ACCEPT, 0 rules' });
  });

  it('cannot tell from ufw when it is not run as root', async () => {
    const { run } = scriptedRunner([{ cmd: 'ufw', args: UFW, reply: out('', 1, fixture('ufw-not-root.stderr.txt')) }]);
    expect(await ufwState(run)).toMatchObject({ enabled: null });
  });
});

describe('linuxFirewallState', () => {
  it('stops at nftables when it shows an input chain that drops', async () => {
    const runner = scriptedRunner([{ cmd: 'nft', args: NFT, reply: out(fixture('nft-input-drop.json')) }]);
    expect(await linuxFirewallState(runner.run)).toMatchObject({ enabled: true, detail: expect.stringContaining('nftables') });
    expect(runner.remaining()).toEqual([]);
  });

  it('asks legacy iptables when nftables shows nothing', async () => {
    const runner = scriptedRunner([
      { cmd: 'nft', args: NFT, reply: out(fixture('nft-empty.json')) },
      { cmd: 'iptables', args: IPT, reply: out(fixture('iptables-s-input-drop.txt')) },
    ]);
    expect(await linuxFirewallState(runner.run)).toEqual({ enabled: true, detail: 'iptables: INPUT policy DROP, 3 rules' });
  });

  it('asks ufw last', async () => {
    const runner = scriptedRunner([
      { cmd: 'nft', args: NFT, reply: missing },
      { cmd: 'iptables', args: IPT, reply: missing },
      { cmd: 'ufw', args: UFW, reply: out(fixture('ufw-status-active.txt')) },
    ]);
    expect(await linuxFirewallState(runner.run)).toEqual({ enabled: true, detail: 'ufw: active' });
  });

  it('is off with every finding in the detail when no tool says on', async () => {
    const runner = scriptedRunner([
      { cmd: 'nft', args: NFT, reply: out(fixture('nft-accept-empty.json')) },
      { cmd: 'iptables', args: IPT, reply: missing },
      { cmd: 'ufw', args: UFW, reply: out(fixture('ufw-status-inactive.txt')) },
    ]);
    expect(await linuxFirewallState(runner.run)).toEqual({
      enabled: false,
      detail: 'nftables: 1 input chain(s), all accept with no rules; ufw: inactive',
    });
  });

  it('says so when none of the tools is installed', async () => {
    const runner = scriptedRunner([
      { cmd: 'nft', args: NFT, reply: missing },
      { cmd: 'iptables', args: IPT, reply: missing },
      { cmd: 'ufw', args: UFW, reply: missing },
    ]);
    expect(await linuxFirewallState(runner.run)).toEqual({ enabled: false, detail: 'no firewall tool found (nft, iptables, ufw)' });
  });
});

/**
 * The real thing, without touching the host's own firewall: a network namespace of our own, nft
 * run inside it through `ip netns exec`, removed afterwards. Needs root, nft and ip.
 */
const hasTool = (cmd: string, args: string[]) => spawnSync(cmd, args).error === undefined;
const canNamespace = process.platform === 'linux' && process.getuid?.() === 0 && hasTool('nft', ['--version']) && hasTool('ip', ['-V']);
const NS = `brier-fwstate-${process.pid}`;

describe.runIf(canNamespace)('linuxFirewallState against a real nftables in a throwaway network namespace', () => {
  const inNamespace: CommandRunner = (cmd, args, opts) => runCommand('ip', ['netns', 'exec', NS, cmd, ...args], opts);

  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', NS]);
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', NS]);
  });

  it('is off with an empty ruleset, on after loading an input chain that drops, off again after a flush', async () => {
    const before = await linuxFirewallState(inNamespace);
    expect(before.enabled).toBe(false);
    expect(before.detail).toContain('nftables: no input chain');

    execFileSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], {
      input:
        'table inet brier_state_test {\n chain input {\n  type filter hook input priority filter; policy drop;\n  iif "lo" accept\n }\n}\n',
    });
    expect(await linuxFirewallState(inNamespace)).toEqual({
      enabled: true,
      detail: 'nftables: inet brier_state_test input policy drop, 1 rule',
    });

    execFileSync('ip', ['netns', 'exec', NS, 'nft', 'flush', 'ruleset']);
    expect((await linuxFirewallState(inNamespace)).enabled).toBe(false);
  });
});
