// Real init scripts, run for real: each test writes LSB scripts into a temporary init.d (the
// manager takes the directory as an option) and they start a harmless daemon (a copy of `sleep`
// under a name of its own). The last block runs the machine's own `service` against a script that
// is already installed, read-only (`status`), when PID 1 is not systemd.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandError, type CommandRunner, runCommand } from '../run-command.js';
import { INJECTION_NAMES } from './__fixtures__/injection-names.js';
import { DirectServiceManager, type KnownDaemon } from './direct.linux.js';
import { systemdIsRunning } from './systemd.linux.js';
import { lsbStatus, SysvinitServiceManager } from './sysvinit.linux.js';

const isLinux = process.platform === 'linux';
const DAEMON = 'brier-svtest';

interface Sandbox {
  dir: string;
  initDir: string;
  rcDir: string;
  calls: { cmd: string; args: readonly string[] }[];
  run: CommandRunner;
  daemons: Record<string, KnownDaemon>;
}

let box: Sandbox;

/** An LSB script whose start launches the sandbox's daemon and writes its pid file; status per LSB exit codes. */
function writeScript(name: string, body: { start?: string; status?: string } = {}): string {
  const pidFile = path.join(box.dir, `${name}.pid`);
  const start = body.start ?? `"${box.dir}/${DAEMON}" 300 >/dev/null 2>&1 &\n    echo $! > "${pidFile}"`;
  const status =
    body.status ??
    `if [ -f "${pidFile}" ]; then
      if kill -0 "$(cat "${pidFile}")" 2>/dev/null; then echo "${name} is running"; exit 0; fi
      echo "${name} is dead"; exit 1
    fi
    echo "${name} is not running"; exit 3`;
  const file = path.join(box.initDir, name);
  writeFileSync(
    file,
    `#!/bin/sh\ncase "$1" in\n  start)\n    ${start}\n    ;;\n  status)\n    ${status}\n    ;;\n  *) echo "Usage: $0 {start|status}" >&2; exit 2 ;;\nesac\nexit 0\n`,
  );
  chmodSync(file, 0o755);
  return pidFile;
}

function killFromPidFile(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(execFileSync('cat', [pidFile], { encoding: 'utf8' }).trim());
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

beforeEach(() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'brier-sysv-'));
  const initDir = path.join(dir, 'init.d');
  const rcDir = path.join(dir, 'etc');
  execFileSync('mkdir', ['-p', initDir, path.join(rcDir, 'rc2.d')]);
  // The daemon: sleep under its own name, so /proc/PID/comm and pidof find only ours.
  copyFileSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim(), path.join(dir, DAEMON));
  chmodSync(path.join(dir, DAEMON), 0o755);
  const launcher = path.join(dir, 'launch.sh');
  writeFileSync(launcher, `#!/bin/sh\n"${dir}/${DAEMON}" 300 >/dev/null 2>&1 &\necho $! > "${dir}/direct.pid"\n`);
  chmodSync(launcher, 0o755);
  const calls: Sandbox['calls'] = [];
  box = {
    dir,
    initDir,
    rcDir,
    calls,
    run: (cmd, args, opts) => {
      calls.push({ cmd, args });
      return runCommand(cmd, args, opts);
    },
    daemons: { 'brier-direct': { binary: launcher, args: [], process: DAEMON, pidFile: path.join(dir, 'direct.pid') } },
  };
});

afterEach(() => {
  for (const pidFile of ['svc.pid', 'lazy.pid', 'direct.pid', 'brier-direct.pid']) killFromPidFile(path.join(box.dir, pidFile));
  rmSync(box.dir, { recursive: true, force: true });
});

function sysv(withDirect = false): SysvinitServiceManager {
  const direct = new DirectServiceManager({ run: box.run, daemons: box.daemons, sleep: async () => {} });
  return new SysvinitServiceManager({ run: box.run, initDir: box.initDir, rcDir: box.rcDir, ...(withDirect ? { direct } : {}) });
}

describe('lsbStatus', () => {
  it('maps LSB status exit codes: 0 running, 1-3 stopped, 4 and others unknown', () => {
    expect([0, 1, 2, 3, 4, 150, null].map(lsbStatus)).toEqual([
      'running',
      'stopped',
      'stopped',
      'stopped',
      'unknown',
      'unknown',
      'unknown',
    ]);
  });
});

