/**
 * The macOS fixtures are RECONSTRUCTED by hand, not captured (no macOS host here), in the format
 * macOS 13/14 print: `arp -an` with one-digit octets, `ifscope`, `permanent` and `(incomplete)`;
 * `ndp -an` with its header, zones on link-local addresses, expiry times, `permanent`, and the
 * one-letter states (R, S, D, P, I).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandError, type CommandRunner } from '../../run-command.js';
import { ARP_ARGS, collectDarwinNeighbors, NDP_ARGS, parseArpAn, parseNdpAn } from './arp.darwin.js';
import { collectNeighbors } from './index.js';
import { normalizeNeighbors } from './normalize-neighbors.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('parseArpAn', () => {
  it('reads resolved entries, pads short octets and marks static ones permanent', () => {
    const result = normalizeNeighbors(parseArpAn(fixture('arp-an.txt')));
    expect(result.neighbors).toEqual([
      { ip: '10.211.55.2', mac: '00:1c:42:00:00:08', interface: 'bridge100' },
      { ip: '192.168.1.1', mac: '00:1c:42:00:00:18', interface: 'en0' },
      { ip: '192.168.1.20', mac: 'a4:83:e7:12:34:56', interface: 'en0' },
      { ip: '192.168.1.42', mac: '3c:22:fb:01:02:03', interface: 'en0', state: 'PERMANENT' },
      { ip: '169.254.12.7', mac: '8e:01:22:33:44:55', interface: 'en5' },
    ]);
    // (incomplete), broadcast, multicast.
    expect(result.skipped).toBe(3);
  });

  it('ignores lines of another shape', () => {
    expect(parseArpAn('arp: bogus: unknown host\n\n? (10.0.0.1) at\n')).toEqual([]);
  });
});

describe('parseNdpAn', () => {
  it('reads the letters as states, permanent entries as PERMANENT, and removes zones', () => {
    const result = normalizeNeighbors(parseNdpAn(fixture('ndp-an.txt')));
    expect(result.neighbors).toEqual([
      { ip: '2001:db8:1::1', mac: '00:1c:42:00:00:18', interface: 'en0', state: 'DELAY' },
      { ip: 'fd42:abcd::5', mac: 'e2:b4:01:02:03:04', interface: 'en0', state: 'PROBE' },
      { ip: 'fe80::1c:42ff:fe00:18', mac: '00:1c:42:00:00:18', interface: 'en0', state: 'STALE' },
      { ip: 'fe80::4a3:7bff:fe12:3456', mac: '06:a3:7b:12:34:56', interface: 'en0', state: 'REACHABLE' },
      { ip: 'fe80::aede:48ff:fe00:1122', mac: 'ac:de:48:00:11:22', interface: 'en0', state: 'PERMANENT' },
    ]);
    expect(result.skipped).toBe(2);
  });
});

describe('collectDarwinNeighbors', () => {
  const runner =
    (fail: Set<string>): CommandRunner =>
    async (cmd, args) => {
      if (fail.has(cmd)) throw new CommandError('ENOENT', cmd, `${cmd} missing`);
      expect(args).toEqual(cmd === 'arp' ? ARP_ARGS : NDP_ARGS);
      return { stdout: fixture(cmd === 'arp' ? 'arp-an.txt' : 'ndp-an.txt'), stderr: '', code: 0 };
    };

  it('reads both tables', async () => {
    const result = await collectNeighbors({ run: runner(new Set()), readFile: async () => '', platform: 'darwin' });
    expect(result.source).toBe('arp-ndp');
    expect(result.neighbors).toHaveLength(10);
  });

  it('keeps one table when the other tool fails, and fails only when both do', async () => {
    expect(await collectDarwinNeighbors(runner(new Set(['ndp'])))).toHaveLength(8);
    await expect(collectDarwinNeighbors(runner(new Set(['arp', 'ndp'])))).rejects.toMatchObject({
      name: 'NeighborsError',
      code: 'unavailable',
    });
  });
});
