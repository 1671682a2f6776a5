import { CommandError, type CommandRunner, stdoutOf } from '../../run-command.js';
import type { RawUpdate } from './normalize-updates.js';

/**
 * Pending updates from apt's own solver, read-only: `apt-get -s` (simulate) never calls dpkg,
 * downloads nothing and writes no state, so it works without root. apt 2.6 takes no lock for a
 * simulation (apt.sandbox.test.ts runs it while the dpkg locks are held); Debug::NoLocking makes
 * sure of that wherever a version or configuration would, so a long apt run elsewhere never
 * blocks the report. It reads the package lists as they are: refreshing them (`apt-get update`)
 * changes state and is left to the host's apt timers.
 *
 * `dist-upgrade` rather than `upgrade`: an upgrade that needs a new package (every Debian kernel
 * security update comes as a new linux-image-<abi> pulled in by linux-image-amd64) is only shown
 * by dist-upgrade; `upgrade` would keep the metapackage back and hide the fix.
 */
/**
 * The binary caches are switched off: apt judges pkgcache.bin fresh by the status file's size and
 * mtime (whole seconds), and an upgrade that rewrites a version string of the same length within the
 * same second leaves both unchanged, so a cached simulation would still list the update just
 * installed. Rebuilding in memory costs well under a second and runs only on the agent's schedule.
 */
export const APT_SIMULATE_ARGS = [
  '-s',
  '-o',
  'Debug::NoLocking=1',
  '-o',
  'Dir::Cache::pkgcache=',
  '-o',
  'Dir::Cache::srcpkgcache=',
] as const;

/** One source of a candidate as apt prints it: Release `Label`, `Version` and `Suite` (apt's "archive"). */
export interface AptRelease {
  label?: string;
  version?: string;
  suite: string;
}

export interface AptUpdates {
  updates: RawUpdate[];
  /**
   * Installed packages with a newer candidate that the solver will not upgrade: held (`apt-mark
   * hold`), blocked by dependencies, or deferred by Ubuntu's phased updates. apt prints no version
   * for them, so they are reported by name only, never as pending updates.
   */
  keptBack: string[];
}

/**
 * `Inst name[:arch] [installed] (candidate releases [arch])`, as apt's pkgSimulate prints it, then
 * optionally the simulator's notes on broken dependencies (` [libssl3:amd64 on libssl3:i386]`).
 * Package names and versions hold no space or bracket; the release list can (a Label such as
 * "Docker CE"), so it is matched lazily up to the first ` [arch])`.
 */
const INST = /^Inst (\S+)(?: \[([^\]\s]+)\])? \((\S+) (.*?) ?\[([^\]\s]+)\]\)(?: .*)?$/;

/** Headers, in the C locale, of the lists whose packages have a candidate the solver will not install. */
const KEPT_BACK_HEADERS = new Set([
  'The following packages have been kept back:',
  'The following upgrades have been deferred due to phasing:',
]);

/**
 * Parses a candidate's release list, apt's `VerIterator::RelStr()`: per package file `Label:`
 * (when the Release has one) then `Version/Suite` (or just `Suite`), joined with ", "; a source
 * without a Release file prints its host name ("localhost" for file: repositories).
 */
export function parseAptReleases(text: string): AptRelease[] {
  const releases: AptRelease[] = [];
  for (const part of text.split(', ')) {
    const item = part.trim();
    if (item === '') continue;
    const colon = item.indexOf(':');
    const label = colon > 0 ? item.slice(0, colon) : undefined;
    const rest = colon > 0 ? item.slice(colon + 1) : item;
    const slash = rest.indexOf('/');
    const release: AptRelease = slash > 0 ? { version: rest.slice(0, slash), suite: rest.slice(slash + 1) } : { suite: rest };
    if (label !== undefined) release.label = label;
    releases.push(release);
  }
  return releases;
}

/**
 * A security release: Debian's security archive (Label "Debian-Security", whatever its Suite is
 * called: `stable-security`, `oldstable-security`, or the plain suite names of releases before
 * Debian 11) or any suite, or `/`-separated part of one, ending in `-security` (Ubuntu's `jammy-security` pocket, Ubuntu Pro's
 * `jammy-apps-security`/`jammy-infra-security`, derivatives following the convention).
 */
export function isSecurityRelease(release: AptRelease): boolean {
  if (release.label?.toLowerCase() === 'debian-security') return true;
  return release.suite.split('/').some((part) => part.toLowerCase().endsWith('-security'));
}