describe.runIf(isLinux)('SysvinitServiceManager with real init scripts in a temporary init.d', () => {
  it('reports a stopped service, starts it through its script, and then reports it running', async () => {
    const pidFile = writeScript('svc');
    const manager = sysv();
    expect(await manager.status('svc')).toMatchObject({
      exists: true,
      running: false,
      enabled: false,
      detail: expect.stringContaining('not running'),
    });

    const started = await manager.start('svc');
    expect(started).toMatchObject({ ok: true });
    expect(existsSync(pidFile)).toBe(true);
    expect(await manager.status('svc')).toMatchObject({ exists: true, running: true, detail: expect.stringContaining('svc is running') });
    expect(box.calls.map((c) => [path.basename(c.cmd), ...c.args])).toContainEqual(['svc', 'start']);
  });

  it('does not run start again for a service that is already running', async () => {
    writeScript('svc');
    const manager = sysv();
    await manager.start('svc');
    box.calls.length = 0;
    expect(await manager.start('svc')).toMatchObject({ ok: true, detail: expect.stringContaining('already running') });
    expect(box.calls.map((c) => c.args[0])).toEqual(['status']);
  });

  it('reads exit code 1 (dead, pid file left) as stopped', async () => {
    const pidFile = writeScript('svc');
    writeFileSync(pidFile, '999999999\n');
    expect(await sysv().status('svc')).toMatchObject({
      exists: true,
      running: false,
      detail: expect.stringContaining('dead, pid file exists'),
    });
  });

  it('enables a service at boot with S links in rc2.d-rc5.d, and then reports it enabled', async () => {
    writeScript('svc');
    const manager = sysv();
    expect(await manager.enable('svc')).toMatchObject({ ok: true });
    expect(readlinkSync(path.join(box.rcDir, 'rc3.d', 'S01svc'))).toBe('../../init.d/svc');
    expect(await manager.status('svc')).toMatchObject({ enabled: true });
    expect(await manager.enable('svc')).toMatchObject({ ok: true, detail: expect.stringContaining('already starts at boot') });
  });

  it('reports a service without a script as missing, and refuses to start it when no direct start is known', async () => {
    const manager = sysv(true);
    expect(await manager.status('nope')).toMatchObject({ exists: false, running: false });
    expect(await manager.start('nope')).toMatchObject({ ok: false, code: 'not-found' });
    expect(await manager.enable('nope')).toMatchObject({ ok: false, code: 'not-found' });
    expect(box.calls).toEqual([]);
  });

  it('reports a script that exits 0 without starting anything as not-running', async () => {
    writeScript('lazy', { start: 'echo "signatures not found, not starting"' });
    const result = await sysv().start('lazy');
    expect(result).toMatchObject({ ok: false, code: 'not-running' });
    expect(result.detail).toContain('signatures not found');
  });

  it('starts the daemon directly when its script exits 0 without starting it and the direct manager knows it', async () => {
    writeScript('brier-direct', { start: 'echo "Clamav signatures not found"' });
    const manager = sysv(true);
    const result = await manager.start('brier-direct');
    expect(result).toMatchObject({ ok: true });
    expect(result.detail).toContain('exited 0 but brier-direct is not running');
    expect(result.detail).toContain('started');
    // The script still says stopped (its own pid file is empty), so it stays the judge; the direct pid file is ours.
    expect(existsSync(path.join(box.dir, 'direct.pid'))).toBe(true);
  });

  it('asks the direct manager whether the daemon runs when the script cannot tell (exit 4)', async () => {
    writeScript('brier-direct', { status: 'exit 4' });
    const manager = sysv(true);
    expect(await manager.status('brier-direct')).toMatchObject({
      exists: true,
      running: false,
      detail: expect.stringContaining('status unknown'),
    });
    const direct = new DirectServiceManager({ run: box.run, daemons: box.daemons, sleep: async () => {} });
    expect(await direct.start('brier-direct')).toMatchObject({ ok: true });
    expect(await manager.status('brier-direct')).toMatchObject({
      exists: true,
      running: true,
      detail: expect.stringContaining('pid file'),
    });
  });

  it('believes the direct manager over a script that says running when no live process exists (a zombie or stale pid file)', async () => {
    writeScript('brier-direct', { status: 'echo "brier-direct is running"; exit 0' });
    const manager = sysv(true);
    const state = await manager.status('brier-direct');
    expect(state).toMatchObject({ exists: true, running: false });
    expect(state.detail).toContain('script says running');
    expect(await manager.start('brier-direct')).toMatchObject({ ok: true, detail: expect.stringContaining('started') });
    expect(await manager.status('brier-direct')).toMatchObject({ running: true });
  });

  it('uses the direct manager for a known daemon that has no init script at all', async () => {
    const manager = sysv(true);
    expect(await manager.start('brier-direct')).toMatchObject({ ok: true, detail: expect.stringContaining('no init script') });
    expect(await manager.status('brier-direct')).toMatchObject({ running: true });
    expect(await manager.enable('brier-direct')).toMatchObject({ ok: true, detail: expect.stringContaining('no boot-time mechanism') });
  });

  it('does not treat a script without the execute bit as a service', async () => {
    writeScript('svc');
    chmodSync(path.join(box.initDir, 'svc'), 0o644);
    expect(await sysv().status('svc')).toMatchObject({ exists: false });
  });

  it('refuses every injection attempt before running any command or touching a file', async () => {
    const manager = sysv(true);
    for (const name of INJECTION_NAMES) {
      await expect(manager.status(name as string)).rejects.toMatchObject({ code: 'invalid-request' });
      expect(await manager.start(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
      expect(await manager.enable(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
    }
    expect(box.calls).toEqual([]);
  });
});

describe.runIf(isLinux)('SysvinitServiceManager enabling with update-rc.d (scripted runner)', () => {
  function missingTools() {
    const calls: string[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args].join(' '));
      throw new CommandError('ENOENT', cmd, `${cmd} is not installed`, {
        cause: Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' }),
      });
    };
    return { calls, run };
  }

  it('tries update-rc.d NAME defaults, then chkconfig NAME on, and reports tool-missing when neither exists', async () => {
    writeScript('svc');
    const { calls, run } = missingTools();
    const manager = new SysvinitServiceManager({ run, initDir: box.initDir, rcDir: box.rcDir, useServiceCommand: true });
    expect(await manager.enable('svc')).toMatchObject({ ok: false, code: 'tool-missing' });
    expect(calls).toEqual(['update-rc.d svc defaults', 'chkconfig svc on']);
  });

  it('runs update-rc.d NAME enable when defaults left the links as K links', async () => {
    writeScript('svc');
    const calls: string[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args].join(' '));
      // What update-rc.d enable does: the S link appears.
      if (args[1] === 'enable') symlinkSync('../init.d/svc', path.join(box.rcDir, 'rc2.d', 'S01svc'));
      return { stdout: '', stderr: '', code: 0 };
    };
    const manager = new SysvinitServiceManager({ run, initDir: box.initDir, rcDir: box.rcDir, useServiceCommand: true });
    expect(await manager.enable('svc')).toMatchObject({ ok: true });
    expect(calls).toEqual(['update-rc.d svc defaults', 'update-rc.d svc enable']);
  });

  it('reports update-rc.d succeeding without any S link as not-effective', async () => {
    writeScript('svc');
    const run: CommandRunner = async () => ({ stdout: '', stderr: '', code: 0 });
    const manager = new SysvinitServiceManager({ run, initDir: box.initDir, rcDir: box.rcDir, useServiceCommand: true });
    expect(await manager.enable('svc')).toMatchObject({ ok: false, code: 'not-effective' });
  });
});

/** A script installed on this machine whose `status` is harmless to ask. */
const installedScript = ['dbus', 'postgresql', 'udev', 'procps'].find((s) => existsSync(`/etc/init.d/${s}`));
const canUseService =
  isLinux && !systemdIsRunning() && installedScript !== undefined && spawnSync('service', ['--version']).error === undefined;

describe.runIf(canUseService)("SysvinitServiceManager with this machine's own `service` (read-only)", () => {
  it('asks `service NAME status` and agrees with its exit code', async () => {
    const name = installedScript as string;
    const expected = spawnSync('service', [name, 'status'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }).status;
    const manager = new SysvinitServiceManager({ run: box.run });
    const state = await manager.status(name);
    expect(state.exists).toBe(true);
    expect(state.running).toBe(expected === 0);
    expect(box.calls).toEqual([{ cmd: 'service', args: [name, 'status'] }]);
  });

  it('reports a name with no script as missing without running `service`', async () => {
    const manager = new SysvinitServiceManager({ run: box.run });
    expect(await manager.status('brier-no-such-service')).toMatchObject({ exists: false });
    expect(box.calls).toEqual([]);
  });
});
