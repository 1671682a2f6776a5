/**
 * A real apt + dpkg that never touches the machine's own package state: .deb files built on the fly,
 * a local repository with per-suite Release files, and a private root with its own dpkg database and
 * apt state, configuration, cache and lists. Works as root and as an unprivileged user.
 *
 * API (kept stable for other suites; add, do not change):
 *
 *   createAptSandbox(options?: AptSandboxOptions): Promise<AptSandbox>
 *     options.packages   SandboxPackage[]  published in the repository (then `apt-get update` runs)
 *     options.installed  {name, version}[] installed into the private root with dpkg -i; a version that
 *                        is not published is built anyway, like a host holding a version the mirror dropped
 *     options.suites     SandboxSuite[]    Release metadata; a suite only named by a package gets defaults
 *                        (Origin "Debian", Label "Debian-Security" for `*-security`, else "Debian")
 *     options.runAs      {uid, gid}        own the sandbox and run every sandbox command as this user
 *                        (needs root; how the tests prove the setup works without root)
 *   aptAvailable(): Promise<boolean>     apt-get, dpkg and dpkg-deb are on PATH
 *   exists(file): Promise<boolean>       whether a path exists (for checks beneath the root)
 *
 *   SandboxPackage { name, version, suite? = 'bookworm', arch? = 'all', depends?, rebootRequired? }
 *     rebootRequired: the package's postinst writes <root>/run/reboot-required(.pkgs) like Debian's
 *     update-notifier hooks do, so "reboot required" comes from a real maintainer script.
 *
 *   AptSandbox
 *     dir            the sandbox's temporary directory (root/, repo/, build/ beneath it)
 *     root           the private root (what `dpkg --root` gets)
 *     dpkgAdmindir   <root>/var/lib/dpkg (what `dpkg-query --admindir` gets)
 *     repoDir        the repository (dists/<suite>/main/binary-<arch>/Packages, pool/main/*.deb)
 *     architecture   dpkg's native architecture
 *     env            variables to ADD to the environment of every apt command: APT_CONFIG (mandatory,
 *                    see below), LC_ALL=C, DEBIAN_FRONTEND=noninteractive. Not a complete environment.
 *     aptOptions     flat argv to put right after apt-get / apt-cache / apt: ['-o', 'Dir=...', ...]
 *     dpkgOptions    flat argv for dpkg run directly: ['--root=...', '--force-script-chrootless', ...]
 *     addPackages(packages, {update? = true})   publish more packages (rebuilds indexes, apt-get update)
 *     install(packages)                        dpkg -i the given {name, version} into the private root
 *     update()                                 apt-get update
 *     installedVersions()                      Map name -> version of configured packages in the root
 *     apt(program, args) / dpkg(args)          run with the sandbox's options and env: {stdout, stderr, code};
 *                                              program is apt-get, apt-cache, apt or apt-config
 *     interruptDpkg({name, version})           leave dpkg as a crash would: package unpacked but not
 *                                              configured, its record still in the updates/ journal
 *     holdLock(lock? = 'lock-frontend')        another process holds that lock (fcntl, like apt/dpkg)
 *                                              until release(); also 'lock', 'archives', 'lists'
 *     cleanup()                                release locks and delete everything
 *
 * Why both env and aptOptions: apt reads /etc/apt/apt.conf.d before it looks at any `-o`, and the
 * host's parts carry hooks (DPkg::Pre-Install-Pkgs, Post-Invoke, APT::Update::Post-Invoke-Success)
 * that would run against the real machine. Only APT_CONFIG is read earlier, so the sandbox's config
 * file, named there, moves Dir (and with it Dir::Etc::parts) into the private root. That file holds
 * every setting; aptOptions repeats the scalar ones so command lines say where they point, and
 * dpkgOptions are also what apt hands dpkg (DPkg::Options in the file). Pass both env and aptOptions.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SandboxPackage {
  name: string;
  version: string;
  /** The repository suite (dists/<suite>); default 'bookworm'. */
  suite?: string;
  /** 'all' (default) or the native architecture. */
  arch?: string;
  /** A Depends field, verbatim. */
  depends?: string;
  /** The postinst flags the root as needing a reboot, naming this package in reboot-required.pkgs. */
  rebootRequired?: boolean;
}

