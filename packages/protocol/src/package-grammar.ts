import type { Ecosystem } from './inventory.js';

/**
 * Package names and versions per ecosystem, checked before anything is handed to a package manager.
 * A value that passes cannot be read as an option (no leading '-'), a path (no '/', '\', no leading
 * '.'), a shell word splitter or metacharacter, or the tool's own request syntax (apt `pkg=1`,
 * `pkg/suite`, `pkg:arch`, `pkg-`; dnf/zypper globs and `repo:pkg`; apk `pkg>1`, `pkg@tag`, `!pkg`;
 * winget/softwareupdate wildcards). Everything is printable ASCII, so a look-alike from another
 * script (Cyrillic 'а', fullwidth 'ａ') never gets as far as a lookup that might fold it.
 *
 * The grammars follow each ecosystem's own rules where they are stricter than that, so a refusal
 * names the rule. They are deliberately no looser than real packages need: every name and version in
 * Debian bookworm passes (the tests check the machine's own).
 *
 * One case the grammar cannot settle alone: Debian policy allows '+' at the end of a name (`g++`,
 * `memtest86+`), which apt would otherwise read as "install" after a name that does not exist. The
 * apt executor closes that (and apt's regex reading of names containing '.') by passing only names
 * dpkg reports installed, always as `name=version`.
 */
export type GrammarResult = { ok: true } | { ok: false; reason: string };

const OK: GrammarResult = { ok: true };
const refuse = (reason: string): GrammarResult => ({ ok: false, reason });

/** Longest accepted name or version. Debian's longest name is 75 characters, its longest version 52. */
export const MAX_PACKAGE_NAME_LENGTH = 128;
export const MAX_PACKAGE_VERSION_LENGTH = 128;

