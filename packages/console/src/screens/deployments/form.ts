import type { Body } from '../../api/client';
import { addPackages, formatPackageSpec, type PackageSpec, parsePackageList, parsePackageSpec } from './model';

/**
 * The new-deployment form: its state, its prefill from the query string (other screens link to
 * /deployments/new?packages=…&hosts=…&groups=…&name=…) and the POST /api/v1/deployments body it
 * stands for. The same body goes to /deployments/preview; a preview is valid for exactly that body.
 */

export type CreateBody = Body<'/api/v1/deployments', 'post'>;

export const ECOSYSTEMS = ['dpkg', 'rpm', 'apk', 'windows', 'macos'] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];
export const REBOOT_POLICIES = ['never', 'if-required', 'always'] as const;
export type RebootPolicy = (typeof REBOOT_POLICIES)[number];

/** The API's limits (deployments-routes.ts CreateBody). */
export const MAX_WAVES = 20;
export const MAX_BAKE_MINUTES = 43_200;
export const MAX_DEADLINE_HOURS = 24 * 90;

/** One wave as edited: numbers stay text until the body is built, so a half-typed value is kept. */
export interface WaveForm {
  /** Stable React key; not sent. */
  key: string;
  name: string;
  /** A cumulative share of the hosts left after group waves, or every target in one group. */
  mode: 'percent' | 'group';
  percent: string;
  group: string;
  bakeMinutes: string;
  /** Percent (0-100) of the hosts that ran which must succeed; the API takes 0..1. */
  successThreshold: string;
}

export interface DeploymentForm {
  name: string;
  /** Package specs as typed: `name`, `name=version`, `name>=version`, separated by commas or lines. */
  packages: string;
  hostIds: string[];
  groups: string[];
  /** Empty: the server's single wave over every target. */
  waves: WaveForm[];
  critical: boolean;
  emergency: boolean;
  ecosystem: Ecosystem;
  rebootPolicy: RebootPolicy;
  /** A datetime-local value (the operator's time zone); empty: as soon as approved. */
  startAt: string;
  /** Hours after creation; empty: no deadline. */
  deadlineHours: string;
}

/** Server defaults (rollouts/spec.ts WAVE_DEFAULTS). */
export const WAVE_DEFAULTS = { bakeMinutes: '60', successThreshold: '95' } as const;

let waveKeys = 0;
export function newWave(init: Partial<Omit<WaveForm, 'key'>> = {}): WaveForm {
  waveKeys += 1;
  return {
    key: `w${waveKeys}`,
    name: '',
    mode: 'percent',
    percent: '100',
    group: '',
    bakeMinutes: WAVE_DEFAULTS.bakeMinutes,
    successThreshold: WAVE_DEFAULTS.successThreshold,
    ...init,
  };
}