export interface SandboxSuite {
  /** Directory under dists/ and what sources.list names. */
  name: string;
  /** Release `Suite:`; default the name. apt list shows it ("hello/bookworm-security"). */
  suite?: string;
  /** Release `Codename:`; default the name. */
  codename?: string;
  origin?: string;
  label?: string;
}

export interface PackageVersion {
  name: string;
  version: string;
}

export interface AptSandboxOptions {
  packages?: readonly SandboxPackage[];
  installed?: readonly PackageVersion[];
  suites?: readonly SandboxSuite[];
  runAs?: { uid: number; gid: number };
}

export interface SandboxResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

export interface HeldLock {
  readonly pid: number;
  release(): Promise<void>;
}

export type SandboxLock = 'lock-frontend' | 'lock' | 'archives' | 'lists';

export interface AptSandbox {
  readonly dir: string;
  readonly root: string;
  readonly dpkgAdmindir: string;
  readonly repoDir: string;
  readonly architecture: string;
  readonly env: Readonly<Record<string, string>>;
  readonly aptOptions: readonly string[];
  readonly dpkgOptions: readonly string[];
  addPackages(packages: readonly SandboxPackage[], options?: { update?: boolean }): Promise<void>;
  install(packages: readonly PackageVersion[]): Promise<void>;
  update(): Promise<void>;
  installedVersions(): Promise<Map<string, string>>;
  apt(program: 'apt-get' | 'apt-cache' | 'apt' | 'apt-config', args: readonly string[]): Promise<SandboxResult>;
  dpkg(args: readonly string[]): Promise<SandboxResult>;
  interruptDpkg(pkg: PackageVersion): Promise<void>;
  holdLock(lock?: SandboxLock): Promise<HeldLock>;
  cleanup(): Promise<void>;
}

const DEFAULT_SUITE = 'bookworm';
const COMPONENT = 'main';
// Sandbox inputs become file names and control fields; these keep them to Debian's own grammar, so a
// typo in a test fails here instead of producing a path outside the sandbox or a broken index.
const NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const VERSION = /^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~-]*$/;
const SUITE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
// Generous: building a .deb or running apt-get update on a loaded CI machine can take seconds.
const COMMAND_TIMEOUT_MS = 120_000;

function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; runAs?: { uid: number; gid: number } | undefined; cwd?: string } = {},
): Promise<SandboxResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        timeout: COMMAND_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        ...(opts.runAs ?? {}),
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${cmd} could not run: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ stdout, stderr, code: error ? (error.code as number) : 0 });
      },
    );
  });
}

function mustSucceed(cmd: string, args: readonly string[], result: SandboxResult): string {
  if (result.code === 0) return result.stdout;
  throw new Error(`${cmd} ${args.join(' ')} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`);
}

/** True when the tools the sandbox drives are on PATH (for `describe.runIf`). */
export async function aptAvailable(): Promise<boolean> {
  for (const tool of ['apt-get', 'dpkg', 'dpkg-deb']) {
    const ok = await run(tool, ['--version']).then(
      (r) => r.code === 0,
      () => false,
    );
    if (!ok) return false;
  }
  return true;
}

function checkPackage(pkg: { name: string; version: string; arch?: string }, architecture: string): void {
  if (!NAME.test(pkg.name)) throw new Error(`sandbox package name ${JSON.stringify(pkg.name)} is not a Debian package name`);
  if (!VERSION.test(pkg.version)) throw new Error(`sandbox version ${JSON.stringify(pkg.version)} is not a Debian version`);
  if (pkg.arch !== undefined && pkg.arch !== 'all' && pkg.arch !== architecture) {
    throw new Error(`sandbox architecture must be 'all' or '${architecture}', not ${JSON.stringify(pkg.arch)}`);
  }
}

/** Epochs are not part of pool file names in Debian either; two versions differing only by epoch are refused. */
function debFileName(pkg: { name: string; version: string }, arch: string): string {
  return `${pkg.name}_${pkg.version.replace(/^[0-9]+:/, '')}_${arch}.deb`;
}