/**
 * Parses `apt-get -s dist-upgrade` (or `upgrade`) output in the C locale. Each upgrade is one
 * `Inst` line with the installed version in brackets; `Conf` lines repeat the same candidate for
 * the configure step and are ignored, as are `Remv` lines. An `Inst` without an installed version
 * is a new package pulled in by an upgrade (a new kernel ABI package): it is not an update of
 * anything installed, and the upgrade that pulls it in is reported already. The candidate is
 * security when any of its sources is; `origin`/`suite` name that source, else the first.
 */
export function parseAptSimulation(text: string): AptUpdates {
  const updates: RawUpdate[] = [];
  const keptBack: string[] = [];
  let inKeptList = false;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (inKeptList) {
      if (line.startsWith(' ')) {
        for (const name of line.trim().split(/\s+/)) if (name !== '') keptBack.push(name);
        continue;
      }
      inKeptList = false;
    }
    if (KEPT_BACK_HEADERS.has(line)) {
      inKeptList = true;
      continue;
    }
    const match = INST.exec(line);
    if (!match) continue;
    const [, fullName, installed, candidate, releaseText, arch] = match as unknown as [
      string,
      string,
      string | undefined,
      string,
      string,
      string,
    ];
    if (installed === undefined) continue;
    // FullName(pretty) appends ":arch" for foreign-architecture packages; the arch is printed anyway.
    const name = fullName.includes(':') ? fullName.slice(0, fullName.indexOf(':')) : fullName;
    const releases = parseAptReleases(releaseText);
    const securityRelease = releases.find(isSecurityRelease);
    const shown = securityRelease ?? releases[0];
    updates.push({
      manager: 'apt',
      kind: 'package',
      name,
      arch,
      installedVersion: installed,
      candidateVersion: candidate,
      origin: shown?.label,
      suite: shown?.suite,
      security: securityRelease !== undefined,
    });
  }
  return { updates, keptBack };
}

/** `Key=Value` as apt's `-o` takes it; the key in apt's configuration grammar, the value without controls. */
const APT_OPTION = /^[A-Za-z0-9_][A-Za-z0-9_:.+-]*=[^\p{Cc}]*$/u;

/**
 * Checks extra apt arguments: only `-o Key=Value` pairs. They come from configuration (a test
 * sandbox, an agent setting), never from the server, but a typo must not become another apt
 * command or option (`-c /tmp/x`, `install`).
 */
export function checkAptOptions(options: readonly string[]): readonly string[] {
  if (options.length % 2 !== 0) throw new CommandError('EINVAL', 'apt-get', 'apt options must be pairs of -o and Key=Value');
  for (let i = 0; i < options.length; i += 2) {
    const value = options[i + 1] ?? '';
    if (options[i] !== '-o' || !APT_OPTION.test(value)) {
      throw new CommandError(
        'EINVAL',
        'apt-get',
        `apt option ${JSON.stringify(`${options[i]} ${value}`.slice(0, 200))} is not -o Key=Value`,
      );
    }
  }
  return options;
}

export interface AptCollectOptions {
  /** Extra apt-get arguments, `-o Key=Value` pairs (e.g. a sandbox root's Dir settings). */
  options?: readonly string[] | undefined;
  /** Variables added to the agent's environment for apt-get (e.g. a sandbox's APT_CONFIG). */
  env?: Readonly<Record<string, string>> | undefined;
}

/** The full argument array for the simulation; exported so tests can see it is one argv, no shell. */
export function aptSimulateArgs(options: readonly string[] = []): string[] {
  return [...APT_SIMULATE_ARGS, ...checkAptOptions(options), 'dist-upgrade'];
}

/**
 * Pending apt updates. Rejects with a CommandError `ENOENT` when apt-get is not installed and
 * `EXIT` when apt fails (broken lists, "dpkg was interrupted"). LC_ALL=C because the kept-back
 * headers are translated (the Inst lines are not), and it is set last so `env` cannot undo it.
 */
export async function collectApt(run: CommandRunner, opts: AptCollectOptions = {}): Promise<AptUpdates> {
  const env = { ...process.env, ...(opts.env ?? {}), LC_ALL: 'C' };
  const result = await run('apt-get', aptSimulateArgs(opts.options), { timeoutMs: 300_000, env });
  return parseAptSimulation(stdoutOf('apt-get', result));
}
