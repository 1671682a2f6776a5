import { CommandError, type CommandResult, type CommandRunner } from '../../run-command.js';
import type { RawUpdate } from './normalize-updates.js';

/**
 * `--include-unknown` lists packages whose installed version winget cannot determine too (they
 * still have an upgrade); `--accept-source-agreements` answers the msstore source's first-run
 * prompt, which would otherwise wait for a keypress that never comes; `--disable-interactivity`
 * (winget 1.4+) keeps it from asking anything else.
 */
export const WINGET_UPGRADE_ARGS = ['upgrade', '--include-unknown', '--accept-source-agreements', '--disable-interactivity'] as const;

/**
 * HRESULTs winget exits with when there is nothing to upgrade (NO_APPLICATIONS_FOUND,
 * UPDATE_NOT_APPLICABLE). Node reports them unsigned; `>>> 0` also folds a signed report.
 */
const WINGET_NOTHING_TO_DO = new Set([0x8a150014, 0x8a15002b]);

/** ESC [ ... final byte: colour and cursor sequences winget writes around its spinner and progress bars. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ESC that starts a terminal sequence is the point.
const CSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
/** The spinner's frames: a header word never is one of these. */
const SPINNER = new Set(['-', '\\', '|', '/']);

/**
 * Terminal columns a code point occupies, as winget measures (ICU's East Asian Width: Wide and
 * Fullwidth take two; combining marks and zero-width characters none). The ranges are the blocks
 * that hold W/F characters; close enough for names, exact for the ASCII columns we cut on.
 */
