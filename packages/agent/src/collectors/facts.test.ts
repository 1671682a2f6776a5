import { compileSchema, HostFacts } from '@brier/protocol';
import si from 'systeminformation';
import { describe, expect, it } from 'vitest';
import { collectFacts, type FactsSource } from './facts.js';

const checkFacts = compileSchema(HostFacts);

/** A host as systeminformation might describe it, with hostile or placeholder values. */
function recordedHost(overrides: { hostname?: string; model?: string; serial?: string } = {}): FactsSource {
  return {
    osInfo: async () => ({
      platform: 'linux',
      distro: 'Debian GNU/Linux',
      release: '12',
      codename: 'bookworm',
      kernel: '6.1.0-23-amd64',
      arch: 'x64',
      hostname: overrides.hostname ?? 'web-01',
    }),
    system: async () => ({ manufacturer: 'Dell Inc.', model: overrides.model ?? 'PowerEdge R650', serial: overrides.serial ?? 'ABC1234' }),
    cpu: async () => ({ manufacturer: 'Intel', brand: 'Xeon® Gold 6338', cores: 64 }),
    mem: async () => ({ total: 274_877_906_944 }),
    networkInterfaces: async () => [
      { iface: 'lo', mac: '00:00:00:00:00:00', ip4: '127.0.0.1', ip6: '::1', internal: true },
      { iface: 'eno1', mac: 'b0:7b:25:00:11:22', ip4: '10.0.0.5', ip6: 'fe80::b27b:25ff:fe00:1122', internal: false },
      { iface: 'eno1', mac: 'b0:7b:25:00:11:22', ip4: '10.0.0.6', ip6: '', internal: false },
      { iface: 'tun0', mac: '00:00:00:00:00:00', ip4: '10.8.0.2', ip6: '', internal: false },
      { iface: 'eno2', mac: '', ip4: '', ip6: '', internal: false },
    ],
  };
}

describe('collectFacts', () => {
  it('returns facts for this machine that pass the protocol schema', async () => {
    const facts = checkFacts(await collectFacts(si, '0.1.0'), 'facts');
    expect(facts.hostname.length).toBeGreaterThan(0);
    expect(facts.os.platform).toBe(process.platform);
    expect(facts.hardware.memoryBytes).toBeGreaterThan(0);
    expect(facts.network.every((n) => n.name !== 'lo' && n.mac !== '00:00:00:00:00:00')).toBe(true);
  });

  it('maps a recorded host onto the HostFacts shape', async () => {
    const facts = await collectFacts(recordedHost(), '1.2.3');
    expect(facts).toEqual({
      hostname: 'web-01',
      os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', codename: 'bookworm', kernel: '6.1.0-23-amd64', arch: 'x64' },
      hardware: {
        vendor: 'Dell Inc.',
        model: 'PowerEdge R650',
        serial: 'ABC1234',
        cpu: 'Intel Xeon® Gold 6338',
        cores: 64,
        memoryBytes: 274_877_906_944,
      },
      network: [
        { name: 'eno1', mac: 'b0:7b:25:00:11:22', ipv4: ['10.0.0.5', '10.0.0.6'], ipv6: ['fe80::b27b:25ff:fe00:1122'] },
        { name: 'tun0', ipv4: ['10.8.0.2'], ipv6: [] },
      ],
      agentVersion: '1.2.3',
    });
  });

  it('strips control characters, clips over-long text and drops placeholder serials', async () => {
    const facts = await collectFacts(
      recordedHost({ hostname: 'evil\u0000host\u001b[31m', model: 'M'.repeat(300), serial: 'To Be Filled By O.E.M.' }),
      '1',
    );
    checkFacts(facts, 'facts');
    expect(facts.hostname).toBe('evilhost[31m');
    expect(facts.hardware.model).toHaveLength(128);
    expect(facts.hardware.serial).toBeUndefined();
  });

  it('falls back to the OS hostname when systeminformation has none', async () => {
    const facts = await collectFacts(recordedHost({ hostname: '\u0000' }), '1');
    expect(facts.hostname.length).toBeGreaterThan(0);
  });

  it('wraps a failing probe in an error with the cause', async () => {
    const broken: FactsSource = { ...recordedHost(), mem: () => Promise.reject(new Error('EACCES /proc/meminfo')) };
    await expect(collectFacts(broken, '1')).rejects.toMatchObject({
      message: 'could not read host facts',
      cause: { message: 'EACCES /proc/meminfo' },
    });
  });
});
