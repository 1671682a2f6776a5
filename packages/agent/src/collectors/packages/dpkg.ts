import { type CommandRunner, stdoutOf } from '../../run-command.js';
import type { RawPackage } from '../normalize-packages.js';

/**
 * One line per package known to dpkg. `source:Package`/`source:Version` are dpkg-query's virtual
 * fields: they fall back to the binary's own name and version when there is no Source field, and
 * strip the "(version)" suffix a binNMU carries. `db:Status-Abbrev` is three characters: desired
 * action, current status, error flag.
 */
// biome-ignore lint/suspicious/noTemplateCurlyInString: ${Field} is dpkg-query's own syntax, not a template.
export const DPKG_QUERY_FORMAT = '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${db:Status-Abbrev}\n';

/**
 * Status characters of a package that is configured and on disk: installed (`i`), and the two
 * trigger states an interrupted apt run can leave behind (`t` pending, `W` awaited), which would
 * otherwise make packages vanish from the inventory for a while.
 */
const CONFIGURED = new Set(['i', 't', 'W']);

/**
 * Parses output printed with `DPKG_QUERY_FORMAT`. Only configured packages count: dpkg also
 * lists packages that are removed with config files left (`rc`), half-installed or unpacked but
 * not configured, and those are not what the host runs. Lines with the wrong field count are
 * skipped; dpkg's grammar allows no tab or newline in any of these fields.
 */
export function parseDpkgQuery(text: string): RawPackage[] {
  const entries: RawPackage[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split('\t');
    if (fields.length !== 6) continue;
    const [name, version, arch, source, sourceVersion, status] = fields as [string, string, string, string, string, string];
    if (!CONFIGURED.has(status[1] ?? '')) continue;
    entries.push({ ecosystem: 'dpkg', name, version, arch, source, sourceVersion });
  }
  return entries;
}

export interface DpkgOptions {
  /** dpkg's database directory (default /var/lib/dpkg); tests point it at a fixture. */
  admindir?: string;
}

/** Installed dpkg packages. Rejects with a CommandError `ENOENT` when dpkg-query is not installed. */
export async function collectDpkg(run: CommandRunner, opts: DpkgOptions = {}): Promise<RawPackage[]> {
  const args = [...(opts.admindir ? [`--admindir=${opts.admindir}`] : []), '-W', `--showformat=${DPKG_QUERY_FORMAT}`];
  const result = await run('dpkg-query', args, { timeoutMs: 120_000 });
  return parseDpkgQuery(stdoutOf('dpkg-query', result));
}
