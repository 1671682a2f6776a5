import { type CommandRunner, stdoutOf } from '../../run-command.js';
import type { RawUpdate } from './normalize-updates.js';

/** Only packages whose installed version is older than the best available one. */
export const APK_VERSION_ARGS = ['version', '-l', '<'] as const;

/** `name-pkgver-rN`: apk versions always end in `-r<digits>` and hold no other dash, names may hold many. */
const NAME_VERSION = /^(.+)-([^-\s]+-r\d+)$/;

/**
 * One row: `name-version`, padding, `<`, the available version, the repository tag. apk-tools 2
 * pads the first field to 40 columns with printf `%-40s` and no separator, so a longer one runs
 * straight into the `<`.
 */
const ROW = /^(\S+?-r\d+)\s*<\s+(\S+)(?:\s+(\S+))?\s*$/;

/**
 * Parses `apk version -l '<'`: a header (`Installed: ... Available:`), then per package
 * `name-version`, the comparison, the available version and the repository tag (empty for the
 * default repositories, e.g. `@edge` for a tagged one). apk prints no architecture: a host has
 * one, and the entries carry '' for it. apk says nothing about security, so no entry is marked;
 * Alpine's secdb feed on the server is where that comes from.
 */
export function parseApkVersion(text: string): RawUpdate[] {
  const updates: RawUpdate[] = [];
  for (const line of text.split('\n')) {
    const row = ROW.exec(line.trim());
    const nameVersion = row && NAME_VERSION.exec(row[1] as string);
    if (!row || !nameVersion) continue;
    updates.push({
      manager: 'apk',
      kind: 'package',
      name: nameVersion[1] as string,
      arch: '',
      installedVersion: nameVersion[2] as string,
      candidateVersion: row[2] as string,
      origin: row[3],
      security: false,
    });
  }
  return updates;
}

/**
 * Pending apk upgrades against the indexes apk already holds (no `apk update` here: refreshing is
 * the host's business). Rejects with a CommandError `ENOENT` when apk is not installed.
 */
export async function collectApkUpdates(run: CommandRunner): Promise<RawUpdate[]> {
  const result = await run('apk', APK_VERSION_ARGS, { timeoutMs: 120_000 });
  return parseApkVersion(stdoutOf('apk', result));
}
