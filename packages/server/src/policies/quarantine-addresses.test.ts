import { describe, expect, it } from 'vitest';
import { canonicalIp, quarantineEndpoints } from './quarantine-addresses.js';

describe('canonicalIp', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::ffff:c000:207', '192.0.2.7'],
  ])('spells %j as %j', (input, expected) => {
    expect(canonicalIp(input)).toBe(expected);
  });

  it.each(['', 'brier.example.org', '10.0.0', '010.0.0.1', '300.1.1.1', '10.0.0.1/24', ':::', '1.2.3.4; rm -rf /'])(
    'refuses %j',
    (input) => {
      expect(canonicalIp(input)).toBeUndefined();
    },
  );
});

describe('quarantineEndpoints', () => {
  const local = { address: '::ffff:10.1.2.3', port: 8080 };

  it('takes the configured addresses and the public URL’s IP and port first', () => {
    expect(quarantineEndpoints({ publicUrl: 'https://192.0.2.1', quarantineAllow: ['198.51.100.2'] }, local)).toEqual({
      allow: ['198.51.100.2', '192.0.2.1'],
      ports: [443],
    });
    expect(quarantineEndpoints({ publicUrl: 'http://[2001:db8::5]:8443/', quarantineAllow: [] }, local)).toEqual({
      allow: ['2001:db8::5'],
      ports: [8443],
    });
    expect(quarantineEndpoints({ publicUrl: undefined, quarantineAllow: ['198.51.100.2'] }, local)).toEqual({
      allow: ['198.51.100.2'],
      ports: [],
    });
  });

  it('falls back to the local end of the agent’s connection when nothing is configured', () => {
    expect(quarantineEndpoints({ publicUrl: undefined, quarantineAllow: [] }, local)).toEqual({ allow: ['10.1.2.3'], ports: [8080] });
    // A public URL with a name gives the port but no address.
    expect(quarantineEndpoints({ publicUrl: 'https://brier.example.org', quarantineAllow: [] }, local)).toEqual({
      allow: ['10.1.2.3'],
      ports: [443],
    });
  });

  it('knows nothing for an offline host without configuration', () => {
    expect(quarantineEndpoints({ publicUrl: 'https://brier.example.org', quarantineAllow: [] }, undefined)).toEqual({
      allow: [],
      ports: [443],
    });
  });
});
