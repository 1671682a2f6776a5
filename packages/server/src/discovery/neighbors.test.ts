import type { Neighbor } from '@brier/protocol';
import { describe, expect, it } from 'vitest';
import { isNoiseIp, isNoiseMac, normalizeMac, sightingsOf } from './neighbors.js';

const entry = (mac: string, ip: string, extra: Partial<Neighbor> = {}): Neighbor => ({ mac, ip, interface: 'eth0', ...extra });

describe('neighbour entries', () => {
  it('normalises MACs to lower case with colons and refuses anything else', () => {
    expect(normalizeMac('AA-BB-CC-00-11-22')).toBe('aa:bb:cc:00:11:22');
    expect(normalizeMac('aa:bb:cc:00:11')).toBeUndefined();
    expect(normalizeMac('zz:bb:cc:00:11:22')).toBeUndefined();
  });

  it.each(['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:fb', '33:33:00:00:00:01'])('treats MAC %s as noise', (mac) => {
    expect(isNoiseMac(mac)).toBe(true);
  });

  it.each(['0.0.0.0', '127.0.0.1', '224.0.0.251', '239.255.255.250', '255.255.255.255', '::', '::1', 'ff02::1', 'fe80::1', 'febf::1'])(
    'treats IP %s as noise',
    (ip) => {
      expect(isNoiseIp(ip)).toBe(true);
    },
  );

  it.each(['10.0.0.1', '169.254.10.20', '192.168.1.1', '2001:db8::1', 'fd00::1', 'fec0::1'])('keeps IP %s', (ip) => {
    expect(isNoiseIp(ip)).toBe(false);
  });

  it('keeps real devices once per pair, canonical, and counts what it skipped', () => {
    const { sightings, skipped } = sightingsOf([
      entry('02:00:00:00:00:01', '10.0.0.5'),
      entry('02:00:00:00:00:01', '10.0.0.5', { interface: 'eth1' }),
      entry('02:00:00:00:00:02', '2001:DB8:0:0::9'),
      entry('ff:ff:ff:ff:ff:ff', '10.0.0.255'),
      entry('01:00:5e:00:00:fb', '224.0.0.251'),
      entry('02:00:00:00:00:03', 'fe80::3%eth0'),
      entry('02:00:00:00:00:04', '10.0.0.6', { state: 'FAILED' }),
      entry('02:00:00:00:00:05', '10.0.0.7', { state: 'STALE' }),
      entry('02:00:00:00:00:06', '1.2.3'),
    ]);
    expect(sightings).toEqual([
      { mac: '02:00:00:00:00:01', ip: '10.0.0.5', interface: 'eth1' },
      { mac: '02:00:00:00:00:02', ip: '2001:db8::9', interface: 'eth0' },
      { mac: '02:00:00:00:00:05', ip: '10.0.0.7', interface: 'eth0' },
    ]);
    expect(skipped).toEqual({ mac: 2, state: 1, ip: 2 });
  });
});
