import { checkVersionInput, VersionError } from './version-error.js';

/**
 * Alpine (apk-tools) version ordering, ported from apk-tools src/version.c (the tokenizer
 * `token_first`/`token_next`, `token_cmp`, `apk_version_validate` and `apk_version_compare`):
 *
 *   digit{.digit}...{letter}{_suffix{digits}}...{~hexhash}{-r digits}
 *
 * Suffixes order as _alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p. A numeric
 * part after a '.' with a leading zero compares as a string (Gentoo's rule); other numbers compare as
 * apk's uint64 (apk_blob_pull_uint wraps modulo 2^64, and so does this port).
 *
 * Versions that apk_version_validate() refuses are refused here too (VersionError): `apk version -t`
 * still prints some answer for them, but nothing abuild or apk would build or install has such a
 * version, and a made-up order for garbage is worse than an error when deciding what is vulnerable.
 */

/** Token kinds in apk's order; the order is the grammar (token_next bounds against it) and the tie-break. */
const Token = {
  InitialDigit: 0,
  Digit: 1,
  Letter: 2,
  Suffix: 3,
  SuffixNo: 4,
  CommitHash: 5,
  RevisionNo: 6,
  End: 7,
  Invalid: 8,
} as const;
type Token = (typeof Token)[keyof typeof Token];

/** SUFFIX_NONE is the pivot: smaller suffixes are pre-releases. SUFFIX_INVALID is 0. */
const SUFFIX_NONE = 5;
const SUFFIXES: Readonly<Record<string, number>> = { alpha: 1, beta: 2, pre: 3, rc: 4, cvs: 6, svn: 7, git: 8, hg: 9, p: 10 };
const UINT64 = (1n << 64n) - 1n;

interface TokenState {
  token: Token;
  suffix: number;
  number: bigint;
  value: string;
}

const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';
const isLower = (ch: string | undefined): boolean => ch !== undefined && ch >= 'a' && ch <= 'z';
/** APK_CTYPE_HEXDIGIT: lowercase only. */
const isHex = (ch: string | undefined): boolean => isDigit(ch) || (ch !== undefined && ch >= 'a' && ch <= 'f');

class Tokenizer {
  private pos = 0;
  readonly t: TokenState = { token: Token.InitialDigit, suffix: 0, number: 0n, value: '' };

  /** token_first(): a version starts with digits. */
  constructor(private readonly s: string) {
    this.t.token = this.parseDigits(Token.InitialDigit);
  }

  private span(pred: (ch: string | undefined) => boolean): string {
    const start = this.pos;
    while (this.pos < this.s.length && pred(this.s[this.pos])) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** token_parse_digits(): the token is `kind`, or invalid when the run of digits is empty. */
  private parseDigits(kind: Token): Token {
    const digits = this.span(isDigit);
    this.t.value = digits;
    let n = 0n;
    for (const d of digits) n = (n * 10n + BigInt(d.charCodeAt(0) - 0x30)) & UINT64;
    this.t.number = n;
    return digits.length === 0 ? Token.Invalid : kind;
  }

  /** token_next(): the kind of the next token comes from its first character and must follow the previous one. */
  next(): void {
    this.t.token = this.step();
  }

  private step(): Token {
    const t = this.t;
    if (this.pos >= this.s.length) return Token.End;
    const ch = this.s[this.pos];
    if (isLower(ch)) {
      if (t.token > Token.Digit) return Token.Invalid;
      t.value = ch ?? '';
      this.pos++;
      return Token.Letter;
    }
    if (ch === '.' || isDigit(ch)) {
      if (ch === '.') {
        if (t.token > Token.Digit) return Token.Invalid;
        this.pos++;
      }
      if (t.token === Token.InitialDigit || t.token === Token.Digit) return this.parseDigits(Token.Digit);
      if (t.token === Token.Suffix) return this.parseDigits(Token.SuffixNo);
      return Token.Invalid;
    }
    if (ch === '_') {
      if (t.token > Token.SuffixNo) return Token.Invalid;
      this.pos++;
      t.value = this.span(isLower);
      t.suffix = Object.hasOwn(SUFFIXES, t.value) ? (SUFFIXES[t.value] ?? 0) : 0;
      return t.suffix === 0 ? Token.Invalid : Token.Suffix;
    }
    if (ch === '~') {
      if (t.token >= Token.CommitHash) return Token.Invalid;
      this.pos++;
      t.value = this.span(isHex);
      return t.value === '' ? Token.Invalid : Token.CommitHash;
    }
    if (ch === '-') {
      if (t.token >= Token.RevisionNo || this.s[this.pos + 1] !== 'r') return Token.Invalid;
      this.pos += 2;
      return this.parseDigits(Token.RevisionNo);
    }
    return Token.Invalid;
  }
}

/** apk_blob_sort(): memcmp over the common length, then the shorter first; for ASCII that is JS string order. */
const blobSort = (a: string, b: string): -1 | 0 | 1 => (a < b ? -1 : a > b ? 1 : 0);

/** token_cmp() for two tokens of the same kind. */
function tokenCmp(a: TokenState, b: TokenState): -1 | 0 | 1 {
  let x: bigint | number;
  let y: bigint | number;
  switch (a.token) {
    case Token.Digit:
      // A leading zero on either side: raw string comparison, as in Gentoo.
      if (a.value.startsWith('0') || b.value.startsWith('0')) return blobSort(a.value, b.value);
      x = a.number;
      y = b.number;
      break;
    case Token.InitialDigit:
    case Token.SuffixNo:
    case Token.RevisionNo:
      x = a.number;
      y = b.number;
      break;
    case Token.Letter:
      x = a.value.charCodeAt(0);
      y = b.value.charCodeAt(0);
      break;
    case Token.Suffix:
      x = a.suffix;
      y = b.suffix;
      break;
    default:
      return blobSort(a.value, b.value);
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

/** apk_version_validate(). Also false for anything the shared checks refuse (over 256 characters, NUL, controls). */
export function isValidApk(version: string): boolean {
  try {
    checkApk(version);
    return true;
  } catch (err) {
    if (err instanceof VersionError) return false;
    throw err;
  }
}

function checkApk(version: string): string {
  const input = checkVersionInput('apk', version);
  const tokens = new Tokenizer(input);
  while (tokens.t.token < Token.End) tokens.next();
  if (tokens.t.token !== Token.End)
    throw new VersionError('apk', version, 'not an apk version (digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#})');
  return input;
}

/** -1, 0 or 1 as apk_version_compare() orders two valid apk versions; throws VersionError on invalid input. */
export function compareApk(a: string, b: string): -1 | 0 | 1 {
  const ta = new Tokenizer(checkApk(a));
  const tb = new Tokenizer(checkApk(b));
  for (; ta.t.token === tb.t.token && ta.t.token < Token.End; ta.next(), tb.next()) {
    const r = tokenCmp(ta.t, tb.t);
    if (r !== 0) return r;
  }
  const at = ta.t;
  const bt = tb.t;
  if (at.token === bt.token) return 0;
  // Equal so far: the longer version is newer, unless what it has next is a pre-release suffix.
  if (at.token === Token.Suffix && at.suffix < SUFFIX_NONE) return -1;
  if (bt.token === Token.Suffix && bt.suffix < SUFFIX_NONE) return 1;
  if (at.token > bt.token) return -1;
  if (bt.token > at.token) return 1;
  return 0;
}
