import { describe, expect, it } from 'vitest';
import { macInfo, macKindLabel } from './mac';

describe('macInfo', () => {
  it('tells vendor-assigned, randomised and multicast addresses apart', () => {
    expect(macInfo('00:1A:2b:3c:4d:5e')).toEqual({ mac: '00:1a:2b:3c:4d:5e', kind: 'universal', oui: '00:1a:2b' });
    expect(macInfo('da-a1-19-00-00-01')).toEqual({ mac: 'da:a1:19:00:00:01', kind: 'local', oui: null });
    expect(macInfo('01:00:5e:00:00:fb').kind).toBe('multicast');
    expect(macKindLabel(macInfo('00:1a:2b:3c:4d:5e'))).toBe('Vendor-assigned (OUI 00:1a:2b)');
    expect(macKindLabel(macInfo('da:a1:19:00:00:01'))).toMatch(/randomised/);
  });

  it('refuses what is not a MAC address', () => {
    for (const bad of ['', '00:1a:2b:3c:4d', '00:1a:2b:3c:4d:5e:6f', 'zz:1a:2b:3c:4d:5e', '00:1a:2b:3c:4d:5e\n', '<img src=x>'])
      expect(macInfo(bad).kind, bad).toBe('invalid');
  });
});
