import { chmod, chown, copyFile, mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { DPKG_QUERY_FORMAT, parseDpkgQuery } from '../collectors/packages/dpkg.js';
import type { ActionResult, AntivirusHealth, AntivirusProvider, PackageControl, ServiceManager } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, defaultSleep, failed, firstLineOf, oneLine, succeeded } from '../services/action-result.js';
import { lookupUserInPasswd, prepareRuntimeDirs, type UserIds } from '../services/direct.linux.js';

/** The Debian packages: the scanner and signature tools, and the daemon. clamav-freshclam comes with clamav. */
export const CLAMAV_PACKAGES = ['clamav', 'clamav-daemon'] as const;
export const CLAMD_SERVICE = 'clamav-daemon';
export const DEFAULT_CLAMD_CONF = '/etc/clamav/clamd.conf';
export const DEFAULT_DATABASE_DIR = '/var/lib/clamav';
export const DEFAULT_LOCAL_SOCKET = '/run/clamav/clamd.ctl';
const DEFAULT_USER = 'clamav';

/**
 * Files clamd loads signatures from (ClamAV's "signatures" manual): signed and unsigned containers,
 * hash, body, logical, icon, container-metadata, phishing, bytecode, file-type and YARA databases.
 * Allow lists (.fp, .sfp, .ign, .ign2) and certificate trust lists (.crb) detect nothing, so they
 * neither prove a database exists nor make it fresh.
 */
export const SIGNATURE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.cvd',
  '.cld',
  '.cud',
  '.hdb',
  '.hsb',
  '.hdu',
  '.hsu',
  '.mdb',
  '.msb',
  '.mdu',
  '.msu',
  '.ndb',
  '.ndu',
  '.ldb',
  '.ldu',
  '.idb',
  '.cdb',
  '.cbc',
  '.pdb',
  '.gdb',
  '.wdb',
  '.ftm',
  '.yar',
  '.yara',
]);
/** Containers that start with the 512-byte "ClamAV-VDB:" header carrying their build time. */
const HEADER_EXTENSIONS = new Set(['.cvd', '.cld', '.cud']);
const CVD_HEADER_BYTES = 512;

/**
 * clamd.conf as `Key value` lines (`#` comments, blank lines ignored); the last occurrence of a
 * key wins, as in clamd for single-valued options.
 */
export function parseClamdConf(text: string): Map<string, string> {
  const conf = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+)(?:\s+(.*))?$/.exec(line);
    if (match?.[1]) conf.set(match[1], (match[2] ?? '').trim());
  }
  return conf;
}

export interface CvdHeader {
  builtAt: Date;
  version: number;
  signatures: number;
  functionalityLevel: number;
  builder: string;
}

/**
 * The header of a .cvd/.cld/.cud: 512 ASCII bytes, space padded,
 * `ClamAV-VDB:<build time>:<version>:<signatures>:<functionality level>:<md5>:<digital signature>:<builder>:<build time in seconds>`.
 * The build time text itself contains a colon ("14 Oct 2023 07:25 -0400"), so the fields are taken
 * from the end. The seconds field is authoritative; the text is the fallback (very old files).
 */
export function parseCvdHeader(header: Buffer | string): CvdHeader | null {
  const text = (typeof header === 'string' ? header : header.subarray(0, CVD_HEADER_BYTES).toString('latin1')).replace(/[\s\0]+$/, '');
  if (!text.startsWith('ClamAV-VDB:')) return null;
  const fields = text.split(':');
  if (fields.length < 9) return null;
  const tail = fields.slice(-7);
  const [version, signatures, level, , , builder, seconds] = tail as [string, string, string, string, string, string, string];
  const timeText = fields.slice(1, fields.length - 7).join(':');
  let builtAt: Date | null = null;
  if (/^\d{9,11}$/.test(seconds)) builtAt = new Date(Number(seconds) * 1000);
  else if (!Number.isNaN(Date.parse(timeText))) builtAt = new Date(Date.parse(timeText));
  if (!builtAt || !/^\d+$/.test(version)) return null;
  return { builtAt, version: Number(version), signatures: Number(signatures) || 0, functionalityLevel: Number(level) || 0, builder };
}

