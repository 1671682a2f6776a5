import type { Ecosystem, HostFacts, PackageEntry } from '@brier/protocol';
import { type CommandRunner, isNotFound } from '../run-command.js';
import { collectFacts, type FactsSource } from './facts.js';
import { normalizePackages, type RawPackage } from './normalize-packages.js';
import { collectApk } from './packages/apk.js';
import { collectDpkg } from './packages/dpkg.js';
import { collectMacos } from './packages/macos.js';
import { collectRpm } from './packages/rpm.js';
import { collectWindows } from './packages/windows.js';

export interface InventoryDeps {
  run: CommandRunner;
  readFile: (path: string) => Promise<string>;
  /** The systeminformation module (or a recording of it). */
  si: FactsSource;
  platform: NodeJS.Platform;
  agentVersion: string;
  /** Another dpkg database to read (dpkg's --admindir), e.g. a chroot's; default: the system's. */
  dpkgAdmindir?: string | undefined;
}

export interface Inventory {
  facts: HostFacts;
  /** Valid for the protocol schema, unique by (ecosystem, name, arch). */
  packages: PackageEntry[];
  /** Ecosystems whose tool was present and read. */
  sources: Ecosystem[];
  /** Entries dropped because no valid PackageEntry could be made from them. */
  invalid: number;
  /** Entries dropped because their (ecosystem, name, arch) was already listed. */
  duplicates: number;
}

/** A package tool that is present but failed; `cause` holds what it said. */
export class InventoryError extends Error {
  readonly ecosystem: Ecosystem;

  constructor(ecosystem: Ecosystem, cause: unknown) {
    super(`${ecosystem} inventory failed`, { cause });
    this.name = 'InventoryError';
    this.ecosystem = ecosystem;
  }
}

type Collector = readonly [Ecosystem, () => Promise<RawPackage[]>];

function collectorsFor(deps: InventoryDeps): readonly Collector[] {
  switch (deps.platform) {
    case 'linux':
      // A host may carry more than one (rpm is installable on Debian); each present one is read.
      return [
        ['dpkg', () => collectDpkg(deps.run, deps.dpkgAdmindir ? { admindir: deps.dpkgAdmindir } : {})],
        ['rpm', () => collectRpm(deps.run)],
        ['apk', () => collectApk(deps.readFile)],
      ];
    case 'win32':
      return [['windows', () => collectWindows(deps.run)]];
    case 'darwin':
      return [['macos', () => collectMacos(deps.run)]];
    default:
      return [];
  }
}

/**
 * Facts and installed packages of this host. On Linux a missing tool means that ecosystem is not
 * used here; on Windows and macOS the one collector is part of the OS, so its absence is an error
 * (reporting an empty list would tell the server every package was removed).
 */
export async function collectInventory(deps: InventoryDeps): Promise<Inventory> {
  const optional = deps.platform === 'linux';
  const runOne = async ([ecosystem, collect]: Collector): Promise<[Ecosystem, RawPackage[]] | undefined> => {
    try {
      return [ecosystem, await collect()];
    } catch (err) {
      if (optional && isNotFound(err)) return undefined;
      throw new InventoryError(ecosystem, err);
    }
  };
  const [facts, ...results] = await Promise.all([collectFacts(deps.si, deps.agentVersion), ...collectorsFor(deps).map(runOne)]);
  const present = results.filter((r) => r !== undefined);
  const { packages, invalid, duplicates } = normalizePackages(present.flatMap(([, entries]) => entries));
  return { facts, packages, sources: present.map(([ecosystem]) => ecosystem), invalid, duplicates };
}
