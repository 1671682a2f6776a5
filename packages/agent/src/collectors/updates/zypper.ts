import { CommandError, type CommandResult, type CommandRunner } from '../../run-command.js';
import type { RawUpdate } from './normalize-updates.js';

export const ZYPPER_PACKAGE_ARGS = ['--non-interactive', '--xmlout', 'list-updates', '-t', 'package'] as const;
export const ZYPPER_PATCH_ARGS = ['--non-interactive', '--xmlout', 'list-updates', '-t', 'patch'] as const;

/**
 * zypper's informational exit codes (ZYPPER_EXIT_INF_*): updates or security updates needed,
 * reboot or package-manager restart needed, some repositories skipped (could not be refreshed,
 * the rest still answered). The listing is complete in all of them; 1-8 are errors.
 */
const ZYPPER_OK_CODES = new Set([0, 100, 101, 102, 103, 106]);

/** Patch states (zypper's `textPatchStatus`) that mean "not to be installed": done, irrelevant, or locked by the admin. */
const SKIPPED_PATCH_STATUS = new Set(['applied', 'not-needed', 'unwanted']);

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Resolves XML's five named entities and numeric character references; unknown ones stay as written. */
export function xmlUnescape(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref] ?? whole;
  });
}

/** Attributes of one start tag (`name="v"` or `name='v'`), unescaped; the first of a repeated name wins. */
export function xmlAttributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of tag.matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    const key = m[1] as string;
    if (!attrs.has(key)) attrs.set(key, xmlUnescape(m[2] ?? m[3] ?? ''));
  }
  return attrs;
}

/** Text content of the first `<name>` child (escaped markup in zypper's text never contains a raw '<'). */
function childText(body: string, name: string): string | undefined {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(body);
  return m ? xmlUnescape(m[1] as string) : undefined;
}

interface XmlUpdate {
  attrs: Map<string, string>;
  body: string;
}

/**
 * Every `<update>` element of zypper's XML stream, wherever it sits (`update-list`, or
 * `blocked-update-list` when patches to the package manager itself must go first). zypper prints
 * this fixed, shallow vocabulary and escapes all text, so a small scanner does; it is not a general
 * XML parser and does not try to be.
 */
function xmlUpdates(xml: string): XmlUpdate[] {
  const found: XmlUpdate[] = [];
  for (const m of xml.matchAll(/<update\s([^>]*?)(\/>|>([\s\S]*?)<\/update>)/g)) {
    found.push({ attrs: xmlAttributes(m[1] as string), body: m[3] ?? '' });
  }
  return found;
}

/**
 * Parses `zypper --xmlout list-updates -t package`: one `<update kind="package">` per upgradable
 * installed package with the candidate `edition` and, when it differs, the installed
 * `edition-old`. `source alias` is the repository. zypper does not say which patch a package
 * update belongs to, so package entries are never marked security: the patch entries are.
 */
export function parseZypperPackages(xml: string): RawUpdate[] {
  const updates: RawUpdate[] = [];
  for (const { attrs, body } of xmlUpdates(xml)) {
    if (attrs.get('kind') !== 'package') continue;
    const name = attrs.get('name');
    const edition = attrs.get('edition');
    if (!name || !edition) continue;
    const source = /<source\s([^>]*)>/.exec(body);
    updates.push({
      manager: 'zypper',
      kind: 'package',
      name,
      arch: attrs.get('arch') ?? '',
      // Absent when only the arch changes (noarch <-> x86_64): then the edition is the installed one.
      installedVersion: attrs.get('edition-old') ?? edition,
      candidateVersion: edition,
      origin: source ? xmlAttributes(source[1] as string).get('alias') : undefined,
      security: false,
    });
  }
  return updates;
}

/**
 * Parses `zypper --xmlout list-updates -t patch`: one `<update kind="patch">` per applicable
 * patch. A SUSE patch is the unit SUSE publishes fixes in (`zypper patch`), so it is reported as
 * an update of kind `patch`: security by `category`, its name and CVE references as advisories,
 * `restart="true"` (reboot suggested) as rebootLikely. Patches already applied, not needed or
 * locked are skipped.
 */
export function parseZypperPatches(xml: string): RawUpdate[] {
  const updates: RawUpdate[] = [];
  for (const { attrs, body } of xmlUpdates(xml)) {
    if (attrs.get('kind') !== 'patch') continue;
    const name = attrs.get('name');
    const edition = attrs.get('edition');
    if (!name || !edition || SKIPPED_PATCH_STATUS.has(attrs.get('status') ?? '')) continue;
    const cves: string[] = [];
    for (const issue of body.matchAll(/<issue\s([^>]*?)\/?>/g)) {
      const issueAttrs = xmlAttributes(issue[1] as string);
      const id = issueAttrs.get('id');
      if (issueAttrs.get('type') === 'cve' && id) cves.push(id);
    }
    const source = /<source\s([^>]*)>/.exec(body);
    updates.push({
      manager: 'zypper',
      kind: 'patch',
      name,
      arch: attrs.get('arch') ?? '',
      candidateVersion: edition,
      origin: source ? xmlAttributes(source[1] as string).get('alias') : undefined,
      title: childText(body, 'summary'),
      security: attrs.get('category') === 'security',
      advisories: [name, ...cves],
      rebootLikely: attrs.get('restart') === 'true',
    });
  }
  return updates;
}

/** zypper's XML on an accepted exit code; otherwise a CommandError quoting its `<message type="error">` or stderr. */
function zypperXml(result: CommandResult): string {
  if (result.code !== null && ZYPPER_OK_CODES.has(result.code)) return result.stdout;
  const message = /<message\s[^>]*type="error"[^>]*>([^<]*)<\/message>/.exec(result.stdout)?.[1];
  const detail = (message ? xmlUnescape(message) : result.stderr).trim().slice(0, 500);
  const how = result.code === null ? 'was killed by a signal' : `exited with code ${result.code}`;
  throw new CommandError('EXIT', 'zypper', `zypper ${how}${detail ? `: ${detail}` : ''}`);
}

/** Pending zypper package updates and patches. Rejects with ENOENT when zypper is not installed. */
export async function collectZypper(run: CommandRunner): Promise<RawUpdate[]> {
  const env = { ...process.env, LC_ALL: 'C' };
  const packages = parseZypperPackages(zypperXml(await run('zypper', ZYPPER_PACKAGE_ARGS, { timeoutMs: 600_000, env })));
  const patches = parseZypperPatches(zypperXml(await run('zypper', ZYPPER_PATCH_ARGS, { timeoutMs: 600_000, env })));
  return [...packages, ...patches];
}
