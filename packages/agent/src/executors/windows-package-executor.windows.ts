import {
  type ExecutionResult,
  failed,
  guardedUpgrade,
  type InstalledVersion,
  OutputTail,
  type PackageExecutor,
  type PackageRequest,
  type UpgradeOptions,
} from './package-executor.js';
import { KB_ARTICLE } from './windows-update.windows.js';

export interface WindowsPackageExecutorDeps {
  /** Applications by winget id; absent where winget is not installed. */
  winget?: PackageExecutor;
  /** KB articles through Windows Update. */
  windowsUpdate?: PackageExecutor;
}

/**
 * The `windows` ecosystem has two managers (winget and Windows Update, as in the updates
 * collector), and an assignment names only the ecosystem. Names tell them apart: a KB article
 * (`KB5034441`) goes to Windows Update, anything else (a winget or Store id) to winget. Applications
 * go first, then the KBs, whose installation is the one likely to need a restart. The first group
 * that does not succeed ends the run; both are idempotent (an upgraded application is "not
 * applicable", an installed KB counts as done), so a retry after 'busy' may safely run both again.
 */
export class WindowsPackageExecutor implements PackageExecutor {
  readonly ecosystem = 'windows' as const;

  constructor(private readonly deps: WindowsPackageExecutorDeps) {}

  upgrade(packages: readonly PackageRequest[], opts: UpgradeOptions): Promise<ExecutionResult> {
    return guardedUpgrade('windows', packages, opts, async (log) => {
      const groups: Array<[string, PackageRequest[], PackageExecutor | undefined]> = [
        ['winget', packages.filter((p) => !KB_ARTICLE.test(p.name)), this.deps.winget],
        ['Windows Update', packages.filter((p) => KB_ARTICLE.test(p.name)), this.deps.windowsUpdate],
      ];
      const used = groups.filter(([, list]) => list.length > 0);
      const missing = used.filter(([, , executor]) => !executor);
      if (missing.length) {
        const what = missing.map(([tool, list]) => `${tool} (for ${list.map((p) => p.name).join(', ')})`).join(' and ');
        return failed(log, 'tool-missing', `this host has no ${what}`);
      }
      const output = new OutputTail();
      const installed: InstalledVersion[] = [];
      let rebootRequired = false;
      for (const [, list, executor] of used) {
        const result = await (executor as PackageExecutor).upgrade(list, opts);
        installed.push(...result.installed);
        rebootRequired ||= result.rebootRequired;
        if (result.output) output.add(result.output);
        if (result.status !== 'succeeded') return { ...result, installed, rebootRequired, output: output.toString() };
      }
      return { status: 'succeeded', installed, rebootRequired, output: output.toString() };
    });
  }
}
