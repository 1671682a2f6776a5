import { Range, SemVer } from 'semver';
import { checkVersionInput, VersionError } from './version-error.js';

/**
 * SemVer 2.0.0 ordering through node-semver (the npm registry's own implementation), in strict mode
 * only: `1.2.3`, `v1.2.3`, prerelease and build parts. Loose forms (`=1.2.3`, `1.2.3beta`) and
 * anything else node-semver refuses in strict mode are refused with VersionError.
 */

function parse(version: string): SemVer {
  const input = checkVersionInput('semver', version);
  try {
    return new SemVer(input, { loose: false });
  } catch (err) {
    // node-semver throws TypeError('Invalid Version: ...') or ('Invalid major version') and the like.
    const reason = err instanceof Error ? err.message.replace(/:.*$/s, '') : 'not a semantic version';
    throw new VersionError('semver', version, `not a semantic version (${reason})`, { cause: err });
  }
}

export function isValidSemver(version: string): boolean {
  try {
    parse(version);
    return true;
  } catch (err) {
    if (err instanceof VersionError) return false;
    throw err;
  }
}

/** -1, 0 or 1 by SemVer precedence (build metadata ignored); throws VersionError on invalid input. */
export function compareSemver(a: string, b: string): -1 | 0 | 1 {
  return parse(a).compare(parse(b));
}

export interface SemverRangeOptions {
  /** Let prerelease versions match ranges whose comparators have none (node-semver's option of that name). */
  includePrerelease?: boolean;
}

/**
 * Whether `version` lies in the node-semver `range` (`^1.2.3`, `>=1.0.0 <2.0.0 || 3.x`, ...).
 * Unlike node-semver's `satisfies`, an invalid version or range throws VersionError instead of
 * answering false: "not in the range" must never be the answer for a version we cannot read.
 */
export function satisfiesSemver(version: string, range: string, options: SemverRangeOptions = {}): boolean {
  const parsed = parse(version);
  // node-semver reads an empty range as '*', and tabs as the whitespace between comparators.
  const rangeInput = checkVersionInput('semver', range === '' ? '*' : range, { allowTab: true });
  let parsedRange: Range;
  try {
    parsedRange = new Range(rangeInput, { loose: false, includePrerelease: options.includePrerelease === true });
  } catch (err) {
    throw new VersionError('semver', range, 'not a valid semver range', { cause: err });
  }
  return parsedRange.test(parsed);
}