function describe(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Checks shared by every ecosystem, each with its own reason so an operator sees what was wrong.
 * `allowInnerSpace`: softwareupdate labels contain single spaces ("macOS Sonoma 14.2-23C64"); they
 * travel as one argv element, never through a shell, so a space cannot split them.
 */
function common(kind: 'name' | 'version', value: unknown, max: number, allowInnerSpace = false): GrammarResult | null {
  if (typeof value !== 'string') return refuse(`${kind} must be a string`);
  if (value.length === 0) return refuse(`${kind} is empty`);
  if (value.length > max) return refuse(`${kind} is longer than ${max} characters`);
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code === 0) return refuse(`${kind} contains a NUL character`);
    if (code > 0x7e && code <= 0x9f) return refuse(`${kind} contains a control character (${describe(ch)})`);
    if (code > 0x7e) return refuse(`${kind} contains a non-ASCII character (${describe(ch)}); look-alikes of ASCII letters are refused`);
    if (code === 0x20) {
      if (!allowInnerSpace) return refuse(`${kind} contains whitespace`);
      continue;
    }
    if (code < 0x20 || code === 0x7f) {
      return refuse(
        code === 0x09 || code === 0x0a || code === 0x0d
          ? `${kind} contains whitespace`
          : `${kind} contains a control character (${describe(ch)})`,
      );
    }
  }
  if (allowInnerSpace && (/^ | $/.test(value) || value.includes('  '))) {
    return refuse(`${kind} has leading, trailing or doubled spaces`);
  }
  if (value.startsWith('-')) return refuse(`${kind} starts with '-' and would be read as an option`);
  if (value.includes('/') || value.includes('\\')) return refuse(`${kind} contains a path separator`);
  if (value.startsWith('.')) return refuse(`${kind} starts with '.' like a relative path`);
  // '~', '^', '+', ':', '=' and '%' are legal in some grammars below and are judged there; these are
  // legal in none, and get a reason that says why they matter.
  const shellish = /[;&|`$()<>{}[\]*?!#'"]/.exec(value);
  if (shellish) return refuse(`${kind} contains the shell or pattern character '${shellish[0]}'`);
  return null;
}

// --- dpkg (Debian policy 5.6.1 and 5.6.12) -------------------------------------------------------

const DPKG_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const DPKG_VERSION = /^(?:([0-9]+):)?([0-9][A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9.+~]+))?$/;

function dpkgName(name: string): GrammarResult {
  if (name.includes('=')) return refuse("name contains '=' (apt's name=version syntax); give the version separately");
  if (name.includes(':')) return refuse("name contains ':' (an architecture qualifier); architecture is not part of a name");
  if (name.length < 2) return refuse('Debian package names have at least two characters');
  if (/[A-Z]/.test(name)) return refuse('Debian package names are lowercase');
  if (!DPKG_NAME.test(name)) return refuse('Debian package names are [a-z0-9][a-z0-9+.-]+');
  // No Debian package ends in '-'; apt reads a trailing '-' as "remove this package".
  if (name.endsWith('-')) return refuse("name ends in '-', which apt reads as a removal request");
  return OK;
}

function dpkgVersion(version: string): GrammarResult {
  if (/[^A-Za-z0-9.+~:-]/.test(version)) return refuse('Debian versions contain only letters, digits and . + ~ : -');
  // dpkg splits the revision off at the last '-', so a trailing one leaves an empty revision.
  if (version.endsWith('-')) return refuse('Debian revision after the last "-" is empty');
  const m = DPKG_VERSION.exec(version);
  if (!m) {
    return refuse('Debian versions are [epoch:]upstream[-revision] with upstream starting with a digit');
  }
  const [, epoch, upstream] = m;
  if (epoch !== undefined && (epoch.length > 10 || Number(epoch) > 2_147_483_647)) return refuse('Debian epoch is too large');
  if (epoch === undefined && upstream?.includes(':')) return refuse("':' in a Debian version is only allowed after an epoch");
  return OK;
}

// --- rpm (dnf, zypper) --------------------------------------------------------------------------

// rpm itself forbids little; these are the characters real Fedora/RHEL/SUSE names use (gcc-c++,
// libstdc++, perl-Text_Balanced, python3.11, NetworkManager).
const RPM_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
// [epoch:]version[-release]; rpm allows ~ (pre-release) and ^ (post-release snapshot) in both parts.
const RPM_VERSION = /^(?:([0-9]+):)?([A-Za-z0-9._+~^]+)(?:-([A-Za-z0-9._+~^]+))?$/;

function rpmName(name: string): GrammarResult {
  if (name.includes(':')) return refuse("name contains ':' (zypper's repo:package or a capability)");
  if (name.includes('=')) return refuse("name contains '=' (a capability with a version); give the version separately");
  if (!RPM_NAME.test(name)) return refuse('rpm package names are letters, digits and . _ + -');
  if (name.endsWith('-') || name.endsWith('.')) return refuse("name ends in '-' or '.'");
  return OK;
}

function rpmVersion(version: string): GrammarResult {
  if (/[^A-Za-z0-9._+~^:-]/.test(version)) return refuse('rpm versions contain only letters, digits and . _ + ~ ^ : -');
  const m = RPM_VERSION.exec(version);
  if (!m) return refuse('rpm versions are [epoch:]version[-release] with no "-" inside version or release');
  const [, epoch, ver] = m;
  if (epoch !== undefined && (epoch.length > 10 || Number(epoch) > 2_147_483_647)) return refuse('rpm epoch is too large');
  if (!/^[A-Za-z0-9]/.test(ver ?? '')) return refuse('rpm version must start with a letter or digit');
  return OK;
}

// --- apk (Alpine) -------------------------------------------------------------------------------

const APK_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
// apk-tools' version grammar: digits with dots, an optional letter, suffixes, then -r<release>.
const APK_VERSION = /^[0-9]+(?:\.[0-9]+)*[a-z]?(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(?:~[0-9a-f]+)?(?:-r[0-9]+)?$/;

function apkName(name: string): GrammarResult {
  if (/[=<>~@!]/.test(name)) return refuse('name contains apk constraint syntax (= < > ~ @ !); give the version separately');
  if (!APK_NAME.test(name)) return refuse('apk package names are letters, digits and . _ + -');
  if (name.endsWith('-')) return refuse("name ends in '-'");
  return OK;
}

function apkVersion(version: string): GrammarResult {
  return APK_VERSION.test(version) ? OK : refuse('apk versions are like 1.2.3[a][_rc1][-r0]');
}

// --- windows (winget package identifiers, Windows Update KB articles) ---------------------------

// winget's manifest schema allows 2-8 dot-separated segments of up to 32 characters; the characters
// here are the ones real identifiers use (Microsoft.PowerShell, Notepad++.Notepad++,
// Microsoft.VCRedist.2015+.x64, 7zip.7zip). Microsoft Store ids are 12 upper-case letters/digits.
const WINGET_ID = /^[A-Za-z0-9][A-Za-z0-9+_-]{0,31}(?:\.[A-Za-z0-9][A-Za-z0-9+_-]{0,31}){1,7}$/;
const STORE_ID = /^[0-9A-Z]{12}$/;
const KB_ID = /^KB[0-9]{6,8}$/;
const WINDOWS_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/;

function windowsName(name: string): GrammarResult {
  if (WINGET_ID.test(name) || STORE_ID.test(name) || KB_ID.test(name)) return OK;
  return refuse('expected a winget id (Publisher.Package), a Microsoft Store id or a KB article number');
}

function windowsVersion(version: string): GrammarResult {
  return WINDOWS_VERSION.test(version) ? OK : refuse('Windows versions are letters, digits and . + _ -');
}

// --- macos (softwareupdate labels) --------------------------------------------------------------

// Labels as `softwareupdate --list` prints them: "Safari17.1VenturaAuto-17.1",
// "macOS Sonoma 14.2-23C64", "Command Line Tools for Xcode-15.1".
const MACOS_LABEL = /^[A-Za-z0-9][A-Za-z0-9._+-]*(?: [A-Za-z0-9._+-]+)*$/;
const MACOS_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/;

function macosName(name: string): GrammarResult {
  return MACOS_LABEL.test(name) ? OK : refuse('softwareupdate labels are letters, digits, . _ + - and single spaces');
}

function macosVersion(version: string): GrammarResult {
  return MACOS_VERSION.test(version) ? OK : refuse('macOS versions are letters, digits and . + _ -');
}

const NAMES: Record<Ecosystem, (name: string) => GrammarResult> = {
  dpkg: dpkgName,
  rpm: rpmName,
  apk: apkName,
  windows: windowsName,
  macos: macosName,
};

const VERSIONS: Record<Ecosystem, (version: string) => GrammarResult> = {
  dpkg: dpkgVersion,
  rpm: rpmVersion,
  apk: apkVersion,
  windows: windowsVersion,
  macos: macosVersion,
};

/** Whether `name` is a package name of `ecosystem` that is safe to pass to its package manager. */
export function checkPackageName(ecosystem: Ecosystem, name: string): GrammarResult {
  const check = NAMES[ecosystem];
  if (!check) return refuse(`unknown ecosystem ${JSON.stringify(ecosystem)}`);
  return common('name', name, MAX_PACKAGE_NAME_LENGTH, ecosystem === 'macos') ?? check(name);
}

/** Whether `version` is a version of `ecosystem` that is safe to pass to its package manager. */
export function checkVersion(ecosystem: Ecosystem, version: string): GrammarResult {
  const check = VERSIONS[ecosystem];
  if (!check) return refuse(`unknown ecosystem ${JSON.stringify(ecosystem)}`);
  return common('version', version, MAX_PACKAGE_VERSION_LENGTH) ?? check(version);
}
