import { type CommandRunner, stdoutOf } from '../../run-command.js';
import type { RawPackage } from '../normalize-packages.js';

/** The epoch is printed only when set (`1:3.0.7-27.el9`), the way rpm and OSV write versions. */
export const RPM_QUERY_FORMAT = '%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n';

/**
 * Splits a source rpm file name (`name-version-release.src.rpm`) from the right, since names may
 * contain dashes but version and release may not. `(none)` or anything malformed gives undefined.
 */
export function parseSourceRpm(file: string): { name: string; versionRelease: string } | undefined {
  const base = file.match(/^(.+)\.(?:no)?src\.rpm$/)?.[1];
  if (!base) return undefined;
  const releaseDash = base.lastIndexOf('-');
  const versionDash = base.lastIndexOf('-', releaseDash - 1);
  if (versionDash <= 0 || releaseDash <= versionDash + 1 || releaseDash === base.length - 1) return undefined;
  return { name: base.slice(0, versionDash), versionRelease: base.slice(versionDash + 1) };
}

/**
 * Parses `rpm -qa --qf RPM_QUERY_FORMAT`. The gpg-pubkey pseudo-packages (imported signing keys)
 * are skipped. The source file name carries no epoch; subpackages inherit the spec's epoch, so
 * the binary's epoch is put on the source version to keep it comparable.
 */
export function parseRpmQuery(text: string): RawPackage[] {
  const entries: RawPackage[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split('\t');
    if (fields.length !== 4) continue;
    const [name, version, arch, sourceRpm] = fields as [string, string, string, string];
    if (name === 'gpg-pubkey') continue;
    const entry: RawPackage = { ecosystem: 'rpm', name, version, arch: arch === '(none)' ? '' : arch };
    const source = parseSourceRpm(sourceRpm);
    if (source) {
      const epoch = version.match(/^(\d+):/)?.[1];
      entry.source = source.name;
      entry.sourceVersion = epoch === undefined ? source.versionRelease : `${epoch}:${source.versionRelease}`;
    }
    entries.push(entry);
  }
  return entries;
}

/** Installed rpm packages. Rejects with a CommandError `ENOENT` when rpm is not installed. */
export async function collectRpm(run: CommandRunner): Promise<RawPackage[]> {
  const result = await run('rpm', ['-qa', '--qf', RPM_QUERY_FORMAT], { timeoutMs: 120_000 });
  return parseRpmQuery(stdoutOf('rpm', result));
}