async function readHeader(file: string): Promise<Buffer | null> {
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(CVD_HEADER_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, CVD_HEADER_BYTES, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

export interface SignatureFile {
  file: string;
  builtAt: Date;
  /** Where the time came from: the container header, or the file's modification time. */
  source: 'header' | 'mtime';
}

/** Every signature database in `dir` with its build time, newest first; [] when the directory is missing. */
export async function listSignatureFiles(dir: string): Promise<SignatureFile[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  const found: SignatureFile[] = [];
  for (const entry of entries) {
    const ext = path.extname(entry).toLowerCase();
    if (!SIGNATURE_EXTENSIONS.has(ext)) continue;
    const file = path.join(dir, entry);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile() || info.size === 0) continue;
    const header = HEADER_EXTENSIONS.has(ext) ? await readHeader(file) : null;
    const parsed = header ? parseCvdHeader(header) : null;
    found.push(parsed ? { file, builtAt: parsed.builtAt, source: 'header' } : { file, builtAt: info.mtime, source: 'mtime' });
  }
  return found.sort((a, b) => b.builtAt.getTime() - a.builtAt.getTime());
}

/** Hours between `builtAt` and `now`, one decimal, never negative (a clock behind the mirror's). */
export function ageHours(builtAt: Date, now: Date): number {
  return Math.max(0, Math.round((now.getTime() - builtAt.getTime()) / 360_000) / 10);
}

/**
 * One command to clamd over its local socket, in the `z` form (NUL-terminated command and reply).
 * Resolves the reply, or null when nothing listens, the socket is refused, or no reply comes within `timeoutMs`.
 */
export function clamdRequest(socketPath: string, command: string, timeoutMs = 3_000): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (value: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const socket = net.createConnection({ path: socketPath });
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('connect', () => socket.write(`z${command}\0`));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.includes('\0')) finish(text.slice(0, text.indexOf('\0')));
      else if (text.length > 4096) finish(null);
    });
    socket.on('end', () => finish(chunks.length ? Buffer.concat(chunks).toString('utf8').replace(/\0.*$/s, '') : null));
    socket.on('error', () => finish(null));
  });
}

/** clamd answers `PING` with `PONG` once its signatures are loaded and it accepts scans. */
export async function clamdPing(socketPath: string, timeoutMs = 3_000): Promise<boolean> {
  return (await clamdRequest(socketPath, 'PING', timeoutMs))?.trim() === 'PONG';
}

export interface ClamavProviderDeps {
  run: CommandRunner;
  services: ServiceManager;
  packages: PackageControl;
  /** Reads clamd.conf; default fs. */
  readFile?: (file: string) => Promise<string>;
  /** Default /etc/clamav/clamd.conf; its DatabaseDirectory, LocalSocket and User are used. */
  confPath?: string;
  /**
   * A signature file (any database extension clamd loads, e.g. a small .hdb) copied into the
   * database directory when that has none, before clamd is started. For tests and air-gapped
   * hosts where freshclam cannot reach a mirror; clamd refuses to start with no signatures at all.
   */
  localDatabase?: string;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Default clamdPing. */
  ping?: (socketPath: string) => Promise<boolean>;
  /** Default clamdRequest; used to make clamd reload after freshclam. */
  request?: (socketPath: string, command: string) => Promise<string | null>;
  lookupUser?: (name: string) => Promise<UserIds | null>;
  /** Bounded wait for PONG after a start. Default 60 s. */
  startTimeoutMs?: number;
  /** Default 5 minutes; offline it fails within seconds (no DNS). */
  freshclamTimeoutMs?: number;
}

