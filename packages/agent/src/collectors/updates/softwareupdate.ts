import { type CommandRunner, stdoutOf } from '../../run-command.js';
import type { RawUpdate } from './normalize-updates.js';

// Absolute path: /usr/sbin is not on every PATH, and a PATH lookup as root would let a writable
// directory earlier on PATH substitute the tool.
export const SOFTWAREUPDATE = '/usr/sbin/softwareupdate';
export const SOFTWAREUPDATE_ARGS = ['--list'] as const;

/** The keys softwareupdate prints on an item's detail line (macOS 10.15 and later). */
const DETAIL_KEY = /, (?=(?:Version|Size|Recommended|Action|Deferred):)/;

/** Security content Apple names as such: "Rapid Security Response", "Background Security Improvement", "Security Update 2024-001". */
const SECURITY_TITLE = /\bsecurity\b/i;

/** Splits `Title: macOS Sonoma 14.4.1, Version: 14.4.1, Size: 7512304KiB, Recommended: YES, Action: restart,` into its fields. */
export function parseDetailLine(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  const body = line.trim().replace(/,$/, '');
  for (const part of body.split(DETAIL_KEY)) {
    const colon = part.indexOf(': ');
    if (colon > 0) fields.set(part.slice(0, colon), part.slice(colon + 2).trim());
  }
  return fields;
}

/**
 * Parses `softwareupdate --list` of macOS 10.15 and later (13 and 14 included): per item a
 * `* Label: <label>` line, then a tab-indented detail line with Title, Version, Size,
 * Recommended and, when installing restarts or shuts down the Mac, Action. The label is what
 * `softwareupdate --install` takes, so it is the name; Apple says nothing about security except
 * in the title of its security-only releases, which is all that is marked. Items without a
 * version are skipped; the older (10.14) format has no labels and is not read.
 */
export function parseSoftwareUpdateList(text: string): RawUpdate[] {
  const updates: RawUpdate[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const label = /^\s*\* Label: (.+)$/.exec(lines[i] as string)?.[1]?.trim();
    if (!label) continue;
    const detail = lines[i + 1];
    if (detail === undefined || !/^\s+Title: /.test(detail)) continue;
    i++;
    const fields = parseDetailLine(detail);
    const version = fields.get('Version');
    if (!version) continue;
    const title = fields.get('Title') ?? '';
    const action = fields.get('Action')?.toLowerCase();
    updates.push({
      manager: 'softwareupdate',
      kind: 'patch',
      name: label,
      arch: '',
      candidateVersion: version,
      title,
      security: SECURITY_TITLE.test(title) || SECURITY_TITLE.test(label),
      rebootLikely: action === 'restart' || action === 'shut down',
    });
  }
  return updates;
}

/**
 * Pending macOS updates. softwareupdate contacts Apple's (or the configured) catalogue; "No new
 * software available." goes to stderr with exit 0, which parses to nothing.
 */
export async function collectSoftwareUpdates(run: CommandRunner): Promise<RawUpdate[]> {
  const result = await run(SOFTWAREUPDATE, SOFTWAREUPDATE_ARGS, { timeoutMs: 600_000 });
  return parseSoftwareUpdateList(stdoutOf(SOFTWAREUPDATE, result));
}
