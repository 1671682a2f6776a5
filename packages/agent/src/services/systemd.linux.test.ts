// systemd is not PID 1 on the development machine: the systemctl outputs in __fixtures__/systemd
// are reconstructed by hand (see the README there), and the manager gets a scripted runner.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, type ScriptedStep, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { INJECTION_NAMES } from './__fixtures__/injection-names.js';
import {
  parseSystemctlShow,
  SYSTEMCTL_SHOW_PROPERTIES,
  SystemdServiceManager,
  serviceStateFromShow,
  systemdIsRunning,
} from './systemd.linux.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/systemd/${name}`, import.meta.url), 'utf8');
const show = (name: string): ScriptedStep['args'] => ['show', '--no-pager', `--property=${SYSTEMCTL_SHOW_PROPERTIES}`, '--', name];

function manager(steps: ScriptedStep[]) {
  const runner = scriptedRunner(steps);
  return { runner, systemd: new SystemdServiceManager({ run: runner.run }) };
}

describe('parseSystemctlShow', () => {
  it('reads Key=Value lines, keeping = inside values and skipping lines without one', () => {
    expect(parseSystemctlShow('A=1\nB=x=y\n\nnoise\nC=\n')).toEqual({ A: '1', B: 'x=y', C: '' });
  });
});

describe('SystemdServiceManager.status (recorded systemctl show output)', () => {
  it('reports an active, enabled unit as existing, running and enabled', async () => {
    const { runner, systemd } = manager([
      { cmd: 'systemctl', args: show('clamav-daemon'), reply: out(fixture('show-active-enabled.txt')) },
    ]);
    expect(await systemd.status('clamav-daemon')).toEqual({
      exists: true,
      running: true,
      enabled: true,
      detail: 'systemd: loaded, active (running), enabled',
    });
    expect(runner.remaining()).toEqual([]);
  });

  it('reports an inactive, disabled unit as existing, stopped and not enabled', async () => {
    const { systemd } = manager([{ cmd: 'systemctl', args: show('clamav-daemon'), reply: out(fixture('show-inactive-disabled.txt')) }]);
    expect(await systemd.status('clamav-daemon')).toMatchObject({ exists: true, running: false, enabled: false });
  });

  it('reports a failed unit as not running', async () => {
    const { systemd } = manager([{ cmd: 'systemctl', args: show('clamav-daemon'), reply: out(fixture('show-failed.txt')) }]);
    expect(await systemd.status('clamav-daemon')).toMatchObject({ exists: true, running: false, enabled: true });
  });

  it('reports LoadState not-found as a unit that does not exist', async () => {
    const { systemd } = manager([{ cmd: 'systemctl', args: show('nope'), reply: out(fixture('show-not-found.txt')) }]);
    expect(await systemd.status('nope')).toMatchObject({ exists: false, running: false, enabled: null });
  });

  it('cannot tell whether a static unit starts at boot', () => {
    expect(serviceStateFromShow(parseSystemctlShow(fixture('show-static.txt')))).toMatchObject({
      exists: true,
      running: true,
      enabled: null,
    });
  });

  it('rejects a refused name with invalid-request before running anything', async () => {
    const { runner, systemd } = manager([]);
    await expect(systemd.status('--now')).rejects.toMatchObject({ code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });
});

describe('SystemdServiceManager.start and enable', () => {
  it('runs systemctl start -- NAME and reads the unit back', async () => {
    const { runner, systemd } = manager([
      { cmd: 'systemctl', args: ['start', '--', 'clamav-daemon'], reply: out('') },
      { cmd: 'systemctl', args: show('clamav-daemon'), reply: out(fixture('show-active-enabled.txt')) },
    ]);
    expect(await systemd.start('clamav-daemon')).toMatchObject({ ok: true });
    expect(runner.remaining()).toEqual([]);
  });

  it('reports a failed start job as command-failed, quoting systemctl', async () => {
    const { systemd } = manager([
      { cmd: 'systemctl', args: ['start', '--', 'clamav-daemon'], reply: out('', 1, fixture('start-failed.stderr.txt')) },
    ]);
    const result = await systemd.start('clamav-daemon');
    expect(result).toMatchObject({ ok: false, code: 'command-failed' });
    expect(result.detail).toContain('Job for clamav-daemon.service failed');
  });

  it('reports a unit that is not found (exit 5) as command-failed', async () => {
    const { systemd } = manager([
      { cmd: 'systemctl', args: ['start', '--', 'nope'], reply: out('', 5, fixture('start-not-found.stderr.txt')) },
    ]);
    expect(await systemd.start('nope')).toMatchObject({
      ok: false,
      code: 'command-failed',
      detail: expect.stringContaining('exited with code 5'),
    });
  });

  it('reports a unit that started and died at once as not-running', async () => {
    const { systemd } = manager([
      { cmd: 'systemctl', args: ['start', '--', 'clamav-daemon'], reply: out('') },
      { cmd: 'systemctl', args: show('clamav-daemon'), reply: out(fixture('show-failed.txt')) },
    ]);
    expect(await systemd.start('clamav-daemon')).toMatchObject({ ok: false, code: 'not-running' });
  });

  it('reports a missing systemctl as tool-missing instead of throwing', async () => {
    const { systemd } = manager([{ cmd: 'systemctl', args: ['start', '--', 'cron'], reply: { throws: 'ENOENT' } }]);
    expect(await systemd.start('cron')).toMatchObject({ ok: false, code: 'tool-missing' });
  });

  it('runs systemctl enable -- NAME', async () => {
    const { runner, systemd } = manager([
      { cmd: 'systemctl', args: ['enable', '--', 'clamav-daemon'], reply: out('', 0, fixture('enable.stderr.txt')) },
    ]);
    expect(await systemd.enable('clamav-daemon')).toMatchObject({ ok: true });
    expect(runner.remaining()).toEqual([]);
  });

  it('refuses every injection attempt in start and enable before running any command', async () => {
    const { runner, systemd } = manager([]);
    for (const name of INJECTION_NAMES) {
      expect(await systemd.start(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
      expect(await systemd.enable(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
    }
    expect(runner.calls).toEqual([]);
  });
});

describe('systemdIsRunning', () => {
  const probe = (comm: string | null, runDir: boolean) => ({ readText: () => comm, isDirectory: () => runDir });

  it('is true when PID 1 is called systemd', () => {
    expect(systemdIsRunning(probe('systemd\n', false))).toBe(true);
  });

  it('is true when /run/systemd/system exists, as sd_booted() decides', () => {
    expect(systemdIsRunning(probe('init\n', true))).toBe(true);
  });

  it('is false in a container whose PID 1 is something else, even with systemctl installed', () => {
    expect(systemdIsRunning(probe('process_api\n', false))).toBe(false);
    expect(systemdIsRunning(probe(null, false))).toBe(false);
  });
});
