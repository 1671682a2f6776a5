import { stat } from 'node:fs/promises';
import type { ActionResult, AntivirusHealth, AntivirusProvider } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, firstLineOf, judgeExit, oneLine, succeeded } from '../services/action-result.js';

/**
 * Where XProtect's signature bundle lives: macOS 15 updates a copy under /private/var/protected
 * (through `xprotect update`), 10.15-14 the one under /Library/Apple, 10.14 and older /System.
 * The newest existing one is what the machine uses.
 */
export const XPROTECT_PLISTS = [
  '/private/var/protected/xprotect/XProtect.bundle/Contents/Info.plist',
  '/Library/Apple/System/Library/CoreServices/XProtect.bundle/Contents/Info.plist',
  '/System/Library/CoreServices/XProtect.bundle/Contents/Info.plist',
] as const;

/** The bundle version from `plutil -convert json -o - Info.plist`. */
export function parseXProtectInfo(json: string): string | null {
  try {
    const parsed: unknown = JSON.parse(json);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const version = (parsed as Record<string, unknown>).CFBundleShortVersionString;
    return typeof version === 'string' && version.trim() !== '' ? version.trim() : null;
  } catch {
    return null;
  }
}

export interface XProtectProviderDeps {
  run: CommandRunner;
  /** Modification time of a file, or null when it does not exist; default fs.stat. */
  mtimeOf?: (file: string) => Promise<Date | null>;
  now?: () => Date;
  plists?: readonly string[];
}

/**
 * XProtect, macOS's built-in signature scanner. It cannot be switched off, so installed, running
 * and real-time protection are all "the bundle is there". Signature age: the modification time of
 * the newest bundle's Info.plist (the bundle is replaced as a whole on every update). Remediation:
 * `xprotect update` on macOS 15+, else `softwareupdate --background-critical`, which asks the
 * system to fetch critical background updates (XProtect's among them) now.
 */
export class XProtectProvider implements AntivirusProvider {
  readonly name = 'xprotect' as const;
  private readonly mtimeOf: (file: string) => Promise<Date | null>;
  private readonly now: () => Date;

  constructor(private readonly deps: XProtectProviderDeps) {
    this.mtimeOf =
      deps.mtimeOf ??
      ((file) =>
        stat(file).then(
          (s) => s.mtime,
          () => null,
        ));
    this.now = deps.now ?? (() => new Date());
  }

  async health(): Promise<AntivirusHealth> {
    let newest: { file: string; mtime: Date } | null = null;
    for (const file of this.deps.plists ?? XPROTECT_PLISTS) {
      const mtime = await this.mtimeOf(file);
      if (mtime && (!newest || mtime > newest.mtime)) newest = { file, mtime };
    }
    if (!newest) {
      return {
        provider: 'xprotect',
        installed: false,
        running: false,
        realTimeProtection: false,
        signatureAgeHours: null,
        detail: 'no XProtect bundle found',
      };
    }
    const ran = await attempt(this.deps.run, 'plutil', ['-convert', 'json', '-o', '-', newest.file], { timeoutMs: 30_000 });
    const version = ran.result?.code === 0 ? parseXProtectInfo(ran.result.stdout) : null;
    const age = Math.max(0, Math.round((this.now().getTime() - newest.mtime.getTime()) / 360_000) / 10);
    return {
      provider: 'xprotect',
      installed: true,
      running: true,
      realTimeProtection: true,
      signatureAgeHours: age,
      detail: oneLine(
        `XProtect ${version ?? '(version unknown)'} at ${newest.file}, updated ${newest.mtime.toISOString()} (${age} h ago)`,
        400,
      ),
    };
  }

  async ensure(want: { maxSignatureAgeHours: number }, current: AntivirusHealth): Promise<ActionResult[]> {
    const stale = current.signatureAgeHours === null || current.signatureAgeHours > want.maxSignatureAgeHours;
    if (current.installed && !stale) return [];
    return [await this.update()];
  }

  private async update(): Promise<ActionResult> {
    const modern = await attempt(this.deps.run, 'xprotect', ['update'], { timeoutMs: 10 * 60_000 });
    if (modern.result) {
      const said = firstLineOf(modern.result);
      return modern.result.code === 0
        ? succeeded(`xprotect update${said ? `: ${said}` : ''}`)
        : judgeExit('xprotect update', '', modern.result);
    }
    if (modern.failure.code !== 'tool-missing') return modern.failure;
    const legacy = await attempt(this.deps.run, 'softwareupdate', ['--background-critical'], { timeoutMs: 10 * 60_000 });
    if (legacy.failure) return legacy.failure;
    return judgeExit('softwareupdate', 'asked softwareupdate to fetch critical background updates (XProtect)', legacy.result);
  }
}
