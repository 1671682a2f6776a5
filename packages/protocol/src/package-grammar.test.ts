import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ECOSYSTEMS, type Ecosystem } from './inventory.js';
import { checkPackageName, checkVersion, MAX_PACKAGE_NAME_LENGTH, MAX_PACKAGE_VERSION_LENGTH } from './package-grammar.js';

const exec = promisify(execFile);

// Hostile inputs every ecosystem must refuse, as a name and as a version.
const HOSTILE: Array<[string, string]> = [
  ['an option', '-oAPT::Get::AllowUnauthenticated=1'],
  ['a long option', '--allow-unauthenticated'],
  ['a bare double dash', '--'],
  ['a relative path', './x.deb'],
  ['a parent path', '../..'],
  ['an absolute path', '/tmp/x'],
  ['a Windows path', 'C:\\x.msi'],
  ['a command substitution', '$(reboot)'],
  ['backticks', '`id`'],
  ['a command separator', 'a;reboot'],
  ['a pipe', 'a|sh'],
  ['an ampersand', 'a&&b'],
  ['a redirection', 'a>/etc/passwd'],
  ['a glob', 'lib*'],
  ['a question mark glob', 'li?c'],
  ['brackets', 'lib[c]'],
  ['braces', 'a{b,c}'],
  ['a quote', "a'b"],
  ['a double quote', 'a"b'],
  ['a hash', 'a#b'],
  ['an exclamation mark', '!abc'],
  ['a space', 'a b'],
  ['a tab', 'a\tb'],
  ['a newline', 'a\nb'],
  ['a carriage return', 'a\rb'],
  ['a NUL', 'abc\u0000def'],
  ['a control character', 'abc\u001bdef'],
  ['DEL', 'abc\u007f'],
  ['a C1 control', 'abc\u0085'],
  ['a Cyrillic look-alike', 'b\u0430sh'],
  ['a fullwidth look-alike', '\uff42ash'],
  ['a zero-width space', 'bash\u200b'],
  ['an empty string', ''],
  ['an over-long string', `a${'b'.repeat(300)}`],
];

const hostileNames: Array<[Ecosystem, string, string]> = ECOSYSTEMS.flatMap((eco) =>
  HOSTILE
    // softwareupdate labels contain single inner spaces ("macOS Sonoma 14.2-23C64"); see the label tests.
    .filter(([what]) => !(eco === 'macos' && what === 'a space'))
    .map(([what, value]) => [eco, what, value] as [Ecosystem, string, string]),
);

