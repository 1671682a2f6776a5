import { type CommandRunner, stdoutOf } from '../../run-command.js';
import type { RawUpdate } from './normalize-updates.js';

/**
 * Asks the Windows Update Agent (the COM API the Settings app uses) for updates that are not
 * installed and not hidden by an administrator; searching changes nothing. It searches against
 * whatever the machine is configured for (Microsoft Update or WSUS), so it can take minutes.
 * Output is forced to UTF-8 without BOM, and the script holds only single quotes: double quotes do
 * not survive the Windows command line on their way to `-Command`. `-InputObject` (not the
 * pipeline) keeps a one-element list an array.
 */
export const WINDOWS_UPDATE_SCRIPT = [
  "$ErrorActionPreference = 'Stop'",
  'try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch {}',
  '$searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()',
  "$result = $searcher.Search('IsInstalled=0 and IsHidden=0')",
  '$list = @(foreach ($u in $result.Updates) { [pscustomobject]@{ ' +
    'Title = $u.Title; UpdateID = $u.Identity.UpdateID; RevisionNumber = $u.Identity.RevisionNumber; ' +
    'KBArticleIDs = @($u.KBArticleIDs); MsrcSeverity = $u.MsrcSeverity; CveIDs = @($u.CveIDs); ' +
    'Categories = @(foreach ($c in $u.Categories) { $c.Name }); CategoryIDs = @(foreach ($c in $u.Categories) { $c.CategoryID }); ' +
    'RebootBehavior = $u.InstallationBehavior.RebootBehavior } })',
  'ConvertTo-Json -InputObject $list -Compress -Depth 3',
].join('; ');

export const WINDOWS_UPDATE_POWERSHELL_ARGS = ['-NoProfile', '-NonInteractive', '-Command', WINDOWS_UPDATE_SCRIPT] as const;

/** The "Security Updates" classification; its Name is localised, its id is not. */
const SECURITY_CATEGORY_ID = '0fa1201d-4330-4fa8-8ae9-b877473b6441';
/** InstallationBehavior.RebootBehavior: 0 never reboots, 1 always requires a reboot, 2 can request one. */
const NEVER_REBOOTS = 0;

function text(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}

/** ConvertTo-Json prints a lone value, not a one-element array, in some PowerShell versions. */
function texts(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.map(text).filter((t) => t !== '');
}

/**
 * Parses the script's JSON. An update is named by its KB article (`KB5034441`, what operators and
 * MSRC advisories use) or, without one, by its UpdateID. Windows updates have no version, so the
 * candidate version is the one in a "(Version 1.403.1234.0)" title (Defender's intelligence
 * updates reuse one KB for every release) or else the update's revision number. Security: an MSRC
 * severity, or the Security Updates classification.
 */
export function parseWindowsUpdates(textOut: string): RawUpdate[] {
  const json = textOut.replace(/^\uFEFF/, '').trim();
  if (json === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error('PowerShell printed something that is not JSON', { cause: err });
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const updates: RawUpdate[] = [];
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const u = item as Record<string, unknown>;
    const title = text(u.Title);
    const kbs = texts(u.KBArticleIDs).map((kb) => (/^kb/i.test(kb) ? `KB${kb.slice(2)}` : `KB${kb}`));
    const name = kbs[0] ?? text(u.UpdateID);
    if (name === '') continue;
    const version = /\(Version ([0-9][0-9A-Za-z.-]*)\)/.exec(title)?.[1] ?? text(u.RevisionNumber);
    if (version === '') continue;
    const severity = text(u.MsrcSeverity);
    const categoryIds = texts(u.CategoryIDs).map((id) => id.toLowerCase());
    const rebootBehavior = typeof u.RebootBehavior === 'number' ? u.RebootBehavior : undefined;
    updates.push({
      manager: 'windows-update',
      kind: 'patch',
      name,
      arch: '',
      candidateVersion: version,
      title,
      security: severity !== '' || categoryIds.includes(SECURITY_CATEGORY_ID),
      advisories: [...kbs, ...texts(u.CveIDs)],
      rebootLikely: rebootBehavior === undefined ? undefined : rebootBehavior !== NEVER_REBOOTS,
    });
  }
  return updates;
}

/** Pending Windows updates. Rejects with ENOENT where there is no powershell.exe, EXIT when the search fails. */
export async function collectWindowsUpdates(run: CommandRunner): Promise<RawUpdate[]> {
  const result = await run('powershell.exe', WINDOWS_UPDATE_POWERSHELL_ARGS, { timeoutMs: 900_000 });
  return parseWindowsUpdates(stdoutOf('powershell.exe', result));
}
