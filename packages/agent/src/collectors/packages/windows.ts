import { type CommandRunner, stdoutOf } from '../../run-command.js';
import type { RawPackage } from '../normalize-packages.js';

/**
 * The uninstall keys that "Apps & features" reads: 64-bit and 32-bit (WOW6432Node) machine-wide,
 * the current user's, and every loaded user hive, because the agent runs as LocalSystem whose
 * HKCU is not the logged-in user's. Output is forced to UTF-8 without BOM (the console code page
 * would mangle non-ASCII names). Only single quotes: double quotes do not survive the Windows
 * command line on their way to `-Command`.
 */
export const WINDOWS_UNINSTALL_SCRIPT = [
  "$ErrorActionPreference = 'SilentlyContinue'",
  'try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch {}',
  "$paths = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*', " +
    "'HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*', " +
    "'HKCU:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*', " +
    "'Registry::HKEY_USERS\\*\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*'",
  'Get-ItemProperty -Path $paths | Where-Object DisplayName | Select-Object DisplayName,DisplayVersion,Publisher,PSPath | ConvertTo-Json -Compress',
].join('; ');

export const WINDOWS_POWERSHELL_ARGS = ['-NoProfile', '-NonInteractive', '-Command', WINDOWS_UNINSTALL_SCRIPT] as const;

/** Registry values are usually REG_SZ, but some installers write DisplayVersion as a DWORD. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}

/**
 * Parses the script's JSON. ConvertTo-Json prints nothing for no results and a bare object (not an
 * array) for one. Entries without a DisplayVersion are skipped: there is nothing to match or patch.
 * The same product often appears under several hives (HKCU and its HKEY_USERS twin); the first
 * per (name, arch) is kept, which prefers machine-wide keys.
 */
export function parseWindowsUninstall(text: string): RawPackage[] {
  const json = text.replace(/^\uFEFF/, '').trim();
  if (json === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error('PowerShell printed something that is not JSON', { cause: err });
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const seen = new Set<string>();
  const entries: RawPackage[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    const name = textOf(record.DisplayName);
    const version = textOf(record.DisplayVersion);
    if (name === '' || version === '') continue;
    const arch = /\\WOW6432Node\\/i.test(textOf(record.PSPath)) ? 'x86' : 'x64';
    const key = `${name}\t${arch}`;
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push({ ecosystem: 'windows', name, version, arch });
  }
  return entries;
}

/** Installed Windows programs from the registry. Rejects with ENOENT where there is no powershell.exe. */
export async function collectWindows(run: CommandRunner): Promise<RawPackage[]> {
  const result = await run('powershell.exe', WINDOWS_POWERSHELL_ARGS, { timeoutMs: 120_000 });
  return parseWindowsUninstall(stdoutOf('powershell.exe', result));
}