function suiteDefaults(name: string): SandboxSuite {
  return { name, suite: name, codename: name, origin: 'Debian', label: name.endsWith('-security') ? 'Debian-Security' : 'Debian' };
}

// The postinst Debian's update-notifier-common hook runs (/usr/share/update-notifier/notify-reboot-required),
// reduced to its effect. DPKG_ROOT is set by dpkg for chrootless scripts; refusing to run without it keeps
// a mistaken invocation from touching the real /run.
function rebootPostinst(name: string): string {
  return `#!/bin/sh
set -e
[ -n "$DPKG_ROOT" ] || { echo "brier sandbox: DPKG_ROOT unset, refusing to touch /run" >&2; exit 1; }
if [ "$1" = configure ]; then
  mkdir -p "$DPKG_ROOT/run"
  touch "$DPKG_ROOT/run/reboot-required"
  echo ${name} >> "$DPKG_ROOT/run/reboot-required.pkgs"
fi
`;
}

async function chownTree(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  await chown(dir, owner.uid, owner.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, owner);
    else if (!entry.isSymbolicLink()) await chown(full, owner.uid, owner.gid);
  }
}

// Holds an fcntl (POSIX record) lock like apt and dpkg take; flock(1) would not do, as flock(2) locks do
// not conflict with fcntl ones on Linux. Perl rather than Python because perl-base is Essential on
// Debian, so it is wherever dpkg is. The struct flock layout (short type, short whence, off_t start,
// off_t len, pid_t pid, with padding) is the one of every 64-bit Linux; a wrong layout fails loudly (EINVAL).
const LOCK_HOLDER = `
use Fcntl;
open(my $fh, '+>>', $ARGV[0]) or die "open $ARGV[0]: $!\\n";
my $lock = pack('s s x4 q q i x4', F_WRLCK, SEEK_SET, 0, 0, 0);
fcntl($fh, F_SETLK, $lock) or die "lock $ARGV[0]: $!\\n";
$| = 1;
print "locked\\n";
while (1) { sleep 60 }
`;

