/**
 * The winget fixtures are RECONSTRUCTED, not captured (no Windows host here): produced by a
 * script that applies winget's TableOutput rules (column = widest value or title + one space,
 * widths in terminal columns with CJK counting two, the widest column cut with "…" when the table
 * would reach 120 columns, dashes as wide as the table) to typical rows, preceded by the spinner
 * frames and a source-update progress bar joined with carriage returns, with CRLF line ends; a
 * German-language table (single space between narrow columns) and the "nothing found" output.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../run-command.js';
import { collectWinget, columnWidth, parseWingetUpgrade, terminalLine, WINGET_UPGRADE_ARGS } from './winget.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('terminalLine', () => {
  it('keeps what follows the last carriage return, applies backspaces and drops escape sequences', () => {
    expect(terminalLine('\r   - \r   \\ \rName  Id\r')).toBe('Name  Id');
    expect(terminalLine('ab\bc')).toBe('ac');
    expect(terminalLine('\u001b[0mGit\u001b[32m Git.Git')).toBe('Git Git.Git');
  });
});

describe('columnWidth', () => {
  it('counts CJK and fullwidth as two columns, combining marks as none', () => {
    expect([...'a微Ａ'].map((c) => columnWidth(c.codePointAt(0) ?? 0))).toEqual([1, 2, 2]);
    expect(columnWidth(0x301)).toBe(0);
  });
});

describe('parseWingetUpgrade', () => {
  const updates = parseWingetUpgrade(fixture('winget-upgrade.txt'));

  it('reads both tables, behind the spinner, and stops at each footer', () => {
    expect(updates.map((u) => u.name)).toEqual([
      'Microsoft.Edge',
      'Git.Git',
      'Mozilla.Firefox',
      'Microsoft.VCRedist.2015+.x64',
      'Tencent.WeChat',
      'Microsoft.PowerToys',
      '9WZDNCRD29V9',
      'Spotify.Spotify',
    ]);
  });

  it('names the package by its Id and keeps the display name as the title', () => {
    expect(updates[0]).toEqual({
      manager: 'winget',
      kind: 'package',
      name: 'Microsoft.Edge',
      arch: '',
      installedVersion: '125.0.2535.92',
      candidateVersion: '126.0.2592.56',
      origin: 'winget',
      title: 'Microsoft Edge',
      security: false,
    });
  });

  it('keeps a name winget cut to fit (the Id is what identifies it)', () => {
    expect(updates[3]).toMatchObject({ title: 'Microsoft Visual C++ 2015-2022 Redistrib\u2026', installedVersion: '14.38.33135.0' });
  });

  it('measures a CJK name in terminal columns', () => {
    expect(updates[4]).toMatchObject({ title: '微信', installedVersion: '3.9.10.19', candidateVersion: '3.9.11.17' });
  });

  it('omits an installed version winget does not know or prints as a range', () => {
    expect(updates[2]?.installedVersion).toBeUndefined();
    expect(updates[5]?.installedVersion).toBeUndefined();
    expect(updates[5]?.candidateVersion).toBe('0.81.1');
  });

  it('reads the msstore source and long versions', () => {
    expect(updates[6]).toMatchObject({ origin: 'msstore', candidateVersion: '24152.405.2925.6762' });
    expect(updates[7]).toMatchObject({ installedVersion: '1.2.38.893.ga3f1c3a4', candidateVersion: '1.2.40.599.g606b7f29' });
  });

  it('finds columns by position under translated titles, one space apart', () => {
    expect(parseWingetUpgrade(fixture('winget-upgrade-de.txt'))).toMatchObject([
      { name: '7zip.7zip', installedVersion: '23.01', candidateVersion: '24.07', origin: 'winget', title: '7-Zip 23.01 (x64)' },
      { name: 'Notepad++.Notepad++', installedVersion: '8.6.7', candidateVersion: '8.6.8', origin: 'winget' },
    ]);
  });

  it('drops a row whose Id winget truncated', () => {
    const text = [
      'Name           Id                        Version Available Source',
      '-----------------------------------------------------------------',
      'Some App       Vendor.SomeVeryLongPacka… 1.0     2.0       winget',
      'Other App      Vendor.Other              1.0     2.0       winget',
    ].join('\n');
    expect(parseWingetUpgrade(text).map((u) => u.name)).toEqual(['Vendor.Other']);
  });

  it('reads a table without a Source column', () => {
    const text = ['Name  Id      Version Available', '-------------------------------', 'Foo   Foo.Foo 1.0     1.1'].join('\n');
    expect(parseWingetUpgrade(text)).toMatchObject([
      { name: 'Foo.Foo', installedVersion: '1.0', candidateVersion: '1.1', origin: undefined },
    ]);
  });

  it('finds nothing in the no-upgrades output or in text without a table', () => {
    expect(parseWingetUpgrade(fixture('winget-upgrade-none.txt'))).toEqual([]);
    expect(parseWingetUpgrade('')).toEqual([]);
    expect(parseWingetUpgrade('----------\n----------\n')).toEqual([]);
  });
});

describe('collectWinget', () => {
  it('runs winget upgrade with arguments that keep it from prompting', async () => {
    const calls: (readonly string[])[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args]);
      return { stdout: fixture('winget-upgrade.txt'), stderr: '', code: 0 };
    };
    expect(await collectWinget(run)).toHaveLength(8);
    expect(calls).toEqual([['winget', ...WINGET_UPGRADE_ARGS]]);
    expect(WINGET_UPGRADE_ARGS).toContain('--include-unknown');
  });

  it('treats the "nothing to upgrade" HRESULTs, signed or unsigned, as an empty list', async () => {
    for (const code of [0x8a150014, 0x8a15002b, 0x8a15002b | 0]) {
      const run: CommandRunner = async () => ({ stdout: fixture('winget-upgrade-none.txt'), stderr: '', code });
      expect(await collectWinget(run)).toEqual([]);
    }
  });

  it('fails on any other exit code, in hex', async () => {
    const run: CommandRunner = async () => ({ stdout: 'Failed when searching source: winget\r\n', stderr: '', code: 0x8a15000f });
    await expect(collectWinget(run)).rejects.toThrow(/exited with 0x8a15000f: Failed when searching source/);
  });

  it('rejects with ENOENT when winget is not on PATH', async () => {
    const missing: CommandRunner = () => Promise.reject(Object.assign(new Error('spawn winget ENOENT'), { code: 'ENOENT' }));
    await expect(collectWinget(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
