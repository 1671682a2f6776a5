import type { ActionResult, AntivirusHealth, AntivirusProvider, ServiceManager } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, failed, firstLineOf, judgeExit, oneLine, succeeded } from '../services/action-result.js';
import { powershellArgs } from '../services/windows.windows.js';

export const DEFENDER_SERVICE = 'WinDefend';

/** Output forced to UTF-8 without BOM; only the properties the health needs. */
export const MP_STATUS_SCRIPT = [
  'try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch {}',
  'Get-MpComputerStatus | Select-Object AMServiceEnabled,AntivirusEnabled,RealTimeProtectionEnabled,AntivirusSignatureLastUpdated,' +
    'AntivirusSignatureAge,AntivirusSignatureVersion,AMProductVersion,AMRunningMode | ConvertTo-Json -Compress',
].join('; ');
export const MP_ENABLE_REALTIME_SCRIPT = 'Set-MpPreference -DisableRealtimeMonitoring $false';
export const MP_UPDATE_SCRIPT = 'Update-MpSignature';

export interface MpStatus {
  amServiceEnabled: boolean;
  antivirusEnabled: boolean;
  realTimeProtectionEnabled: boolean;
  signaturesUpdatedAt: Date | null;
  /** Days, as Defender counts them; 65535 means never updated. */
  signatureAgeDays: number | null;
  signatureVersion: string;
  productVersion: string;
  runningMode: string;
}

/**
 * A DateTime as ConvertTo-Json prints it: Windows PowerShell 5.1 writes "\/Date(1714550400000)\/"
 * (milliseconds since the epoch, UTC), PowerShell 7 an ISO 8601 string.
 */
export function parsePowerShellDate(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const legacy = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value);
  if (legacy) return new Date(Number(legacy[1]));
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : new Date(parsed);
}

