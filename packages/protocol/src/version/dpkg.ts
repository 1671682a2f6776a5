import { checkVersionInput, VersionError } from './version-error.js';

/**
 * Debian version ordering, ported line by line from dpkg (lib/dpkg/parsehelp.c `parseversion`,
 * lib/dpkg/version.c `verrevcmp` and `dpkg_version_compare`), so that every answer is the one
 * `dpkg --compare-versions` gives. Differential tests run the real dpkg against this file.
 */

/** `[epoch:]upstream[-revision]` as dpkg splits it. `revision` is '' when there is none. */
export interface DpkgVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

export interface DpkgOptions {
  /**
   * Accept what dpkg's parseversion only warns about (upstream not starting with a digit, characters
   * outside dpkg's set, including non-ASCII) and order it as `dpkg --compare-versions` still does.
   * Off by default: such a version never comes out of a real package and is refused.
   */
  lenient?: boolean;
}

/** dpkg's INT_MAX limit on the epoch. */
const MAX_EPOCH = 2147483647n;

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;
const isAlpha = (code: number): boolean => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
/** c_isblank: space and tab only. */
const isBlank = (ch: string | undefined): boolean => ch === ' ' || ch === '\t';

type ParseOutcome = { version: DpkgVersion; problem?: { level: 'error' | 'warning'; reason: string } };

function fail(reason: string): ParseOutcome {
  return { version: { epoch: 0, upstream: '', revision: '' }, problem: { level: 'error', reason } };
}

/**
 * parseversion(), faithfully: the same checks in the same order with the same messages. A warning
 * still yields the parsed version, as in dpkg (which then compares it anyway).
 */
function parseversion(input: string): ParseOutcome {
  let start = 0;
  while (start < input.length && isBlank(input[start])) start++;
  if (start === input.length) return fail('version string is empty');
  const s = input.slice(start);

  let end = 0;
  while (end < s.length && !isBlank(s[end])) end++;
  let rest = end;
  while (rest < s.length && isBlank(s[rest])) rest++;
  if (rest < s.length) return fail('version string has embedded spaces');

  let epoch = 0;
  let versionStart = 0;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    // strtol(string, &end, 10): optional sign, then digits; no digits means end == string.
    let i = 0;
    const negative = s[0] === '-';
    if (s[0] === '+' || s[0] === '-') i++;
    let j = i;
    while (j < s.length && isDigit(s.charCodeAt(j))) j++;
    if (j === i) return fail('epoch in version is empty');
    if (colon !== j) return fail('epoch in version is not number');
    const magnitude = BigInt(s.slice(i, j));
    if (negative && magnitude > 0n) return fail('epoch in version is negative');
    // strtol saturates at LONG_MAX with ERANGE; both land in dpkg's "too big".
    if (magnitude > MAX_EPOCH) return fail('epoch in version is too big');
    // dpkg looks at the byte after the colon in the untrimmed tail, so "1: " passes this check
    // and fails below as an empty upstream version; kept identical.
    if (colon + 1 >= s.length) return fail('nothing after colon in version number');
    epoch = Number(magnitude);
    versionStart = colon + 1;
  }

  const full = s.slice(versionStart, end);
  const hyphen = full.lastIndexOf('-');
  let upstream = full;
  let revision = '';
  if (hyphen >= 0) {
    upstream = full.slice(0, hyphen);
    revision = full.slice(hyphen + 1);
    if (revision === '') return fail('revision number is empty');
  }
  const version: DpkgVersion = { epoch, upstream, revision };

  if (upstream === '') return { version, problem: { level: 'error', reason: 'version number is empty' } };
  if (!isDigit(upstream.charCodeAt(0))) {
    return { version, problem: { level: 'warning', reason: 'version number does not start with digit' } };
  }
  for (let k = 1; k < upstream.length; k++) {
    const code = upstream.charCodeAt(k);
    if (!isDigit(code) && !isAlpha(code) && !'.-+~:'.includes(upstream[k] ?? '')) {
      return { version, problem: { level: 'warning', reason: 'invalid character in version number' } };
    }
  }
  for (let k = 0; k < revision.length; k++) {
    const code = revision.charCodeAt(k);
    if (!isDigit(code) && !isAlpha(code) && !'.+~'.includes(revision[k] ?? '')) {
      return { version, problem: { level: 'warning', reason: 'invalid character in revision number' } };
    }
  }
  return { version };
}

/**
 * Parses a Debian version as dpkg does. Throws VersionError with dpkg's own message for anything
 * parseversion rejects (and, unless `lenient`, for what it only warns about), and for input that is
 * unsafe to handle (over 256 characters, NUL, control characters other than a leading or trailing tab).
 */
export function parseDpkg(version: string, options: DpkgOptions = {}): DpkgVersion {
  const input = checkVersionInput('dpkg', version, { allowTab: true });
  const { version: parsed, problem } = parseversion(input);
  if (problem && (problem.level === 'error' || !options.lenient)) throw new VersionError('dpkg', version, problem.reason);
  return parsed;
}

export function isValidDpkg(version: string, options: DpkgOptions = {}): boolean {
  try {
    parseDpkg(version, options);
    return true;
  } catch (err) {
    if (err instanceof VersionError) return false;
    throw err;
  }
}

const encoder = new TextEncoder();

/**
 * dpkg's order(): digits 0, ASCII letters their code, '~' below everything (even the end of the
 * string), any other byte after all letters. `char` is signed on dpkg's platforms, so a byte >= 0x80
 * is negative and `c + 256` is the byte value again: above letters, below ASCII punctuation.
 */
function order(c: number): number {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 0x7e) return -1;
  if (c === 0) return 0;
  if (c >= 0x80) return c;
  return c + 256;
}

/** verrevcmp() over UTF-8 bytes; index past the end reads as the C string's NUL. */
function verrevcmp(aText: string, bText: string): number {
  const a = encoder.encode(aText);
  const b = encoder.encode(bText);
  let i = 0;
  let j = 0;
  const at = (k: number): number => a[k] ?? 0;
  const bt = (k: number): number => b[k] ?? 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((at(i) !== 0 && !isDigit(at(i))) || (bt(j) !== 0 && !isDigit(bt(j)))) {
      const ac = order(at(i));
      const bc = order(bt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (at(i) === 0x30) i++;
    while (bt(j) === 0x30) j++;
    while (isDigit(at(i)) && isDigit(bt(j))) {
      if (firstDiff === 0) firstDiff = at(i) - bt(j);
      i++;
      j++;
    }
    if (isDigit(at(i))) return 1;
    if (isDigit(bt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

const sign = (n: number): -1 | 0 | 1 => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** dpkg_version_compare(): epoch numerically, then upstream, then revision with verrevcmp. */
export function compareDpkgVersions(a: DpkgVersion, b: DpkgVersion): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  const upstream = verrevcmp(a.upstream, b.upstream);
  if (upstream !== 0) return sign(upstream);
  return sign(verrevcmp(a.revision, b.revision));
}

/** -1, 0 or 1 as `dpkg --compare-versions a lt|eq|gt b` would answer; throws VersionError on invalid input. */
export function compareDpkg(a: string, b: string, options: DpkgOptions = {}): -1 | 0 | 1 {
  return compareDpkgVersions(parseDpkg(a, options), parseDpkg(b, options));
}
