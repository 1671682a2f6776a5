import type { CommandResult, CommandRunner } from '../run-command.js';
import {
  busy,
  type Clock,
  type ExecutionResult,
  errorLines,
  failed,
  guardedUpgrade,
  type InstalledVersion,
  type OutputTail,
  type PackageExecutor,
  type PackageRequest,
  retryWhileBusy,
  runStep,
  StepFailed,
  systemClock,
  type UpgradeOptions,
} from './package-executor.js';

export interface WingetExecutorDeps {
  run: CommandRunner;
  /** Path of winget.exe; the App Installer alias is per user, so a service may need the full path. */
  command?: string;
  clock?: Clock;
  installTimeoutMs?: number;
}

const DEFAULT_INSTALL_TIMEOUT_MS = 60 * 60_000;
const QUERY_TIMEOUT_MS = 5 * 60_000;

/** winget's HRESULT exit codes (AppInstallerErrors.h) that change what this executor reports. */
export const WINGET = {
  NO_APPLICATIONS_FOUND: 0x8a150014,
  UPDATE_NOT_APPLICABLE: 0x8a15002b,
  UPGRADE_VERSION_NOT_NEWER: 0x8a15004f,
  INSTALL_PACKAGE_IN_USE: 0x8a150101,
  INSTALL_IN_PROGRESS: 0x8a150102,
  INSTALL_FILE_IN_USE: 0x8a150103,
  REBOOT_REQUIRED_TO_FINISH: 0x8a150109,
  REBOOT_REQUIRED_TO_INSTALL: 0x8a15010a,
  REBOOT_INITIATED: 0x8a15010b,
  PACKAGE_IN_USE_BY_APPLICATION: 0x8a150111,
} as const;

/** Another installer is running or the application holds its files: try again later, not a failure. */
const BUSY_CODES = new Set<number>([
  WINGET.INSTALL_IN_PROGRESS,
  WINGET.INSTALL_PACKAGE_IN_USE,
  WINGET.INSTALL_FILE_IN_USE,
  WINGET.PACKAGE_IN_USE_BY_APPLICATION,
]);

/** Exit codes are DWORDs; depending on how they reach Node they may look negative. */
function hresult(code: number | null): number | null {
  return code === null ? null : code >>> 0;
}

const isBusy = (result: CommandResult): boolean => BUSY_CODES.has(hresult(result.code) ?? 0);

export interface WingetListed {
  version: string;
  /** The newer version winget offers, or null when the column is absent or empty. */
  available: string | null;
}

/**
 * The row for `id` in `winget list --id ID --exact` output. The table is padded for display width, so
 * columns are found by token position after the id, not by offset. Versions may carry a comparison
 * ("< 1.2.3") when the installed program reports a range. Progress spinners redraw with CR.
 */
export function parseWingetList(text: string, id: string): WingetListed | null {
  const lines = text.split(/\r\n|\r|\n/);
  const header = lines.find((l) => /\bId\b/.test(l) && /\bVersion\b/.test(l)) ?? '';
  const hasAvailable = /\bAvailable\b/.test(header);
  for (const line of lines) {
    const tokens = line.trim().split(/\s+/);
    const at = tokens.indexOf(id);
    if (at < 0 || at === tokens.length - 1) continue;
    let i = at + 1;
    let version = tokens[i++] ?? '';
    if ((version === '<' || version === '>') && tokens[i]) version = `${version} ${tokens[i++]}`;
    const rest = tokens.slice(i);
    const available = hasAvailable && rest.length >= 2 ? (rest[0] ?? null) : null;
    return { version, available };
  }
  return null;
}

/** Versions as winget and Apps & Features print them differ in trailing zero parts ("7.4.2" vs "7.4.2.0"). */
function sameVersion(a: string, b: string): boolean {
  const trim = (v: string) => v.replace(/(?:\.0+)+$/, '');
  return a === b || trim(a) === trim(b);
}

/**
 * winget, for Windows applications. One `winget upgrade --id X --exact [--version V]` per package,
 * silent, agreements accepted (the organisation accepted them by deploying), no interactivity. winget
 * does not wait for an installer that is already running (MSI 1618 becomes INSTALL_IN_PROGRESS), so
 * this retries for lockTimeoutSeconds before answering 'busy'. Windows Update KB articles are not
 * winget packages and are refused here.
 */
