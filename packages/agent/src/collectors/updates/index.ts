import type { PendingUpdate, UpdateManager } from '@brier/protocol';
import { type CommandRunner, isNotFound } from '../../run-command.js';
import { cleanText } from '../clean-text.js';
import { collectApkUpdates } from './apk.js';
import { collectApt } from './apt.js';
import { collectDnf } from './dnf.js';
import { normalizeUpdates, type RawUpdate } from './normalize-updates.js';
import { collectSoftwareUpdates } from './softwareupdate.js';
import { collectWindowsUpdates } from './windows-update.js';
import { collectWinget } from './winget.js';
import { collectZypper } from './zypper.js';

export type { RawUpdate } from './normalize-updates.js';

export interface PendingUpdatesDeps {
  run: CommandRunner;
  platform: NodeJS.Platform;
  /** Extra apt-get arguments, `-o Key=Value` pairs (e.g. another root's Dir settings); default none. */
  aptOptions?: readonly string[] | undefined;
  /** Variables added to the environment of apt-get (e.g. APT_CONFIG for another root); default none. */
  aptEnv?: Readonly<Record<string, string>> | undefined;
}

export interface KeptBack {
  manager: UpdateManager;
  name: string;
}

export interface PendingUpdatesResult {
  /** Valid for the protocol schema, unique by (manager, name, arch). */
  updates: PendingUpdate[];
  /** Managers whose tool was present and read: their lists are complete, even when empty. */
  sources: UpdateManager[];
  /** Packages with a newer candidate the manager will not install (apt: held, blocked, phased). */
  keptBack: KeptBack[];
  /** Entries dropped because no valid PendingUpdate could be made from them. */
  invalid: number;
  /** Entries dropped because their (manager, name, arch) was already listed. */
  duplicates: number;
  /** Valid entries left out past MAX_PENDING_UPDATES (security ones are kept first). */
  dropped: number;
}

/** An update tool that is present but failed; `cause` holds what it said. */
export class PendingUpdatesError extends Error {
  readonly manager: UpdateManager;

  constructor(manager: UpdateManager, cause: unknown) {
    super(`${manager} update check failed`, { cause });
    this.name = 'PendingUpdatesError';
    this.manager = manager;
  }
}

interface Found {
  updates: RawUpdate[];
  keptBack?: string[];
}

/** `optional`: a missing binary means the manager is not used here, not that the check failed. */
type Collector = readonly [UpdateManager, () => Promise<Found>, { optional: boolean }];

const updatesOnly = (collect: () => Promise<RawUpdate[]>) => async (): Promise<Found> => ({ updates: await collect() });

function collectorsFor(deps: PendingUpdatesDeps): readonly Collector[] {
  const aptOpts = { options: deps.aptOptions, env: deps.aptEnv };
  switch (deps.platform) {
    case 'linux':
      // A host may carry more than one (dnf is installable on Debian); each present one is asked.
      return [
        ['apt', () => collectApt(deps.run, aptOpts), { optional: true }],
        ['dnf', updatesOnly(() => collectDnf(deps.run)), { optional: true }],
        ['zypper', updatesOnly(() => collectZypper(deps.run)), { optional: true }],
        ['apk', updatesOnly(() => collectApkUpdates(deps.run)), { optional: true }],
      ];
    case 'win32':
      // Windows Update is part of the OS: without it the empty list would be a lie. winget is an
      // optional app, and often absent from the LocalSystem account's PATH.
      return [
        ['windows-update', updatesOnly(() => collectWindowsUpdates(deps.run)), { optional: false }],
        ['winget', updatesOnly(() => collectWinget(deps.run)), { optional: true }],
      ];
    case 'darwin':
      return [['softwareupdate', updatesOnly(() => collectSoftwareUpdates(deps.run)), { optional: false }]];
    default:
      return [];
  }
}

/**
 * The host's pending updates from every update tool present, without installing, refreshing or
 * locking anything. A tool that is present but fails rejects the whole collection with a
 * PendingUpdatesError: a partial list would tell the server those updates were applied.
 */
export async function collectPendingUpdates(deps: PendingUpdatesDeps): Promise<PendingUpdatesResult> {
  const runOne = async ([manager, collect, { optional }]: Collector): Promise<[UpdateManager, Found] | undefined> => {
    try {
      return [manager, await collect()];
    } catch (err) {
      if (optional && isNotFound(err)) return undefined;
      throw new PendingUpdatesError(manager, err);
    }
  };
  const results = (await Promise.all(collectorsFor(deps).map(runOne))).filter((r) => r !== undefined);
  const { updates, invalid, duplicates, dropped } = normalizeUpdates(results.flatMap(([, found]) => found.updates));
  // Names straight from a tool's output: cleaned like every other string, and unusable ones dropped.
  const keptBack = results.flatMap(([manager, found]) =>
    (found.keptBack ?? []).map((name) => ({ manager, name: cleanText(name) })).filter((k) => k.name !== '' && k.name.length <= 256),
  );
  return { updates, sources: results.map(([manager]) => manager), keptBack, invalid, duplicates, dropped };
}