describe('checkPackageName', () => {
  it.each(hostileNames)('refuses, for %s, %s', (eco, _what, value) => {
    const result = checkPackageName(eco, value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(5);
  });

  it.each([...hostileNames, ['macos', 'a space', 'a b'] as [Ecosystem, string, string]])(
    'refuses, for %s, %s as a version',
    (eco, _what, value) => {
      expect(checkVersion(eco, value).ok).toBe(false);
    },
  );

  it.each([
    ['pkg-', 'removal suffix'],
    ['pkg=1', 'name=version'],
    ['pkg=1.0-1', 'name=version with revision'],
    ['pkg/bookworm-security', 'name/suite'],
    ['pkg:amd64', 'name:arch'],
    ['Pkg', 'upper case'],
    ['a', 'one character'],
  ])('refuses the dpkg name %s (%s)', (name) => {
    expect(checkPackageName('dpkg', name).ok).toBe(false);
  });

  it('says why an apt-syntax name is refused', () => {
    expect(checkPackageName('dpkg', 'pkg=1')).toEqual({ ok: false, reason: expect.stringContaining('name=version') });
    expect(checkPackageName('dpkg', 'pkg:amd64')).toEqual({ ok: false, reason: expect.stringContaining('architecture') });
    expect(checkPackageName('dpkg', 'pkg-')).toEqual({ ok: false, reason: expect.stringContaining('removal') });
    expect(checkPackageName('dpkg', 'pkg/sid')).toEqual({ ok: false, reason: expect.stringContaining('path separator') });
    expect(checkPackageName('dpkg', '-oDir=/')).toEqual({ ok: false, reason: expect.stringContaining('option') });
    expect(checkPackageName('dpkg', 'b\u0430sh')).toEqual({ ok: false, reason: expect.stringContaining('U+0430') });
  });

  // Debian policy allows a trailing '+', and real packages have one; the apt executor, not the
  // grammar, stops apt from reading it as its "install" suffix (see package-grammar.ts).
  it.each(['g++', 'memtest86+', 'libstdc++6', 'libc6', 'python3.11', 'bc', '0ad', 'libg++2.8.1.3'])(
    'accepts the Debian name %s',
    (name) => {
      expect(checkPackageName('dpkg', name)).toEqual({ ok: true });
    },
  );

  it.each(['gcc-c++', 'libstdc++', 'perl-Text_Balanced', 'NetworkManager', 'python3.11', 'kernel-core', 'xorg-x11-drv-ati'])(
    'accepts the rpm name %s',
    (name) => {
      expect(checkPackageName('rpm', name)).toEqual({ ok: true });
    },
  );

  it.each(['repo:pkg', 'pkg=1.0', 'pkg>1', 'pkg-', 'pkg.'])('refuses the rpm name %s', (name) => {
    expect(checkPackageName('rpm', name).ok).toBe(false);
  });

  it.each(['musl', 'busybox-binsh', 'py3-setuptools', 'libcrypto3', 'g++', 'perl-DBI'])('accepts the apk name %s', (name) => {
    expect(checkPackageName('apk', name)).toEqual({ ok: true });
  });

  it.each(['pkg=1.0-r0', 'pkg>1.0', 'pkg<2', 'pkg~1', 'pkg@edge', '!pkg'])('refuses the apk name %s', (name) => {
    expect(checkPackageName('apk', name).ok).toBe(false);
  });

  it.each([
    'Microsoft.PowerShell',
    'Git.Git',
    '7zip.7zip',
    'Notepad++.Notepad++',
    'Microsoft.VCRedist.2015+.x64',
    'Python.Python.3.12',
    'Microsoft.DotNet.SDK.8',
    '9NBLGGH4NNS1',
    'KB5034441',
  ])('accepts the Windows id %s', (name) => {
    expect(checkPackageName('windows', name)).toEqual({ ok: true });
  });

  it.each(['PowerShell', 'Microsoft..PowerShell', 'Microsoft.', '.Microsoft', 'Micro soft.Power', 'a.b:c'])(
    'refuses the Windows id %s',
    (name) => {
      expect(checkPackageName('windows', name).ok).toBe(false);
    },
  );

  it.each([
    'Safari17.1VenturaAuto-17.1',
    'macOS Sonoma 14.2-23C64',
    'Command Line Tools for Xcode-15.1',
    'XProtectPlistConfigData_10_15-2172',
  ])('accepts the softwareupdate label %s', (name) => {
    expect(checkPackageName('macos', name)).toEqual({ ok: true });
  });

  it.each([' macOS', 'macOS ', 'macOS  Sonoma', 'macOS\tSonoma', '-macOS', '--all', '*'])('refuses the softwareupdate label %j', (name) => {
    expect(checkPackageName('macos', name).ok).toBe(false);
  });

  it('accepts names up to the maximum length and refuses one more', () => {
    const longest = `a${'b'.repeat(MAX_PACKAGE_NAME_LENGTH - 1)}`;
    expect(checkPackageName('dpkg', longest)).toEqual({ ok: true });
    expect(checkPackageName('dpkg', `${longest}b`).ok).toBe(false);
  });

  it('refuses values that are not strings at run time', () => {
    expect(checkPackageName('dpkg', 42 as unknown as string).ok).toBe(false);
    expect(checkVersion('dpkg', null as unknown as string).ok).toBe(false);
    expect(checkPackageName('plan9' as Ecosystem, 'abc').ok).toBe(false);
  });
});

describe('checkVersion', () => {
  it.each([
    '1.0',
    '1:2.38.1-5+deb12u3',
    '2.36-9+deb12u4',
    '1.31~pre0.8052aabdd159bc9050e7dc264f33782c5acce05f-2',
    '0.0~git20230101-1',
    '1:1.2:3-1',
    '7.88.1-10+deb12u5',
  ])('accepts the Debian version %s', (version) => {
    expect(checkVersion('dpkg', version)).toEqual({ ok: true });
  });

  it.each([
    ['1.0-', 'empty revision'],
    ['abc', 'no leading digit'],
    ['1.2:3', "':' without an epoch"],
    ['99999999999:1.0', 'an epoch beyond int range'],
    ['1.0_1', 'an underscore'],
    ['1.0=1', 'an equals sign'],
    ['1.0-1-', 'a trailing hyphen'],
  ])('refuses the Debian version %s (%s)', (version) => {
    expect(checkVersion('dpkg', version).ok).toBe(false);
  });

  it.each(['1.2.3-4.el9', '2:8.2.2637-20.el9_1', '1.0~rc1-1.fc39', '5.14.0-362.8.1.el9_3', '1.0^20230101git1234-1', '3.0.9'])(
    'accepts the rpm version %s',
    (version) => {
      expect(checkVersion('rpm', version)).toEqual({ ok: true });
    },
  );

  it.each(['1.0-1-1', '-1.0', '1.0-', 'x:1.0', '.1'])('refuses the rpm version %s', (version) => {
    expect(checkVersion('rpm', version).ok).toBe(false);
  });

  it.each(['1.2.4-r0', '3.1.4-r5', '1.36.1-r15', '2.0_rc1-r2', '1.2.3a-r1', '9.4_p1-r0', '0.3.0_git20230101-r0'])(
    'accepts the apk version %s',
    (version) => {
      expect(checkVersion('apk', version)).toEqual({ ok: true });
    },
  );

  it.each(['1.0-1', 'r0', '1..2', '1.0-rx'])('refuses the apk version %s', (version) => {
    expect(checkVersion('apk', version).ok).toBe(false);
  });

  it.each(['7.4.1', '121.0.2277.83', '1.0.0-beta', '2.43.0.windows.1'])('accepts the Windows version %s', (version) => {
    expect(checkVersion('windows', version)).toEqual({ ok: true });
  });

  it.each(['17.1', '14.2', '2172', '15.1'])('accepts the macOS version %s', (version) => {
    expect(checkVersion('macos', version)).toEqual({ ok: true });
  });

  it('accepts versions up to the maximum length and refuses one more', () => {
    const longest = `1${'0'.repeat(MAX_PACKAGE_VERSION_LENGTH - 1)}`;
    expect(checkVersion('dpkg', longest)).toEqual({ ok: true });
    expect(checkVersion('dpkg', `${longest}0`).ok).toBe(false);
  });
});

// The grammar must not refuse what a real Debian system has installed. Off Debian-family machines
// there is nothing to read; CI runs on Debian and must not skip.
// biome-ignore lint/suspicious/noTemplateCurlyInString: ${Field} is dpkg-query's own syntax.
const dpkgQuery = await exec('dpkg-query', ['-W', '-f', '${Package}\t${Version}\n'], { maxBuffer: 64 * 1024 * 1024 }).then(
  (r) => r.stdout,
  (error: unknown) => {
    if (process.env.CI === 'true') throw error;
    return null;
  },
);

describe.runIf(dpkgQuery !== null)("this machine's installed Debian packages", () => {
  it('all have names and versions the grammar accepts', () => {
    const lines = (dpkgQuery ?? '').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    const refused: string[] = [];
    for (const line of lines) {
      const [name = '', version = ''] = line.split('\t');
      const n = checkPackageName('dpkg', name);
      const v = checkVersion('dpkg', version);
      if (!n.ok) refused.push(`${name}: ${n.reason}`);
      if (!v.ok) refused.push(`${name} ${version}: ${v.reason}`);
    }
    expect(refused).toEqual([]);
  });
});