interface ClamdPaths {
  databaseDir: string;
  /** null when clamd listens only on TCP; then "running" rests on the process alone. */
  socket: string | null;
  user: string;
  pidFile: string | null;
  confFound: boolean;
}

const POLL_MS = 1_000;

/**
 * ClamAV from Debian's packages. Installed: dpkg has clamav and clamav-daemon configured. Running:
 * clamd answers PING on its local socket (a live process that does not answer is still loading or
 * broken, and scans nothing). Signature age: the newest database in DatabaseDirectory, by the build
 * time in .cvd/.cld/.cud headers, else by file modification time. Real-time protection is reported
 * as "clamd runs": on-access scanning (clamonacc with fanotify) is not configured or checked here.
 *
 * `ensure` installs missing packages through the PackageControl (the same apt path deployments
 * use), puts a database in place (the configured local file, else one freshclam attempt), prepares
 * /run/clamav, starts clamav-daemon through the ServiceManager and waits for PONG, and tries
 * freshclam once when signatures are older than allowed. Each step is one ActionResult; a failure
 * is reported, never thrown.
 */
export class ClamavProvider implements AntivirusProvider {
  readonly name = 'clamav' as const;
  private readonly readText: (file: string) => Promise<string>;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly ping: (socketPath: string) => Promise<boolean>;
  private readonly request: (socketPath: string, command: string) => Promise<string | null>;
  private readonly lookupUser: (name: string) => Promise<UserIds | null>;

  constructor(private readonly deps: ClamavProviderDeps) {
    this.readText = deps.readFile ?? ((file) => readFile(file, 'utf8'));
    this.now = deps.now ?? (() => new Date());
    this.sleep = deps.sleep ?? defaultSleep;
    this.ping = deps.ping ?? ((socket) => clamdPing(socket));
    this.request = deps.request ?? ((socket, command) => clamdRequest(socket, command, 10_000));
    this.lookupUser = deps.lookupUser ?? ((name) => lookupUserInPasswd(name));
  }

  private async paths(): Promise<ClamdPaths> {
    let conf: Map<string, string> | null = null;
    try {
      conf = parseClamdConf(await this.readText(this.deps.confPath ?? DEFAULT_CLAMD_CONF));
    } catch {
      conf = null;
    }
    if (!conf)
      return { databaseDir: DEFAULT_DATABASE_DIR, socket: DEFAULT_LOCAL_SOCKET, user: DEFAULT_USER, pidFile: null, confFound: false };
    const socket = conf.get('LocalSocket') || (conf.has('TCPSocket') ? null : DEFAULT_LOCAL_SOCKET);
    return {
      databaseDir: conf.get('DatabaseDirectory') || DEFAULT_DATABASE_DIR,
      socket,
      user: conf.get('User') || DEFAULT_USER,
      pidFile: conf.get('PidFile') || null,
      confFound: true,
    };
  }

  /** Installed versions of the two packages per dpkg (falls back to the PackageControl where there is no dpkg-query). */
  private async installedPackages(): Promise<Map<string, string>> {
    const versions = new Map<string, string>();
    const ran = await attempt(this.deps.run, 'dpkg-query', ['-W', `--showformat=${DPKG_QUERY_FORMAT}`, ...CLAMAV_PACKAGES], {
      timeoutMs: 60_000,
    });
    if (ran.result) {
      // Exit 1 with "no packages found matching" for a missing one; the others are still printed.
      for (const pkg of parseDpkgQuery(ran.result.stdout)) versions.set(pkg.name, pkg.version);
      return versions;
    }
    for (const name of CLAMAV_PACKAGES) {
      const version = await this.deps.packages.installedVersion(name).catch(() => null);
      if (version) versions.set(name, version);
    }
    return versions;
  }

