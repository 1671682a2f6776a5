import {
  compareVersions,
  isVersionScheme,
  schemeForOsvEcosystem,
  VERSION_SCHEMES,
  VersionError,
  type VersionScheme,
} from '@brier/protocol';
import { type Command, EXIT_API_ERROR, EXIT_OK, HELP_HELP, UsageError, withParsedArgs } from '../command.js';
import { escapeControl } from '../output.js';

const usage = `Usage: brier vercmp --ecosystem E < pairs.txt

Compare versions the way the ecosystem's package manager orders them (dpkg,
rpm, apk, SemVer), offline: no login or server is needed.

Input (stdin): one pair a line, two versions separated by spaces or tabs:
  1.2.3-1 1.2.3-1~deb12u1
Blank lines are skipped, and so is everything from a word that starts with '#'
to the end of its line (so whole-line comments too).

Output (stdout): one line per pair, in input order: -1 when the first version
is older, 0 when equal, 1 when newer; 'error' when the line cannot be compared,
with the reason and the line number on stderr. Every pair is compared; the exit
status is 0 when all were, 1 when any line was an error, 2 on wrong usage.

Options:
  -e, --ecosystem E    dpkg, rpm, apk or semver, or an OSV ecosystem name such as
                       Debian, Ubuntu:22.04:LTS, Alpine:v3.19, Red Hat, Rocky Linux,
                       SUSE, npm, crates.io, Go (rpm compares epoch:version-release)
${HELP_HELP}
`;

/** `--ecosystem` as a scheme: our own scheme names first, then OSV's ecosystem names. */
function schemeOf(ecosystem: string | undefined): VersionScheme {
  if (ecosystem === undefined) throw new UsageError('missing --ecosystem', usage);
  if (isVersionScheme(ecosystem)) return ecosystem;
  const scheme = schemeForOsvEcosystem(ecosystem);
  if (scheme === undefined) {
    throw new UsageError(
      `unknown ecosystem '${ecosystem}': use ${VERSION_SCHEMES.join(', ')} or an OSV ecosystem whose versions use one of them`,
      usage,
    );
  }
  return scheme;
}

/** The words of one input line with any '#' comment removed. */
function wordsOf(line: string): string[] {
  const words = line.split(/[ \t]+/).filter((w) => w !== '');
  const comment = words.findIndex((w) => w.startsWith('#'));
  return comment === -1 ? words : words.slice(0, comment);
}

export const vercmpCommand: Command = {
  name: 'vercmp',
  summary: 'Compare version pairs read from stdin as dpkg, rpm, apk or semver order them',
  usage,
  run: withParsedArgs({ usage, options: { ecosystem: { type: 'string', short: 'e' } } }, async ({ values }, ctx) => {
    const scheme = schemeOf(values.ecosystem);
    const lines = (await ctx.io.readStdin()).split('\n');
    const out: string[] = [];
    let failed = 0;
    lines.forEach((raw, index) => {
      const words = wordsOf(raw.replace(/\r$/, ''));
      if (words.length === 0) return;
      const lineNo = index + 1;
      const [a, b] = words;
      if (words.length !== 2 || a === undefined || b === undefined) {
        failed++;
        out.push('error');
        ctx.io.stderr(`brier: line ${lineNo}: expected two versions, found ${words.length}\n`);
        return;
      }
      try {
        out.push(String(compareVersions(scheme, a, b)));
      } catch (err) {
        if (!(err instanceof VersionError)) throw err;
        failed++;
        out.push('error');
        ctx.io.stderr(`brier: line ${lineNo}: ${escapeControl(err.message)}\n`);
      }
    });
    if (out.length > 0) ctx.io.stdout(`${out.join('\n')}\n`);
    return failed === 0 ? EXIT_OK : EXIT_API_ERROR;
  }),
};
