// Windows Update cannot run on the Linux test machine. The JSON outputs in
// __fixtures__/windows-update/ that the tests play back were RECONSTRUCTED from the Windows Update
// Agent API's documented result codes (OperationResultCode, WU_E_* HRESULTs) in the shape the script
// below prints; they were NOT captured on a Windows machine.
import type { CommandRunner } from '../run-command.js';
import {
  busy,
  type Clock,
  type ExecutionResult,
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

export interface WindowsUpdateExecutorDeps {
  run: CommandRunner;
  /** Default `powershell.exe` (Windows PowerShell 5.1, present on every supported Windows). */
  command?: string;
  clock?: Clock;
  /** Search, download and install together; cumulative updates can take an hour on slow disks. */
  installTimeoutMs?: number;
}

const DEFAULT_INSTALL_TIMEOUT_MS = 2 * 60 * 60_000;

/**
 * The only names this executor accepts, checked before any command is built: the KB article the
 * updates collector reports (`KB5034441`). The check is also what makes interpolating them into the
 * script safe; nothing else from the request ever reaches it.
 */
export const KB_ARTICLE = /^KB[0-9]{6,8}$/;

/** IUpdateInstallationResult.ResultCode (OperationResultCode). */
export const RESULT_CODE = { notStarted: 0, inProgress: 1, succeeded: 2, succeededWithErrors: 3, failed: 4, aborted: 5 } as const;

/** HRESULTs worth a name in a reason (Windows Update Agent error codes and a few system ones). */
export const HRESULT_NAMES: Readonly<Record<string, string>> = {
  '0x80240016': 'WU_E_INSTALL_NOT_ALLOWED',
  '0x80240017': 'WU_E_NOT_APPLICABLE',
  '0x8024001E': 'WU_E_SERVICE_STOP',
  '0x80240020': 'WU_E_NO_INTERACTIVE_USER',
  '0x80240022': 'WU_E_ALL_UPDATES_FAILED',
  '0x80240044': 'WU_E_PER_MACHINE_UPDATE_ACCESS_DENIED',
  '0x8024402C': 'WU_E_PT_WINHTTP_NAME_NOT_RESOLVED',
  '0x80244022': 'WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL',
  '0x80070005': 'E_ACCESSDENIED',
  '0x80070643': 'ERROR_INSTALL_FAILURE',
  '0x80073712': 'ERROR_SXS_COMPONENT_STORE_CORRUPT',
  '0x800F0922': 'CBS_E_INSTALLERS_FAILED',
};

/**
 * Another installation is running, or Windows waits for a mandatory restart: nothing was changed
 * and the same work can be tried again later.
 */
const BUSY_HRESULTS = new Set(['0x80240016']);

/**
 * The PowerShell script, as statements joined on one line: it holds only single quotes, because
 * double quotes do not survive the Windows command line on their way to `-Command` (as in the
 * updates collector). It prints one JSON object (WindowsUpdateReport) and nothing else:
 *   1. if the installer is busy, stop (phase 'busy');
 *   2. search updates not installed (`IsInstalled=0 and Type='Software'`), keep those carrying a
 *      wanted KB, accept their EULA (the organisation accepted it by deploying);
 *   3. a wanted KB not offered is looked up among installed updates: installed counts as done,
 *      neither means missing, and then nothing is installed at all;
 *   4. download, install (ForceQuiet), record each update's result code, HRESULT and restart need;
 *   5. search installed updates again for the wanted KBs (the verification).
 * A COM error ends it with `error` (the innermost exception's HRESULT) and the phase it reached.
 */
export function windowsUpdateScript(kbs: readonly string[]): string {
  for (const kb of kbs) if (!KB_ARTICLE.test(kb)) throw new RangeError(`not a KB article id: ${JSON.stringify(kb)}`);
  if (kbs.length === 0) throw new RangeError('no KB articles');
  const wanted = kbs.map((kb) => `'${kb}'`).join(',');
  return [
    "$ErrorActionPreference = 'Stop';",
    'try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch {};',
    `$wanted = @(${wanted});`,
    "$out = [ordered]@{ requested = $wanted; phase = 'start'; missing = @(); alreadyInstalled = @(); download = $null; install = $null; updates = @(); verified = @(); error = $null };",
    "function Hex($n) { if ($null -eq $n) { return $null }; '0x{0:X8}' -f [int]$n };",
    "function Kbs($u) { @(foreach ($k in $u.KBArticleIDs) { 'KB' + $k }) };",
    "function Ver($u) { if ($u.Title -match '\\(Version ([0-9][0-9A-Za-z.-]*)\\)') { $Matches[1] } else { [string]$u.Identity.RevisionNumber } };",
    "function Installed { @(foreach ($u in $searcher.Search('IsInstalled=1 and Type=''Software''').Updates) { foreach ($kb in (Kbs $u)) { if ($wanted -contains $kb) { [pscustomobject]@{ kb = $kb; title = [string]$u.Title; version = (Ver $u) } } } }) };",
    'try {',
    '$session = New-Object -ComObject Microsoft.Update.Session;',
    "$session.ClientApplicationID = 'brier-agent';",
    '$installer = $session.CreateUpdateInstaller();',
    "if ($installer.IsBusy) { $out.phase = 'busy' } else {",
    "$out.phase = 'search';",
    '$searcher = $session.CreateUpdateSearcher();',
    '$coll = New-Object -ComObject Microsoft.Update.UpdateColl;',
    '$offered = @();',
    "foreach ($u in $searcher.Search('IsInstalled=0 and Type=''Software''').Updates) {",
    '$match = @(Kbs $u | Where-Object { $wanted -contains $_ });',
    'if ($match.Count -gt 0) { if (-not $u.EulaAccepted) { $u.AcceptEula() }; [void]$coll.Add($u); $offered += $match }',
    '};',
    '$notOffered = @($wanted | Where-Object { $offered -notcontains $_ });',
    'if ($notOffered.Count -gt 0) { $haveKbs = @(Installed | ForEach-Object { $_.kb }); ' +
      '$out.alreadyInstalled = @($notOffered | Where-Object { $haveKbs -contains $_ }); ' +
      '$out.missing = @($notOffered | Where-Object { $haveKbs -notcontains $_ }) };',
    'if ($out.missing.Count -eq 0) {',
    "if ($coll.Count -eq 0) { $out.verified = @(Installed); $out.phase = 'done' } else {",
    "$out.phase = 'download';",
    '$downloader = $session.CreateUpdateDownloader();',
    '$downloader.Updates = $coll;',
    '$dl = $downloader.Download();',
    '$out.download = [ordered]@{ resultCode = [int]$dl.ResultCode; hresult = (Hex $dl.HResult) };',
    'if ($dl.ResultCode -eq 2 -or $dl.ResultCode -eq 3) {',
    "$out.phase = 'install';",
    '$installer.Updates = $coll;',
    'try { $installer.ForceQuiet = $true } catch {};',
    '$res = $installer.Install();',
    '$out.install = [ordered]@{ resultCode = [int]$res.ResultCode; hresult = (Hex $res.HResult); rebootRequired = [bool]$res.RebootRequired };',
    '$out.updates = @(for ($i = 0; $i -lt $coll.Count; $i++) { $u = $coll.Item($i); $r = $res.GetUpdateResult($i); ' +
      '[pscustomobject]@{ kbs = @(Kbs $u); title = [string]$u.Title; version = (Ver $u); resultCode = [int]$r.ResultCode; ' +
      'hresult = (Hex $r.HResult); rebootRequired = [bool]$r.RebootRequired } });',
    "$out.phase = 'verify';",
    '$out.verified = @(Installed);',
    "$out.phase = 'done'",
    '}',
    '}',
    '}',
    '}',
    '} catch { $e = $_.Exception; while ($e.InnerException) { $e = $e.InnerException }; ' +
      '$out.error = [ordered]@{ hresult = (Hex $e.HResult); message = [string]$e.Message } };',
    'ConvertTo-Json -InputObject $out -Compress -Depth 5',
  ].join(' ');
}

export function windowsUpdatePowerShellArgs(kbs: readonly string[]): string[] {
  return ['-NoProfile', '-NonInteractive', '-Command', windowsUpdateScript(kbs)];
}

export type WindowsUpdatePhase = 'start' | 'busy' | 'search' | 'download' | 'install' | 'verify' | 'done';

export interface WindowsUpdateReport {
  requested: string[];
  phase: WindowsUpdatePhase;
  /** Wanted KBs neither offered nor installed. */
  missing: string[];
  /** Wanted KBs not offered because they are installed already. */
  alreadyInstalled: string[];
  download: { resultCode: number; hresult: string | null } | null;
  install: { resultCode: number; hresult: string | null; rebootRequired: boolean } | null;
  updates: Array<{ kbs: string[]; title: string; version: string; resultCode: number; hresult: string | null; rebootRequired: boolean }>;
  verified: Array<{ kb: string; title: string; version: string }>;
  error: { hresult: string | null; message: string } | null;
}

const PHASES = new Set<string>(['start', 'busy', 'search', 'download', 'install', 'verify', 'done']);

function str(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}

/** ConvertTo-Json in Windows PowerShell may print a lone value for a one-element array. */
function list(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

function strings(value: unknown): string[] {
  return list(value)
    .map(str)
    .filter((s) => s !== '');
}

function obj(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function int(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : -1;
}

/** '0x80240022' upper-cased, or null. */
function hresult(value: unknown): string | null {
  const s = str(value);
  return /^0x[0-9a-fA-F]{8}$/.test(s) ? `0x${s.slice(2).toUpperCase()}` : null;
}

/**
 * Parses what the script printed. Throws when it is not the script's JSON object: a script that ran
 * printed exactly one; anything else means PowerShell itself failed.
 */
export function parseWindowsUpdateReport(text: string): WindowsUpdateReport {
  const json = text.replace(/^\uFEFF/, '').trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error('PowerShell printed something that is not JSON', { cause: err });
  }
  const o = obj(parsed);
  if (!o || typeof o.phase !== 'string' || !PHASES.has(o.phase))
    throw new Error('PowerShell printed JSON that is not a Windows Update report');
  const download = obj(o.download);
  const install = obj(o.install);
  const error = obj(o.error);
  return {
    requested: strings(o.requested),
    phase: o.phase as WindowsUpdatePhase,
    missing: strings(o.missing),
    alreadyInstalled: strings(o.alreadyInstalled),
    download: download ? { resultCode: int(download.resultCode), hresult: hresult(download.hresult) } : null,
    install: install
      ? { resultCode: int(install.resultCode), hresult: hresult(install.hresult), rebootRequired: install.rebootRequired === true }
      : null,
    updates: list(o.updates).flatMap((u) => {
      const x = obj(u);
      if (!x) return [];
      return [
        {
          kbs: strings(x.kbs),
          title: str(x.title),
          version: str(x.version),
          resultCode: int(x.resultCode),
          hresult: hresult(x.hresult),
          rebootRequired: x.rebootRequired === true,
        },
      ];
    }),
    verified: list(o.verified).flatMap((v) => {
      const x = obj(v);
      const kb = str(x?.kb);
      return x && kb ? [{ kb, title: str(x.title), version: str(x.version) }] : [];
    }),
    error: error ? { hresult: hresult(error.hresult), message: str(error.message) } : null,
  };
}

/** '0x80240022 (WU_E_ALL_UPDATES_FAILED)', or just the code when it has no name here. */
export function describeHresult(code: string | null): string {
  if (code === null) return 'no error code';
  const name = HRESULT_NAMES[code];
  return name ? `${code} (${name})` : code;
}

const succeeded = (code: number): boolean => code === RESULT_CODE.succeeded || code === RESULT_CODE.succeededWithErrors;

/** The result of one run of the script: what the executor reports, as a pure function of the report. */
export function judgeWindowsUpdate(report: WindowsUpdateReport, kbs: readonly string[], log: OutputTail): ExecutionResult {
  if (report.requested.length !== kbs.length || report.requested.some((kb, i) => kb !== kbs[i])) {
    return failed(log, 'command-failed', 'the Windows Update script reported on other updates than were asked for');
  }
  if (report.phase === 'busy' || (report.error && BUSY_HRESULTS.has(report.error.hresult ?? ''))) {
    return busy(log, 'another installation is in progress or Windows waits for a restart (WU_E_INSTALL_NOT_ALLOWED)');
  }
  const rebootRequired = (report.install?.rebootRequired ?? false) || report.updates.some((u) => u.rebootRequired);
  if (report.error) {
    const message = report.error.message ? `: ${report.error.message.slice(0, 300)}` : '';
    return failed(
      log,
      'command-failed',
      `Windows Update failed during ${report.phase}, ${describeHresult(report.error.hresult)}${message}`,
      {
        rebootRequired,
      },
    );
  }
  if (report.missing.length) {
    return failed(
      log,
      'not-available',
      `Windows Update does not offer ${report.missing.join(', ')} to this machine, and it is not installed`,
    );
  }
  if (report.download && !succeeded(report.download.resultCode)) {
    const code = report.download.resultCode === RESULT_CODE.aborted ? 'aborted' : 'command-failed';
    return failed(
      log,
      code,
      `downloading ${kbs.join(', ')} failed with result ${report.download.resultCode}, ${describeHresult(report.download.hresult)}`,
    );
  }
  if (report.phase !== 'done')
    return failed(log, 'command-failed', `the Windows Update script stopped during ${report.phase}`, { rebootRequired });
  if (report.install) {
    const bad = report.updates.filter((u) => !succeeded(u.resultCode));
    if (bad.length || !succeeded(report.install.resultCode)) {
      const each = bad.map((u) => `${u.kbs.join('/') || u.title}: result ${u.resultCode}, ${describeHresult(u.hresult)}`);
      const overall = `result ${report.install.resultCode}, ${describeHresult(report.install.hresult)}`;
      const code = report.install.resultCode === RESULT_CODE.aborted ? 'aborted' : 'command-failed';
      return failed(log, code, `installing ${kbs.join(', ')} failed (${overall})${each.length ? `: ${each.join('; ')}` : ''}`, {
        rebootRequired,
      });
    }
  }
  // Verification: each KB is installed now. One that the installer just put in and that waits for the
  // restart to finish counts too (its result said so); the inventory after the restart confirms it.
  const installed: InstalledVersion[] = [];
  const unverified: string[] = [];
  for (const kb of kbs) {
    const seen = report.verified.find((v) => v.kb === kb);
    const justInstalled = report.updates.find((u) => u.kbs.includes(kb) && succeeded(u.resultCode) && u.rebootRequired);
    if (seen) installed.push({ name: kb, version: seen.version || '0' });
    else if (justInstalled) installed.push({ name: kb, version: justInstalled.version || '0' });
    else unverified.push(kb);
  }
  if (unverified.length) {
    return failed(log, 'verify-mismatch', `not found among installed updates afterwards: ${unverified.join(', ')}`, {
      installed,
      rebootRequired,
    });
  }
  return { status: 'succeeded', installed, rebootRequired, output: log.toString() };
}

/**
 * Windows Update, for KB articles, through the Windows Update Agent's COM API (the one the Settings
 * app uses), against whatever the machine is configured for (Microsoft Update or WSUS). One script
 * run searches, downloads, installs and verifies all requested KBs together, which is how Windows
 * Update installs best (one servicing transaction, one restart). Winget ids are refused here; the
 * WindowsPackageExecutor sends them to winget.
 *
 * Windows Update offers one revision of a KB at a time, so a version cannot be chosen: a requested
 * version is accepted and not enforced, and `installed` reports the version really installed (the
 * "(Version …)" in Defender titles, else the revision number, as the updates collector names them).
 * Another installation in progress answers 'busy' after retrying for lockTimeoutSeconds.
 */
export class WindowsUpdateExecutor implements PackageExecutor {
  readonly ecosystem = 'windows' as const;
  private readonly command: string;
  private readonly clock: Clock;

  constructor(private readonly deps: WindowsUpdateExecutorDeps) {
    this.command = deps.command ?? 'powershell.exe';
    this.clock = deps.clock ?? systemClock;
  }

  upgrade(packages: readonly PackageRequest[], opts: UpgradeOptions): Promise<ExecutionResult> {
    return guardedUpgrade('windows', packages, opts, async (log) => {
      const notKb = packages.filter((p) => !KB_ARTICLE.test(p.name));
      if (notKb.length) {
        return failed(log, 'invalid-request', `not Windows Update articles (KB and 6 to 8 digits): ${notKb.map((p) => p.name).join(', ')}`);
      }
      if (opts.signal?.aborted) return failed(log, 'aborted', 'cancelled before anything was changed');
      const kbs = packages.map((p) => p.name);
      const args = windowsUpdatePowerShellArgs(kbs);
      const timeoutMs = this.deps.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS;
      const attempt = async (): Promise<ExecutionResult> => {
        const result = await runStep(this.deps.run, log, this.command, args, { timeoutMs });
        let report: WindowsUpdateReport;
        try {
          report = parseWindowsUpdateReport(result.stdout);
        } catch (error) {
          const detail = (result.stderr.trim().split(/\r?\n/)[0] ?? '').slice(0, 300);
          const how = result.code === 0 ? 'printed no report' : `exited with code ${result.code}`;
          throw new StepFailed('command-failed', `${this.command} ${how}${detail ? `: ${detail}` : ''}`, { cause: error });
        }
        return judgeWindowsUpdate(report, kbs, log);
      };
      return retryWhileBusy(attempt, (r) => r.status === 'busy', opts.lockTimeoutSeconds, this.clock, opts.signal);
    });
  }
}
