import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../run-command.js';
import { hostPolicyPorts, unavailablePackageControl } from './host-ports.js';
import type { PackageControl, ServiceManager } from './ports.js';

const run: CommandRunner = async () => {
  throw new Error('no command may run while ports are assembled');
};
const services: ServiceManager = {
  kind: 'fake',
  status: async () => ({ exists: false, running: false, enabled: null, detail: '' }),
  start: async () => ({ ok: false, detail: '' }),
  enable: async () => ({ ok: false, detail: '' }),
};
const packages: PackageControl = {
  installedVersion: async () => null,
  install: async () => ({ ok: true, detail: '' }),
  remove: async () => ({ ok: true, detail: '' }),
  atLeast: () => true,
};

describe('hostPolicyPorts', () => {
  it('makes each antivirus provider once, on first use', () => {
    const ports = hostPolicyPorts({ platform: 'linux', run, services, packages });
    const clamav = ports.antivirus?.('clamav');
    expect(clamav?.name).toBe('clamav');
    expect(ports.antivirus?.('clamav')).toBe(clamav);
    expect(ports.antivirus?.('defender')?.name).toBe('defender');
    expect(ports.packages).toBe(packages);
    expect(ports.services).toBe(services);
  });

  it('offers no ClamAV without a package control (it could not install itself), but still the others', () => {
    const ports = hostPolicyPorts({ platform: 'win32', run, services });
    expect(ports.packages).toBeUndefined();
    expect(ports.antivirus?.('clamav')).toBeUndefined();
    expect(ports.antivirus?.('defender')?.name).toBe('defender');
  });
});

describe('unavailablePackageControl', () => {
  it('changes nothing and says why', async () => {
    const none = unavailablePackageControl('no package manager for policies on win32');
    expect(await none.install('clamav')).toEqual({ ok: false, code: 'tool-missing', detail: 'no package manager for policies on win32' });
    expect(await none.remove('clamav')).toMatchObject({ ok: false, code: 'tool-missing' });
    await expect(none.installedVersion('clamav')).rejects.toMatchObject({ code: 'tool-missing' });
    expect(() => none.atLeast('1', '2')).toThrow('no package manager');
  });
});
