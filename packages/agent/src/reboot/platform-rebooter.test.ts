import { describe, expect, it } from 'vitest';
import { scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { parseRebootSwitch, platformRebooter } from './platform-rebooter.js';
import { DarwinRebooter } from './reboot.darwin.js';
import { LinuxRebooter } from './reboot.linux.js';
import { WindowsRebooter } from './reboot.windows.js';
import { DisabledRebooter } from './rebooter.js';

describe('parseRebootSwitch', () => {
  it('is on when unset or empty, and accepts on and off in any case', () => {
    expect([undefined, '', 'on', 'ON', ' off ', 'Off'].map(parseRebootSwitch)).toEqual(['on', 'on', 'on', 'on', 'off', 'off']);
  });

  it('refuses anything else with a message naming the value', () => {
    expect(() => parseRebootSwitch('maybe')).toThrow(/'on' or 'off', not "maybe"/);
    expect(() => parseRebootSwitch('0')).toThrow(RangeError);
  });
});

describe('platformRebooter', () => {
  const { run } = scriptedRunner([]);

  it('picks the implementation for each platform when restarts are on', () => {
    expect(platformRebooter('linux', run, 'on')).toBeInstanceOf(LinuxRebooter);
    expect(platformRebooter('win32', run, 'on')).toBeInstanceOf(WindowsRebooter);
    expect(platformRebooter('darwin', run, 'on')).toBeInstanceOf(DarwinRebooter);
  });

  it('never schedules when restarts are off, on every platform, without running a command', async () => {
    const runner = scriptedRunner([]);
    for (const platform of ['linux', 'win32', 'darwin', 'freebsd'] as const) {
      const rebooter = platformRebooter(platform, runner.run, 'off');
      expect(rebooter).toBeInstanceOf(DisabledRebooter);
      expect(await rebooter.schedule({ delaySeconds: 60, reason: 'x' })).toMatchObject({ ok: false, code: 'disabled' });
    }
    expect(runner.calls).toEqual([]);
  });

  it('gives a platform it cannot restart a disabled rebooter that says so', async () => {
    const result = await platformRebooter('freebsd', run, 'on').schedule({ delaySeconds: 60, reason: 'x' });
    expect(result).toMatchObject({ ok: false, code: 'disabled' });
    expect(result.ok === false && result.reason).toContain('freebsd');
  });
});
