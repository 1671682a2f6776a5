/** The version orderings Brier implements; each one is exactly the package manager's own. */
export type VersionScheme = 'dpkg' | 'rpm' | 'apk' | 'semver';

export const VERSION_SCHEMES: readonly VersionScheme[] = Object.freeze(['dpkg', 'rpm', 'apk', 'semver'] as const);

/**
 * Longest version string any comparator accepts, in UTF-16 code units. Real versions are far shorter
 * (Debian's longest is 52 characters); the cap bounds the work a hostile feed or agent can ask for, and
 * matches node-semver's own MAX_LENGTH.
 */
export const MAX_VERSION_LENGTH = 256;

/** A version that the scheme's own tool would refuse (or that is unsafe to handle at all). */
export class VersionError extends Error {
  readonly code = 'version-invalid' as const;
  readonly scheme: VersionScheme;
  /** Why, in the words of the tool where there are such words (dpkg's parseversion messages). */
  readonly reason: string;

  constructor(scheme: VersionScheme, version: unknown, reason: string, options: { cause?: unknown } = {}) {
    super(`invalid ${scheme} version ${describeInput(version)}: ${reason}`, { cause: options.cause });
    this.name = 'VersionError';
    this.scheme = scheme;
    this.reason = reason;
  }
}

/**
 * The input as it goes into a message: JSON-quoted with every control and bidirectional-formatting
 * character escaped (JSON.stringify leaves DEL, C1 and bidi controls raw), and cut short so a 100 kB
 * line cannot flood a log.
 */
function describeInput(version: unknown): string {
  if (typeof version !== 'string') return `(${version === null ? 'null' : typeof version})`;
  const shown = version.length > 64 ? `${version.slice(0, 64)}...` : version;
  return JSON.stringify(shown).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function codePointName(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The checks every scheme shares, before any parsing: a non-empty string of at most MAX_VERSION_LENGTH
 * code units with no NUL and no control characters (C0, DEL, C1). `allowTab` is for dpkg, which
 * trims leading and trailing blanks (space and tab) itself and refuses embedded ones.
 */
export function checkVersionInput(scheme: VersionScheme, version: unknown, options: { allowTab?: boolean } = {}): string {
  if (typeof version !== 'string') throw new VersionError(scheme, version, 'version must be a string');
  if (version.length === 0) throw new VersionError(scheme, version, 'version string is empty');
  if (version.length > MAX_VERSION_LENGTH) {
    throw new VersionError(scheme, version, `version is longer than ${MAX_VERSION_LENGTH} characters`);
  }
  for (let i = 0; i < version.length; i++) {
    const code = version.charCodeAt(i);
    if (code === 0) throw new VersionError(scheme, version, 'version contains a NUL character');
    if (code === 0x09 && options.allowTab) continue;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      throw new VersionError(scheme, version, `version contains a control character (${codePointName(code)})`);
    }
  }
  return version;
}
