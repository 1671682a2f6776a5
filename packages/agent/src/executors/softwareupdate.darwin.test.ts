// softwareupdate cannot run on this (Linux) test machine. These tests play back outputs in
// __fixtures__/softwareupdate/ that were RECONSTRUCTED BY HAND in macOS 13/14's softwareupdate output
// format, not captured on a Mac.
import { describe, expect, it } from 'vitest';
import { fixture, out, type ScriptedStep, scriptedRunner } from './__fixtures__/scripted-runner.js';
import { parseSoftwareUpdateList, SoftwareUpdateExecutor } from './softwareupdate.darwin.js';

function executor(steps: ScriptedStep[]) {
  const runner = scriptedRunner(steps);
  return { runner, su: new SoftwareUpdateExecutor({ run: runner.run }) };
}

describe('SoftwareUpdateExecutor (recorded output)', () => {
  it('installs a label and verifies it is no longer offered', async () => {
    const { runner, su } = executor([
      { cmd: 'softwareupdate', args: ['--list'], reply: out(fixture('softwareupdate', 'list.txt')) },
      {
        cmd: 'softwareupdate',
        args: ['--install', 'Safari17.1VenturaAuto-17.1'],
        reply: out(fixture('softwareupdate', 'install-safari.txt')),
      },
      { cmd: 'softwareupdate', args: ['--list'], reply: out(fixture('softwareupdate', 'list-after-safari.txt')) },
    ]);
    const result = await su.upgrade([{ name: 'Safari17.1VenturaAuto-17.1', version: '17.1' }], { lockTimeoutSeconds: 0 });
    expect(result).toMatchObject({
      status: 'succeeded',
      rebootRequired: false,
      installed: [{ name: 'Safari17.1VenturaAuto-17.1', version: '17.1' }],
    });
    expect(runner.remaining()).toEqual([]);
  });

  it('passes a label with spaces as one argument and reports the restart it needs', async () => {
    const { su } = executor([
      { cmd: 'softwareupdate', args: ['--list'], reply: out(fixture('softwareupdate', 'list.txt')) },
      {
        cmd: 'softwareupdate',
        args: ['--install', 'macOS Ventura 13.6.1-22G313'],
        reply: out(fixture('softwareupdate', 'install-macos-restart.txt')),
      },
      {
        cmd: 'softwareupdate',
        args: ['--list'],
        reply: out(fixture('softwareupdate', 'list-none.txt'), 0, 'No new software available.\n'),
      },
    ]);
    const result = await su.upgrade([{ name: 'macOS Ventura 13.6.1-22G313', version: null }], { lockTimeoutSeconds: 0 });
    expect(result).toMatchObject({
      status: 'succeeded',
      rebootRequired: true,
      installed: [{ name: 'macOS Ventura 13.6.1-22G313', version: '13.6.1' }],
    });
  });

  it('refuses a label that is not offered, or offered at another version, without installing', async () => {
    const { runner, su } = executor([
      { cmd: 'softwareupdate', args: ['--list'], reply: out(fixture('softwareupdate', 'list.txt')) },
      { cmd: 'softwareupdate', args: ['--list'], reply: out(fixture('softwareupdate', 'list.txt')) },
    ]);
    expect(await su.upgrade([{ name: 'Safari18.0VenturaAuto-18.0', version: null }], { lockTimeoutSeconds: 0 })).toMatchObject({
      code: 'not-available',
    });
    expect(await su.upgrade([{ name: 'Safari17.1VenturaAuto-17.1', version: '17.2' }], { lockTimeoutSeconds: 0 })).toMatchObject({
      code: 'not-available',
    });
    expect(runner.calls.every((c) => c.args[0] === '--list')).toBe(true);
  });

  it('fails verification when the label is still offered afterwards', async () => {
    const { su } = executor([
      { cmd: 'softwareupdate', args: ['--list'], reply: out(fixture('softwareupdate', 'list.txt')) },
      {
        cmd: 'softwareupdate',
        args: ['--install', 'Safari17.1VenturaAuto-17.1'],
        reply: out(fixture('softwareupdate', 'install-safari.txt')),
      },
      { cmd: 'softwareupdate', args: ['--list'], reply: out(fixture('softwareupdate', 'list.txt')) },
    ]);
    expect(await su.upgrade([{ name: 'Safari17.1VenturaAuto-17.1', version: null }], { lockTimeoutSeconds: 0 })).toMatchObject({
      code: 'verify-mismatch',
    });
  });

  it.each(['--all', '-a', '*', 'Safari\tx', ' Safari', 'Safari;reboot', '../Safari'])('refuses %j before any command', async (name) => {
    const { runner, su } = executor([]);
    expect(await su.upgrade([{ name, version: null }], { lockTimeoutSeconds: 0 })).toMatchObject({ code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });
});

describe('parseSoftwareUpdateList', () => {
  it('reads labels, versions and restart actions', () => {
    expect(parseSoftwareUpdateList(fixture('softwareupdate', 'list.txt'))).toEqual([
      { label: 'Safari17.1VenturaAuto-17.1', title: 'Safari', version: '17.1', restart: false },
      { label: 'macOS Ventura 13.6.1-22G313', title: 'macOS Ventura 13.6.1', version: '13.6.1', restart: true },
    ]);
    expect(parseSoftwareUpdateList(fixture('softwareupdate', 'list-none.txt'))).toEqual([]);
  });
});