export function emptyForm(): DeploymentForm {
  return {
    name: '',
    packages: '',
    hostIds: [],
    groups: [],
    waves: [],
    critical: false,
    emergency: false,
    ecosystem: 'dpkg',
    rebootPolicy: 'never',
    startAt: '',
    deadlineHours: '',
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Control characters: what the API refuses in names. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above
const CONTROL_RUNS = /[\u0000-\u001f\u007f]+/g;

function list(value: string | null): string[] {
  return [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}

const truthy = (v: string | null) => v === '1' || v === 'true' || v === 'yes';

/**
 * The form as another screen's link prefills it: packages=a,b>=1.2,c=3 hosts=ID,ID groups=g,h
 * name=… ecosystem=rpm critical=1 emergency=1 reboot=if-required. What cannot be used is reported,
 * never silently dropped.
 */
export function formFromQuery(params: URLSearchParams): { form: DeploymentForm; problems: string[] } {
  const form = emptyForm();
  const problems: string[] = [];
  let packages: PackageSpec[] = [];
  for (const item of list(params.get('packages'))) {
    const r = parsePackageSpec(item);
    if (r.ok) packages = addPackages(packages, [r.value]);
    else problems.push(`packages: ${r.reason}`);
  }
  form.packages = packages.map(formatPackageSpec).join(', ');
  for (const id of list(params.get('hosts'))) {
    if (UUID.test(id)) form.hostIds.push(id.toLowerCase());
    else problems.push(`hosts: ${JSON.stringify(id)} is not a host id`);
  }
  for (const g of list(params.get('groups'))) {
    if (g.length <= 100 && !CONTROL.test(g)) form.groups.push(g);
    else problems.push(`groups: ${JSON.stringify(g)} is not a group name`);
  }
  const name = params.get('name');
  if (name !== null && name.trim() !== '') form.name = name.replace(CONTROL_RUNS, ' ').slice(0, 200);
  else if (packages.length > 0) form.name = defaultName(packages);
  const eco = params.get('ecosystem');
  if (eco !== null) {
    if ((ECOSYSTEMS as readonly string[]).includes(eco)) form.ecosystem = eco as Ecosystem;
    else problems.push(`ecosystem: ${JSON.stringify(eco)} is not one of ${ECOSYSTEMS.join(', ')}`);
  }
  const reboot = params.get('reboot');
  if (reboot !== null) {
    if ((REBOOT_POLICIES as readonly string[]).includes(reboot)) form.rebootPolicy = reboot as RebootPolicy;
    else problems.push(`reboot: ${JSON.stringify(reboot)} is not one of ${REBOOT_POLICIES.join(', ')}`);
  }
  form.critical = truthy(params.get('critical'));
  form.emergency = truthy(params.get('emergency'));
  return { form, problems };
}

/** "Update openssl, curl and 3 more". */
export function defaultName(packages: readonly PackageSpec[]): string {
  const names = packages.map((p) => p.name);
  const head = names.slice(0, 3).join(', ');
  return names.length > 3 ? `Update ${head} and ${names.length - 3} more` : `Update ${head}`;
}

/** A query string that opens the form with these prefills (the inverse of formFromQuery). */
export function newDeploymentQuery(prefill: {
  packages?: readonly PackageSpec[];
  hostIds?: readonly string[];
  groups?: readonly string[];
  name?: string;
  ecosystem?: string;
}): string {
  const q = new URLSearchParams();
  if (prefill.packages?.length) q.set('packages', prefill.packages.map(formatPackageSpec).join(','));
  if (prefill.hostIds?.length) q.set('hosts', prefill.hostIds.join(','));
  if (prefill.groups?.length) q.set('groups', prefill.groups.join(','));
  if (prefill.name) q.set('name', prefill.name);
  if (prefill.ecosystem && prefill.ecosystem !== 'dpkg') q.set('ecosystem', prefill.ecosystem);
  return q.toString();
}

function number(text: string): number | null {
  const t = text.trim();
  if (t === '' || !/^\d+(\.\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * The create body the form stands for, or every problem the browser can see (the server checks the
 * rest: package grammar, unknown hosts, empty wave groups, approval). Defaults are left out, so the
 * body says only what the operator chose.
 */
export function buildCreateBody(form: DeploymentForm): { ok: true; body: CreateBody } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const name = form.name.trim();
  if (name === '') problems.push('Name is required');
  else if (name.length > 200) problems.push('Name must be at most 200 characters');
  else if (CONTROL.test(name)) problems.push('Name must not contain control characters');
  const parsed = parsePackageList(form.packages);
  problems.push(...parsed.problems.map((p) => `Packages: ${p}`));
  const packages = parsed.packages;
  const names = new Set<string>();
  for (const p of packages) {
    if (names.has(p.name)) problems.push(`Packages: ${p.name} is listed twice`);
    names.add(p.name);
  }
  if (packages.length === 0 && parsed.problems.length === 0) problems.push('Add at least one package');
  if (packages.length > 500) problems.push('At most 500 packages');
  if (form.hostIds.length === 0 && form.groups.length === 0) problems.push('Choose at least one host or group as the target');
  if (form.waves.length > MAX_WAVES) problems.push(`At most ${MAX_WAVES} waves`);

  const waves: NonNullable<CreateBody['waves']> = [];
  form.waves.forEach((w, i) => {
    const at = `Wave ${i + 1}`;
    const wave: NonNullable<CreateBody['waves']>[number] = {};
    const wname = w.name.trim();
    if (wname !== '') {
      if (wname.length > 100) problems.push(`${at}: the name must be at most 100 characters`);
      wave.name = wname;
    }
    if (w.mode === 'group') {
      const g = w.group.trim();
      if (g === '') problems.push(`${at}: choose its group`);
      else if (g.length > 100) problems.push(`${at}: the group name must be at most 100 characters`);
      else wave.group = g;
    } else {
      const p = number(w.percent);
      if (p === null || p <= 0 || p > 100) problems.push(`${at}: the share must be a number above 0 and at most 100`);
      else wave.percent = p;
    }
    const bake = number(w.bakeMinutes);
    if (bake === null || !Number.isInteger(bake) || bake > MAX_BAKE_MINUTES)
      problems.push(`${at}: the bake time must be a whole number of minutes from 0 to ${MAX_BAKE_MINUTES}`);
    else wave.bakeMinutes = bake;
    const threshold = number(w.successThreshold);
    if (threshold === null || threshold > 100) problems.push(`${at}: the success threshold must be a percentage from 0 to 100`);
    else wave.successThreshold = Math.round(threshold * 100) / 10_000;
    waves.push(wave);
  });

  let startAt: string | undefined;
  if (form.startAt.trim() !== '') {
    const t = new Date(form.startAt);
    if (Number.isNaN(t.getTime())) problems.push('Start at is not a valid date and time');
    else startAt = t.toISOString();
  }
  let deadlineHours: number | undefined;
  if (form.deadlineHours.trim() !== '') {
    const h = number(form.deadlineHours);
    if (h === null || h <= 0 || h > MAX_DEADLINE_HOURS)
      problems.push(`Deadline must be a number of hours above 0 and at most ${MAX_DEADLINE_HOURS}`);
    else deadlineHours = h;
  }
  if (problems.length > 0) return { ok: false, problems };

  const body: CreateBody = {
    name,
    packages: packages.map((p) => ({
      name: p.name,
      ...(p.version !== undefined ? { version: p.version } : {}),
      ...(p.minVersion !== undefined ? { minVersion: p.minVersion } : {}),
    })),
    targets: {
      ...(form.hostIds.length > 0 ? { hostIds: [...form.hostIds] } : {}),
      ...(form.groups.length > 0 ? { groups: [...form.groups] } : {}),
    },
    ...(waves.length > 0 ? { waves } : {}),
    ...(form.critical ? { critical: true } : {}),
    ...(form.emergency ? { emergency: true } : {}),
    ...(form.ecosystem !== 'dpkg' ? { ecosystem: form.ecosystem } : {}),
    ...(form.rebootPolicy !== 'never' ? { rebootPolicy: form.rebootPolicy } : {}),
    ...(deadlineHours !== undefined ? { deadlineHours } : {}),
    ...(startAt !== undefined ? { startAt } : {}),
  };
  return { ok: true, body };
}

/** Moves the wave at `from` one place up (-1) or down (+1); out of range changes nothing. */
export function moveWave(waves: readonly WaveForm[], from: number, by: -1 | 1): WaveForm[] {
  const to = from + by;
  if (from < 0 || from >= waves.length || to < 0 || to >= waves.length) return [...waves];
  const out = [...waves];
  const [w] = out.splice(from, 1);
  if (w) out.splice(to, 0, w);
  return out;
}

/** A canary plan: a small share first, then everyone left (cumulative shares, the last is 100). */
export function canaryWaves(): WaveForm[] {
  return [newWave({ name: 'canary', percent: '10' }), newWave({ name: 'rest', percent: '100' })];
}

/** The packages text with `name` added, unless a spec of that name is already in it. */
export function appendPackage(text: string, name: string): string {
  const { packages } = parsePackageList(text);
  if (packages.some((p) => p.name === name)) return text;
  const t = text.trim().replace(/,$/, '');
  return t === '' ? name : `${t}, ${name}`;
}
