import type { AntivirusProvider, PackageControl, ServiceManager } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import type { UserIds } from '../services/direct.linux.js';
import { ClamavProvider } from './clamav.linux.js';
import { DefenderProvider } from './defender.windows.js';
import { XProtectProvider } from './xprotect.darwin.js';

export {
  CLAMAV_PACKAGES,
  ClamavProvider,
  type ClamavProviderDeps,
  clamdPing,
  listSignatureFiles,
  parseClamdConf,
  parseCvdHeader,
} from './clamav.linux.js';
export { DefenderProvider, parseMpComputerStatus } from './defender.windows.js';
export { XProtectProvider } from './xprotect.darwin.js';

export type AntivirusName = 'clamav' | 'defender' | 'xprotect';

export interface AntivirusDeps {
  run: CommandRunner;
  services: ServiceManager;
  packages: PackageControl;
  /** Reads clamd.conf (ClamAV). */
  readFile?: (file: string) => Promise<string>;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** ClamAV: a signature file copied into an empty database directory (see ClamavProviderDeps). */
  localDatabase?: string;
  /** ClamAV: default /etc/clamav/clamd.conf. */
  clamdConf?: string;
  lookupUser?: (name: string) => Promise<UserIds | null>;
  /** ClamAV: bounded wait for PONG after a start; default 60 s. */
  startTimeoutMs?: number;
}

/** Refused provider names, e.g. from a malformed rule. */
export class UnknownAntivirusError extends Error {
  readonly code = 'invalid-request';
  constructor(name: unknown) {
    super(`unknown antivirus provider ${JSON.stringify(String(name)).slice(0, 70)}: expected clamav, defender or xprotect`);
    this.name = 'UnknownAntivirusError';
  }
}

/** The provider by name; its platform commands are only run when health/ensure are called. */
export function antivirusProvider(name: AntivirusName, deps: AntivirusDeps): AntivirusProvider {
  const now = deps.now ? { now: deps.now } : {};
  switch (name) {
    case 'clamav':
      return new ClamavProvider({
        run: deps.run,
        services: deps.services,
        packages: deps.packages,
        ...now,
        ...(deps.readFile ? { readFile: deps.readFile } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
        ...(deps.localDatabase ? { localDatabase: deps.localDatabase } : {}),
        ...(deps.clamdConf ? { confPath: deps.clamdConf } : {}),
        ...(deps.lookupUser ? { lookupUser: deps.lookupUser } : {}),
        ...(deps.startTimeoutMs !== undefined ? { startTimeoutMs: deps.startTimeoutMs } : {}),
      });
    case 'defender':
      return new DefenderProvider({ run: deps.run, services: deps.services, ...now });
    case 'xprotect':
      return new XProtectProvider({ run: deps.run, ...now });
    default:
      throw new UnknownAntivirusError(name);
  }
}

/** What an `antivirus` rule with provider "auto" means on each platform; null where there is none. */
export function defaultProviderFor(platform: NodeJS.Platform): AntivirusName | null {
  if (platform === 'linux') return 'clamav';
  if (platform === 'win32') return 'defender';
  if (platform === 'darwin') return 'xprotect';
  return null;
}
