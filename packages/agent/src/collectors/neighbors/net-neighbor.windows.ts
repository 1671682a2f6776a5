import { type CommandRunner, stdoutOf } from '../../run-command.js';
import { NeighborsError } from './neighbors-error.js';
import type { RawNeighbor } from './normalize-neighbors.js';

/**
 * `Get-NetNeighbor` (IPv4 and IPv6, every interface) as JSON. Only the four properties used are
 * selected: a whole CIM instance serialises its class metadata too. `State` is converted to its
 * name here, since ConvertTo-Json prints enums as numbers. `-InputObject` (not the pipeline) keeps
 * a one-element list an array; output is UTF-8 without BOM; single quotes only, as double quotes do
 * not survive the Windows command line on their way to `-Command`.
 */
export const GET_NET_NEIGHBOR_SCRIPT = [
  "$ErrorActionPreference = 'Stop'",
  'try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch {}',
  "$list = @(Get-NetNeighbor | Select-Object IPAddress, LinkLayerAddress, InterfaceAlias, @{ Name = 'State'; Expression = { [string]$_.State } })",
  'ConvertTo-Json -InputObject $list -Compress',
].join('; ');

export const GET_NET_NEIGHBOR_POWERSHELL_ARGS = ['-NoProfile', '-NonInteractive', '-Command', GET_NET_NEIGHBOR_SCRIPT] as const;

/** MSFT_NetNeighbor.State values, for output that still carries the number. */
const STATE_BY_NUMBER = ['UNREACHABLE', 'INCOMPLETE', 'PROBE', 'DELAY', 'STALE', 'REACHABLE', 'PERMANENT'] as const;

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function stateOf(value: unknown): string {
  if (typeof value === 'number') return STATE_BY_NUMBER[value] ?? 'UNKNOWN';
  return text(value).trim().toUpperCase() || 'UNKNOWN';
}

/**
 * Parses the script's JSON (an array, or a bare object from older PowerShell versions). Windows
 * writes MACs as `00-15-5D-01-02-03`, lists unresolved entries with `00-00-00-00-00-00` or an
 * empty address and its Unreachable/Incomplete state, and multicast groups as Permanent entries:
 * all left for the normaliser to skip. Throws NeighborsError `malformed` when it is not JSON.
 */
export function parseGetNetNeighbor(output: string): RawNeighbor[] {
  const json = output.replace(/^\uFEFF/, '').trim();
  if (json === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new NeighborsError('malformed', 'Get-NetNeighbor printed something that is not JSON', { cause: err });
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const entries: RawNeighbor[] = [];
  for (const item of items) {
    if (item === null || typeof item !== 'object') continue;
    const e = item as Record<string, unknown>;
    entries.push({ ip: text(e.IPAddress), mac: text(e.LinkLayerAddress), interface: text(e.InterfaceAlias), state: stateOf(e.State) });
  }
  return entries;
}

export async function collectWindowsNeighbors(run: CommandRunner): Promise<RawNeighbor[]> {
  const result = await run('powershell.exe', GET_NET_NEIGHBOR_POWERSHELL_ARGS, { timeoutMs: 60_000, maxOutputBytes: 32 * 1024 * 1024 });
  return parseGetNetNeighbor(stdoutOf('powershell.exe', result));
}
