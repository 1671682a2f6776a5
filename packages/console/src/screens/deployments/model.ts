import type { Json } from '../../api/client';
import type { DeploymentProgress } from '../../api/live';

/**
 * Pure logic of the deployment screens: states, which actions a state allows, package specs
 * (`name`, `name=version`, `name>=version`) and merging live progress into a fetched deployment.
 */

export type Deployment = Json<'/api/v1/deployments/{id}', 'get'>;
export type DeploymentListItem = Json<'/api/v1/deployments', 'get'>['items'][number];

/** The deployment states, in lifecycle order (packages/server/src/rollouts/types.ts). */
export const DEPLOYMENT_STATES = [
  'draft',
  'awaiting_approval',
  'approved',
  'scheduled',
  'running',
  'paused',
  'halted',
  'completed',
  'aborted',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

export const FINAL_STATES: readonly string[] = ['completed', 'aborted'];

/** Per-host assignment states (packages/server/src/rollouts/types.ts). */
export const HOST_STATES = ['pending', 'offered', 'deferred', 'running', 'succeeded', 'failed', 'expired', 'unreached'] as const;

export function isFinal(state: string): boolean {
  return FINAL_STATES.includes(state);
}

export type DeploymentAction = 'approve' | 'pause' | 'resume' | 'retryFailed' | 'abort';

/**
 * The actions the state machine accepts in `state` (TRANSITIONS in rollouts/lifecycle.ts) that the
 * user's permissions allow. Retry failed is offered only when some host failed (the server refuses
 * it otherwise).
 */
export function availableActions(state: string, failed: number, can: (permission: string) => boolean): DeploymentAction[] {
  const out: DeploymentAction[] = [];
  const manage = can('deployments:manage');
  if (state === 'awaiting_approval' && can('deployments:approve')) out.push('approve');
  if (manage && state === 'running') out.push('pause');
  if (manage && (state === 'paused' || state === 'halted')) out.push('resume');
  if (manage && failed > 0 && (state === 'running' || state === 'paused' || state === 'halted')) out.push('retryFailed');
  if (manage && !isFinal(state)) out.push('abort');
  return out;
}

// ------------------------------------------------------------------------------------ packages

export interface PackageSpec {
  name: string;
  /** A pinned version (`name=version`). */
  version?: string;
  /** The least version that counts as done (`name>=version`); the host installs its candidate. */
  minVersion?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** What the API accepts for a name or version: 1-128 printable ASCII characters, no spaces. */
const TOKEN = /^[\x21-\x7e]{1,128}$/;

/**
 * Parses `name`, `name=version` or `name>=version` (the CLI's --packages grammar). The server checks
 * names and versions against the ecosystem's own grammar; this only catches what cannot be sent.
 */
export function parsePackageSpec(text: string): Parsed<PackageSpec> {
  const s = text.trim();
  if (s === '') return { ok: false, reason: 'the package is empty' };
  const min = s.indexOf('>=');
  const eq = s.indexOf('=');
  let name: string;
  let version: string | undefined;
  let minVersion: string | undefined;
  if (min >= 0 && min < eq) {
    name = s.slice(0, min);
    minVersion = s.slice(min + 2);
  } else if (eq >= 0) {
    name = s.slice(0, eq);
    version = s.slice(eq + 1);
  } else name = s;
  if (name === '') return { ok: false, reason: `${JSON.stringify(s)} has no package name` };
  if (!TOKEN.test(name) || /[<>=]/.test(name))
    return { ok: false, reason: `${JSON.stringify(name)} is not a package name (printable ASCII without spaces, < > or =)` };
  const v = version ?? minVersion;
  if (v !== undefined) {
    if (v === '') return { ok: false, reason: `${JSON.stringify(s)} has no version after the ${minVersion !== undefined ? '>=' : '='}` };
    if (!TOKEN.test(v) || v.startsWith('='))
      return { ok: false, reason: `${JSON.stringify(v)} is not a version (printable ASCII without spaces)` };
  }
  return {
    ok: true,
    value: { name, ...(version !== undefined ? { version } : {}), ...(minVersion !== undefined ? { minVersion } : {}) },
  };
}

/** Parses a comma- or whitespace-separated list of package specs; every problem is listed. */
export function parsePackageList(text: string): { packages: PackageSpec[]; problems: string[] } {
  const packages: PackageSpec[] = [];
  const problems: string[] = [];
  for (const part of text.split(/[\s,]+/)) {
    if (part === '') continue;
    const r = parsePackageSpec(part);
    if (r.ok) packages.push(r.value);
    else problems.push(r.reason);
  }
  return { packages, problems };
}

/** The spec as the operator writes it: `name`, `name=version` or `name>=version`. */
export function formatPackageSpec(p: { name: string; version?: string | null; minVersion?: string | undefined }): string {
  if (p.version) return `${p.name}=${p.version}`;
  if (p.minVersion) return `${p.name}>=${p.minVersion}`;
  return p.name;
}

/** Adds packages to a list; a name already listed is replaced (the server refuses a name twice). */
export function addPackages(list: readonly PackageSpec[], added: readonly PackageSpec[]): PackageSpec[] {
  const out = [...list];
  for (const p of added) {
    const i = out.findIndex((q) => q.name === p.name);
    if (i >= 0) out[i] = p;
    else out.push(p);
  }
  return out;
}

// ------------------------------------------------------------------------------ live progress

/** The deployment with a live progress frame applied: state, reason, summary and per-wave counts. */
export function applyProgress(d: Deployment, p: DeploymentProgress): Deployment {
  const byIndex = new Map(p.waves.map((w) => [w.index, w]));
  return {
    ...d,
    state: p.state,
    stateReason: p.stateReason,
    summary: p.summary,
    waves: d.waves.map((w) => {
      const live = byIndex.get(w.index);
      return live ? { ...w, state: live.state, hostCount: live.hostCount, counts: live.counts } : w;
    }),
  };
}

/**
 * How much of the deployment a progress frame makes stale: 'all' when the state or a wave's state
 * changed (or waves appeared: the detail's per-host rows, timeline and times are out of date),
 * 'hosts' when only counts moved (per-host rows changed), 'none' when nothing did.
 */
export function progressChange(d: Deployment, p: DeploymentProgress): 'all' | 'hosts' | 'none' {
  if (d.state !== p.state || d.stateReason !== p.stateReason || d.waves.length !== p.waves.length) return 'all';
  const byIndex = new Map(d.waves.map((w) => [w.index, w]));
  let counts = false;
  for (const w of p.waves) {
    const old = byIndex.get(w.index);
    if (!old || old.state !== w.state) return 'all';
    if (old.hostCount !== w.hostCount || !sameCounts(old.counts, w.counts)) counts = true;
  }
  if (!counts && !sameCounts(d.summary, p.summary)) counts = true;
  return counts ? 'hosts' : 'none';
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
}

/** Segments of a wave's progress bar, in the order drawn; hosts not yet done make up the rest. */
export const PROGRESS_SEGMENTS = ['succeeded', 'failed', 'expired', 'unreached', 'running', 'offered', 'deferred'] as const;

/** Share (0..100) of a wave's hosts in each segment, and how many are done. */
export function waveProgress(counts: Record<string, number>, hostCount: number) {
  const total = Math.max(hostCount, 0);
  const n = (k: string) => (Number.isFinite(counts[k]) ? Math.max(0, counts[k] ?? 0) : 0);
  const done = n('succeeded') + n('failed') + n('expired');
  const segments = PROGRESS_SEGMENTS.map((state) => ({
    state,
    count: n(state),
    percent: total > 0 ? Math.min(100, (n(state) / total) * 100) : 0,
  })).filter((s) => s.count > 0);
  return { done, total, percentDone: total > 0 ? Math.round((done / total) * 100) : 0, segments };
}

/** "1 h 5 min", "3 d 2 h", "45 s": how long a deployment spent in a state. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}
