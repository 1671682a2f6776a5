import type { CommandRunner } from '../run-command.js';
import {
  type ExecutionResult,
  failed,
  guardedUpgrade,
  type InstalledVersion,
  type OutputTail,
  type PackageExecutor,
  type PackageRequest,
  runStep,
  StepFailed,
  type UpgradeOptions,
} from './package-executor.js';

export interface SoftwareUpdateExecutorDeps {
  run: CommandRunner;
  installTimeoutMs?: number;
}

const DEFAULT_INSTALL_TIMEOUT_MS = 2 * 60 * 60_000;
// --list asks Apple's catalogue over the network.
const LIST_TIMEOUT_MS = 10 * 60_000;

export interface SoftwareUpdateItem {
  label: string;
  title: string | null;
  version: string | null;
  /** "Action: restart" (or the older "[restart]" marker): installing needs a restart to finish. */
  restart: boolean;
}

/**
 * `softwareupdate --list`:
 *   * Label: Safari17.1VenturaAuto-17.1
 *   \tTitle: Safari, Version: 17.1, Size: 158580KiB, Recommended: YES,
 *   * Label: macOS Ventura 13.6.1-22G313
 *   \tTitle: macOS Ventura 13.6.1, Version: 13.6.1, Size: 1034400KiB, Recommended: YES, Action: restart,
 */
export function parseSoftwareUpdateList(text: string): SoftwareUpdateItem[] {
  const items: SoftwareUpdateItem[] = [];
  let current: SoftwareUpdateItem | null = null;
  for (const line of text.split(/\r?\n/)) {
    const label = /^\s*\*\s+Label:\s+(.+?)\s*$/.exec(line);
    if (label?.[1]) {
      current = { label: label[1], title: null, version: null, restart: false };
      items.push(current);
      continue;
    }
    if (!current || !/^\s+Title:/.test(line)) continue;
    current.title = /Title:\s*([^,]+)/.exec(line)?.[1]?.trim() ?? null;
    current.version = /Version:\s*([^,\s]+)/.exec(line)?.[1] ?? null;
    current.restart = /Action:\s*restart/i.test(line) || /\[restart\]/i.test(line);
  }
  return items;
}

/**
 * softwareupdate, for macOS updates. A request names a label as `softwareupdate --list` prints it;
 * a version, when given, must be the one the label offers. `softwareupdate --install LABEL` installs
 * it without restarting (restarts follow the deployment's reboot policy, not this executor); the
 * update counts as installed when the label is no longer offered.
 *
 * softwareupdate has no lock this executor can wait on or report as busy, so it never answers 'busy'.
 */
export class SoftwareUpdateExecutor implements PackageExecutor {
  readonly ecosystem = 'macos' as const;

  constructor(private readonly deps: SoftwareUpdateExecutorDeps) {}

  upgrade(packages: readonly PackageRequest[], opts: UpgradeOptions): Promise<ExecutionResult> {
    return guardedUpgrade('macos', packages, opts, (log) => this.run(packages, opts, log));
  }

  private async list(log: OutputTail): Promise<SoftwareUpdateItem[]> {
    const result = await runStep(this.deps.run, log, 'softwareupdate', ['--list'], { timeoutMs: LIST_TIMEOUT_MS });
    if (result.code !== 0) throw new StepFailed('command-failed', `softwareupdate --list exited with code ${result.code}`);
    return parseSoftwareUpdateList(result.stdout);
  }

  private async run(packages: readonly PackageRequest[], opts: UpgradeOptions, log: OutputTail): Promise<ExecutionResult> {
    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');
    const offered = new Map((await this.list(log)).map((item) => [item.label, item]));
    const unavailable = packages.filter((p) => {
      const item = offered.get(p.name);
      return !item || (p.version !== null && item.version !== p.version);
    });
    if (unavailable.length) {
      const names = unavailable.map((p) => (p.version === null ? p.name : `${p.name} ${p.version}`)).join(', ');
      return failed(log, 'not-available', `not offered by softwareupdate (already installed or not applicable): ${names}`);
    }
    if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');

    const labels = packages.map((p) => p.name);
    const result = await runStep(this.deps.run, log, 'softwareupdate', ['--install', ...labels], {
      timeoutMs: this.deps.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS,
    });
    const text = `${result.stdout}\n${result.stderr}`;
    const rebootRequired =
      packages.some((p) => offered.get(p.name)?.restart) || /restart (?:is )?required|requires that you restart/i.test(text);
    if (result.code !== 0) {
      const why = text
        .split('\n')
        .find((l) => /Error|Cannot install|failed/i.test(l))
        ?.trim();
      return failed(log, 'command-failed', why ?? `softwareupdate exited with code ${result.code}`, { rebootRequired });
    }

    const still = new Set((await this.list(log)).map((item) => item.label));
    const installed: InstalledVersion[] = [];
    const mismatches: string[] = [];
    for (const p of packages) {
      const version = offered.get(p.name)?.version ?? p.version ?? '';
      // A restart-requiring update may stay offered until the restart; that is still not verified.
      if (still.has(p.name))
        mismatches.push(
          `${p.name} is still offered after installing${offered.get(p.name)?.restart ? ' (it needs a restart to complete)' : ''}`,
        );
      else installed.push({ name: p.name, version });
    }
    if (mismatches.length) return failed(log, 'verify-mismatch', mismatches.join('; '), { installed, rebootRequired });
    return { status: 'succeeded', installed, rebootRequired, output: log.toString() };
  }
}
