import { chown, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ActionResult, ServiceManager, ServiceState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, defaultSleep, failed, judgeExit, succeeded } from './action-result.js';
import { assertServiceName, isValidServiceName, refusedName } from './service-name.js';

/** A directory a daemon expects before it starts (its pid file or socket lives there). */
export interface RuntimeDir {
  path: string;
  /** User that must own it; the daemon drops privileges to this user before writing there. */
  owner: string;
  /** Default 0o755. */
  mode?: number;
}

/** How to start one daemon without an init system, and how to see that it runs. */
export interface KnownDaemon {
  /** Absolute path of the binary. Every entry daemonises itself (forks, detaches, closes stdio). */
  binary: string;
  args: readonly string[];
  /** The process name the kernel shows (/proc/PID/comm, at most 15 characters), for pidof. */
  process: string;
  /** Where the daemon writes its pid, checked before pidof. */
  pidFile?: string;
  runtimeDirs?: readonly RuntimeDir[];
}

/**
 * Daemons the direct manager knows, by their Debian service name. Arguments match what the Debian
 * init scripts pass, so a daemon started here and one started by `service` look the same to both
 * (clamd gets the same --pid file the clamav-daemon script checks).
 */
export const KNOWN_DAEMONS: Readonly<Record<string, KnownDaemon>> = Object.freeze({
  'clamav-daemon': {
    binary: '/usr/sbin/clamd',
    args: ['--config-file=/etc/clamav/clamd.conf', '--pid=/run/clamav/clamd.pid'],
    process: 'clamd',
    pidFile: '/run/clamav/clamd.pid',
    runtimeDirs: [{ path: '/run/clamav', owner: 'clamav' }],
  },
  'clamav-freshclam': {
    binary: '/usr/bin/freshclam',
    args: ['--daemon', '--config-file=/etc/clamav/freshclam.conf', '--pid=/run/clamav/freshclam.pid'],
    process: 'freshclam',
    pidFile: '/run/clamav/freshclam.pid',
    runtimeDirs: [{ path: '/run/clamav', owner: 'clamav' }],
  },
  cron: { binary: '/usr/sbin/cron', args: [], process: 'cron', pidFile: '/run/crond.pid' },
  rsyslog: { binary: '/usr/sbin/rsyslogd', args: [], process: 'rsyslogd', pidFile: '/run/rsyslogd.pid' },
  ssh: {
    binary: '/usr/sbin/sshd',
    args: [],
    process: 'sshd',
    pidFile: '/run/sshd.pid',
    runtimeDirs: [{ path: '/run/sshd', owner: 'root' }],
  },
});

export interface UserIds {
  uid: number;
  gid: number;
}

/** A user's uid and primary gid from /etc/passwd (the agent runs as root, so no NSS lookups are needed for system users). */
export async function lookupUserInPasswd(name: string, passwdFile = '/etc/passwd'): Promise<UserIds | null> {
  let text: string;
  try {
    text = await readFile(passwdFile, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] !== name || fields.length < 4) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  }
  return null;
}

/**
 * Makes each directory exist and belong to its owner, as the Debian init scripts do before they
 * start the daemon (/run is a tmpfs, so /run/clamav is gone after every boot). Returns what it changed.
 */
export async function prepareRuntimeDirs(
  dirs: readonly RuntimeDir[],
  lookupUser: (name: string) => Promise<UserIds | null>,
): Promise<{ changed: string[]; problem?: string }> {
  const changed: string[] = [];
  for (const dir of dirs) {
    let info = await stat(dir.path).catch(() => null);
    if (info && !info.isDirectory()) return { changed, problem: `${dir.path} exists and is not a directory` };
    if (!info) {
      await mkdir(dir.path, { recursive: true, mode: dir.mode ?? 0o755 });
      info = await stat(dir.path);
      changed.push(`created ${dir.path}`);
    }
    const ids = await lookupUser(dir.owner);
    if (!ids) return { changed, problem: `user ${dir.owner} does not exist, so ${dir.path} cannot be given to it` };
    if (info.uid !== ids.uid || info.gid !== ids.gid) {
      await chown(dir.path, ids.uid, ids.gid);
      changed.push(`gave ${dir.path} to ${dir.owner}`);
    }
  }
  return { changed };
}

export interface DirectServiceManagerDeps {
  run: CommandRunner;
  /** Default KNOWN_DAEMONS; tests add a harmless daemon of their own. */
  daemons?: Readonly<Record<string, KnownDaemon>>;
  /** Default: /etc/passwd. */
  lookupUser?: (name: string) => Promise<UserIds | null>;
  /** Default '/proc'. */
  procRoot?: string;
  sleep?: (ms: number) => Promise<void>;
  /** How long to look for the process after the start command returned. Default 10 s. */
  settleMs?: number;
}

/** Loading ClamAV's full signature set takes tens of seconds before clamd forks. */
const START_TIMEOUT_MS = 180_000;
const POLL_MS = 250;

/**
 * Starts daemons directly, for machines with neither systemd nor init scripts (containers, minimal
 * images): a fixed table of known daemons, each started with its own binary and arguments; running
 * means its pid file names a live process of that name, else `pidof` finds one. There is no boot-time
 * mechanism here, so `enable` is a no-op that says so; the agent's policy evaluation, which runs after
 * every start, is what brings such a daemon back.
 */