export async function createAptSandbox(options: AptSandboxOptions = {}): Promise<AptSandbox> {
  const runAs = options.runAs;
  const architecture = mustSucceed('dpkg', ['--print-architecture'], await run('dpkg', ['--print-architecture'])).trim();
  // mkdtemp makes the directory 0700, so apt's _apt download sandbox could not read the repository;
  // APT::Sandbox::User "root" below turns that privilege drop off instead of loosening permissions.
  const dir = await mkdtemp(path.join(tmpdir(), 'brier-apt-'));
  const root = path.join(dir, 'root');
  const repoDir = path.join(dir, 'repo');
  const buildDir = path.join(dir, 'build');
  const localDir = path.join(dir, 'local');
  const admindir = path.join(root, 'var/lib/dpkg');
  const aptEtc = path.join(root, 'etc/apt');
  const aptConfigFile = path.join(aptEtc, 'apt.conf');
  const heldLocks = new Set<HeldLock>();

  const dpkgOptions = [
    `--root=${root}`,
    // dpkg writes its log to /var/log/dpkg.log whatever --root says; keep it in the root.
    `--log=${path.join(root, 'var/log/dpkg.log')}`,
    // Maintainer scripts run outside a chroot (chroot needs root and a shell inside the root), with
    // DPKG_ROOT telling them where the root is.
    '--force-script-chrootless',
    // dpkg refuses to run unprivileged otherwise; harmless as root.
    '--force-not-root',
  ];
  // Scalar settings: repeated as -o (see the header). Dir moves every relative Dir::* into the root.
  const settings: Array<[string, string]> = [
    ['Dir', `${root}/`],
    ['Dir::State::status', path.join(admindir, 'status')],
    ['Dir::Etc::main', 'apt.conf'],
    ['Dir::Etc::parts', 'apt.conf.d'],
    ['Dir::Etc::sourcelist', 'sources.list'],
    ['Dir::Etc::sourceparts', 'sources.list.d'],
    ['Dir::Cache', 'var/cache/apt'],
    ['Dir::State', 'var/lib/apt'],
    ['Dir::Log', 'var/log/apt'],
    // See mkdtemp above; as non-root apt never drops privileges anyway.
    ['APT::Sandbox::User', 'root'],
    // Otherwise apt asks the host dpkg for its architectures (APT::Architectures, foreign ones included).
    ['APT::Architecture', architecture],
    ['Acquire::Languages', 'none'],
  ];
  const aptOptions = settings.flatMap(([key, value]) => ['-o', `${key}=${value}`]);
  const env: Record<string, string> = { APT_CONFIG: aptConfigFile, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' };
  const fullEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ...env });

  const suites = new Map<string, SandboxSuite>();
  for (const s of options.suites ?? []) {
    if (!SUITE.test(s.name)) throw new Error(`sandbox suite name ${JSON.stringify(s.name)} is not a plain directory name`);
    suites.set(s.name, { ...suiteDefaults(s.name), ...s });
  }
  // Every published version, by suite, in publication order.
  const published = new Map<string, Array<{ pkg: SandboxPackage; file: string }>>();
  const built = new Map<string, string>();

  const own = async (): Promise<void> => {
    if (runAs) await chownTree(dir, runAs);
  };
  // As another user, HOME must be somewhere that user can read, or dpkg warns about ~/.dpkg.cfg.
  const homeFor = (): NodeJS.ProcessEnv => (runAs ? { HOME: dir } : {});
  const exec = (cmd: string, args: readonly string[], withEnv = false): Promise<SandboxResult> =>
    run(cmd, args, { env: { ...(withEnv ? fullEnv() : process.env), ...homeFor() }, runAs, cwd: dir });

  async function buildDeb(pkg: SandboxPackage, outDir: string): Promise<string> {
    const arch = pkg.arch ?? 'all';
    const key = `${pkg.name}\t${pkg.version}\t${arch}`;
    const existing = built.get(key);
    if (existing) return existing;
    const tree = path.join(buildDir, `${pkg.name}_${pkg.version.replace(':', '_')}_${arch}`);
    await mkdir(path.join(tree, 'DEBIAN'), { recursive: true });
    await mkdir(path.join(tree, 'usr/share', pkg.name), { recursive: true });
    // A payload file whose content is the version, so tests can see dpkg really replaced files in the root.
    await writeFile(path.join(tree, 'usr/share', pkg.name, 'VERSION'), `${pkg.version}\n`);
    const control = [
      `Package: ${pkg.name}`,
      `Version: ${pkg.version}`,
      `Architecture: ${arch}`,
      'Maintainer: Brier tests <tests@brier.invalid>',
      ...(pkg.depends ? [`Depends: ${pkg.depends}`] : []),
      'Section: misc',
      'Priority: optional',
      `Description: Brier sandbox package ${pkg.name}`,
      ' Built by test/support/apt-sandbox.ts.',
      '',
    ].join('\n');
    await writeFile(path.join(tree, 'DEBIAN/control'), control);
    if (pkg.rebootRequired) await writeFile(path.join(tree, 'DEBIAN/postinst'), rebootPostinst(pkg.name), { mode: 0o755 });
    await mkdir(outDir, { recursive: true });
    const file = path.join(outDir, debFileName(pkg, arch));
    await own();
    // gzip rather than the default xz: several times faster, and size is irrelevant here.
    const args = ['--root-owner-group', '-Zgzip', '--build', tree, file];
    mustSucceed('dpkg-deb', args, await exec('dpkg-deb', args));
    built.set(key, file);
    return file;
  }

  async function writeIndexes(): Promise<void> {
    const sources: string[] = [];
    for (const [suiteName, entries] of [...published.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const suite = suites.get(suiteName) ?? suiteDefaults(suiteName);
      const relPackages = `${COMPONENT}/binary-${architecture}/Packages`;
      const distDir = path.join(repoDir, 'dists', suiteName);
      await mkdir(path.dirname(path.join(distDir, relPackages)), { recursive: true });
      // The Packages index apt reads, written directly (dpkg-scanpackages/apt-ftparchive would need
      // dpkg-dev/apt-utils); fields and hashes are what those tools emit for these control files.
      const stanzas: string[] = [];
      for (const { pkg, file } of entries) {
        const data = await readFile(file);
        stanzas.push(
          [
            `Package: ${pkg.name}`,
            `Version: ${pkg.version}`,
            `Architecture: ${pkg.arch ?? 'all'}`,
            'Maintainer: Brier tests <tests@brier.invalid>',
            ...(pkg.depends ? [`Depends: ${pkg.depends}`] : []),
            'Priority: optional',
            'Section: misc',
            `Filename: ${path.relative(repoDir, file)}`,
            `Size: ${data.length}`,
            `MD5sum: ${createHash('md5').update(data).digest('hex')}`,
            `SHA256: ${createHash('sha256').update(data).digest('hex')}`,
            `Description: Brier sandbox package ${pkg.name}`,
            '',
          ].join('\n'),
        );
      }
      const packages = stanzas.join('\n');
      await writeFile(path.join(distDir, relPackages), packages);
      // apt refuses index files the Release does not list with a hash. No signature: sources.list says
      // [trusted=yes], the one per-source way to accept an unsigned repository without global settings.
      const release = [
        `Origin: ${suite.origin ?? 'Debian'}`,
        `Label: ${suite.label ?? 'Debian'}`,
        `Suite: ${suite.suite ?? suiteName}`,
        `Codename: ${suite.codename ?? suiteName}`,
        `Date: ${new Date().toUTCString()}`,
        `Architectures: ${architecture} all`,
        `Components: ${COMPONENT}`,
        `Description: Brier sandbox ${suiteName}`,
        'SHA256:',
        ` ${createHash('sha256').update(packages).digest('hex')} ${Buffer.byteLength(packages)} ${relPackages}`,
        '',
      ].join('\n');
      await writeFile(path.join(distDir, 'Release'), release);
      sources.push(`deb [trusted=yes] file:${repoDir} ${suiteName} ${COMPONENT}`);
    }
    await writeFile(path.join(aptEtc, 'sources.list'), sources.length ? `${sources.join('\n')}\n` : '');
    await own();
  }

  const sandbox: AptSandbox = {
    dir,
    root,
    dpkgAdmindir: admindir,
    repoDir,
    architecture,
    env,
    aptOptions,
    dpkgOptions,

    async addPackages(packages, opts = {}) {
      for (const pkg of packages) {
        checkPackage(pkg, architecture);
        const suiteName = pkg.suite ?? DEFAULT_SUITE;
        if (!SUITE.test(suiteName)) throw new Error(`sandbox suite name ${JSON.stringify(suiteName)} is not a plain directory name`);
        const file = await buildDeb(pkg, path.join(repoDir, 'pool', COMPONENT));
        const list = published.get(suiteName) ?? [];
        list.push({ pkg, file });
        published.set(suiteName, list);
      }
      await writeIndexes();
      if (opts.update ?? true) await sandbox.update();
    },

    async install(packages) {
      const files: string[] = [];
      for (const wanted of packages) {
        checkPackage(wanted, architecture);
        const known = [...published.values()].flat().find((e) => e.pkg.name === wanted.name && e.pkg.version === wanted.version);
        files.push(known ? known.file : await buildDeb(wanted, localDir));
      }
      const args = [...dpkgOptions, '--install', ...files];
      mustSucceed('dpkg', args, await exec('dpkg', args));
    },

    async update() {
      const args = [...aptOptions, 'update'];
      mustSucceed('apt-get', args, await exec('apt-get', args, true));
    },

    async installedVersions() {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${Field} is dpkg-query's syntax.
      const args = [`--admindir=${admindir}`, '-W', '--showformat=${Package}\t${Version}\t${db:Status-Abbrev}\n'];
      const out = mustSucceed('dpkg-query', args, await exec('dpkg-query', args));
      const versions = new Map<string, string>();
      for (const line of out.split('\n')) {
        const [name, version, status] = line.split('\t');
        if (name && version && status?.startsWith('ii')) versions.set(name, version);
      }
      return versions;
    },

    apt(program, args) {
      return exec(program, [...aptOptions, ...args], true);
    },

    dpkg(args) {
      return exec('dpkg', [...dpkgOptions, ...args]);
    },

    async interruptDpkg(pkg) {
      checkPackage(pkg, architecture);
      const known = [...published.values()].flat().find((e) => e.pkg.name === pkg.name && e.pkg.version === pkg.version);
      const file = known ? known.file : await buildDeb(pkg, localDir);
      // A real unpack: files replaced, status "install ok unpacked", not configured.
      const args = [...dpkgOptions, '--unpack', file];
      mustSucceed('dpkg', args, await exec('dpkg', args));
      // dpkg journals each status change as a file in updates/ and folds them into status on a clean
      // exit; a crash leaves them there, which is what makes apt say "dpkg was interrupted".
      const status = await readFile(path.join(admindir, 'status'), 'utf8');
      const stanza = status.split('\n\n').find((s) => s.startsWith(`Package: ${pkg.name}\n`));
      if (!stanza) throw new Error(`no status record for ${pkg.name} after dpkg --unpack`);
      await writeFile(path.join(admindir, 'updates', '0000'), `${stanza.trimEnd()}\n\n`);
      await own();
    },

    async holdLock(lock = 'lock-frontend') {
      const file =
        lock === 'archives'
          ? path.join(root, 'var/cache/apt/archives/lock')
          : lock === 'lists'
            ? path.join(root, 'var/lib/apt/lists/lock')
            : path.join(admindir, lock);
      const child = spawn('perl', ['-e', LOCK_HOLDER, file], { stdio: ['ignore', 'pipe', 'pipe'], ...(runAs ?? {}) });
      await new Promise<void>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('locked\n')) resolve();
        });
        child.stderr.on('data', (chunk: Buffer) => {
          err += chunk.toString();
        });
        child.on('error', reject);
        child.on('exit', (code) => reject(new Error(`lock holder exited (${code}) before locking ${file}: ${err}`)));
      });
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      const held: HeldLock = {
        pid: child.pid ?? -1,
        async release() {
          heldLocks.delete(held);
          child.kill('SIGKILL');
          await exited;
        },
      };
      heldLocks.add(held);
      return held;
    },

    async cleanup() {
      for (const held of [...heldLocks]) await held.release();
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };

  try {
    for (const sub of [
      'etc/apt/apt.conf.d',
      'etc/apt/preferences.d',
      'etc/apt/sources.list.d',
      'etc/apt/trusted.gpg.d',
      'var/lib/dpkg/info',
      'var/lib/dpkg/updates',
      'var/lib/dpkg/triggers',
      'var/lib/dpkg/alternatives',
      'var/lib/apt/lists/partial',
      'var/cache/apt/archives/partial',
      'var/log/apt',
      'run',
      'tmp',
    ]) {
      await mkdir(path.join(root, sub), { recursive: true });
    }
    await writeFile(path.join(admindir, 'status'), '');
    await writeFile(path.join(admindir, 'available'), '');
    await mkdir(repoDir, { recursive: true });
    const quote = (value: string): string => `"${value.replace(/["\\]/g, '')}"`;
    const config = [
      '// Written by test/support/apt-sandbox.ts. Read through APT_CONFIG, before anything in /etc/apt.',
      ...settings.map(([key, value]) => `${key} ${quote(value)};`),
      // Lists live only here: repeating them as -o would append duplicates.
      `APT::Architectures { ${quote(architecture)}; };`,
      `DPkg::Options { ${dpkgOptions.map(quote).join('; ')}; };`,
      '',
    ].join('\n');
    await writeFile(aptConfigFile, config);
    await writeFile(path.join(aptEtc, 'sources.list'), '');
    await own();
    if (options.packages?.length) await sandbox.addPackages(options.packages, { update: false });
    // An empty sources.list is fine for apt-get update; running it always gives every sandbox lists/.
    await sandbox.update();
    if (options.installed?.length) await sandbox.install(options.installed);
  } catch (error) {
    await sandbox.cleanup();
    throw error;
  }
  return sandbox;
}

/** Whether a path exists; for tests reading files in the root. */
export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
