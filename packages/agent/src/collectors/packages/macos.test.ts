/**
 * The macOS fixtures (`macos-system-profiler-apps.json`, `macos-pkgutil-pkgs.txt`,
 * `macos-pkgutil-pkg-info/*.txt`) are hand-reconstructed in the exact formats system_profiler and
 * pkgutil print, not captured from a live Mac.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../run-command.js';
import { collectMacos, PKGUTIL, parsePkgutilPkgInfo, parsePkgutilPkgs, parseSystemProfilerApps, SYSTEM_PROFILER } from './macos.js';

const fixtures = new URL('./__fixtures__/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, fixtures), 'utf8');

/** Answers like a Mac would, from the fixtures; pkgutil's own message for an unknown receipt. */
const recordedMac: CommandRunner = async (cmd, args) => {
  if (cmd === SYSTEM_PROFILER) return { stdout: fixture('macos-system-profiler-apps.json'), stderr: '', code: 0 };
  if (cmd === PKGUTIL && args[0] === '--pkgs') return { stdout: fixture('macos-pkgutil-pkgs.txt'), stderr: '', code: 0 };
  const file = new URL(`macos-pkgutil-pkg-info/${args[1]}.txt`, fixtures);
  if (cmd === PKGUTIL && args[0] === '--pkg-info' && existsSync(file)) return { stdout: readFileSync(file, 'utf8'), stderr: '', code: 0 };
  return { stdout: '', stderr: `No receipt for '${args[1]}' found at '/'.\n`, code: 1 };
};

describe('parseSystemProfilerApps', () => {
  const apps = parseSystemProfilerApps(fixture('macos-system-profiler-apps.json'));

  it('maps each app to its name, version and binary architecture', () => {
    expect(apps.find((a) => a.name === 'Safari')).toEqual({ ecosystem: 'macos', name: 'Safari', version: '17.5', arch: 'universal' });
    expect(apps.find((a) => a.name === 'Slack')?.arch).toBe('arm64');
    expect(apps.find((a) => a.name === 'Legacy Scanner Utility')?.arch).toBe('x86_64');
    expect(apps.find((a) => a.name === 'Wordle Pro')?.arch).toBe('');
  });

  it('skips apps without a version instead of inventing one', () => {
    expect(apps.some((a) => a.name === 'Run Backup')).toBe(false);
    expect(apps).toHaveLength(8);
  });

  it('returns nothing when the data type is absent and refuses output that is not JSON', () => {
    expect(parseSystemProfilerApps('{}')).toEqual([]);
    expect(parseSystemProfilerApps('null')).toEqual([]);
    expect(() => parseSystemProfilerApps('2024-07-01 system_profiler[123:456] error')).toThrow(/not JSON/);
  });
});

describe('parsePkgutil', () => {
  it('lists receipt ids and drops anything that could be read as an option', () => {
    expect(parsePkgutilPkgs(fixture('macos-pkgutil-pkgs.txt'))).toHaveLength(8);
    expect(parsePkgutilPkgs('com.a.b\n--forget\n-v\n\ncom.c d\n')).toEqual(['com.a.b']);
  });

  it('reads package-id and version from pkg-info, ignoring the other lines', () => {
    const info = fixture('macos-pkgutil-pkg-info/com.apple.pkg.XProtectPlistConfigData_10_15.16U4317.txt');
    expect(parsePkgutilPkgInfo(info)).toEqual({
      ecosystem: 'macos',
      name: 'com.apple.pkg.XProtectPlistConfigData_10_15.16U4317',
      version: '2197',
      arch: '',
    });
    expect(parsePkgutilPkgInfo('package-id: com.x\nvolume: /\n')).toBeUndefined();
  });
});

describe('collectMacos', () => {
  it('returns apps then receipts, skipping a receipt that disappeared', async () => {
    const packages = await collectMacos(recordedMac);
    expect(packages).toHaveLength(8 + 7);
    expect(packages.find((p) => p.name === 'us.zoom.pkg.videomeeting')?.version).toBe('6.1.1.36333');
    expect(packages.some((p) => p.name === 'com.example.forgotten')).toBe(false);
  });

  it('calls the tools by absolute path, one receipt id per argument', async () => {
    const calls: string[] = [];
    await collectMacos(async (cmd, args, opts) => {
      calls.push([cmd, ...args].join(' '));
      return recordedMac(cmd, args, opts);
    });
    expect(calls.slice(0, 2)).toEqual([`${SYSTEM_PROFILER} SPApplicationsDataType -json`, `${PKGUTIL} --pkgs`]);
    expect(calls).toContain(`${PKGUTIL} --pkg-info com.microsoft.package.Microsoft_Word.app`);
    expect(calls).toHaveLength(2 + 8);
  });

  it('fails with stderr when system_profiler fails', async () => {
    const failing: CommandRunner = async () => ({ stdout: '', stderr: 'system_profiler: crashed', code: 134 });
    await expect(collectMacos(failing)).rejects.toThrow(/system_profiler exited with code 134/);
  });
});
