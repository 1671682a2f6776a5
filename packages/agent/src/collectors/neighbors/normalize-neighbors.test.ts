import { AgentMessages, Codec, MAX_NEIGHBORS, type Neighbor, ServerMessages } from '@brier/protocol';
import { describe, expect, it } from 'vitest';
import { isDeviceMac, normalizeIp, normalizeMac, normalizeNeighbors, type RawNeighbor } from './normalize-neighbors.js';

const codec = new Codec(ServerMessages, AgentMessages);

/** Throws unless the server would accept these neighbours in one report. */
function assertReportable(neighbors: Neighbor[]): void {
  codec.encode('neighbors.report', { neighbors });
}

const entry = (over: Partial<RawNeighbor> = {}): RawNeighbor => ({
  ip: '10.0.0.5',
  mac: '52:54:00:12:34:56',
  interface: 'eth0',
  state: 'REACHABLE',
  ...over,
});

describe('normalizeMac', () => {
  it('writes every form the tools print as lower-case, colon-separated, zero-padded octets', () => {
    expect(normalizeMac('52:54:00:AB:CD:EF')).toBe('52:54:00:ab:cd:ef');
    expect(normalizeMac('52-54-00-AB-CD-EF')).toBe('52:54:00:ab:cd:ef');
    expect(normalizeMac('0:1c:42:0:0:18')).toBe('00:1c:42:00:00:18');
  });

  it('refuses anything that is not six octets of hex', () => {
    for (const bad of [
      '',
      'zz:zz:zz:zz:zz:zz',
      '52:54:00:ab:cd',
      '52:54:00:ab:cd:ef:01',
      '52:54:00:ab:cd:eff',
      '5254.00ab.cdef',
      '0x525400abcdef',
      '52:54-00:ab:cd:ef',
      '52:54:00:ab:cd:ef; rm -rf /',
      '80:00:00:48:fe:80:00:00:00:00:00:00:02:02:c9:03:00:0a:0b:0c',
      ':::::',
    ]) {
      expect(normalizeMac(bad), bad).toBeUndefined();
    }
  });
});

describe('isDeviceMac', () => {
  it('refuses broadcast, all-zero and every multicast address', () => {
    expect(isDeviceMac('ff:ff:ff:ff:ff:ff')).toBe(false);
    expect(isDeviceMac('00:00:00:00:00:00')).toBe(false);
    expect(isDeviceMac('01:00:5e:00:00:fb')).toBe(false);
    expect(isDeviceMac('33:33:00:00:00:01')).toBe(false);
    expect(isDeviceMac('52:54:00:12:34:56')).toBe(true);
    expect(isDeviceMac('02:00:00:00:00:01')).toBe(true);
  });
});

describe('normalizeIp', () => {
  it('lower-cases IPv6, removes a zone and refuses what is not an address', () => {
    expect(normalizeIp('FE80::1%en0')).toBe('fe80::1');
    expect(normalizeIp(' 192.168.1.1 ')).toBe('192.168.1.1');
    for (const bad of ['', 'host.example', '999.1.1.1', "1.2.3.4' OR 1=1", '1.2.3.4/24', `${'1:'.repeat(40)}1`]) {
      expect(normalizeIp(bad), bad).toBeUndefined();
    }
  });
});

describe('normalizeNeighbors', () => {
  it('keeps resolved entries only, in REACHABLE, STALE, DELAY, PROBE or PERMANENT state', () => {
    const states = ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT', 'FAILED', 'INCOMPLETE', 'NOARP', 'NONE', 'UNREACHABLE'];
    const result = normalizeNeighbors(states.map((state, i) => entry({ ip: `10.0.0.${i + 1}`, state })));
    expect(result.neighbors.map((n) => n.state)).toEqual(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT']);
    expect(result.skipped).toBe(5);
  });

  it('keeps an entry whose tool gives no state, without inventing one', () => {
    const { neighbors } = normalizeNeighbors([entry({ state: undefined })]);
    expect(neighbors).toEqual([{ ip: '10.0.0.5', mac: '52:54:00:12:34:56', interface: 'eth0' }]);
  });

  it('counts garbage MACs and addresses as invalid and sends none of them', () => {
    const result = normalizeNeighbors([
      entry({ mac: 'de:ad:be:ef' }),
      entry({ mac: '<script>' }),
      entry({ mac: '52:54:00:12:34:5g' }),
      entry({ ip: 'not-an-ip' }),
      entry({ ip: '10.0.0.1; drop table hosts' }),
      entry({ interface: '' }),
      entry({ interface: 'x'.repeat(65) }),
      entry(),
    ]);
    expect(result.invalid).toBe(7);
    expect(result.neighbors).toHaveLength(1);
    assertReportable(result.neighbors);
  });

  it('skips broadcast, multicast and all-zero MACs', () => {
    const result = normalizeNeighbors([
      entry({ mac: 'FF:FF:FF:FF:FF:FF' }),
      entry({ mac: '01:00:5e:7f:ff:fa' }),
      entry({ mac: '33-33-00-00-00-16' }),
      entry({ mac: '00:00:00:00:00:00' }),
    ]);
    expect(result).toMatchObject({ neighbors: [], skipped: 4, invalid: 0 });
  });

  it('drops control characters from interface names, and the entry when nothing is left of the name', () => {
    const result = normalizeNeighbors([
      entry({ interface: 'e\u001b[31mth\u00000\u007f\u009b' }),
      entry({ ip: '10.0.0.6', interface: '\u0007\u001b' }),
    ]);
    expect(result.neighbors.map((n) => n.interface)).toEqual(['e[31mth0']);
    expect(result.invalid).toBe(1);
    assertReportable(result.neighbors);
  });

  it('lists an entry once, however often a tool repeats it, and sorts by interface and address', () => {
    const result = normalizeNeighbors([
      entry({ interface: 'wlan0', ip: '192.168.1.1' }),
      entry({ ip: '10.0.0.9' }),
      entry({ ip: '10.0.0.9', mac: '52-54-00-12-34-56', state: 'stale' }),
      entry({ ip: '10.0.0.10' }),
    ]);
    expect(result.neighbors.map((n) => `${n.interface} ${n.ip}`)).toEqual(['eth0 10.0.0.10', 'eth0 10.0.0.9', 'wlan0 192.168.1.1']);
    expect(result.duplicates).toBe(1);
  });

  it('cuts 100 000 entries to MAX_NEIGHBORS, says how many it left out, and the rest still fits one report', () => {
    const raw = Array.from({ length: 100_000 }, (_, i) =>
      entry({
        ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        mac: `02:00:00:${((i >> 16) & 255).toString(16)}:${((i >> 8) & 255).toString(16)}:${(i & 255).toString(16)}`,
      }),
    );
    const result = normalizeNeighbors(raw);
    expect(result.neighbors).toHaveLength(MAX_NEIGHBORS);
    expect(result.dropped).toBe(100_000 - MAX_NEIGHBORS);
    assertReportable(result.neighbors);
    // The same table cut twice gives the same entries, whatever order the tool listed them in.
    expect(normalizeNeighbors(raw.reverse()).neighbors).toEqual(result.neighbors);
  });
});