export function columnWidth(cp: number): number {
  if (cp === 0x200b || cp === 0x200c || cp === 0x200d || cp === 0xfeff) return 0;
  if (/[\p{Mn}\p{Me}]/u.test(String.fromCodePoint(cp))) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** A line as terminal cells: each code point with the column it starts at. */
interface Cells {
  chars: string[];
  cols: number[];
}

function cellsOf(line: string): Cells {
  const chars: string[] = [];
  const cols: number[] = [];
  let col = 0;
  for (const ch of line) {
    chars.push(ch);
    cols.push(col);
    col += columnWidth(ch.codePointAt(0) ?? 0);
  }
  return { chars, cols };
}

/** The characters that start in columns [from, to). */
function sliceCols(cells: Cells, from: number, to = Number.POSITIVE_INFINITY): string {
  let out = '';
  for (let i = 0; i < cells.chars.length; i++) {
    const col = cells.cols[i] as number;
    if (col >= from && col < to) out += cells.chars[i];
  }
  return out;
}

/** The character at a column, or '' past the end (a short row is padded only up to its last value). */
function charAt(cells: Cells, col: number): string {
  const i = cells.cols.indexOf(col);
  return i === -1 ? '' : (cells.chars[i] as string);
}

/**
 * What a terminal would show for one line of redirected output: escape sequences dropped,
 * backspaces applied, and only what follows the last carriage return (the spinner redraws itself
 * with `\r`, and the first table line follows its last frame on the same line).
 */
export function terminalLine(raw: string): string {
  let line = raw.replace(/\r$/, '').replace(CSI, '');
  const cr = line.lastIndexOf('\r');
  if (cr !== -1) line = line.slice(cr + 1);
  if (line.includes('\b')) {
    const kept: string[] = [];
    for (const ch of line) {
      if (ch === '\b') kept.pop();
      else kept.push(ch);
    }
    line = kept.join('');
  }
  return line;
}

/** A value winget had to cut to fit its column ("…", or "..." before winget 1.3): no longer an identifier. */
function truncated(value: string): boolean {
  return value.endsWith('\u2026') || value.endsWith('...');
}

/**
 * Parses `winget upgrade` output: one or more fixed-width tables (the second one lists packages
 * that "require explicit targeting"), each a header line, a line of dashes, then rows. Column
 * titles are translated, so columns are found by position: the titles are single words separated
 * by at least one space, in the order Name, Id, Version, Available, Source (Source is left out
 * when every row's is empty). Widths are terminal columns, so CJK names take two per character.
 * A table ends at the first line that is not a row: blank, the "N upgrades available." footer, or
 * text running across a column boundary.
 *
 * Rows whose Id winget truncated are dropped (nothing can be upgraded by a cut Id). A version
 * winget could not determine ("Unknown", translated) or prints as a range ("< 1.2") is omitted.
 */
export function parseWingetUpgrade(text: string): RawUpdate[] {
  const lines = text.split('\n').map(terminalLine);
  const updates: RawUpdate[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!/^-{8,}\s*$/.test(lines[i] as string)) continue;
    const header = cellsOf(lines[i - 1] as string);
    // Word starts in the header, skipping any spinner frame left in front of the first title.
    const starts: number[] = [];
    for (let c = 0; c < header.chars.length; c++) {
      const ch = header.chars[c] as string;
      const prev = c === 0 ? ' ' : (header.chars[c - 1] as string);
      if (ch !== ' ' && prev === ' ') starts.push(header.cols[c] as number);
    }
    while (starts.length > 0 && SPINNER.has(sliceCols(header, starts[0] as number, starts[1]).trim())) starts.shift();
    if (starts.length !== 4 && starts.length !== 5) continue;
    const offset = starts[0] as number;
    const [, idCol, versionCol, availableCol, sourceCol] = starts.map((s) => s - offset) as [
      number,
      number,
      number,
      number,
      number | undefined,
    ];
    for (i = i + 1; i < lines.length; i++) {
      const row = cellsOf(lines[i] as string);
      // Every value but the last is padded with at least one space, so the column before each
      // boundary is blank (or past the end, where trailing blanks were trimmed): text running
      // across one is a sentence, not a row.
      const boundaries = sourceCol === undefined ? [idCol, versionCol, availableCol] : [idCol, versionCol, availableCol, sourceCol];
      if (boundaries.some((b) => ![' ', ''].includes(charAt(row, b - 1)))) break;
      const name = sliceCols(row, 0, idCol).trim();
      const id = sliceCols(row, idCol, versionCol).trim();
      const version = sliceCols(row, versionCol, availableCol).trim();
      const available = sliceCols(row, availableCol, sourceCol).trim();
      const source = sourceCol === undefined ? '' : sliceCols(row, sourceCol).trim();
      if (id === '' || /\s/.test(id) || available === '' || /\s/.test(available) || /\s/.test(source)) break;
      if (truncated(id) || truncated(available)) continue;
      updates.push({
        manager: 'winget',
        kind: 'package',
        name: id,
        arch: '',
        installedVersion: /^\d\S*$/.test(version) && !truncated(version) ? version : undefined,
        candidateVersion: available,
        origin: source === '' ? undefined : source,
        title: name,
        security: false,
      });
    }
  }
  return updates;
}

function wingetOutput(result: CommandResult): string {
  if (result.code === 0) return result.stdout;
  if (result.code !== null && WINGET_NOTHING_TO_DO.has(result.code >>> 0)) return '';
  const how = result.code === null ? 'was killed by a signal' : `exited with 0x${(result.code >>> 0).toString(16)}`;
  const detail = (result.stderr.trim() || result.stdout.trim()).slice(-500);
  throw new CommandError('EXIT', 'winget', `winget ${how}${detail ? `: ${detail}` : ''}`);
}

/**
 * Pending winget upgrades. Rejects with ENOENT where winget is not installed or not on PATH (it
 * is a per-user app: the LocalSystem account often has none).
 */
export async function collectWinget(run: CommandRunner): Promise<RawUpdate[]> {
  const result = await run('winget', WINGET_UPGRADE_ARGS, { timeoutMs: 300_000 });
  return parseWingetUpgrade(wingetOutput(result));
}
