// Real processes: each test starts a harmless daemon (a copy of `sleep` under a name of its own,
// launched by a small script that backgrounds it and writes a pid file) and kills it afterwards.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CommandRunner, runCommand } from '../run-command.js';
import { INJECTION_NAMES } from './__fixtures__/injection-names.js';
import { DirectServiceManager, KNOWN_DAEMONS, type KnownDaemon, lookupUserInPasswd, prepareRuntimeDirs } from './direct.linux.js';

const isLinux = process.platform === 'linux';
const PROCESS = 'brier-dirtest';

let dir: string;
let calls: string[];
let run: CommandRunner;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'brier-direct-'));
  calls = [];
  run = (cmd, args, opts) => {
    calls.push([cmd, ...args].join(' '));
    return runCommand(cmd, args, opts);
  };
  copyFileSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim(), path.join(dir, PROCESS));
  chmodSync(path.join(dir, PROCESS), 0o755);
});

afterEach(() => {
  const pidFile = path.join(dir, 'run', 'd.pid');
  // Only our own daemon: one test writes the worker's pid into the file.
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
  const comm = pid > 0 && existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim() : '';
  if (comm === PROCESS) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A launcher that daemonises the test process as the real daemons do (fork, close stdio, pid file). */
function daemon(launcherBody?: string): Record<string, KnownDaemon> {
  const launcher = path.join(dir, 'launch.sh');
  const pidFile = path.join(dir, 'run', 'd.pid');
  writeFileSync(launcher, `#!/bin/sh\n${launcherBody ?? `"${dir}/${PROCESS}" 300 >/dev/null 2>&1 &\necho $! > "${pidFile}"`}\n`);
  chmodSync(launcher, 0o755);
  return {
    'brier-test': {
      binary: launcher,
      args: [],
      process: PROCESS,
      pidFile,
      runtimeDirs: [{ path: path.join(dir, 'run'), owner: 'root' }],
    },
  };
}

const root = async () => ({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });

describe.runIf(isLinux)('DirectServiceManager with a real daemon', () => {
  it('creates the runtime directory, starts the daemon and finds it by its pid file', async () => {
    const manager = new DirectServiceManager({ run, daemons: daemon(), lookupUser: root, sleep: async () => {} });
    expect(await manager.status('brier-test')).toMatchObject({ exists: true, running: false, enabled: null });
    const started = await manager.start('brier-test');
    expect(started).toMatchObject({ ok: true });
    expect(started.detail).toContain(`created ${path.join(dir, 'run')}`);
    expect(statSync(path.join(dir, 'run')).isDirectory()).toBe(true);
    expect(await manager.status('brier-test')).toMatchObject({ running: true, detail: expect.stringContaining('pid file') });
  });

  it('does not start a second copy of a daemon that runs', async () => {
    const manager = new DirectServiceManager({ run, daemons: daemon(), lookupUser: root, sleep: async () => {} });
    await manager.start('brier-test');
    const launches = calls.filter((c) => c.endsWith('launch.sh')).length;
    expect(await manager.start('brier-test')).toMatchObject({ ok: true, detail: expect.stringContaining('already running') });
    expect(calls.filter((c) => c.endsWith('launch.sh')).length).toBe(launches);
  });

  it('finds the daemon with pidof when the pid file is missing', async () => {
    const manager = new DirectServiceManager({ run, daemons: daemon(), lookupUser: root, sleep: async () => {} });
    await manager.start('brier-test');
    const pid = readFileSync(path.join(dir, 'run', 'd.pid'), 'utf8').trim();
    rmSync(path.join(dir, 'run', 'd.pid'));
    const state = await manager.status('brier-test');
    process.kill(Number(pid), 'SIGKILL');
    expect(state).toMatchObject({ running: true, detail: expect.stringContaining(`pidof ${PROCESS}: ${pid}`) });
  });

  it('ignores a pid file naming a process of another name', async () => {
    const manager = new DirectServiceManager({ run, daemons: daemon(), lookupUser: root });
    execFileSync('mkdir', ['-p', path.join(dir, 'run')]);
    writeFileSync(path.join(dir, 'run', 'd.pid'), `${process.pid}\n`);
    expect(await manager.status('brier-test')).toMatchObject({ running: false });
  });

  it('reports a launcher that exits 0 without starting anything as not-running', async () => {
    const manager = new DirectServiceManager({ run, daemons: daemon('exit 0'), lookupUser: root, sleep: async () => {}, settleMs: 1000 });
    expect(await manager.start('brier-test')).toMatchObject({ ok: false, code: 'not-running' });
  });

  it('reports a launcher that fails as command-failed, quoting it', async () => {
    const manager = new DirectServiceManager({ run, daemons: daemon('echo "cannot bind" >&2; exit 7'), lookupUser: root });
    expect(await manager.start('brier-test')).toMatchObject({
      ok: false,
      code: 'command-failed',
      detail: expect.stringContaining('cannot bind'),
    });
  });

  it('reports a daemon whose binary is not installed as tool-missing', async () => {
    const daemons = { 'brier-test': { binary: path.join(dir, 'absent'), args: [], process: 'absent' } };
    const manager = new DirectServiceManager({ run, daemons });
    expect(await manager.status('brier-test')).toMatchObject({ exists: false, running: false });
    expect(await manager.start('brier-test')).toMatchObject({ ok: false, code: 'tool-missing' });
  });

  it('refuses to give a runtime directory to a user that does not exist', async () => {
    const manager = new DirectServiceManager({ run, daemons: daemon(), lookupUser: async () => null });
    expect(await manager.start('brier-test')).toMatchObject({
      ok: false,
      code: 'command-failed',
      detail: expect.stringContaining('user root does not exist'),
    });
  });
});

describe('DirectServiceManager without a known daemon', () => {
  it('reports an unknown name as missing and not-found, and enable as a no-op', async () => {
    const manager = new DirectServiceManager({ run: async () => ({ stdout: '', stderr: '', code: 1 }), daemons: {} });
    expect(await manager.status('cron')).toMatchObject({ exists: false, running: false });
    expect(await manager.start('cron')).toMatchObject({ ok: false, code: 'not-found' });
    expect(await manager.enable('cron')).toMatchObject({ ok: true, detail: expect.stringContaining('no boot-time mechanism') });
  });

  it('does not mistake inherited object properties for daemons', () => {
    const manager = new DirectServiceManager({ run });
    expect(manager.knows('constructor')).toBe(false);
    expect(manager.knows('clamav-daemon')).toBe(true);
  });

  it('starts clamd the way the Debian init script does, with its pid file in /run/clamav owned by clamav', () => {
    expect(KNOWN_DAEMONS['clamav-daemon']).toEqual({
      binary: '/usr/sbin/clamd',
      args: ['--config-file=/etc/clamav/clamd.conf', '--pid=/run/clamav/clamd.pid'],
      process: 'clamd',
      pidFile: '/run/clamav/clamd.pid',
      runtimeDirs: [{ path: '/run/clamav', owner: 'clamav' }],
    });
  });

  it('refuses every injection attempt before running any command', async () => {
    const seen: string[] = [];
    const manager = new DirectServiceManager({
      run: async (cmd) => {
        seen.push(cmd);
        return { stdout: '', stderr: '', code: 0 };
      },
    });
    for (const name of INJECTION_NAMES) {
      await expect(manager.status(name as string)).rejects.toMatchObject({ code: 'invalid-request' });
      expect(await manager.start(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
      expect(await manager.enable(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
    }
    expect(seen).toEqual([]);
  });
});

describe('lookupUserInPasswd and prepareRuntimeDirs', () => {
  it('reads uid and primary gid from a passwd file, and null for an unknown user', async () => {
    const file = path.join(dir, 'passwd');
    writeFileSync(file, 'root:x:0:0:root:/root:/bin/bash\nclamav:x:101:103::/var/lib/clamav:/bin/false\n');
    expect(await lookupUserInPasswd('clamav', file)).toEqual({ uid: 101, gid: 103 });
    expect(await lookupUserInPasswd('nobody', file)).toBeNull();
    expect(await lookupUserInPasswd('clamav', path.join(dir, 'missing'))).toBeNull();
  });

  it('refuses a runtime path that exists as a file', async () => {
    writeFileSync(path.join(dir, 'file'), '');
    const result = await prepareRuntimeDirs([{ path: path.join(dir, 'file'), owner: 'root' }], root);
    expect(result.problem).toContain('is not a directory');
  });

  it.runIf(isLinux && process.getuid?.() === 0)('gives an existing directory to its owner when it belongs to someone else', async () => {
    const target = path.join(dir, 'owned');
    execFileSync('mkdir', [target]);
    const result = await prepareRuntimeDirs([{ path: target, owner: 'nobody' }], async () => ({ uid: 65534, gid: 65534 }));
    expect(result.changed).toEqual([`gave ${target} to nobody`]);
    expect(statSync(target).uid).toBe(65534);
  });
});
