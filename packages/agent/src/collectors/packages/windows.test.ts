/**
 * The `__fixtures__/windows-uninstall*.json` files are hand-reconstructed in the exact shape Windows
 * PowerShell 5.1 prints for WINDOWS_UNINSTALL_SCRIPT (compressed JSON, \u0026-style escapes, CRLF,
 * a bare object for a single result), not captured from a live machine.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectWindows, parseWindowsUninstall, WINDOWS_POWERSHELL_ARGS, WINDOWS_UNINSTALL_SCRIPT } from './windows.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('parseWindowsUninstall', () => {
  const packages = parseWindowsUninstall(fixture('windows-uninstall.json'));

  it('takes the architecture from the hive: WOW6432Node is x86, everything else x64', () => {
    expect(packages.find((p) => p.name === '7-Zip 23.01 (x64)')).toEqual({
      ecosystem: 'windows',
      name: '7-Zip 23.01 (x64)',
      version: '23.01',
      arch: 'x64',
    });
    expect(packages.find((p) => p.name === 'Microsoft Edge')?.arch).toBe('x86');
    expect(packages.find((p) => p.name === 'Zoom Workplace')?.arch).toBe('x64');
  });

  it('keeps one entry for a product listed under both HKCU and its HKEY_USERS twin', () => {
    expect(packages.filter((p) => p.name === 'Zoom Workplace')).toHaveLength(1);
    expect(packages.filter((p) => p.name === 'Microsoft OneDrive')).toHaveLength(1);
  });

  it('skips entries whose DisplayVersion is null', () => {
    expect(packages.some((p) => p.name === 'Microsoft Visual Studio Installer')).toBe(false);
    expect(packages).toHaveLength(13);
  });

  it('decodes escaped and non-ASCII names', () => {
    expect(packages.map((p) => p.name)).toContain('AT&T Global Network Client');
    expect(packages.map((p) => p.name)).toContain('Störungsmelder Ü');
  });

  it('accepts the bare object ConvertTo-Json prints for a single result', () => {
    expect(parseWindowsUninstall(fixture('windows-uninstall-single.json'))).toEqual([
      { ecosystem: 'windows', name: 'Windows PC Health Check', version: '3.7.2204.15001', arch: 'x64' },
    ]);
  });

  it('returns nothing for the empty output of no results, with or without a BOM', () => {
    expect(parseWindowsUninstall('')).toEqual([]);
    expect(parseWindowsUninstall('\uFEFF\r\n')).toEqual([]);
  });

  it('accepts a numeric DisplayVersion and ignores non-object items', () => {
    const text = '[{"DisplayName":"Legacy Tool","DisplayVersion":3,"Publisher":null,"PSPath":"x"},null,"junk",{"DisplayName":null}]';
    expect(parseWindowsUninstall(text)).toEqual([{ ecosystem: 'windows', name: 'Legacy Tool', version: '3', arch: 'x64' }]);
  });

  it('refuses output that is not JSON, keeping the parse error as cause', () => {
    let error: unknown;
    try {
      parseWindowsUninstall('#< CLIXML\r\n<Objs Version="1.1.0.1">');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });
});

describe('collectWindows', () => {
  it('runs the script through powershell.exe without a profile or prompts', async () => {
    const calls: [string, readonly string[]][] = [];
    const packages = await collectWindows(async (cmd, args) => {
      calls.push([cmd, args]);
      return { stdout: fixture('windows-uninstall.json'), stderr: '', code: 0 };
    });
    expect(calls).toEqual([['powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', WINDOWS_UNINSTALL_SCRIPT]]]);
    expect(WINDOWS_POWERSHELL_ARGS).toEqual(calls[0]?.[1]);
    expect(packages).toHaveLength(13);
  });

  it('reads all three uninstall locations and contains no double quote', () => {
    expect(WINDOWS_UNINSTALL_SCRIPT).toContain('HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*');
    expect(WINDOWS_UNINSTALL_SCRIPT).toContain('HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*');
    expect(WINDOWS_UNINSTALL_SCRIPT).toContain('HKCU:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*');
    expect(WINDOWS_UNINSTALL_SCRIPT).toContain('ConvertTo-Json -Compress');
    expect(WINDOWS_UNINSTALL_SCRIPT).not.toContain('"');
  });
});
