import type { Body, Json } from '../../api/client';

/**
 * The policy editor's model. Rules are the agent's wire schema (packages/protocol desired-state.ts
 * PolicyRule), as the server's OpenAPI document types them; the form holds every field as the
 * inputs do (strings, a checkbox) and converts both ways. The checks here mirror the wire schema so
 * the operator hears about a bad name before saving; the server checks again and has the last word.
 */

export type PolicyBody = Body<'/api/v1/policies', 'post'>;
export type PolicyRule = PolicyBody['rules'][number];
export type RuleKind = PolicyRule['kind'];
export type Policy = Json<'/api/v1/policies/{id}', 'get'>;
type Antivirus = Extract<PolicyRule, { kind: 'antivirus' }>;
export type AvProvider = Antivirus['provider'];

export const RULE_KINDS: ReadonlyArray<{ kind: RuleKind; label: string }> = [
  { kind: 'package-installed', label: 'Package installed' },
  { kind: 'package-absent', label: 'Package absent' },
  { kind: 'service-running', label: 'Service running' },
  { kind: 'antivirus', label: 'Antivirus healthy' },
  { kind: 'firewall-enabled', label: 'Firewall enabled' },
  { kind: 'file-present', label: 'File present' },
];

export const AV_PROVIDERS: ReadonlyArray<{ value: AvProvider; label: string }> = [
  { value: 'auto', label: 'Automatic (what the host has)' },
  { value: 'clamav', label: 'ClamAV' },
  { value: 'defender', label: 'Microsoft Defender' },
  { value: 'xprotect', label: 'XProtect' },
];

export const MAX_RULES = 100;
export const MAX_QUARANTINE_AFTER_MINUTES = 7 * 24 * 60;
export const DEFAULT_INTERVAL_MINUTES = 15;

export interface RuleForm {
  kind: RuleKind;
  /** Package or service name. */
  name: string;
  /** package-installed: the least version, or empty for any. */
  minVersion: string;
  /** service-running: also start it at boot. */
  enable: boolean;
  provider: AvProvider;
  /** antivirus: empty for the agent's default (48). */
  maxSignatureAgeHours: string;
  path: string;
  sha256: string;
}

export function emptyRule(kind: RuleKind = 'package-installed'): RuleForm {
  return { kind, name: '', minVersion: '', enable: true, provider: 'auto', maxSignatureAgeHours: '', path: '', sha256: '' };
}

export function ruleToForm(rule: PolicyRule): RuleForm {
  const form = emptyRule(rule.kind);
  switch (rule.kind) {
    case 'package-installed':
      return { ...form, name: rule.name, minVersion: rule.minVersion ?? '' };
    case 'package-absent':
      return { ...form, name: rule.name };
    case 'service-running':
      return { ...form, name: rule.name, enable: rule.enable !== false };
    case 'antivirus':
      return {
        ...form,
        provider: rule.provider,
        maxSignatureAgeHours: rule.maxSignatureAgeHours === undefined ? '' : String(rule.maxSignatureAgeHours),
      };
    case 'firewall-enabled':
      return form;
    case 'file-present':
      return { ...form, path: rule.path, sha256: rule.sha256 };
  }
}

// The wire schema's patterns (desired-state.ts).
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+@:~-]*$/;
const VERSION = /^[\x21-\x7e]+$/;
const SHA256 = /^[0-9a-f]{64}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const ABSOLUTE_PATH = /^(\/|[A-Za-z]:\\)(?!.*(^|[\\/])\.\.([\\/]|$))[^\u0000-\u001f\u007f]*$/;
const PROVIDERS = new Set<string>(AV_PROVIDERS.map((p) => p.value));

function wholeNumber(text: string, min: number, max: number): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

function checkName(name: string, what: string, problems: string[]): void {
  if (name.length === 0) problems.push(`${what} is required`);
  else if (name.length > 256) problems.push(`${what} is at most 256 characters`);
  else if (!NAME.test(name)) problems.push(`${what} must start with a letter or digit and hold only letters, digits and . _ + @ : ~ -`);
}

