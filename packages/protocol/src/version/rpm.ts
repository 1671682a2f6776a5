import { checkVersionInput } from './version-error.js';

/**
 * RPM version ordering, ported from rpm: rpmio/rpmvercmp.c `rpmvercmp` (segment comparison with
 * '~' sorting before everything and '^' after the base version) and lib/rpmver.c `parseEVR` +
 * `rpmverCmp` (the `[epoch:]version[-release]` comparison behind `rpm.vercmp()` and `rpm --eval
 * '%{lua: rpm.vercmp(a, b)}'`). Differential tests run the real rpm against this file.
 *
 * rpm itself refuses only the empty string; anything else is ordered, with every byte that is not an
 * ASCII letter, digit, '~' or '^' acting as a separator (so non-ASCII letters are separators too,
 * exactly as in rpm). The only refusals added here are the shared ones: over 256 characters, NUL,
 * control characters.
 */

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;
const isAlpha = (code: number): boolean => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
const isAlnum = (code: number): boolean => isDigit(code) || isAlpha(code);
const TILDE = 0x7e;
const CARET = 0x5e;

/** rpmvercmp() on two already-checked strings; an index past the end reads as the C string's NUL. */
function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const at = (k: number): number => (k < a.length ? a.charCodeAt(k) : 0);
  const bt = (k: number): number => (k < b.length ? b.charCodeAt(k) : 0);
  let one = 0;
  let two = 0;

  while (at(one) !== 0 || bt(two) !== 0) {
    while (at(one) !== 0 && !isAlnum(at(one)) && at(one) !== TILDE && at(one) !== CARET) one++;
    while (bt(two) !== 0 && !isAlnum(bt(two)) && bt(two) !== TILDE && bt(two) !== CARET) two++;

    // The tilde separator sorts before everything else.
    if (at(one) === TILDE || bt(two) === TILDE) {
      if (at(one) !== TILDE) return 1;
      if (bt(two) !== TILDE) return -1;
      one++;
      two++;
      continue;
    }

    // The caret is like the tilde, except that the end of the other string (the base version) sorts lower.
    if (at(one) === CARET || bt(two) === CARET) {
      if (at(one) === 0) return -1;
      if (bt(two) === 0) return 1;
      if (at(one) !== CARET) return 1;
      if (bt(two) !== CARET) return -1;
      one++;
      two++;
      continue;
    }

    if (at(one) === 0 || bt(two) === 0) break;

    // One completely numeric or completely alphabetic segment from each, typed by the first string.
    let str1 = one;
    let str2 = two;
    const isNum = isDigit(at(str1));
    const inSegment = isNum ? isDigit : isAlpha;
    while (at(str1) !== 0 && inSegment(at(str1))) str1++;
    while (bt(str2) !== 0 && inSegment(bt(str2))) str2++;

    // Cannot happen (the first string has a segment here), kept as in rpm.
    if (one === str1) return -1;
    // Segments of different types: numeric is newer than alphabetic.
    if (two === str2) return isNum ? 1 : -1;

    let segA = a.slice(one, str1);
    let segB = b.slice(two, str2);
    if (isNum) {
      segA = segA.replace(/^0+/, '');
      segB = segB.replace(/^0+/, '');
      // Whichever number has more digits wins; equal lengths fall through to strcmp.
      if (segA.length > segB.length) return 1;
      if (segB.length > segA.length) return -1;
    }
    // strcmp over ASCII letters or digits: code unit order is byte order.
    if (segA !== segB) return segA < segB ? -1 : 1;

    one = str1;
    two = str2;
  }

  // All segments equal but the separators differed: whichever still has characters left wins.
  if (at(one) === 0 && bt(two) === 0) return 0;
  return at(one) === 0 ? -1 : 1;
}

/** rpmvercmp: the segment comparison rpm applies to each of epoch, version and release. */
export function compareRpm(a: string, b: string): -1 | 0 | 1 {
  return rpmvercmp(checkVersionInput('rpm', a), checkVersionInput('rpm', b));
}

/** `[epoch:]version[-release]` as rpm's parseEVR splits it. Absent parts are undefined, not ''. */
export interface RpmEvr {
  readonly epoch: string | undefined;
  readonly version: string;
  readonly release: string | undefined;
}

/**
 * parseEVR(): the epoch is the leading run of digits only when a ':' follows it (an empty one reads
 * as "0"); the release is what follows the last '-' after that run. So `a:1` has no epoch and is the
 * version "a:1", and `1-2-3` is version "1-2", release "3".
 */
export function parseRpmEvr(evr: string): RpmEvr {
  const input = checkVersionInput('rpm', evr);
  let s = 0;
  while (s < input.length && isDigit(input.charCodeAt(s))) s++;
  const dash = input.lastIndexOf('-');
  const se = dash >= s ? dash : -1;
  let epoch: string | undefined;
  let versionStart = 0;
  if (input[s] === ':') {
    epoch = s === 0 ? '0' : input.slice(0, s);
    versionStart = s + 1;
  }
  if (se >= 0) return { epoch, version: input.slice(versionStart, se), release: input.slice(se + 1) };
  return { epoch, version: input.slice(versionStart), release: undefined };
}

/** compare_values(): a missing part is older than any present one. */
function compareValues(a: string | undefined, b: string | undefined): -1 | 0 | 1 {
  if (a === undefined && b === undefined) return 0;
  if (b === undefined) return 1;
  if (a === undefined) return -1;
  return rpmvercmp(a, b);
}

/** rpmverCmp(): epoch (missing means "0", compared as a version string), then version, then release. */
export function compareRpmEvrParts(a: RpmEvr, b: RpmEvr): -1 | 0 | 1 {
  const epoch = compareValues(a.epoch ?? '0', b.epoch ?? '0');
  if (epoch !== 0) return epoch;
  const version = compareValues(a.version, b.version);
  if (version !== 0) return version;
  return compareValues(a.release, b.release);
}

/** -1, 0 or 1 as rpm's `rpm.vercmp(a, b)` answers for two EVR strings; throws VersionError on invalid input. */
export function compareRpmEvr(a: string, b: string): -1 | 0 | 1 {
  return compareRpmEvrParts(parseRpmEvr(a), parseRpmEvr(b));
}