export class WingetExecutor implements PackageExecutor {
  readonly ecosystem = 'windows' as const;
  private readonly command: string;
  private readonly clock: Clock;

  constructor(private readonly deps: WingetExecutorDeps) {
    this.command = deps.command ?? 'winget';
    this.clock = deps.clock ?? systemClock;
  }

  upgrade(packages: readonly PackageRequest[], opts: UpgradeOptions): Promise<ExecutionResult> {
    return guardedUpgrade('windows', packages, opts, async (log) => {
      const kb = packages.filter((p) => /^KB[0-9]+$/.test(p.name));
      if (kb.length)
        return failed(log, 'invalid-request', `Windows Update articles are not winget packages: ${kb.map((p) => p.name).join(', ')}`);
      return this.run(packages, opts, log);
    });
  }

  private async list(log: OutputTail, id: string): Promise<WingetListed | null> {
    const args = ['list', '--id', id, '--exact', '--accept-source-agreements', '--disable-interactivity'];
    const result = await runStep(this.deps.run, log, this.command, args, { timeoutMs: QUERY_TIMEOUT_MS });
    if (hresult(result.code) === WINGET.NO_APPLICATIONS_FOUND) return null;
    if (result.code !== 0) throw new StepFailed('command-failed', `winget list failed with 0x${(hresult(result.code) ?? 0).toString(16)}`);
    return parseWingetList(result.stdout, id);
  }

  private async run(packages: readonly PackageRequest[], opts: UpgradeOptions, log: OutputTail): Promise<ExecutionResult> {
    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');
    const missing: string[] = [];
    for (const p of packages) if ((await this.list(log, p.name)) === null) missing.push(p.name);
    if (missing.length) return failed(log, 'not-installed', `not installed, so not upgraded: ${missing.join(', ')}`);

    let rebootRequired = false;
    const timeoutMs = this.deps.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS;
    for (const p of packages) {
      if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before all packages were upgraded', { rebootRequired });
      const args = [
        'upgrade',
        '--id',
        p.name,
        '--exact',
        ...(p.version === null ? [] : ['--version', p.version]),
        '--silent',
        '--accept-package-agreements',
        '--accept-source-agreements',
        '--disable-interactivity',
      ];
      const result = await retryWhileBusy(
        () => runStep(this.deps.run, log, this.command, args, { timeoutMs }),
        isBusy,
        opts.lockTimeoutSeconds,
        this.clock,
        opts.signal,
      );
      const code = hresult(result.code);
      if (isBusy(result))
        return busy(log, `another installation was in progress or ${p.name} was in use for more than ${opts.lockTimeoutSeconds} s`, {
          rebootRequired,
        });
      if (code === WINGET.REBOOT_REQUIRED_TO_FINISH || code === WINGET.REBOOT_INITIATED) rebootRequired = true;
      else if (code === WINGET.REBOOT_REQUIRED_TO_INSTALL) {
        return failed(log, 'command-failed', `${p.name} can only be installed after a restart`, { rebootRequired: true });
      } else if (code !== 0 && code !== WINGET.UPDATE_NOT_APPLICABLE) {
        const text = `${result.stdout}\n${result.stderr}`;
        const codeText = `0x${(code ?? 0).toString(16).toUpperCase()}`;
        return failed(log, 'command-failed', `winget upgrade ${p.name} failed (${codeText}): ${errorLines(text, /failed|error|not/i, 2)}`, {
          rebootRequired,
        });
      }
    }

    const installed: InstalledVersion[] = [];
    const mismatches: string[] = [];
    for (const p of packages) {
      const row = await this.list(log, p.name);
      if (!row) {
        mismatches.push(`${p.name} is no longer installed`);
        continue;
      }
      installed.push({ name: p.name, version: row.version });
      if (p.version !== null && !sameVersion(row.version, p.version)) mismatches.push(`${p.name} is at ${row.version}, not ${p.version}`);
      if (p.version === null && row.available) mismatches.push(`${p.name} is at ${row.version}; ${row.available} is still available`);
    }
    if (mismatches.length) return failed(log, 'verify-mismatch', mismatches.join('; '), { installed, rebootRequired });
    return { status: 'succeeded', installed, rebootRequired, output: log.toString() };
  }
}
