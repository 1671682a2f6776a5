/**
 * The Windows Update fixtures are RECONSTRUCTED by hand, not captured (no Windows host here): they
 * are what WINDOWS_UPDATE_SCRIPT's `ConvertTo-Json -Compress` prints for typical searcher results
 * (a cumulative update, a Defender intelligence update that reuses KB2267602, a .NET update with
 * CVE ids and a German category name, a driver without a KB, the MSRT), and a single update
 * printed as a bare object with a scalar KBArticleIDs, as older PowerShell versions do.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../run-command.js';
import { collectWindowsUpdates, parseWindowsUpdates, WINDOWS_UPDATE_POWERSHELL_ARGS, WINDOWS_UPDATE_SCRIPT } from './windows-update.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('parseWindowsUpdates', () => {
  const updates = parseWindowsUpdates(fixture('windows-update.json'));

  it('names updates by KB, or by UpdateID when they have none', () => {
    expect(updates.map((u) => u.name)).toEqual(['KB5039212', 'KB2267602', 'KB5039895', '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e044', 'KB890830']);
  });

  it('reads a cumulative update: security by MSRC severity, reboot by its behaviour', () => {
    expect(updates[0]).toEqual({
      manager: 'windows-update',
      kind: 'patch',
      name: 'KB5039212',
      arch: '',
      candidateVersion: '1',
      title: '2024-06 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems (KB5039212)',
      security: true,
      advisories: ['KB5039212'],
      rebootLikely: true,
    });
  });

  it('takes the version from a "(Version x)" title, so each Defender release is its own candidate', () => {
    expect(updates[1]).toMatchObject({ candidateVersion: '1.413.310.0', security: false, rebootLikely: false });
  });

  it('lists CVE ids as advisories and recognises the security classification by id, not by its translated name', () => {
    expect(updates[2]).toMatchObject({ security: true, advisories: ['KB5039895', 'CVE-2024-30045', 'CVE-2024-30046'] });
    const withoutSeverity = parseWindowsUpdates(JSON.stringify([{ ...JSON.parse(fixture('windows-update.json'))[2], MsrcSeverity: null }]));
    expect(withoutSeverity[0]?.security).toBe(true);
  });

  it('does not mark drivers or rollups security', () => {
    expect(updates[3]).toMatchObject({ security: false, advisories: [], candidateVersion: '1' });
    expect(updates[4]).toMatchObject({ security: false });
  });

  it('reads a bare object with scalar fields, and nothing at all', () => {
    expect(parseWindowsUpdates(fixture('windows-update-single.json'))).toMatchObject([
      { name: 'KB5039227', security: true, rebootLikely: true, advisories: ['KB5039227'] },
    ]);
    expect(parseWindowsUpdates('')).toEqual([]);
    expect(parseWindowsUpdates('\uFEFF[]')).toEqual([]);
  });

  it('skips entries without any identity and refuses output that is not JSON', () => {
    expect(parseWindowsUpdates('[{"Title":"x"}, 3, null]')).toEqual([]);
    expect(() => parseWindowsUpdates('Exception calling "Search"')).toThrow(/not JSON/);
  });
});

describe('collectWindowsUpdates', () => {
  it('runs the searcher script as one -Command argument with single quotes only', async () => {
    const calls: (readonly string[])[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args]);
      return { stdout: fixture('windows-update.json'), stderr: '', code: 0 };
    };
    expect(await collectWindowsUpdates(run)).toHaveLength(5);
    expect(calls).toEqual([['powershell.exe', ...WINDOWS_UPDATE_POWERSHELL_ARGS]]);
    expect(WINDOWS_UPDATE_SCRIPT).not.toContain('"');
    expect(WINDOWS_UPDATE_SCRIPT).toContain("Search('IsInstalled=0 and IsHidden=0')");
  });

  it('fails when the search fails', async () => {
    const failing: CommandRunner = async () => ({ stdout: '', stderr: 'Exception from HRESULT: 0x8024402C', code: 1 });
    await expect(collectWindowsUpdates(failing)).rejects.toThrow(/exited with code 1: Exception from HRESULT: 0x8024402C/);
  });
});
