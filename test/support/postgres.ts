// A throwaway PostgreSQL cluster for tests, started from the machine's own binaries, plus helpers that
// give each test a fresh database on it. `DATABASE_URL` points everything at an existing server instead.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export interface PostgresBinaries {
  readonly binDir: string;
  readonly initdb: string;
  readonly postgres: string;
}

export interface RunningPostgres {
  /** Superuser URL of the maintenance database `postgres`; use it with createDatabase(), not for test data. */
  readonly url: string;
  /** Stops the server and removes its files. Safe to call more than once. */
  stop(): Promise<void>;
}

// How long a freshly initialised cluster may take to accept connections before we give up (slow CI disks).
const READY_TIMEOUT_MS = 60_000;
// Fast shutdown normally takes well under a second; after this we stop asking politely.
const STOP_TIMEOUT_MS = 10_000;
// Keep only the tail of the server log in memory: enough to explain a failed start.
const LOG_TAIL_CHARS = 8_000;
// Database names we generate and accept: plain lowercase identifiers, so quoting can never be escaped.
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function binariesIn(binDir: string): PostgresBinaries | null {
  const initdb = join(binDir, 'initdb');
  const postgres = join(binDir, 'postgres');
  return isExecutable(initdb) && isExecutable(postgres) ? { binDir, initdb, postgres } : null;
}

/** Compares version directory names such as `9.6`, `15` and `17` numerically, highest first. */
function byVersionDescending(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * Finds initdb and postgres: `pg_config --bindir` first (it names the installation the headers belong to),
 * then the highest Debian-style /usr/lib/postgresql/<version>/bin, then PATH. Returns null when none has both.
 */
export function findPostgresBinaries(): PostgresBinaries | null {
  try {
    const binDir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    // pg_config also ships with libpq-dev alone, so its bindir may lack the server binaries.
    const found = binDir ? binariesIn(binDir) : null;
    if (found) return found;
  } catch {
    // No pg_config on PATH: fall through to the other places.
  }
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((name) => /^\d+(\.\d+)*$/.test(name))
      .sort(byVersionDescending);
    for (const version of versions) {
      const found = binariesIn(join(debianRoot, version, 'bin'));
      if (found) return found;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const initdb = join(dir, 'initdb');
    if (!isExecutable(initdb)) continue;
    // PATH often holds symlinks (/usr/local/bin/initdb); postgres lives next to the real initdb.
    const found = binariesIn(dirname(realpathSync(initdb))) ?? binariesIn(dir);
    if (found) return found;
  }
  return null;
}

interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/**
 * PostgreSQL refuses to run as root. When we are root, run it as the `postgres` system user (created by
 * Debian's postgresql-common) through spawn's uid/gid, so the postmaster is our direct child and signals
 * reach it without a runuser/setpriv wrapper in between.
 */
function unprivilegedUser(): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  let entry: string;
  try {
    entry = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (cause) {
    throw new Error('running as root, but there is no `postgres` system user to run PostgreSQL as', { cause });
  }
  const [, , uid, gid] = entry.trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Environment for initdb/postgres without the caller's PG* variables, which would redirect them. */
function serverEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PG')) env[key] = value;
  }
  // Messages in English whatever the host locale, so failures read the same everywhere.
  env.LC_ALL = 'C';
  return env;
}

/** Asks the kernel for a free port by binding port 0. Another process may grab it before postgres does; start retries then. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a probe socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Runs a command to completion, returning its combined output; rejects with that output on failure. */
function run(command: string, args: readonly string[], options: { cwd: string; runAs: RunAs | null }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: serverEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.runAs ?? {}),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} failed (${signal ?? `exit ${code}`}):\n${output}`));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function waitUntilReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited during start-up (${child.signalCode ?? `exit ${child.exitCode}`}):\n${log()}`);
    }
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => {});
    }
    await sleep(100);
  }
  throw new Error(`postgres did not accept connections within ${READY_TIMEOUT_MS} ms:\n${log()}`, { cause: lastError });
}

