/**
 * Terminal output. Hostnames, package names and the like come from agents, i.e. from machines an
 * attacker may control, so nothing of theirs reaches the terminal raw: control characters (C0, DEL,
 * C1) could move the cursor, recolour or rewrite earlier lines, and bidi overrides could make one
 * name read as another.
 */

const SHORT_ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * C0 (U+0000-U+001F), DEL and C1 (U+007F-U+009F), bidi embeddings/overrides (U+202A-U+202E) and
 * isolates (U+2066-U+2069). A predicate rather than a regex: the linter rightly flags control
 * characters in regexes as usually accidental.
 */
export function isUnsafeCodePoint(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

/** Replaces every unsafe character with a visible escape: `\x1b`, `\n`, `\u202e`. */
export function escapeControl(text: string): string {
  return mapUnsafe(text, (ch, code) => SHORT_ESCAPES[ch] ?? (code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`));
}

/**
 * Pretty JSON for `--json`. JSON.stringify escapes C0 inside strings itself (and the only raw C0
 * left, newlines and spaces of the layout, are harmless); C1, DEL and bidi characters can only
 * occur inside strings, where a `\uXXXX` escape is valid JSON that parses back to the same value.
 */
export function formatJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  return `${mapUnsafe(text, (ch, code) => (code < 0x7f ? ch : `\\u${hex(code, 4)}`))}\n`;
}

function mapUnsafe(text: string, replace: (ch: string, code: number) => string): string {
  let out = '';
  let changed = false;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (isUnsafeCodePoint(code)) {
      out += replace(ch, code);
      changed = true;
    } else {
      out += ch;
    }
  }
  return changed ? out : text;
}

/** Any field value as one safe table cell; null/undefined/empty become '-'. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'string') return escapeControl(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return escapeControl(JSON.stringify(value) ?? '-');
}

/** ISO timestamp without milliseconds (`2024-05-01T12:00:00Z`), or the raw text if it is not one. */
export function timestamp(value: unknown, missing = '-'): string {
  if (value === null || value === undefined || value === '') return missing;
  if (typeof value !== 'string') return cell(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return escapeControl(value);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function yesNo(value: unknown): string {
  if (value === true) return 'yes';
  if (value === false) return 'no';
  return cell(value);
}

/**
 * Aligned columns separated by two spaces; the last column is not padded so lines carry no trailing
 * blanks. Cells must already be safe (see `cell`); widths count code points, not UTF-16 units.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    headers
      .map((_, i) => {
        const text = cells[i] ?? '';
        return i === headers.length - 1 ? text : text + ' '.repeat((widths[i] ?? 0) - width(text));
      })
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** `Label  value` lines for a single object, labels aligned. Values must already be safe. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const labelWidth = Math.max(0, ...fields.map(([label]) => width(label)));
  const lines = fields.map(([label, value]) => `${label}${' '.repeat(labelWidth - width(label))}  ${value}`.trimEnd());
  return `${lines.join('\n')}\n`;
}

function width(text: string): number {
  return [...text].length;
}

function hex(code: number, digits: number): string {
  return code.toString(16).padStart(digits, '0');
}

/**
 * A word the user can paste into a POSIX shell as-is: left bare when it only holds characters no
 * shell treats specially, otherwise single-quoted. Control characters are escaped first, so the
 * printed line can be trusted on screen even when the server sent something odd.
 */
export function shellWord(text: string): string {
  const safe = escapeControl(text);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(safe)) return safe;
  return `'${safe.replace(/'/g, `'\\''`)}'`;
}
