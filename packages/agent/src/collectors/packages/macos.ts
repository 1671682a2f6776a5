import { type CommandRunner, stdoutOf } from '../../run-command.js';
import type { RawPackage } from '../normalize-packages.js';

// Absolute paths: both live in /usr/sbin, which is not on every PATH, and a PATH lookup as root
// would let a writable directory earlier on PATH substitute the tool.
export const SYSTEM_PROFILER = '/usr/sbin/system_profiler';
export const PKGUTIL = '/usr/sbin/pkgutil';

/**
 * `arch_kind` describes the app's binary, not the Mac, so the same app reports the same arch on
 * Intel and Apple silicon. Kinds that name no instruction set (arch_ios, arch_web, arch_other)
 * map to '' (unknown).
 */
const ARCH_OF_KIND: Readonly<Record<string, string>> = {
  arch_arm: 'arm64',
  arch_arm_i64: 'universal',
  arch_i64: 'x86_64',
  arch_i32_i64: 'x86_64',
  arch_i32: 'i386',
  arch_ppc: 'ppc',
};

/** A receipt id as pkgutil prints it; anything else is not passed back to pkgutil as an argument. */
const PACKAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * Parses `system_profiler SPApplicationsDataType -json`. Apps without a version (helpers, scripts
 * wrapped as apps) are skipped rather than given a placeholder, which a version matcher would
 * compare as if it were real. `_name` is the display name the Finder shows.
 */
export function parseSystemProfilerApps(text: string): RawPackage[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error('system_profiler printed something that is not JSON', { cause: err });
  }
  const apps = (parsed as { SPApplicationsDataType?: unknown } | null)?.SPApplicationsDataType;
  if (!Array.isArray(apps)) return [];
  const entries: RawPackage[] = [];
  for (const app of apps) {
    if (typeof app !== 'object' || app === null) continue;
    const { _name: name, version, arch_kind: kind } = app as Record<string, unknown>;
    if (typeof name !== 'string' || typeof version !== 'string' || name.trim() === '' || version.trim() === '') continue;
    const arch = (typeof kind === 'string' && Object.hasOwn(ARCH_OF_KIND, kind) ? ARCH_OF_KIND[kind] : undefined) ?? '';
    entries.push({ ecosystem: 'macos', name: name.trim(), version: version.trim(), arch });
  }
  return entries;
}

/** Parses `pkgutil --pkgs`: one receipt id per line. */
export function parsePkgutilPkgs(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((id) => PACKAGE_ID.test(id));
}

/** Parses `pkgutil --pkg-info <id>` (`key: value` lines); undefined without an id or version. */
export function parsePkgutilPkgInfo(text: string): RawPackage | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2).trim());
  }
  const name = fields.get('package-id');
  const version = fields.get('version');
  if (!name || !version) return undefined;
  return { ecosystem: 'macos', name, version, arch: '' };
}

/** How many `pkgutil --pkg-info` run at once: a Mac has a few hundred receipts. */
const PKG_INFO_CONCURRENCY = 8;

/**
 * Applications (system_profiler) followed by installer receipts (pkgutil), both ecosystem `macos`:
 * app display names and reverse-DNS receipt ids do not collide. A receipt that vanishes between
 * listing and querying is skipped.
 */
export async function collectMacos(run: CommandRunner): Promise<RawPackage[]> {
  // system_profiler walks every bundle on disk; a minute is common on a full Mac.
  const profiler = await run(SYSTEM_PROFILER, ['SPApplicationsDataType', '-json'], { timeoutMs: 300_000 });
  const apps = parseSystemProfilerApps(stdoutOf(SYSTEM_PROFILER, profiler));

  const ids = parsePkgutilPkgs(stdoutOf(PKGUTIL, await run(PKGUTIL, ['--pkgs'])));
  const receipts: (RawPackage | undefined)[] = new Array(ids.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const index = next++;
      const result = await run(PKGUTIL, ['--pkg-info', ids[index]!]);
      receipts[index] = result.code === 0 ? parsePkgutilPkgInfo(result.stdout) : undefined;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PKG_INFO_CONCURRENCY, ids.length) }, worker));
  return [...apps, ...receipts.filter((r): r is RawPackage => r !== undefined)];
}
