/**
 * Pure logic of the host page: tabs, the "Deploy updates" link, and validation of what the
 * operator types before it is sent (the server checks again). Tested in host-logic.test.ts.
 */
import { formatBytes } from '../../ui/format';
import { visibleText } from '../../ui/SafeText';

export const HOST_TABS = [
  { id: 'packages', name: 'Packages' },
  { id: 'findings', name: 'Findings' },
  { id: 'compliance', name: 'Compliance' },
  { id: 'updates', name: 'Updates' },
  { id: 'history', name: 'History' },
] as const;
export type HostTab = (typeof HOST_TABS)[number]['id'];

/** The tab named in the URL, or the first one. */
export function parseTab(value: string | null | undefined): HostTab {
  return HOST_TABS.find((t) => t.id === value)?.id ?? 'packages';
}

/** Package names and versions as POST /api/v1/deployments takes them (printable ASCII, 1-128). */
const DEPLOYABLE = /^[\x21-\x7e]{1,128}$/;
/** The most packages one deployment takes. */
export const MAX_DEPLOY_PACKAGES = 500;

export interface PendingUpdate {
  name: string;
  candidateVersion: string;
  security?: boolean;
}

/**
 * The link that opens the new-deployment form for this host with these updates:
 * `/deployments/new?hosts=<id>&packages=<name>=<version>,...`. An update the deployment API would
 * refuse, or one whose name or version holds the list's separators (`,` `=`), is left out rather
 * than sent mangled; null when nothing is left.
 */
export function deployUpdatesHref(hostId: string, updates: readonly PendingUpdate[]): string | null {
  const seen = new Set<string>();
  const packages: string[] = [];
  for (const u of updates) {
    if (!DEPLOYABLE.test(u.name) || !DEPLOYABLE.test(u.candidateVersion)) continue;
    if (/[,=]/.test(u.name) || u.candidateVersion.includes(',')) continue;
    if (seen.has(u.name)) continue;
    seen.add(u.name);
    packages.push(`${u.name}=${u.candidateVersion}`);
    if (packages.length === MAX_DEPLOY_PACKAGES) break;
  }
  if (packages.length === 0) return null;
  const params = new URLSearchParams({ hosts: hostId, packages: packages.join(',') });
  return `/deployments/new?${params.toString()}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Groups as typed (comma or newline separated) -> the PUT /hosts/{id}/groups body's list. */
export function parseGroups(text: string): Parsed<string[]> {
  const groups: string[] = [];
  for (const raw of text.split(/[,\n]/)) {
    const g = raw.trim();
    if (g === '') continue;
    if (CONTROL.test(g)) return { ok: false, error: `Group "${visibleText(g)}" holds a control character.` };
    if (g.length > 100) return { ok: false, error: `Group "${visibleText(g.slice(0, 20))}…" is longer than 100 characters.` };
    if (!groups.includes(g)) groups.push(g);
  }
  if (groups.length > 100) return { ok: false, error: 'A host can be in at most 100 groups.' };
  return { ok: true, value: groups };
}

export interface RiskBody {
  riskTier?: number | null;
  site?: string | null;
}

/**
 * The PUT /hosts/{id}/risk body from the form, which shows the host's own tier and site: 'inherit'
 * clears the tier (the host takes its groups' highest), '1'-'5' sets it; an empty site clears it.
 */
export function riskBody(tier: string, site: string): Parsed<RiskBody> {
  const body: RiskBody = {};
  if (tier === 'inherit') body.riskTier = null;
  else if (/^[1-5]$/.test(tier)) body.riskTier = Number(tier);
  else return { ok: false, error: 'The risk tier is 1 to 5 or inherited from the groups.' };
  const s = site.trim();
  if (s === '') body.site = null;
  else if (CONTROL.test(s)) return { ok: false, error: 'The site holds a control character.' };
  else if (s.length > 100) return { ok: false, error: 'The site is longer than 100 characters.' };
  else body.site = s;
  return { ok: true, value: body };
}

/** A quarantine reason as POST /hosts/{id}/quarantine takes it (1-500 characters, no control characters). */
export function parseReason(text: string): Parsed<string> {
  const r = text.trim();
  if (r === '') return { ok: false, error: 'Say why the host is isolated.' };
  if (CONTROL.test(r)) return { ok: false, error: 'The reason holds a control character.' };
  if (r.length > 500) return { ok: false, error: 'The reason is longer than 500 characters.' };
  return { ok: true, value: r };
}

export interface Hardware {
  vendor?: string;
  model?: string;
  serial?: string;
  cpu?: string;
  cores?: number;
  memoryBytes?: number;
}

/** Hardware facts as short lines ("Dell Inc. PowerEdge R640", "Xeon Gold × 16 cores", "64.0 GiB"); raw text, for <SafeText>. */
export function hardwareLines(hw: Hardware | null | undefined): string[] {
  if (!hw) return [];
  const lines: string[] = [];
  const machine = [hw.vendor, hw.model].filter((s): s is string => !!s).join(' ');
  if (machine) lines.push(machine);
  const cpu = [hw.cpu, hw.cores ? `${hw.cores} ${hw.cores === 1 ? 'core' : 'cores'}` : undefined].filter((s): s is string => !!s);
  if (cpu.length > 0) lines.push(cpu.join(' × '));
  if (typeof hw.memoryBytes === 'number') lines.push(`${formatBytes(hw.memoryBytes)} memory`);
  if (hw.serial) lines.push(`serial ${hw.serial}`);
  return lines;
}

/**
 * Whether the host's last quarantine order isolates it (delivered or not, whatever the agent made
 * of it): the action offered is then Release; the server refuses a second isolate.
 */
export function isIsolated(q: { action: string | null } | null | undefined): boolean {
  return q?.action === 'isolate';
}

/** The badge class of a quarantine state. */
export function quarantineBadge(state: string): string {
  return state === 'isolated'
    ? 'badge badge-bad'
    : state === 'pending'
      ? 'badge badge-warn'
      : state === 'failed' || state === 'refused'
        ? 'badge badge-warn'
        : 'badge';
}