  /** Whether a clamd process is alive: the service manager first, then pidof. */
  private async processAlive(): Promise<{ alive: boolean; how: string }> {
    const state = await this.deps.services.status(CLAMD_SERVICE).catch(() => null);
    if (state?.running) return { alive: true, how: state.detail };
    const pidof = await attempt(this.deps.run, 'pidof', ['clamd'], { timeoutMs: 10_000 });
    const pids = pidof.result?.code === 0 ? pidof.result.stdout.trim() : '';
    if (pids) return { alive: true, how: `pidof clamd: ${pids}` };
    return { alive: false, how: state ? state.detail : 'no clamd process' };
  }

  private async answering(paths: ClamdPaths): Promise<boolean> {
    return paths.socket ? this.ping(paths.socket) : (await this.processAlive()).alive;
  }

  async health(): Promise<AntivirusHealth> {
    const paths = await this.paths();
    const installed = await this.installedPackages();
    const missing = CLAMAV_PACKAGES.filter((p) => !installed.has(p));
    const proc = await this.processAlive();
    const pong = paths.socket ? await this.ping(paths.socket) : false;
    const running = pong || (proc.alive && !paths.socket);
    const signatures = await listSignatureFiles(paths.databaseDir);
    const newest = signatures[0];
    const age = newest ? ageHours(newest.builtAt, this.now()) : null;

    const parts: string[] = [];
    parts.push(missing.length ? `not installed (${missing.join(', ')} missing)` : `clamav ${installed.get('clamav')}`);
    if (pong) parts.push(`clamd answers PING on ${paths.socket}`);
    else if (proc.alive && paths.socket) parts.push(`clamd runs (${proc.how}) but does not answer PING on ${paths.socket}`);
    else if (proc.alive) parts.push(`clamd runs (${proc.how})`);
    else parts.push('clamd is not running');
    parts.push(
      newest
        ? `newest signatures ${path.basename(newest.file)} built ${newest.builtAt.toISOString()} (${age} h old, from its ${newest.source})`
        : `no signature database in ${paths.databaseDir}`,
    );
    if (!paths.confFound) parts.push(`no ${this.deps.confPath ?? DEFAULT_CLAMD_CONF}`);
    return {
      provider: 'clamav',
      installed: missing.length === 0,
      running,
      // On-access scanning (clamonacc) is out of scope: a running clamd is what is reported.
      realTimeProtection: running,
      signatureAgeHours: age,
      detail: oneLine(parts.join('; '), 400),
    };
  }

  async ensure(want: { maxSignatureAgeHours: number }, current: AntivirusHealth): Promise<ActionResult[]> {
    const actions: ActionResult[] = [];

    if (!current.installed) {
      const installed = await this.installedPackages();
      for (const name of CLAMAV_PACKAGES.filter((p) => !installed.has(p))) {
        const result = await this.deps.packages.install(name);
        actions.push(result);
        if (!result.ok) return actions;
      }
    }

    const paths = await this.paths();
    let freshclamTried = false;
    if ((await listSignatureFiles(paths.databaseDir)).length === 0) {
      if (this.deps.localDatabase) {
        const copied = await this.copyLocalDatabase(this.deps.localDatabase, paths);
        actions.push(copied);
        if (!copied.ok) return actions;
      } else {
        freshclamTried = true;
        actions.push(await this.freshclam());
        if ((await listSignatureFiles(paths.databaseDir)).length === 0) {
          actions.push(
            failed(
              'no-signatures',
              `no signature database in ${paths.databaseDir} and freshclam could not fetch one; clamd cannot start without signatures`,
            ),
          );
          return actions;
        }
      }
    }

    const dirs = [paths.socket, paths.pidFile].filter((p): p is string => p !== null).map((p) => path.dirname(p));
    try {
      const prepared = await prepareRuntimeDirs(
        [...new Set(dirs)].map((dir) => ({ path: dir, owner: paths.user })),
        this.lookupUser,
      );
      if (prepared.changed.length) actions.push(succeeded(prepared.changed.join(', ')));
      if (prepared.problem) {
        actions.push(failed('command-failed', prepared.problem));
        return actions;
      }
    } catch (err) {
      actions.push(failed('command-failed', `cannot prepare ${dirs.join(', ')}: ${err instanceof Error ? err.message : String(err)}`));
      return actions;
    }

    if (!(await this.answering(paths))) {
      const state = await this.deps.services.status(CLAMD_SERVICE).catch(() => null);
      if (state?.enabled === false) actions.push(await this.deps.services.enable(CLAMD_SERVICE));
      const started = await this.deps.services.start(CLAMD_SERVICE);
      actions.push(started);
      actions.push(await this.waitUntilAnswering(paths));
    }

    if (!freshclamTried) {
      const newest = (await listSignatureFiles(paths.databaseDir))[0];
      const age = newest ? ageHours(newest.builtAt, this.now()) : null;
      if (age === null || age > want.maxSignatureAgeHours) {
        const updated = await this.freshclam();
        actions.push(updated);
        if (updated.ok && paths.socket && (await this.ping(paths.socket))) {
          const reply = await this.request(paths.socket, 'RELOAD');
          actions.push(
            reply?.trim() === 'RELOADING'
              ? succeeded('clamd reloads its signatures')
              : failed('command-failed', 'clamd did not accept RELOAD'),
          );
        }
      }
    }
    return actions;
  }

