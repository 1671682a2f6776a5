import type { FirewallState } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { attempt, firstLineOf, oneLine } from '../services/action-result.js';
import { powershellArgs } from '../services/windows.windows.js';

/**
 * Enabled is a GpoBoolean enum, which ConvertTo-Json prints as a number; the calculated property
 * makes it a JSON boolean. The parser accepts both anyway.
 */
export const FIREWALL_PROFILES_SCRIPT =
  "Get-NetFirewallProfile | Select-Object Name,@{Name='Enabled';Expression={[string]$_.Enabled -eq 'True'}} | ConvertTo-Json -Compress";

export interface FirewallProfile {
  name: string;
  enabled: boolean;
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || (typeof value === 'string' && value.toLowerCase() === 'true');
}

/** Parses the script's JSON: an array of profiles, or one object when there is one. */
export function parseFirewallProfiles(text: string): FirewallProfile[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, '').trim());
  } catch (err) {
    throw new Error('Get-NetFirewallProfile printed something that is not JSON', { cause: err });
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const profiles: FirewallProfile[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    if (typeof record.Name !== 'string') continue;
    profiles.push({ name: record.Name, enabled: truthy(record.Enabled) });
  }
  return profiles;
}

/** Windows Firewall is on when every profile (Domain, Private, Public) is: a laptop moves between them. */
export async function windowsFirewallState(run: CommandRunner, powershell = 'powershell.exe'): Promise<FirewallState> {
  const ran = await attempt(run, powershell, powershellArgs(FIREWALL_PROFILES_SCRIPT), { timeoutMs: 60_000 });
  if (ran.failure) return { enabled: false, detail: `Windows Firewall: ${ran.failure.detail}` };
  if (ran.result.code !== 0)
    return { enabled: false, detail: oneLine(`Windows Firewall: Get-NetFirewallProfile failed: ${firstLineOf(ran.result)}`) };
  let profiles: FirewallProfile[];
  try {
    profiles = parseFirewallProfiles(ran.result.stdout);
  } catch (err) {
    return { enabled: false, detail: `Windows Firewall: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (profiles.length === 0) return { enabled: false, detail: 'Windows Firewall: no profiles reported' };
  return {
    enabled: profiles.every((p) => p.enabled),
    detail: `Windows Firewall: ${profiles.map((p) => `${p.name} ${p.enabled ? 'on' : 'off'}`).join(', ')}`,
  };
}
