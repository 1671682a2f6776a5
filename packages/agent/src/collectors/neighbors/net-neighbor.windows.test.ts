/**
 * The Get-NetNeighbor fixtures are RECONSTRUCTED by hand, not captured (no Windows host here): they
 * are what GET_NET_NEIGHBOR_SCRIPT prints (`ConvertTo-Json -Compress`, State as its name) for a
 * typical Windows 11 table: multicast groups and broadcast as Permanent entries, unresolved
 * neighbours as Unreachable with 00-00-00-00-00-00 or Incomplete with no address, a loopback entry
 * without one, a Hyper-V (WSL) switch, a VPN adapter without link layer, and a Wi-Fi alias with a
 * non-ASCII name; and a single entry printed as a bare object with the State still a number.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandError, type CommandRunner } from '../../run-command.js';
import { collectNeighbors, NeighborsError } from './index.js';
import { GET_NET_NEIGHBOR_POWERSHELL_ARGS, GET_NET_NEIGHBOR_SCRIPT, parseGetNetNeighbor } from './net-neighbor.windows.js';
import { normalizeNeighbors } from './normalize-neighbors.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('parseGetNetNeighbor', () => {
  it('keeps resolved unicast neighbours of both families, with MACs in colon form', () => {
    const result = normalizeNeighbors(parseGetNetNeighbor(fixture('get-netneighbor.json')));
    expect(result.neighbors).toEqual([
      { ip: '192.168.10.1', mac: 'a0:b3:c4:d5:e6:f7', interface: 'Ethernet', state: 'REACHABLE' },
      { ip: '192.168.10.17', mac: 'b8:27:eb:4d:5e:6f', interface: 'Ethernet', state: 'STALE' },
      { ip: '192.168.10.23', mac: '3c:52:82:1a:2b:3c', interface: 'Ethernet', state: 'REACHABLE' },
      { ip: 'fe80::a2b3:c4ff:fed5:e6f7', mac: 'a0:b3:c4:d5:e6:f7', interface: 'Ethernet', state: 'STALE' },
      { ip: '192.168.10.60', mac: 'f4:8e:38:aa:bb:cc', interface: 'WLAN (Büro)', state: 'PROBE' },
      { ip: '172.20.96.1', mac: '00:15:5d:4a:1b:02', interface: 'vEthernet (WSL)', state: 'PERMANENT' },
    ]);
    // Multicast x4, broadcast x2, Unreachable x2, Incomplete: skipped; no address (loopback, VPN): invalid.
    expect(result.skipped).toBe(9);
    expect(result.invalid).toBe(2);
  });

  it('reads a bare object whose State is still a number', () => {
    expect(normalizeNeighbors(parseGetNetNeighbor(fixture('get-netneighbor-single.json'))).neighbors).toEqual([
      { ip: '192.168.10.1', mac: 'a0:b3:c4:d5:e6:f7', interface: 'Ethernet', state: 'REACHABLE' },
    ]);
    expect(parseGetNetNeighbor('[{"IPAddress":"10.0.0.1","LinkLayerAddress":"02-00-00-00-00-01","State":99}]')[0]?.state).toBe('UNKNOWN');
  });

  it('reads nothing at all, and refuses output that is not JSON', () => {
    expect(parseGetNetNeighbor('')).toEqual([]);
    expect(parseGetNetNeighbor('\uFEFF[]')).toEqual([]);
    expect(() => parseGetNetNeighbor('Get-NetNeighbor : Access denied')).toThrow(expect.objectContaining({ code: 'malformed' }));
  });

  it('runs one PowerShell script without double quotes, through an argument array', async () => {
    expect(GET_NET_NEIGHBOR_SCRIPT).not.toContain('"');
    const calls: string[][] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args]);
      return { stdout: fixture('get-netneighbor.json'), stderr: '', code: 0 };
    };
    const result = await collectNeighbors({ run, readFile: async () => '', platform: 'win32' });
    expect(calls).toEqual([['powershell.exe', ...GET_NET_NEIGHBOR_POWERSHELL_ARGS]]);
    expect(result).toMatchObject({ source: 'get-netneighbor' });
    expect(result.neighbors).toHaveLength(6);
  });

  it('turns a missing or failing PowerShell into a NeighborsError', async () => {
    const missing: CommandRunner = async () => {
      throw new CommandError('ENOENT', 'powershell.exe', 'missing');
    };
    const failing: CommandRunner = async () => ({ stdout: '', stderr: 'Get-NetNeighbor: not recognized', code: 1 });
    for (const run of [missing, failing]) {
      const err = await collectNeighbors({ run, readFile: async () => '', platform: 'win32' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NeighborsError);
      expect(err).toMatchObject({ code: 'unavailable' });
    }
  });
});
