// Windows Firewall cannot run on the Linux test machine. The JSON outputs in __fixtures__/windows/
// that the tests play back were RECONSTRUCTED by hand in the shape the scripts below print (with the
// NetSecurity module's documented error messages); they were NOT captured on a Windows machine.
import type { ActionResult, FirewallControl, FirewallState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { type AllowList, addressesOutside, parseAllowList, portsOutside, QuarantineRequestError } from './allow-list.js';
import { exitFailure, oneLine, runFirewallCommand } from './firewall-command.js';

/** The rule group every quarantine rule carries: the release removes exactly this group. */
export const WINDOWS_RULE_GROUP = 'Brier Quarantine';
/**
 * Profile states from before the isolation ride in the rules' Description, so the release restores
 * them even after an agent restart (and they vanish with the rules): "brier-saved-profiles:Domain=True,…".
 */
export const SAVED_PROFILES_PREFIX = 'brier-saved-profiles:';

export interface WindowsFirewallDeps {
  run: CommandRunner;
  /** Default `powershell.exe` (Windows PowerShell 5.1 has the NetSecurity module everywhere). */
  command?: string;
  state?: () => Promise<FirewallState>;
}

const quoted = (items: readonly string[]) => `@(${items.map((i) => `'${i}'`).join(',')})`;

/** Common head and tail: errors stop the script and come back as one JSON object. */
function wrap(body: string[]): string {
  return [
    "$ErrorActionPreference = 'Stop';",
    'try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch {};',
    `$g = '${WINDOWS_RULE_GROUP}';`,
    'try {',
    ...body,
    '} catch { ConvertTo-Json -Compress -InputObject ([ordered]@{ ok = $false; error = [string]$_.Exception.Message }) }',
  ].join(' ');
}

/**
 * The isolation script. Windows Firewall lets any matching allow rule through unless a block rule
 * matches too (block wins), and Windows ships many outbound allow rules, so a block-by-default
 * policy alone would not isolate anything. Instead the rules block every address except the allowed
 * ones and loopback (as address ranges), in both directions; with ports, TCP to the allowed
 * addresses on other ports and all their UDP are blocked as well. Every profile is switched on,
 * since rules of a disabled profile do nothing; the profiles' earlier state is saved first (kept
 * from the previous rules on a re-isolation, so a second isolation cannot overwrite it with "all on").
 */
export function windowsIsolateScript(allowList: AllowList): string {
  const outside = addressesOutside(allowList);
  const allowed = [...allowList.v4, ...allowList.v6];
  if (allowed.length === 0) throw new QuarantineRequestError('no allowed address');
  const rule = (name: string, rest: string) =>
    `New-NetFirewallRule -Group $g -DisplayName 'Brier quarantine: ${name}' -Description $saved -Action Block ${rest} | Out-Null;`;
  const rules = [
    rule('block outbound', `-Direction Outbound -RemoteAddress ${quoted(outside)}`),
    rule('block inbound', `-Direction Inbound -RemoteAddress ${quoted(outside)}`),
  ];
  const otherPorts = portsOutside(allowList.ports);
  if (otherPorts.length > 0) {
    rules.push(
      rule(
        'block other TCP ports of the server',
        `-Direction Outbound -Protocol TCP -RemoteAddress ${quoted(allowed)} -RemotePort ${quoted(otherPorts)}`,
      ),
      rule(
        'block TCP from the server',
        `-Direction Inbound -Protocol TCP -RemoteAddress ${quoted(allowed)} -RemotePort ${quoted(otherPorts)}`,
      ),
      rule('block UDP to the server', `-Direction Outbound -Protocol UDP -RemoteAddress ${quoted(allowed)}`),
      rule('block UDP from the server', `-Direction Inbound -Protocol UDP -RemoteAddress ${quoted(allowed)}`),
    );
  }
  return wrap([
    '$old = @(Get-NetFirewallRule -Group $g -ErrorAction SilentlyContinue);',
    `$saved = if ($old.Count -gt 0 -and ([string]$old[0].Description).StartsWith('${SAVED_PROFILES_PREFIX}')) { [string]$old[0].Description } ` +
      `else { '${SAVED_PROFILES_PREFIX}' + ((Get-NetFirewallProfile | ForEach-Object { $_.Name + '=' + [string]$_.Enabled }) -join ',') };`,
    'if ($old.Count -gt 0) { $old | Remove-NetFirewallRule };',
    ...rules,
    'Set-NetFirewallProfile -All -Enabled True;',
    '$now = @(Get-NetFirewallRule -Group $g);',
    'ConvertTo-Json -Compress -InputObject ([ordered]@{ ok = $true; rules = $now.Count; saved = $saved })',
  ]);
}

/** Restores the saved profile states (only known names and values), then removes the group. */
export function windowsReleaseScript(): string {
  return wrap([
    '$old = @(Get-NetFirewallRule -Group $g -ErrorAction SilentlyContinue);',
    '$restored = @();',
    'if ($old.Count -gt 0) {',
    '$d = [string]$old[0].Description;',
    `if ($d.StartsWith('${SAVED_PROFILES_PREFIX}')) { foreach ($p in $d.Substring(${SAVED_PROFILES_PREFIX.length}).Split(',')) { $kv = $p.Split('=');`,
    "if ($kv.Count -eq 2 -and @('Domain','Private','Public') -contains $kv[0] -and @('True','False') -contains $kv[1]) { Set-NetFirewallProfile -Name $kv[0] -Enabled $kv[1]; $restored += $p } } };",
    '$old | Remove-NetFirewallRule',
    '};',
    'ConvertTo-Json -Compress -InputObject ([ordered]@{ ok = $true; removed = $old.Count; restored = $restored })',
  ]);
}

/** Counts the group's enabled block rules and lists disabled profiles. */
export function windowsIsolatedScript(): string {
  return wrap([
    "$r = @(Get-NetFirewallRule -Group $g -ErrorAction SilentlyContinue | Where-Object { [string]$_.Enabled -eq 'True' -and [string]$_.Action -eq 'Block' });",
    "$off = @(Get-NetFirewallProfile | Where-Object { [string]$_.Enabled -ne 'True' } | ForEach-Object { [string]$_.Name });",
    'ConvertTo-Json -Compress -InputObject ([ordered]@{ ok = $true; blockRules = $r.Count; disabledProfiles = $off })',
  ]);
}

export const powerShellArgs = (script: string): string[] => ['-NoProfile', '-NonInteractive', '-Command', script];

type Reply = { ok: true; [key: string]: unknown } | { ok: false; error: string };

/** The script's one JSON object; anything else means PowerShell itself failed. */
export function parseReply(stdout: string): Reply | undefined {
  try {
    const parsed: unknown = JSON.parse(stdout.replace(/^\uFEFF/, '').trim());
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const record = parsed as Record<string, unknown>;
    if (record.ok === true) return record as Reply;
    if (record.ok === false) return { ok: false, error: typeof record.error === 'string' ? record.error : 'unknown error' };
    return undefined;
  } catch {
    return undefined;
  }
}

/** ConvertTo-Json in Windows PowerShell 5.1 prints a one-element array as a lone value. */
function strings(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return items.filter((v): v is string => typeof v === 'string');
}

/**
 * Quarantine with Windows Firewall (NetSecurity cmdlets through Windows PowerShell): block rules in
 * the group WINDOWS_RULE_GROUP; the release restores the profiles' saved state and removes the group.
 * Addresses and ports reach the script only after parseAllowList, and are re-formatted from numbers.
 */
export class WindowsFirewall implements FirewallControl {
  readonly kind = 'windows-firewall';
  private readonly command: string;

  constructor(private readonly deps: WindowsFirewallDeps) {
    this.command = deps.command ?? 'powershell.exe';
  }

  async state(): Promise<FirewallState> {
    if (this.deps.state) return this.deps.state();
    return { enabled: false, detail: 'firewall state not inspected by the quarantine control' };
  }

  private async script(script: string): Promise<{ reply: Reply & { ok: true }; failure?: undefined } | { failure: ActionResult }> {
    const { result, failure } = await runFirewallCommand(this.deps.run, this.command, powerShellArgs(script));
    if (failure) return { failure };
    const reply = parseReply(result.stdout);
    if (!reply)
      return {
        failure:
          result.code !== 0
            ? exitFailure(this.command, result)
            : { ok: false, code: 'command-failed', detail: 'unreadable PowerShell output' },
      };
    if (!reply.ok) return { failure: { ok: false, code: 'command-failed', detail: oneLine(reply.error) } };
    return { reply };
  }

  async isolate(allow: readonly string[], ports: readonly number[]): Promise<ActionResult> {
    let script: string;
    try {
      script = windowsIsolateScript(parseAllowList(allow, ports));
    } catch (err) {
      if (err instanceof QuarantineRequestError) return { ok: false, code: err.code, detail: err.message };
      throw err;
    }
    const answer = await this.script(script);
    if (answer.failure) return answer.failure;
    return {
      ok: true,
      detail: `Windows Firewall: ${Number(answer.reply.rules)} block rules in group '${WINDOWS_RULE_GROUP}'; only ${allow.join(', ')} and loopback pass`,
    };
  }

  async release(): Promise<ActionResult> {
    const answer = await this.script(windowsReleaseScript());
    if (answer.failure) return answer.failure;
    const restored = strings(answer.reply.restored);
    return {
      ok: true,
      detail: `Windows Firewall: ${Number(answer.reply.removed)} rules of group '${WINDOWS_RULE_GROUP}' removed${restored.length > 0 ? `; profiles restored (${restored.join(', ')})` : ''}`,
    };
  }

  /** At least the two address block rules are on, in no disabled profile. Throws when PowerShell cannot tell. */
  async isolated(): Promise<boolean> {
    const answer = await this.script(windowsIsolatedScript());
    if (answer.failure) {
      if (answer.failure.code === 'tool-missing') return false;
      throw new Error(answer.failure.detail);
    }
    return Number(answer.reply.blockRules) >= 2 && strings(answer.reply.disabledProfiles).length === 0;
  }
}