/** Parses the script's JSON; throws when it is not the object Get-MpComputerStatus returns. */
export function parseMpComputerStatus(text: string): MpStatus {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, '').trim());
  } catch (err) {
    throw new Error('Get-MpComputerStatus printed something that is not JSON', { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('Get-MpComputerStatus did not print one object');
  const r = parsed as Record<string, unknown>;
  const age = typeof r.AntivirusSignatureAge === 'number' && Number.isFinite(r.AntivirusSignatureAge) ? r.AntivirusSignatureAge : null;
  return {
    amServiceEnabled: r.AMServiceEnabled === true,
    antivirusEnabled: r.AntivirusEnabled === true,
    realTimeProtectionEnabled: r.RealTimeProtectionEnabled === true,
    signaturesUpdatedAt: parsePowerShellDate(r.AntivirusSignatureLastUpdated),
    signatureAgeDays: age,
    signatureVersion: typeof r.AntivirusSignatureVersion === 'string' ? r.AntivirusSignatureVersion : '',
    productVersion: typeof r.AMProductVersion === 'string' ? r.AMProductVersion : '',
    runningMode: typeof r.AMRunningMode === 'string' ? r.AMRunningMode : '',
  };
}

/** "Not recognized as the name of a cmdlet": the Defender module is absent (Server without the feature, or removed). */
const NOT_RECOGNIZED = /is not recognized as (?:the )?name of a cmdlet|CommandNotFoundException/i;

export interface DefenderProviderDeps {
  run: CommandRunner;
  /** The Windows service manager, for WinDefend. */
  services: ServiceManager;
  now?: () => Date;
  /** Default `powershell.exe`. */
  powershell?: string;
}

/**
 * Microsoft Defender Antivirus through its PowerShell module. Running: the antimalware service and
 * the antivirus engine are both on (not in passive mode behind another product). Signature age:
 * hours since AntivirusSignatureLastUpdated, else AntivirusSignatureAge days. Remediation: start
 * WinDefend, turn real-time monitoring back on (then read it back, because Tamper Protection or a
 * group policy silently keeps it off), Update-MpSignature. Defender is part of Windows, so a missing
 * one is reported, not installed.
 */
export class DefenderProvider implements AntivirusProvider {
  readonly name = 'defender' as const;
  private readonly powershell: string;
  private readonly now: () => Date;

  constructor(private readonly deps: DefenderProviderDeps) {
    this.powershell = deps.powershell ?? 'powershell.exe';
    this.now = deps.now ?? (() => new Date());
  }

  async health(): Promise<AntivirusHealth> {
    const ran = await attempt(this.deps.run, this.powershell, powershellArgs(MP_STATUS_SCRIPT), { timeoutMs: 60_000 });
    let status: MpStatus | null = null;
    let problem = '';
    if (ran.failure) problem = ran.failure.detail;
    else if (ran.result.code === 0) {
      try {
        status = parseMpComputerStatus(ran.result.stdout);
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
    } else problem = firstLineOf(ran.result) || `exit ${ran.result.code}`;

    if (!status) {
      // The module answers nothing while WinDefend is stopped; the service tells whether Defender is there at all.
      const notThere = ran.result !== undefined && NOT_RECOGNIZED.test(`${ran.result.stderr}\n${ran.result.stdout}`);
      const service = notThere ? null : await this.deps.services.status(DEFENDER_SERVICE).catch(() => null);
      const installed = service?.exists === true;
      return {
        provider: 'defender',
        installed,
        running: false,
        realTimeProtection: false,
        signatureAgeHours: null,
        detail: oneLine(
          installed
            ? `Defender is installed but does not answer (${service?.detail}): ${problem}`
            : `Microsoft Defender Antivirus is not available${notThere ? ' (no Get-MpComputerStatus)' : `: ${problem}`}`,
          400,
        ),
      };
    }

    const ageHours = status.signaturesUpdatedAt
      ? Math.max(0, Math.round((this.now().getTime() - status.signaturesUpdatedAt.getTime()) / 360_000) / 10)
      : status.signatureAgeDays !== null && status.signatureAgeDays < 65_535
        ? status.signatureAgeDays * 24
        : null;
    const running = status.amServiceEnabled && status.antivirusEnabled;
    const parts = [
      `Defender ${status.productVersion || 'installed'}${status.runningMode ? ` (${status.runningMode})` : ''}`,
      running
        ? 'antivirus on'
        : `antivirus off (service ${status.amServiceEnabled ? 'on' : 'off'}, engine ${status.antivirusEnabled ? 'on' : 'off'})`,
      `real-time protection ${status.realTimeProtectionEnabled ? 'on' : 'off'}`,
      ageHours === null
        ? 'signatures never updated'
        : `signatures${status.signatureVersion ? ` ${status.signatureVersion}` : ''} ${ageHours} h old`,
    ];
    return {
      provider: 'defender',
      installed: true,
      running,
      realTimeProtection: status.realTimeProtectionEnabled,
      signatureAgeHours: ageHours,
      detail: oneLine(parts.join('; '), 400),
    };
  }

  async ensure(want: { maxSignatureAgeHours: number }, current: AntivirusHealth): Promise<ActionResult[]> {
    if (!current.installed) {
      return [
        failed(
          'not-installed',
          'Microsoft Defender Antivirus is not present; it is part of Windows (on Windows Server: Install-WindowsFeature Windows-Defender) and is not installed by the agent',
        ),
      ];
    }
    const actions: ActionResult[] = [];
    if (!current.running) {
      const started = await this.deps.services.start(DEFENDER_SERVICE);
      actions.push(started);
      if (!started.ok) return actions;
    }
    let health = current.running ? current : await this.health();
    if (!health.realTimeProtection) {
      const set = await this.script(MP_ENABLE_REALTIME_SCRIPT, 'Set-MpPreference', 'turned real-time protection on', 60_000);
      if (!set.ok) {
        actions.push(set);
      } else {
        health = await this.health();
        actions.push(
          health.realTimeProtection
            ? set
            : failed(
                'not-effective',
                'Set-MpPreference succeeded but real-time protection is still off (Tamper Protection or a group policy keeps it off)',
              ),
        );
      }
    }
    if (health.signatureAgeHours === null || health.signatureAgeHours > want.maxSignatureAgeHours) {
      actions.push(await this.script(MP_UPDATE_SCRIPT, 'Update-MpSignature', 'updated the signatures', 20 * 60_000));
    }
    return actions;
  }

  private async script(script: string, what: string, done: string, timeoutMs: number): Promise<ActionResult> {
    const ran = await attempt(this.deps.run, this.powershell, powershellArgs(script), { timeoutMs });
    if (ran.failure) return ran.failure;
    const judged = judgeExit(what, done, ran.result);
    return judged.ok ? succeeded(done) : judged;
  }
}