export class DirectServiceManager implements ServiceManager {
  readonly kind = 'direct';
  private readonly daemons: Readonly<Record<string, KnownDaemon>>;
  private readonly lookupUser: (name: string) => Promise<UserIds | null>;
  private readonly procRoot: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: DirectServiceManagerDeps) {
    this.daemons = deps.daemons ?? KNOWN_DAEMONS;
    this.lookupUser = deps.lookupUser ?? ((name) => lookupUserInPasswd(name));
    this.procRoot = deps.procRoot ?? '/proc';
    this.sleep = deps.sleep ?? defaultSleep;
  }

  /** Whether this manager knows how to start `name`. */
  knows(name: string): boolean {
    return isValidServiceName(name) && Object.hasOwn(this.daemons, name);
  }

  private daemon(name: string): KnownDaemon | undefined {
    return Object.hasOwn(this.daemons, name) ? this.daemons[name] : undefined;
  }

  async status(name: string): Promise<ServiceState> {
    assertServiceName(name);
    const daemon = this.daemon(name);
    if (!daemon) return { exists: false, running: false, enabled: null, detail: `direct: no known daemon for ${name}` };
    const installed = await stat(daemon.binary).then(
      (s) => s.isFile(),
      () => false,
    );
    const pids = await this.runningPids(daemon);
    return {
      exists: installed || pids.pids.length > 0,
      running: pids.pids.length > 0,
      enabled: null,
      detail: `direct: ${installed ? daemon.binary : `${daemon.binary} not installed`}; ${pids.how}`,
    };
  }

  /** Live processes of the daemon: the pid file's if it names one, else everything pidof finds. */
  async runningPids(daemon: KnownDaemon): Promise<{ pids: number[]; how: string }> {
    if (daemon.pidFile) {
      const pid = Number((await readFile(daemon.pidFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && (await this.commOf(pid)) === daemon.process.slice(0, 15)) {
        return { pids: [pid], how: `pid file ${daemon.pidFile}: ${pid}` };
      }
    }
    const ran = await attempt(this.deps.run, 'pidof', [daemon.process], { timeoutMs: 10_000 });
    if (ran.result) {
      const pids: number[] = [];
      for (const word of ran.result.stdout.split(/\s+/)) {
        if (/^\d+$/.test(word) && (await this.commOf(Number(word))) !== null) pids.push(Number(word));
      }
      return { pids, how: pids.length ? `pidof ${daemon.process}: ${pids.join(' ')}` : `no ${daemon.process} process` };
    }
    // No pidof (it is in procps on some distributions, sysvinit-utils on others): read /proc ourselves.
    const pids = await this.scanProc(daemon.process.slice(0, 15));
    return { pids, how: pids.length ? `/proc: ${daemon.process} ${pids.join(' ')}` : `no ${daemon.process} process` };
  }

  /**
   * The name of a live process, from /proc/PID/stat ("pid (comm) state …"); null when there is no
   * such process or it is a zombie: a killed daemon stays a zombie until its parent (often PID 1,
   * which in containers may reap late) collects it, and `kill -0` still succeeds on it.
   */
  private async commOf(pid: number): Promise<string | null> {
    const stat = await readFile(path.join(this.procRoot, String(pid), 'stat'), 'utf8').catch(() => null);
    if (!stat) return null;
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (open < 0 || close < open) return null;
    const state = stat.slice(close + 1).trim()[0];
    if (state === 'Z' || state === 'X') return null;
    return stat.slice(open + 1, close);
  }

  private async scanProc(comm: string): Promise<number[]> {
    const entries = await readdir(this.procRoot).catch(() => [] as string[]);
    const pids: number[] = [];
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      if ((await this.commOf(Number(entry))) === comm) pids.push(Number(entry));
    }
    return pids;
  }

  async start(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    const daemon = this.daemon(name);
    if (!daemon) return failed('not-found', `no init system entry and no known way to start ${name} directly`);
    const before = await this.runningPids(daemon);
    if (before.pids.length) return succeeded(`${name} is already running (${before.how})`);

    let prepared: Awaited<ReturnType<typeof prepareRuntimeDirs>>;
    try {
      prepared = await prepareRuntimeDirs(daemon.runtimeDirs ?? [], this.lookupUser);
    } catch (err) {
      return failed('command-failed', `cannot prepare the directories ${name} needs: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (prepared.problem) return failed('command-failed', prepared.problem);

    const ran = await attempt(this.deps.run, daemon.binary, daemon.args, { timeoutMs: START_TIMEOUT_MS });
    if (ran.failure) return ran.failure;
    const judged = judgeExit(daemon.binary, '', ran.result);
    if (!judged.ok) return judged;

    // Counted polls rather than a clock, so tests with an instant sleep end too.
    const polls = Math.max(1, Math.ceil((this.deps.settleMs ?? 10_000) / POLL_MS));
    const setup = prepared.changed.length ? `${prepared.changed.join(', ')}; ` : '';
    for (let i = 0; ; i++) {
      const after = await this.runningPids(daemon);
      if (after.pids.length) return succeeded(`${setup}started ${daemon.binary} directly (${after.how})`);
      if (i + 1 >= polls) return failed('not-running', `${setup}${daemon.binary} exited 0 but no ${daemon.process} process is running`);
      await this.sleep(POLL_MS);
    }
  }

  async enable(name: string): Promise<ActionResult> {
    if (!isValidServiceName(name)) return refusedName(name);
    return succeeded(`no boot-time mechanism without an init system; the agent starts ${name} when policy requires it`);
  }
}
