import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../run-command.js';
import { detectLinuxInit, platformServiceManager } from './index.js';
import { systemdIsRunning } from './systemd.linux.js';

const run: CommandRunner = async () => ({ stdout: '', stderr: '', code: 0 });
const probe = (comm: string, dirs: string[]) => ({ readText: () => comm, isDirectory: (d: string) => dirs.includes(d) });

describe('detectLinuxInit', () => {
  it('picks systemd when it is PID 1, even with init scripts present', () => {
    expect(detectLinuxInit({ probe: probe('systemd\n', ['/etc/init.d']) })).toBe('systemd');
  });

  it('picks init scripts when PID 1 is not systemd and /etc/init.d exists', () => {
    expect(detectLinuxInit({ probe: probe('init\n', ['/etc/init.d']) })).toBe('sysvinit');
  });

  it('falls back to direct starts when there is neither', () => {
    expect(detectLinuxInit({ probe: probe('tini\n', []) })).toBe('direct');
  });
});

describe('platformServiceManager', () => {
  it('gives each platform its own mechanism', () => {
    expect(platformServiceManager('win32', run).kind).toBe('windows');
    expect(platformServiceManager('darwin', run).kind).toBe('launchd');
    expect(platformServiceManager('linux', run, { probe: probe('systemd', []) }).kind).toBe('systemd');
    expect(platformServiceManager('linux', run, { probe: probe('sh', ['/etc/init.d']) }).kind).toBe('sysvinit');
    expect(platformServiceManager('linux', run, { probe: probe('sh', []) }).kind).toBe('direct');
  });

  it('answers unsupported on a platform without a manager, and still refuses bad names', async () => {
    const manager = platformServiceManager('aix', run);
    expect(manager.kind).toBe('unsupported');
    expect(await manager.status('cron')).toMatchObject({ exists: false, running: false });
    expect(await manager.start('cron')).toMatchObject({ ok: false, code: 'unsupported' });
    expect(await manager.start('$(id)')).toMatchObject({ ok: false, code: 'invalid-request' });
  });

  it.runIf(process.platform === 'linux' && !systemdIsRunning())(
    'uses init scripts or direct starts on this machine, whose PID 1 is not systemd',
    () => {
      expect(['sysvinit', 'direct']).toContain(platformServiceManager('linux', run).kind);
    },
  );
});