export type Converted<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** The rule a form describes, or what is wrong with it. */
export function formToRule(form: RuleForm): Converted<PolicyRule> {
  const problems: string[] = [];
  const name = form.name.trim();
  switch (form.kind) {
    case 'package-installed': {
      checkName(name, 'Package name', problems);
      const min = form.minVersion.trim();
      if (min !== '' && (min.length > 256 || !VERSION.test(min)))
        problems.push('Minimum version must be printable characters without spaces');
      if (problems.length > 0) return { ok: false, problems };
      return { ok: true, value: { kind: 'package-installed', name, ...(min === '' ? {} : { minVersion: min }) } };
    }
    case 'package-absent':
      checkName(name, 'Package name', problems);
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { kind: 'package-absent', name } };
    case 'service-running':
      checkName(name, 'Service name', problems);
      if (problems.length > 0) return { ok: false, problems };
      // `enable` defaults to true on the agent: written only when it is off.
      return { ok: true, value: { kind: 'service-running', name, ...(form.enable ? {} : { enable: false }) } };
    case 'antivirus': {
      if (!PROVIDERS.has(form.provider)) problems.push('Choose an antivirus provider');
      const raw = form.maxSignatureAgeHours.trim();
      const hours = raw === '' ? undefined : wholeNumber(raw, 1, 8760);
      if (hours === null) problems.push('Maximum signature age must be a whole number of hours from 1 to 8760');
      if (problems.length > 0 || hours === null) return { ok: false, problems };
      return {
        ok: true,
        value: { kind: 'antivirus', provider: form.provider, ...(hours === undefined ? {} : { maxSignatureAgeHours: hours }) },
      };
    }
    case 'firewall-enabled':
      return { ok: true, value: { kind: 'firewall-enabled' } };
    case 'file-present': {
      // Not trimmed: a space is a legal part of a file name, and the check below refuses a leading one.
      const path = form.path;
      const sha256 = form.sha256.trim().toLowerCase();
      if (path.length < 2 || path.length > 1024 || !ABSOLUTE_PATH.test(path))
        problems.push('Path must be absolute (/… or C:\\…), without .. segments or control characters');
      if (!SHA256.test(sha256)) problems.push('SHA-256 must be 64 hexadecimal characters');
      if (problems.length > 0) return { ok: false, problems };
      return { ok: true, value: { kind: 'file-present', path, sha256 } };
    }
  }
}

/** One line describing a rule, for lists (the caller renders it through SafeText: names are input). */
export function describeRule(rule: PolicyRule): string {
  switch (rule.kind) {
    case 'package-installed':
      return rule.minVersion ? `${rule.name} installed, version ≥ ${rule.minVersion}` : `${rule.name} installed`;
    case 'package-absent':
      return `${rule.name} not installed`;
    case 'service-running':
      return `service ${rule.name} running${rule.enable === false ? '' : ' and enabled at boot'}`;
    case 'antivirus':
      return `antivirus (${rule.provider}) healthy, signatures at most ${rule.maxSignatureAgeHours ?? 48} h old`;
    case 'firewall-enabled':
      return 'firewall enabled';
    case 'file-present':
      return `${rule.path} present with SHA-256 ${rule.sha256}`;
  }
}

export interface PolicyForm {
  name: string;
  mode: 'audit' | 'enforce';
  intervalMinutes: string;
  quarantineAfterMinutes: string;
  hostIds: string[];
  groups: string[];
  rules: RuleForm[];
}

export function newPolicyForm(): PolicyForm {
  return {
    name: '',
    mode: 'audit',
    intervalMinutes: String(DEFAULT_INTERVAL_MINUTES),
    quarantineAfterMinutes: '',
    hostIds: [],
    groups: [],
    rules: [emptyRule()],
  };
}

export function policyToForm(
  policy: Pick<Policy, 'name' | 'mode' | 'intervalMinutes' | 'quarantineAfterMinutes' | 'targets' | 'rules'>,
): PolicyForm {
  return {
    name: policy.name,
    mode: policy.mode,
    intervalMinutes: String(policy.intervalMinutes),
    quarantineAfterMinutes: policy.quarantineAfterMinutes === null ? '' : String(policy.quarantineAfterMinutes),
    hostIds: [...policy.targets.hostIds],
    groups: [...policy.targets.groups],
    rules: policy.rules.map(ruleToForm),
  };
}

/** The body of POST/PUT /policies, or every problem (rules numbered from 1, as the editor shows them). */
export function formToPolicy(form: PolicyForm): Converted<PolicyBody> {
  const problems: string[] = [];
  const name = form.name.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (name.length === 0 || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name))
    problems.push('Name must be 1 to 200 characters without control characters');
  const interval = wholeNumber(form.intervalMinutes, 1, 1440);
  if (interval === null) problems.push('Interval must be a whole number of minutes from 1 to 1440');
  const afterText = form.quarantineAfterMinutes.trim();
  const after = afterText === '' ? undefined : wholeNumber(afterText, 1, MAX_QUARANTINE_AFTER_MINUTES);
  if (after === null) problems.push(`Quarantine after must be a whole number of minutes from 1 to ${MAX_QUARANTINE_AFTER_MINUTES}`);
  if (form.rules.length === 0 || form.rules.length > MAX_RULES) problems.push(`A policy has 1 to ${MAX_RULES} rules`);
  const rules: PolicyRule[] = [];
  form.rules.forEach((r, i) => {
    const converted = formToRule(r);
    if (converted.ok) rules.push(converted.value);
    else for (const p of converted.problems) problems.push(`Rule ${i + 1}: ${p}`);
  });
  if (after !== undefined && after !== null && !form.rules.some((r) => r.kind === 'antivirus'))
    problems.push('Quarantine after needs an antivirus rule');
  if (problems.length > 0 || interval === null || after === null) return { ok: false, problems };
  const hostIds = [...new Set(form.hostIds)];
  const groups = [...new Set(form.groups.map((g) => g.trim()).filter((g) => g !== ''))];
  return {
    ok: true,
    value: {
      name,
      mode: form.mode,
      rules,
      targets: { hostIds, groups },
      intervalMinutes: interval,
      ...(after === undefined ? {} : { quarantineAfterMinutes: after }),
    },
  };
}
