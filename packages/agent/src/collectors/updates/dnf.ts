import { CommandError, type CommandResult, type CommandRunner, stdoutOf } from '../../run-command.js';
import { collectRpm } from '../packages/rpm.js';
import type { RawUpdate } from './normalize-updates.js';

/**
 * `dnf check-update` exits 100 when updates are available, 0 when there are none and 1 on error
 * (dnf 4 and dnf 5 alike). It may refresh expired repository metadata first, which is dnf's cache,
 * not the host's package state.
 */
export const DNF_CHECK_UPDATE_ARGS = ['-q', 'check-update'] as const;
/** Advisories for newer versions of installed packages (dnf 4's `updateinfo list`; the default set, spelled out). */
export const DNF_UPDATEINFO_ARGS = ['-q', 'updateinfo', 'list', '--available'] as const;
const UPDATES_AVAILABLE = 100;

export interface DnfCandidate {
  name: string;
  arch: string;
  /** `[epoch:]version-release`, the epoch only when non-zero, as dnf prints it. */
  version: string;
  repo: string;
}

export interface DnfAdvisory {
  id: string;
  /** `bugfix`, `enhancement`, `newpackage`, `security`, `unknown`, or `<Severity>/Sec.` for security. */
  type: string;
  security: boolean;
  name: string;
  arch: string;
  version: string;
}

/** `name.arch`: the arch is the part after the last dot (names may hold dots, arches do not). */
function splitNameArch(text: string): { name: string; arch: string } | undefined {
  const dot = text.lastIndexOf('.');
  if (dot <= 0 || dot === text.length - 1) return undefined;
  const arch = text.slice(dot + 1);
  return /^[A-Za-z0-9_]+$/.test(arch) ? { name: text.slice(0, dot), arch } : undefined;
}

/**
 * Parses `dnf -q check-update`: `name.arch  [epoch:]version-release  repo` rows. dnf wraps a row
 * whose name (or version) is wider than its column onto the next line, indented, so rows are
 * read as triples of whitespace-separated tokens across lines. The list ends at "Obsoleting
 * Packages" (replacements of installed packages, each followed by the package it obsoletes).
 * Anything that is not a triple (a "Security: ..." kernel note) is skipped.
 */
export function parseDnfCheckUpdate(text: string): DnfCandidate[] {
  const candidates: DnfCandidate[] = [];
  let pending: string[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '') {
      pending = [];
      continue;
    }
    if (/^Obsoleting packages/i.test(line)) break;
    const tokens = line.split(/\s+/);
    if (pending.length + tokens.length > 3) pending = [];
    if (tokens.length > 3) continue;
    pending.push(...tokens);
    if (pending.length < 3) continue;
    const [nameArch, version, repo] = pending as [string, string, string];
    pending = [];
    const parsed = splitNameArch(nameArch);
    if (!parsed || !/^[0-9A-Za-z]/.test(version) || repo.startsWith('@')) continue;
    candidates.push({ ...parsed, version, repo });
  }
  return candidates;
}

/**
 * Splits `name-[epoch:]version-release.arch` from the right: arch after the last dot, release
 * after the last dash, version after the one before it; the name keeps any dashes of its own.
 */
export function splitNevra(nevra: string): { name: string; arch: string; version: string } | undefined {
  const na = splitNameArch(nevra);
  if (!na) return undefined;
  const nevr = na.name;
  const releaseDash = nevr.lastIndexOf('-');
  const versionDash = nevr.lastIndexOf('-', releaseDash - 1);
  if (versionDash <= 0 || releaseDash <= versionDash + 1 || releaseDash === nevr.length - 1) return undefined;
  return { name: nevr.slice(0, versionDash), arch: na.arch, version: nevr.slice(versionDash + 1) };
}

/**
 * Parses `dnf -q updateinfo list`: `ID  TYPE  NEVRA` rows, with a leading `i ` mark column only
 * when installed and available advisories are mixed (`--all`). Security advisories print their
 * severity as the type (`Important/Sec.`, `Unknown/Sec.` when the advisory has none).
 */
export function parseDnfUpdateinfo(text: string): DnfAdvisory[] {
  const advisories: DnfAdvisory[] = [];
  for (const line of text.split('\n')) {
    let tokens = line.trim().split(/\s+/);
    if (tokens.length === 4 && tokens[0] === 'i') tokens = tokens.slice(1);
    if (tokens.length !== 3) continue;
    const [id, type, nevra] = tokens as [string, string, string];
    const parsed = splitNevra(nevra);
    if (!parsed) continue;
    const security = type.endsWith('/Sec.') || type === 'security';
    advisories.push({ id, type, security, ...parsed });
  }
  return advisories;
}

/**
 * Joins the three listings. Advisories attach to the candidate of the same name and arch: every
 * advisory `--available` lists is for a version newer than the installed one, so installing the
 * candidate (the newest) installs its fix. The installed version comes from rpm; a name installed
 * in several versions (install-only kernels) gets none, as the candidate is installed beside them.
 */
export function dnfUpdates(
  candidates: readonly DnfCandidate[],
  advisories: readonly DnfAdvisory[],
  installed: ReadonlyMap<string, string[]>,
): RawUpdate[] {
  const byKey = new Map<string, DnfAdvisory[]>();
  for (const a of advisories) {
    const key = `${a.name}\t${a.arch}`;
    const list = byKey.get(key) ?? [];
    list.push(a);
    byKey.set(key, list);
  }
  return candidates.map((c) => {
    const key = `${c.name}\t${c.arch}`;
    const related = byKey.get(key) ?? [];
    const versions = installed.get(key);
    return {
      manager: 'dnf',
      kind: 'package',
      name: c.name,
      arch: c.arch,
      installedVersion: versions?.length === 1 ? versions[0] : undefined,
      candidateVersion: c.version,
      origin: c.repo,
      security: related.some((a) => a.security),
      advisories: related.length ? related.map((a) => a.id) : undefined,
    };
  });
}

function checkUpdateOutput(result: CommandResult): string | undefined {
  if (result.code === 0) return undefined;
  if (result.code === UPDATES_AVAILABLE) return result.stdout;
  return stdoutOf('dnf', result);
}

/**
 * Pending dnf updates. Rejects with a CommandError `ENOENT` when dnf is not installed and `EXIT`
 * when it fails. LC_ALL=C: the advisory types are translated. rpm is read with `-qa` (no package
 * names on its command line, so nothing read from dnf's output can become an rpm option).
 */
export async function collectDnf(run: CommandRunner): Promise<RawUpdate[]> {
  const env = { ...process.env, LC_ALL: 'C' };
  const output = checkUpdateOutput(await run('dnf', DNF_CHECK_UPDATE_ARGS, { timeoutMs: 600_000, env }));
  if (output === undefined) return [];
  const candidates = parseDnfCheckUpdate(output);
  if (candidates.length === 0) {
    throw new CommandError('EXIT', 'dnf', 'dnf check-update said updates are available but listed none that could be read');
  }
  const advisories = parseDnfUpdateinfo(stdoutOf('dnf', await run('dnf', DNF_UPDATEINFO_ARGS, { timeoutMs: 600_000, env })));
  const installed = new Map<string, string[]>();
  for (const p of await collectRpm(run)) {
    const key = `${p.name}\t${p.arch}`;
    installed.set(key, [...(installed.get(key) ?? []), p.version]);
  }
  return dnfUpdates(candidates, advisories, installed);
}