async function launch(binaries: PostgresBinaries, dir: string, dataDir: string, runAs: RunAs | null): Promise<RunningPostgres> {
  const port = await freePort();
  const args = [
    '-D',
    dataDir,
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    // The socket lives in our temp dir: the system one (/var/run/postgresql) may not exist or be writable.
    '-k',
    dir,
    // Throwaway data: durability buys nothing and costs most of the time of every commit.
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    // Test files run in parallel, each with its own pool; the default of 100 runs out quickly.
    '-c',
    'max_connections=300',
  ];
  const child = spawn(binaries.postgres, args, {
    cwd: dir,
    env: serverEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(runAs ?? {}),
  });
  let logTail = '';
  const append = (chunk: Buffer): void => {
    logTail = (logTail + chunk.toString()).slice(-LOG_TAIL_CHARS);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));

  // A runner that exits without calling stop() must not leave a postmaster behind. SIGQUIT is the
  // "immediate shutdown" that also takes the backends down; the reaper then removes the files.
  const killOnExit = (): void => {
    child.kill('SIGQUIT');
  };
  process.once('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      // SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, disconnect clients, exit.
      child.kill('SIGINT');
      if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, STOP_TIMEOUT_MS);
      }
    })();
    return stopped;
  };

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await Promise.race([waitUntilReady(url, child, () => logTail), spawnError]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/**
 * Starts a private PostgreSQL cluster on 127.0.0.1 and a free port, trust authentication, superuser `postgres`.
 * With `DATABASE_URL` set, returns that server instead and stop() leaves it alone.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const external = process.env.DATABASE_URL;
  if (external) return { url: external, stop: async () => {} };

  const binaries = findPostgresBinaries();
  if (!binaries) {
    throw new Error(
      'PostgreSQL server binaries (initdb, postgres) not found via pg_config, /usr/lib/postgresql/*/bin or PATH; ' +
        'install them (Debian: apt-get install postgresql) or set DATABASE_URL',
    );
  }
  const runAs = unprivilegedUser();
  const dir = mkdtempSync(join(tmpdir(), 'brier-pg-'));
  const reaper = startReaper(dir);
  const cleanUp = (): void => {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    reaper.kill();
  };
  try {
    if (runAs) chownSync(dir, runAs.uid, runAs.gid);
    const dataDir = join(dir, 'data');
    // --no-sync: nothing here needs to survive a power cut. --no-locale: C collation, same results on every host.
    await run(binaries.initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'], {
      cwd: dir,
      runAs,
    });
    // The port is chosen before postgres binds it, so a racing process can take it; a fresh port usually fixes that.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const server = await launch(binaries, dir, dataDir, runAs);
        let stopped: Promise<void> | undefined;
        return {
          url: server.url,
          stop: () => {
            stopped ??= server.stop().finally(cleanUp);
            return stopped;
          },
        };
      } catch (error) {
        lastError = error;
        if (!/could not bind|address already in use/i.test(String(error))) break;
      }
    }
    throw lastError;
  } catch (error) {
    cleanUp();
    throw error;
  }
}

// Runs detached from the test runner and outlives it: once the runner is gone (even by SIGKILL or SIGHUP,
// when no exit handler runs), it stops the postmaster named in postmaster.pid and deletes the cluster.
// Waits are bounded because a container's PID 1 may never reap the orphaned postmaster.
const REAPER_SCRIPT = `
dir="$1"; runner="$2"
while kill -0 "$runner" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then
  kill -QUIT "$pid" 2>/dev/null
  i=0; while [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
  sleep 0.5
fi
rm -rf "$dir" || { sleep 1; rm -rf "$dir"; }
`;

function startReaper(dir: string): ChildProcess {
  const reaper = spawn('sh', ['-c', REAPER_SCRIPT, 'brier-pg-reaper', dir, String(process.pid)], { detached: true, stdio: 'ignore' });
  // Without a shell there is no reaper, but the tests still work; stop() does the normal clean-up.
  reaper.on('error', () => {});
  reaper.unref();
  return reaper;
}

function quoteIdentifier(name: string): string {
  if (!DATABASE_NAME.test(name)) {
    throw new Error(`invalid test database name ${JSON.stringify(name)}: expected lowercase letters, digits and _ (max 63)`);
  }
  return `"${name}"`;
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database on the server behind `adminUrl` and returns a URL for it (same credentials and
 * options). Without `name`, the name is unique (`brier_test_<random>`), so parallel test files never collide.
 */
export async function createDatabase(adminUrl: string, name?: string): Promise<string> {
  const databaseName = name ?? `brier_test_${randomBytes(8).toString('hex')}`;
  const quoted = quoteIdentifier(databaseName);
  await withAdmin(adminUrl, (client) => client.query(`create database ${quoted}`));
  return databaseUrl(adminUrl, databaseName);
}

/**
 * Drops a database made by createDatabase(), given its URL (or bare name), even if a leaked pool still holds
 * connections to it. Dropping one that does not exist is not an error, so cleanup can run unconditionally.
 */
export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  const name = URL.canParse(database) ? decodeURIComponent(new URL(database).pathname.slice(1)) : database;
  const quoted = quoteIdentifier(name);
  await withAdmin(adminUrl, async (client) => {
    const { rows } = await client.query<{ version: number }>("select current_setting('server_version_num')::int as version");
    if ((rows[0]?.version ?? 0) >= 130_000) {
      await client.query(`drop database if exists ${quoted} with (force)`);
      return;
    }
    // Before PostgreSQL 13 there is no WITH (FORCE): end the other sessions ourselves first.
    await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
    await client.query(`drop database if exists ${quoted}`);
  });
}
