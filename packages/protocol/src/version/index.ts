import { compareApk, isValidApk } from './apk.js';
import { compareDpkg, isValidDpkg } from './dpkg.js';
import { compareRpmEvr, parseRpmEvr } from './rpm.js';
import { compareSemver, isValidSemver } from './semver.js';
import { VERSION_SCHEMES, VersionError, type VersionScheme } from './version-error.js';

export { compareApk, isValidApk } from './apk.js';
export { compareDpkg, compareDpkgVersions, type DpkgOptions, type DpkgVersion, isValidDpkg, parseDpkg } from './dpkg.js';
export { compareRpm, compareRpmEvr, compareRpmEvrParts, parseRpmEvr, type RpmEvr } from './rpm.js';
export { compareSemver, isValidSemver, type SemverRangeOptions, satisfiesSemver } from './semver.js';
export { MAX_VERSION_LENGTH, VERSION_SCHEMES, VersionError, type VersionScheme } from './version-error.js';

export function isVersionScheme(value: unknown): value is VersionScheme {
  return typeof value === 'string' && (VERSION_SCHEMES as readonly string[]).includes(value);
}

const COMPARATORS: Readonly<Record<VersionScheme, (a: string, b: string) => -1 | 0 | 1>> = {
  dpkg: (a, b) => compareDpkg(a, b),
  // EVR, as OSV's RPM ecosystems and `rpm.vercmp` write versions: [epoch:]version[-release].
  rpm: compareRpmEvr,
  apk: compareApk,
  semver: compareSemver,
};

/**
 * Orders two versions of one ecosystem exactly as its package manager does: -1 when `a` is older,
 * 0 when equal, 1 when newer. Throws VersionError (code 'version-invalid') when either is not a
 * version the scheme accepts, or when the scheme is unknown.
 */
export function compareVersions(scheme: VersionScheme, a: string, b: string): -1 | 0 | 1 {
  if (!isVersionScheme(scheme)) throw new VersionError(scheme, a, `unknown version scheme ${JSON.stringify(String(scheme))}`);
  return COMPARATORS[scheme](a, b);
}

/** Whether compareVersions(scheme, v, ...) would accept `v`. False for an unknown scheme. */
export function isValidVersion(scheme: VersionScheme, version: string): boolean {
  switch (scheme) {
    case 'dpkg':
      return isValidDpkg(version);
    case 'rpm':
      try {
        parseRpmEvr(version);
        return true;
      } catch (err) {
        if (err instanceof VersionError) return false;
        throw err;
      }
    case 'apk':
      return isValidApk(version);
    case 'semver':
      return isValidSemver(version);
    default:
      return false;
  }
}

/**
 * OSV ecosystem names (https://ossf.github.io/osv-schema/#affectedpackage-field) whose versions
 * follow one of our schemes. The same set osv-scalibr's semantic.Parse maps to these orderings,
 * plus the RPM distributions it leaves out (Photon OS, Azure Linux).
 * Left out on purpose: NuGet (four-part versions, its own rules), Maven, PyPI, RubyGems, Packagist,
 * CRAN, Hackage, Bioconductor and ConanCenter (not strict SemVer), and anything else unknown.
 */
const OSV_ECOSYSTEMS: Readonly<Record<string, VersionScheme>> = {
  Debian: 'dpkg',
  Ubuntu: 'dpkg',
  AlmaLinux: 'rpm',
  'Azure Linux': 'rpm',
  Mageia: 'rpm',
  openEuler: 'rpm',
  openSUSE: 'rpm',
  'Photon OS': 'rpm',
  'Red Hat': 'rpm',
  'Rocky Linux': 'rpm',
  SUSE: 'rpm',
  Alpaquita: 'apk',
  Alpine: 'apk',
  Chainguard: 'apk',
  MinimOS: 'apk',
  Wolfi: 'apk',
  Bitnami: 'semver',
  'crates.io': 'semver',
  Go: 'semver',
  Hex: 'semver',
  npm: 'semver',
  Pub: 'semver',
  SwiftURL: 'semver',
};

/**
 * The version scheme of an OSV `affected[].package.ecosystem`, with or without its release suffix
 * (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.19`, `Red Hat:enterprise_linux:9::appstream`).
 * Names are matched exactly, as the OSV schema spells them; unknown ecosystems give undefined.
 */
export function schemeForOsvEcosystem(ecosystem: string): VersionScheme | undefined {
  if (typeof ecosystem !== 'string') return undefined;
  const colon = ecosystem.indexOf(':');
  const name = colon >= 0 ? ecosystem.slice(0, colon) : ecosystem;
  return Object.hasOwn(OSV_ECOSYSTEMS, name) ? OSV_ECOSYSTEMS[name] : undefined;
}
