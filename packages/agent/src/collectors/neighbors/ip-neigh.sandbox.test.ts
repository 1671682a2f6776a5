/**
 * The Linux collector against the REAL kernel tables. First this machine's own `ip -j neigh show`,
 * as the agent runs it. Then, as root, a network namespace of its own (removed afterwards; the
 * host's network is never touched) whose table is filled with `ip neigh replace`: the collector
 * runs there through `ip netns exec`, with `ip -j` and, with `ip` made to look missing, through the
 * /proc/net/arp fallback. Only states the kernel leaves alone are used (permanent, stale, failed),
 * so what the tests expect cannot change while they run.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { AgentMessages, Codec, ServerMessages } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, type CommandRunner, runCommand, stdoutOf } from '../../run-command.js';
import { collectNeighbors } from './index.js';
import { isDeviceMac } from './normalize-neighbors.js';

const exec = promisify(execFile);
const codec = new Codec(ServerMessages, AgentMessages);

async function ipSupportsJson(): Promise<boolean> {
  try {
    await exec('ip', ['-j', 'neigh', 'show']);
    return true;
  } catch {
    return false;
  }
}

const onLinux = process.platform === 'linux';
const hasIpJson = onLinux && (await ipSupportsJson());
const isRoot = process.getuid?.() === 0;

describe.skipIf(!hasIpJson)("this machine's neighbour table", () => {
  it('is read with `ip -j neigh`, and every entry is one the server accepts', async () => {
    const result = await collectNeighbors({ run: runCommand, readFile: (p) => readFile(p, 'utf8'), platform: 'linux' });
    expect(result.source).toBe('ip');
    expect(() => codec.encode('neighbors.report', { neighbors: result.neighbors })).not.toThrow();
    for (const n of result.neighbors) {
      expect(isDeviceMac(n.mac), n.mac).toBe(true);
      expect(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT']).toContain(n.state);
    }
  });
});

describe.skipIf(!hasIpJson || !isRoot)('a neighbour table in a network namespace', () => {
  const ns = `brier-nb-${process.pid}`;
  /** An interface name with an ESC in it: Linux allows control characters there. */
  const hostile = 'v\u001bx';

  const ip = (...args: string[]) => exec('ip', ['-n', ns, ...args]);
  /** Runs a command inside the namespace. */
  const inNs: CommandRunner = (cmd, args, opts) => runCommand('ip', ['netns', 'exec', ns, cmd, ...args], opts);
  const readInNs = async (path: string) => stdoutOf('cat', await inNs('cat', [path]));

  beforeAll(async () => {
    await exec('ip', ['netns', 'add', ns]);
    await ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0');
    await ip('link', 'add', hostile, 'type', 'veth', 'peer', 'name', 'peer1');
    for (const dev of ['eth0', 'peer0', hostile, 'peer1']) await ip('link', 'set', dev, 'up');
    await ip('addr', 'add', '10.31.0.2/24', 'dev', 'eth0');
    await ip('addr', 'add', 'fd31::2/64', 'dev', 'eth0', 'nodad');
    await ip('addr', 'add', '10.32.0.2/24', 'dev', hostile);
    const neigh = (addr: string, lladdr: string | undefined, dev: string, nud: string) =>
      ip('neigh', 'replace', addr, ...(lladdr ? ['lladdr', lladdr] : []), 'dev', dev, 'nud', nud);
    await neigh('10.31.0.1', '52:54:00:AB:CD:01', 'eth0', 'permanent');
    await neigh('10.31.0.5', '3c:22:fb:10:20:30', 'eth0', 'stale');
    await neigh('10.31.0.9', undefined, 'eth0', 'failed');
    await neigh('10.31.0.255', 'ff:ff:ff:ff:ff:ff', 'eth0', 'permanent');
    await neigh('10.31.0.12', '00:00:00:00:00:00', 'eth0', 'permanent');
    await neigh('224.0.0.251', '01:00:5e:00:00:fb', 'eth0', 'permanent');
    await neigh('fd31::1', '52:54:00:ab:cd:01', 'eth0', 'stale');
    await neigh('ff02::fb', '33:33:00:00:00:fb', 'eth0', 'permanent');
    await neigh('10.32.0.7', '02:aa:bb:cc:dd:ee', hostile, 'permanent');
  });

  afterAll(async () => {
    await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it('lists resolved unicast neighbours of both families and cleans the hostile interface name', async () => {
    const result = await collectNeighbors({ run: inNs, readFile: readInNs, platform: 'linux' });
    expect(result.source).toBe('ip');
    expect(result.neighbors).toEqual([
      { ip: '10.31.0.1', mac: '52:54:00:ab:cd:01', interface: 'eth0', state: 'PERMANENT' },
      { ip: '10.31.0.5', mac: '3c:22:fb:10:20:30', interface: 'eth0', state: 'STALE' },
      { ip: 'fd31::1', mac: '52:54:00:ab:cd:01', interface: 'eth0', state: 'STALE' },
      { ip: '10.32.0.7', mac: '02:aa:bb:cc:dd:ee', interface: 'vx', state: 'PERMANENT' },
    ]);
    expect(result).toMatchObject({ skipped: 5, invalid: 0, duplicates: 0, dropped: 0 });
    expect(() => codec.encode('neighbors.report', { neighbors: result.neighbors })).not.toThrow();
  });

  it('falls back to /proc/net/arp, IPv4 only, when ip is missing', async () => {
    const noIp: CommandRunner = async (cmd, args, opts) => {
      if (cmd === 'ip') throw new CommandError('ENOENT', 'ip', 'ip is not installed or not on PATH');
      return inNs(cmd, args, opts);
    };
    const result = await collectNeighbors({ run: noIp, readFile: readInNs, platform: 'linux' });
    expect(result.source).toBe('proc');
    expect(result.neighbors).toEqual([
      { ip: '10.31.0.1', mac: '52:54:00:ab:cd:01', interface: 'eth0', state: 'PERMANENT' },
      { ip: '10.31.0.5', mac: '3c:22:fb:10:20:30', interface: 'eth0' },
      { ip: '10.32.0.7', mac: '02:aa:bb:cc:dd:ee', interface: 'vx', state: 'PERMANENT' },
    ]);
  });
});
