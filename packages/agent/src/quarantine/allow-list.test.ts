import { describe, expect, it } from 'vitest';
import {
  addressesOutside,
  complementRanges,
  formatIpv6,
  ipv4ToBigInt,
  ipv6ToBigInt,
  parseAllowList,
  portsOutside,
  QuarantineRequestError,
} from './allow-list.js';

describe('parseAllowList', () => {
  it('splits IPv4 and IPv6 addresses, lower-cases IPv6, drops duplicates and sorts the ports', () => {
    expect(parseAllowList(['10.0.0.5', '2001:DB8::1', '10.0.0.5', '2001:db8::1'], [8443, 443, 8443])).toEqual({
      v4: ['10.0.0.5'],
      v6: ['2001:db8::1'],
      ports: [443, 8443],
    });
  });

  it.each([
    ['a host name', 'brier.example.com'],
    ['an nft injection', '10.0.0.5 } accept; flush ruleset; {'],
    ['a second statement', '10.0.0.5; delete table inet filter'],
    ['a prefix', '10.0.0.0/8'],
    ['a zone id', 'fe80::1%eth0'],
    ['a PowerShell subexpression', "10.0.0.5'); Remove-NetFirewallRule -All; ('"],
    ['leading zeros', '010.0.0.5'],
    ['a newline', '10.0.0.5\nblock drop all'],
    ['an empty string', ''],
  ])('refuses %s as an address', (_what, address) => {
    expect(() => parseAllowList([address], [])).toThrow(QuarantineRequestError);
  });

  it('refuses a value that is not a string as an address', () => {
    expect(() => parseAllowList([167772165], [])).toThrow(/not an IP address/);
  });

  it.each([[0], [65536], [443.5], ['443'], [-1], [Number.NaN]])('refuses %s as a port', (port) => {
    expect(() => parseAllowList(['10.0.0.5'], [port])).toThrow(/not a TCP port/);
  });

  it('refuses an empty address list, which would cut the Brier server off too', () => {
    const err = (() => {
      try {
        parseAllowList([], [443]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(QuarantineRequestError);
    expect((err as QuarantineRequestError).code).toBe('invalid-request');
    expect((err as Error).message).toMatch(/no release could ever reach the host/);
  });

  it('refuses more addresses or ports than an order may carry', () => {
    const many = Array.from({ length: 17 }, (_, i) => `10.0.0.${i + 1}`);
    expect(() => parseAllowList(many, [])).toThrow(/at most 16/);
    expect(() => parseAllowList(['10.0.0.1'], [1, 2, 3, 4, 5, 6, 7, 8, 9])).toThrow(/at most 8/);
  });
});

describe('address arithmetic', () => {
  it('reads IPv6 addresses with ::, a dotted-quad tail, or all eight groups', () => {
    expect(ipv6ToBigInt('::')).toBe(0n);
    expect(ipv6ToBigInt('::1')).toBe(1n);
    expect(ipv6ToBigInt('1::')).toBe(1n << 112n);
    expect(ipv6ToBigInt('::ffff:10.0.0.5')).toBe((0xffffn << 32n) | ipv4ToBigInt('10.0.0.5'));
    expect(ipv6ToBigInt('2001:db8:0:0:0:0:0:1')).toBe(ipv6ToBigInt('2001:db8::1'));
    expect(formatIpv6(ipv6ToBigInt('2001:db8::1'))).toBe('2001:db8:0:0:0:0:0:1');
  });

  it('computes the gaps around excluded intervals, including at both ends', () => {
    expect(
      complementRanges(
        [
          [5n, 5n],
          [0n, 1n],
          [9n, 12n],
          [10n, 10n],
        ],
        0n,
        12n,
      ),
    ).toEqual([
      [2n, 4n],
      [6n, 8n],
    ]);
    expect(complementRanges([], 1n, 3n)).toEqual([[1n, 3n]]);
  });

  it('lists every address except the allowed ones and loopback, for Windows Firewall', () => {
    expect(addressesOutside({ v4: ['10.0.0.5'], v6: [], ports: [] })).toEqual([
      '0.0.0.0-10.0.0.4',
      '10.0.0.6-126.255.255.255',
      '128.0.0.0-255.255.255.255',
      '0:0:0:0:0:0:0:0',
      '0:0:0:0:0:0:0:2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ]);
    expect(addressesOutside({ v4: [], v6: ['2001:db8::1'], ports: [] })).toContain(
      '2001:db8:0:0:0:0:0:2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    );
  });

  it('lists every port except the allowed ones, and nothing when any port is allowed', () => {
    expect(portsOutside([443, 8443])).toEqual(['1-442', '444-8442', '8444-65535']);
    expect(portsOutside([1, 65535])).toEqual(['2-65534']);
    expect(portsOutside([])).toEqual([]);
  });
});
