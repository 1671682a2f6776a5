/**
 * ip-neigh.json and proc-net-arp.txt are RECORDED on Debian 12 (iproute2 6.1.0, Linux 6.x): the
 * output of `ip -j neigh show` and `cat /proc/net/arp` in a network namespace whose table was
 * filled with `ip neigh replace … nud STATE` (reachable, stale, delay, probe, permanent, failed,
 * incomplete; a broadcast, an all-zero and two multicast MACs; IPv6 global, link-local and router
 * entries). The kernel moved some entries on by itself before the recording (delay to probe, probe
 * and one incomplete entry to failed), as it does on real hosts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandError, type CommandRunner } from '../../run-command.js';
import { collectLinuxNeighbors, IP_NEIGH_ARGS, PROC_NET_ARP, parseIpNeighJson, parseProcNetArp } from './ip-neigh.linux.js';
import { NeighborsError } from './neighbors-error.js';
import { normalizeNeighbors } from './normalize-neighbors.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('parseIpNeighJson', () => {
  it('reads the recorded table: resolved unicast entries of both families, with their state', () => {
    const { neighbors, skipped, invalid } = normalizeNeighbors(parseIpNeighJson(fixture('ip-neigh.json')));
    expect(neighbors).toEqual([
      { ip: '10.20.0.1', mac: '52:54:00:ab:cd:01', interface: 'eth0', state: 'REACHABLE' },
      { ip: '10.20.0.5', mac: '3c:22:fb:10:20:30', interface: 'eth0', state: 'STALE' },
      { ip: '10.20.0.6', mac: '00:1a:2b:3c:4d:5e', interface: 'eth0', state: 'PROBE' },
      { ip: '10.20.0.8', mac: '02:00:00:00:00:08', interface: 'eth0', state: 'PERMANENT' },
      { ip: 'fd00:20::1', mac: '52:54:00:ab:cd:01', interface: 'eth0', state: 'REACHABLE' },
      { ip: 'fe80::5054:ff:feab:cd01', mac: '52:54:00:ab:cd:01', interface: 'eth0', state: 'STALE' },
      { ip: '192.168.50.1', mac: 'a4:91:b1:02:03:04', interface: 'wlan0', state: 'STALE' },
    ]);
    // FAILED x3, INCOMPLETE, and the broadcast, all-zero and two multicast MACs.
    expect(skipped).toBe(8);
    expect(invalid).toBe(0);
  });

  it('reads an interface name holding raw control characters, as iproute2 prints it, and drops those characters', () => {
    // Byte for byte what `ip -j neigh` printed for an interface named "v\x1bx" (Linux allows it).
    const output = '[{"dst":"10.77.0.9","dev":"v\u001bx","lladdr":"02:aa:bb:cc:dd:ee","state":["PERMANENT"]}]\n';
    expect(() => JSON.parse(output)).toThrow();
    expect(normalizeNeighbors(parseIpNeighJson(output)).neighbors).toEqual([
      { ip: '10.77.0.9', mac: '02:aa:bb:cc:dd:ee', interface: 'vx', state: 'PERMANENT' },
    ]);
  });

  it('takes the first state of a list with flags, and skips entries without any', () => {
    const raw = parseIpNeighJson(
      '[{"dst":"10.0.0.1","dev":"eth0","lladdr":"02:00:00:00:00:01","state":["STALE","PROXY"]},{"dst":"10.0.0.2","dev":"eth0","lladdr":"02:00:00:00:00:02"}]',
    );
    expect(raw.map((r) => r.state)).toEqual(['STALE', 'NONE']);
    expect(normalizeNeighbors(raw).neighbors).toHaveLength(1);
  });

  it('skips items that are not objects and fields of the wrong type', () => {
    const raw = parseIpNeighJson('[null, 3, "x", {"dst": 5, "dev": ["eth0"], "lladdr": {}, "state": ["REACHABLE"]}]');
    expect(normalizeNeighbors(raw)).toMatchObject({ neighbors: [], invalid: 1 });
  });

  it('reads 100 000 garbage and valid lines without choking and caps what it keeps', () => {
    const items = Array.from({ length: 100_000 }, (_, i) =>
      i % 2 === 0
        ? {
            dst: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
            dev: 'eth0',
            lladdr: `02:00:00:0${(i >> 16) & 7}:${((i >> 8) & 255).toString(16)}:${(i & 255).toString(16)}`,
            state: ['STALE'],
          }
        : { dst: 'garbage', dev: 'eth0', lladdr: `zz:${i}`, state: ['REACHABLE'] },
    );
    const result = normalizeNeighbors(parseIpNeighJson(JSON.stringify(items)));
    expect(result.invalid).toBe(50_000);
    expect(result.neighbors).toHaveLength(8_192);
    expect(result.dropped).toBe(50_000 - 8_192);
  });

  it('refuses output that is not a JSON list', () => {
    for (const bad of ['192.168.1.1 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE', '{"dst":"10.0.0.1"}', '[{']) {
      expect(() => parseIpNeighJson(bad), bad).toThrow(expect.objectContaining({ name: 'NeighborsError', code: 'malformed' }));
    }
    expect(parseIpNeighJson('')).toEqual([]);
  });
});

describe('parseProcNetArp', () => {
  it('reads complete entries only: the file keeps the old MAC of a failed one', () => {
    const { neighbors } = normalizeNeighbors(parseProcNetArp(fixture('proc-net-arp.txt')));
    expect(neighbors).toEqual([
      { ip: '10.20.0.1', mac: '52:54:00:ab:cd:01', interface: 'eth0' },
      { ip: '10.20.0.5', mac: '3c:22:fb:10:20:30', interface: 'eth0' },
      { ip: '10.20.0.6', mac: '00:1a:2b:3c:4d:5e', interface: 'eth0' },
      { ip: '10.20.0.8', mac: '02:00:00:00:00:08', interface: 'eth0', state: 'PERMANENT' },
      { ip: '192.168.50.1', mac: 'a4:91:b1:02:03:04', interface: 'wlan0' },
    ]);
    // 10.20.0.7 (flags 0x0) still shows 00:1a:2b:3c:4d:5f in the file.
    expect(neighbors.some((n) => n.ip === '10.20.0.7')).toBe(false);
  });

  it('ignores short and garbage lines', () => {
    const content = 'IP address HW type Flags HW address Mask Device\n\ngarbage\n10.0.0.1 0x1 0xzz 02:00:00:00:00:01 * eth0\n';
    expect(normalizeNeighbors(parseProcNetArp(content)).neighbors).toEqual([]);
  });
});

describe('collectLinuxNeighbors', () => {
  const procArp = fixture('proc-net-arp.txt');

  function deps(ip: Awaited<ReturnType<CommandRunner>> | Error, proc: string | Error = procArp) {
    const calls: string[] = [];
    return {
      calls,
      run: (async (cmd, args) => {
        calls.push([cmd, ...args].join(' '));
        if (ip instanceof Error) throw ip;
        return ip;
      }) as CommandRunner,
      readFile: async (path: string) => {
        calls.push(`read ${path}`);
        if (proc instanceof Error) throw proc;
        return proc;
      },
    };
  }

  it('asks `ip -j neigh show` first', async () => {
    const d = deps({ stdout: fixture('ip-neigh.json'), stderr: '', code: 0 });
    const { entries, source } = await collectLinuxNeighbors(d);
    expect(source).toBe('ip');
    expect(entries).toHaveLength(15);
    expect(d.calls).toEqual([`ip ${IP_NEIGH_ARGS.join(' ')}`]);
  });

  it('falls back to /proc/net/arp when ip is missing', async () => {
    const d = deps(new CommandError('ENOENT', 'ip', 'ip is not installed or not on PATH'));
    const { source } = await collectLinuxNeighbors(d);
    expect(source).toBe('proc');
    expect(d.calls).toEqual([`ip ${IP_NEIGH_ARGS.join(' ')}`, `read ${PROC_NET_ARP}`]);
  });

  it('falls back when ip is too old for -j, or prints text', async () => {
    const old = await collectLinuxNeighbors(deps({ stdout: '', stderr: 'Option "-j" is unknown, try "ip -help".\n', code: 255 }));
    expect(old.source).toBe('proc');
    const text = await collectLinuxNeighbors(
      deps({ stdout: '10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE\n', stderr: '', code: 0 }),
    );
    expect(text.source).toBe('proc');
  });

  it('fails with a clear error when neither can be read', async () => {
    const err = await collectLinuxNeighbors(deps(new CommandError('ENOENT', 'ip', 'missing'), new Error('EACCES'))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NeighborsError);
    expect(err).toMatchObject({ code: 'unavailable' });
  });
});
