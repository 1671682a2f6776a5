/**
 * The zypper fixtures are RECONSTRUCTED by hand, not captured (no SUSE host here), following the
 * element and attribute layout of zypper's src/update.cc (xmlPrintOtherUpdateOn,
 * xmlPrintPatchUpdateOn) inside the `--xmlout` stream: SLES 15 SP5 package updates (one with only
 * an arch change, so no edition-old), and patches where an update-stack patch pends, which moves
 * every other patch into `<blocked-update-list>`, one of them locked ("unwanted").
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../run-command.js';
import {
  collectZypper,
  parseZypperPackages,
  parseZypperPatches,
  xmlAttributes,
  xmlUnescape,
  ZYPPER_PACKAGE_ARGS,
  ZYPPER_PATCH_ARGS,
} from './zypper.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('xml helpers', () => {
  it('unescape the five entities and character references, leaving unknown ones', () => {
    expect(xmlUnescape('a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#65;&#x42; &nbsp;')).toBe('a & b <c> "d" \'e\' AB &nbsp;');
  });

  it('read attributes in either quote style, first occurrence winning', () => {
    const attrs = xmlAttributes(`kind="package" name='a&amp;b' name="second" edition-old="1.0"`);
    expect([...attrs]).toEqual([
      ['kind', 'package'],
      ['name', 'a&b'],
      ['edition-old', '1.0'],
    ]);
  });
});

describe('parseZypperPackages', () => {
  const packages = parseZypperPackages(fixture('zypper-list-updates-package.xml'));

  it('reads every package update with installed and candidate edition and the repository alias', () => {
    expect(packages.map((p) => p.name)).toEqual(['libopenssl3', 'kernel-default', 'timezone', 'python3-six']);
    expect(packages[0]).toEqual({
      manager: 'zypper',
      kind: 'package',
      name: 'libopenssl3',
      arch: 'x86_64',
      installedVersion: '3.0.8-150500.5.30.1',
      candidateVersion: '3.0.8-150500.5.34.1',
      origin: 'Basesystem_Module_15_SP5_x86_64:SLE-Module-Basesystem15-SP5-Updates',
      security: false,
    });
  });

  it('takes the candidate edition as the installed one when only the arch changes', () => {
    expect(packages[3]).toMatchObject({ arch: 'noarch', installedVersion: '1.16.0-150000.3.6.1', candidateVersion: '1.16.0-150000.3.6.1' });
  });

  it('ignores patches in a package listing and messages around the list', () => {
    expect(parseZypperPackages(fixture('zypper-list-updates-patch.xml'))).toEqual([]);
  });
});

describe('parseZypperPatches', () => {
  const patches = parseZypperPatches(fixture('zypper-list-updates-patch.xml'));

  it('reads patches from the update list and the blocked list, skipping locked ones', () => {
    expect(patches.map((p) => p.name)).toEqual([
      'SUSE-SLE-Module-Basesystem-15-SP5-2024-2101',
      'SUSE-SLE-Module-Basesystem-15-SP5-2024-2203',
      'SUSE-SLE-Module-Basesystem-15-SP5-2024-2190',
    ]);
  });

  it('marks security by category and lists the patch and its CVEs as advisories', () => {
    expect(patches[1]).toEqual({
      manager: 'zypper',
      kind: 'patch',
      name: 'SUSE-SLE-Module-Basesystem-15-SP5-2024-2203',
      arch: 'noarch',
      candidateVersion: '1',
      origin: 'Basesystem_Module_15_SP5_x86_64:SLE-Module-Basesystem15-SP5-Updates',
      title: 'Security update for openssl-3',
      security: true,
      advisories: ['SUSE-SLE-Module-Basesystem-15-SP5-2024-2203', 'CVE-2024-4741', 'CVE-2024-5535'],
      rebootLikely: false,
    });
    expect(patches[0]).toMatchObject({ security: false, advisories: ['SUSE-SLE-Module-Basesystem-15-SP5-2024-2101'] });
  });

  it('reads self-closing issues and the reboot flag', () => {
    expect(patches[2]).toMatchObject({
      security: true,
      rebootLikely: true,
      advisories: ['SUSE-SLE-Module-Basesystem-15-SP5-2024-2190', 'CVE-2024-26828', 'CVE-2024-35817'],
    });
  });
});

describe('collectZypper', () => {
  const answer =
    (
      code: number,
      stdoutFor = (args: readonly string[]) =>
        fixture(args.includes('patch') ? 'zypper-list-updates-patch.xml' : 'zypper-list-updates-package.xml'),
    ): CommandRunner =>
    async (_cmd, args) => ({ stdout: stdoutFor(args), stderr: '', code });

  it('lists packages then patches, from two read-only listings', async () => {
    const calls: (readonly string[])[] = [];
    const run: CommandRunner = async (cmd, args, opts) => {
      calls.push([cmd, ...args]);
      return answer(0)(cmd, args, opts);
    };
    const updates = await collectZypper(run);
    expect(updates.map((u) => u.kind)).toEqual(['package', 'package', 'package', 'package', 'patch', 'patch', 'patch']);
    expect(calls).toEqual([
      ['zypper', ...ZYPPER_PACKAGE_ARGS],
      ['zypper', ...ZYPPER_PATCH_ARGS],
    ]);
  });

  it('accepts the informational exit codes (updates needed, repositories skipped)', async () => {
    for (const code of [100, 101, 102, 103, 106]) expect(await collectZypper(answer(code))).toHaveLength(7);
  });

  it("fails on an error exit, quoting zypper's XML error message", async () => {
    const xml = `<?xml version='1.0'?>\n<stream>\n<message type="error">System management is locked by the application with pid 4242 (zypper).</message>\n</stream>\n`;
    await expect(collectZypper(answer(7, () => xml))).rejects.toThrow(/exited with code 7: System management is locked/);
  });

  it('rejects with ENOENT when zypper is not installed', async () => {
    const missing: CommandRunner = () => Promise.reject(Object.assign(new Error('spawn zypper ENOENT'), { code: 'ENOENT' }));
    await expect(collectZypper(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