  private async waitUntilAnswering(paths: ClamdPaths): Promise<ActionResult> {
    const timeoutMs = this.deps.startTimeoutMs ?? 60_000;
    // Counted polls rather than a clock, so tests with an instant sleep still end.
    const polls = Math.max(1, Math.ceil(timeoutMs / POLL_MS));
    const what = paths.socket ? `answers PING on ${paths.socket}` : 'runs';
    for (let i = 0; i < polls; i++) {
      if (await this.answering(paths)) return succeeded(`clamd ${what}`);
      if (i + 1 < polls) await this.sleep(POLL_MS);
    }
    return failed(
      'timeout',
      `clamd did not ${paths.socket ? `answer PING on ${paths.socket}` : 'start'} within ${Math.round(timeoutMs / 1000)} s`,
    );
  }

  private async copyLocalDatabase(source: string, paths: ClamdPaths): Promise<ActionResult> {
    const ext = path.extname(source).toLowerCase();
    if (!path.isAbsolute(source) || !SIGNATURE_EXTENSIONS.has(ext)) {
      return failed(
        'invalid-request',
        `local signature file ${source} must be an absolute path ending in a database extension (.hdb, .ndb, .cvd, …)`,
      );
    }
    const target = path.join(paths.databaseDir, path.basename(source));
    try {
      await mkdir(paths.databaseDir, { recursive: true, mode: 0o755 });
      await copyFile(source, target);
      await chmod(target, 0o644);
      const ids = await this.lookupUser(paths.user);
      if (ids) await chown(target, ids.uid, ids.gid);
    } catch (err) {
      return failed('command-failed', `cannot copy ${source} to ${target}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return succeeded(`copied local signature file ${source} to ${target}`);
  }

  /** One freshclam run. Exit 0 updated, 1 already up to date; anything else (no network: 52, 57, 62) is reported. */
  private async freshclam(): Promise<ActionResult> {
    const ran = await attempt(this.deps.run, 'freshclam', ['--stdout'], { timeoutMs: this.deps.freshclamTimeoutMs ?? 300_000 });
    if (ran.failure) return ran.failure;
    if (ran.result.code === 0) return succeeded('freshclam updated the signatures');
    if (ran.result.code === 1) return succeeded('freshclam: the signatures are up to date with the mirror');
    const complaint =
      ran.result.stdout
        .split('\n')
        .map((l) => l.trim())
        .find((l) => /^ERROR:/.test(l)) ?? firstLineOf(ran.result);
    return failed(
      'command-failed',
      `freshclam could not update the signatures (exit ${ran.result.code}${complaint ? `: ${complaint}` : ''})`,
    );
  }
}
