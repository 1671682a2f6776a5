import { readFile } from 'node:fs/promises';
import { AV_PROVIDERS, RULE_KINDS } from '@brier/protocol';
import { ApiError, isRecord } from '../api-client.js';
import {
  type CliIo,
  choiceOption,
  commandGroup,
  idSegment,
  intOption,
  printResult,
  SERVER_JSON_HELP,
  SERVER_JSON_OPTIONS,
  SERVER_ONLY_HELP,
  UsageError,
  withParsedArgs,
} from '../command.js';
import { cell, formatFields, formatTable, isUnsafeCodePoint, timestamp } from '../output.js';
import { deleteByIdSubcommand, listSubcommand } from '../resource-commands.js';

/** A policy as GET /policies lists it; fields are read defensively since the server may be newer. */
export interface PolicyView {
  id: string;
  name: string;
  mode: string;
  version: number;
  rules: Array<Record<string, unknown> & { kind: string }>;
  targets: { hostIds?: string[]; groups?: string[] };
  intervalMinutes: number;
  quarantineAfterMinutes?: number | null;
  createdBy?: string;
  updatedAt: string;
}

export type StatusCountsView = Partial<Record<'compliant' | 'noncompliant' | 'remediated' | 'error' | 'unknown' | 'total', number>>;

/** GET /policies/{id}: the policy and how the hosts it targets comply, per host and per rule. */
export interface PolicyDetailView extends PolicyView {
  compliance?: { hosts?: StatusCountsView; rules?: Array<StatusCountsView & { index: number; kind: string }> };
}

/** What POST and PUT /policies send. */
export interface PolicyInputView {
  name: string;
  mode: 'audit' | 'enforce';
  rules: Array<Record<string, unknown>>;
  targets: { hostIds?: string[]; groups?: string[] };
  intervalMinutes?: number;
  quarantineAfterMinutes?: number;
}

const MODES = ['audit', 'enforce'] as const;
/** The server's bounds (protocol HostPolicy, policies service). */
const MAX_NAME = 200;
const MAX_RULES = 100;
const MAX_INTERVAL_MINUTES = 1440;
const MAX_SIGNATURE_AGE_HOURS = 8760;

const usage = `Usage: brier policies <command> [options]

Desired state: named, versioned sets of rules assigned to groups and hosts. Agents evaluate them
on their own schedule, online or not; 'audit' reports, 'enforce' also remediates.

Commands:
  list           All policies
  show ID        One policy: rules, targets and how its hosts comply
  create         Create a policy from a JSON file or from flags
  update ID      Replace a policy from a JSON file (its version goes up)
  delete ID      Delete a policy; its hosts stop enforcing it

Run 'brier policies <command> --help' for its options.
`;

const listUsage = `Usage: brier policies list [--json]

List the policies with their mode, version, rules and targets.

Options:
${SERVER_JSON_HELP}
`;

const showUsage = `Usage: brier policies show ID [--json]

Show one policy: its rules, targets, schedule and how the hosts it targets comply.

Options:
${SERVER_JSON_HELP}
`;

const createUsage = `Usage: brier policies create --file POLICY.json [--json]
       brier policies create --name NAME --mode audit|enforce (--rule JSON … | --antivirus PROVIDER)
                             [--max-signature-age-hours N] [--groups G[,G…]] [--hosts ID[,ID…]]
                             [--interval-minutes N] [--quarantine-after-minutes N] [--json]

Create a policy. Agents of the targeted hosts receive it signed and start evaluating it.

Options:
  --file FILE          The whole policy as JSON ('-' for stdin), e.g.
                       {"name": "AV", "mode": "enforce", "rules": [{"kind": "antivirus",
                        "provider": "auto"}], "targets": {"groups": ["laptops"]}}
  --name NAME          The policy's name
  --mode MODE          audit (report only) or enforce (remediate too)
  --rule JSON          One rule, repeatable, e.g. '{"kind": "service-running", "name": "ssh"}'.
                       Kinds: ${RULE_KINDS.join(', ')}
  --antivirus PROVIDER Add the rule "antivirus installed, running, signatures fresh":
                       ${AV_PROVIDERS.join(', ')}
  --max-signature-age-hours N
                       With --antivirus: signatures older than this are unhealthy (default 48)
  --groups LIST        Target host groups
  --hosts LIST         Target host ids
  --interval-minutes N Minutes between evaluations, 1-${MAX_INTERVAL_MINUTES} (default 15)
  --quarantine-after-minutes N
                       Request a quarantine (an approver decides) when the antivirus rule
                       stays unhealthy this long
${SERVER_JSON_HELP}
`;

const updateUsage = `Usage: brier policies update ID --file POLICY.json [--json]

Replace a policy with the one in the file (same format as 'brier policies create --file'). Its
version goes up and the targeted agents receive the new one.

Options:
  --file FILE          The whole policy as JSON ('-' for stdin)
${SERVER_JSON_HELP}
`;

const deleteUsage = `Usage: brier policies delete ID

Delete a policy. Its hosts receive a bundle without it and stop enforcing it.

Options:
${SERVER_ONLY_HELP}
`;

// ---------------------------------------------------------------------------------------------
// Input checks: all run before the server is contacted. The server checks the rules in full.

/** A name shown to people later: no control or bidi characters. */
function plainText(value: string, what: string, max: number, usageText: string): string {
  if (value.trim() === '') throw new UsageError(`${what} must not be empty`, usageText);
  if ([...value].length > max) throw new UsageError(`${what} is longer than ${max} characters`, usageText);
  if ([...value].some((ch) => isUnsafeCodePoint(ch.codePointAt(0) ?? 0))) {
    throw new UsageError(`${what} must not contain control characters`, usageText);
  }
  return value;
}

function splitList(value: string | undefined): string[] {
  return [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}

function boundedInt(name: string, value: string | undefined, min: number, max: number, usageText: string): number | undefined {
  const n = intOption(name, value, usageText, min);
  if (n !== undefined && n > max) throw new UsageError(`--${name} must be at most ${max}, got '${value}'`, usageText);
  return n;
}

/** One `--rule`: a JSON object of a known kind. */
function parseRule(text: string, usageText: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--rule: not JSON: ${err instanceof Error ? err.message : String(err)}`, usageText, { cause: err });
  }
  checkRule(value, '--rule', usageText);
  return value as Record<string, unknown>;
}

function checkRule(value: unknown, what: string, usageText: string): void {
  if (!isRecord(value)) throw new UsageError(`${what}: a rule is a JSON object with a "kind"`, usageText);
  if (typeof value.kind !== 'string' || !(RULE_KINDS as readonly string[]).includes(value.kind)) {
    throw new UsageError(`${what}: "kind" must be one of ${RULE_KINDS.join(', ')}, got ${JSON.stringify(value.kind ?? null)}`, usageText);
  }
}

/** A policy file's shape, checked here so a typo costs no request. */
export function parsePolicyFile(text: string, usageText: string): PolicyInputView {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--file: not JSON: ${err instanceof Error ? err.message : String(err)}`, usageText, { cause: err });
  }
  if (!isRecord(value)) throw new UsageError('--file: expected a JSON object with name, mode, rules and targets', usageText);
  if (typeof value.name !== 'string') throw new UsageError('--file: "name" must be a string', usageText);
  plainText(value.name, '--file: "name"', MAX_NAME, usageText);
  if (!(MODES as readonly unknown[]).includes(value.mode)) throw new UsageError('--file: "mode" must be "audit" or "enforce"', usageText);
  if (!Array.isArray(value.rules) || value.rules.length === 0 || value.rules.length > MAX_RULES) {
    throw new UsageError(`--file: "rules" must be a list of 1 to ${MAX_RULES} rules`, usageText);
  }
  for (const [i, rule] of value.rules.entries()) checkRule(rule, `--file: rules[${i}]`, usageText);
  if (value.targets !== undefined && !isRecord(value.targets)) {
    throw new UsageError('--file: "targets" must be an object with "hostIds" and/or "groups"', usageText);
  }
  return value as unknown as PolicyInputView;
}

async function readPolicyFile(path: string, io: CliIo, usageText: string): Promise<PolicyInputView> {
  let text: string;
  try {
    text = path === '-' ? await io.readStdin() : await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--file: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, usageText, { cause: err });
  }
  const input = parsePolicyFile(text, usageText);
  return { ...input, targets: input.targets ?? {} };
}

// ---------------------------------------------------------------------------------------------
// Rendering

function targetsCell(targets: PolicyView['targets'] | undefined): string {
  const t = isRecord(targets) ? targets : {};
  const parts: string[] = [];
  const groups = Array.isArray(t.groups) ? t.groups : [];
  const hosts = Array.isArray(t.hostIds) ? t.hostIds : [];
  if (groups.length > 0) parts.push(`groups ${groups.join(',')}`);
  if (hosts.length > 0) parts.push(`${hosts.length} host${hosts.length === 1 ? '' : 's'}`);
  return parts.length > 0 ? cell(parts.join('; ')) : 'none';
}

/** A rule in one line: its kind, then its settings (`antivirus provider=clamav maxSignatureAgeHours=24`). */
export function ruleSummary(rule: unknown): string {
  if (!isRecord(rule)) return cell(rule);
  const settings = Object.entries(rule)
    .filter(([key]) => key !== 'kind')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return cell([rule.kind, ...settings].join(' '));
}

function countsCell(c: StatusCountsView | undefined): string {
  if (!isRecord(c)) return '-';
  return `${cell(c.compliant ?? 0)} compliant, ${cell(c.noncompliant ?? 0)} noncompliant, ${cell(c.remediated ?? 0)} remediated, ${cell(c.error ?? 0)} error, ${cell(c.unknown ?? 0)} unknown`;
}

function renderPolicy(p: PolicyDetailView): string {
  const targets = isRecord(p.targets) ? p.targets : {};
  const fields: [string, string][] = [
    ['ID', cell(p.id)],
    ['Name', cell(p.name)],
    ['Mode', cell(p.mode)],
    ['Version', cell(p.version)],
    ['Interval', p.intervalMinutes === undefined ? '-' : `${cell(p.intervalMinutes)} min`],
    ['Quarantine after', p.quarantineAfterMinutes ? `${cell(p.quarantineAfterMinutes)} min of unhealthy antivirus` : 'never'],
    ['Groups', cell((Array.isArray(targets.groups) ? targets.groups : []).join(', '))],
    ['Hosts', cell((Array.isArray(targets.hostIds) ? targets.hostIds : []).join(', '))],
    ['Updated', timestamp(p.updatedAt)],
  ];
  if (p.createdBy !== undefined) fields.push(['Created by', cell(p.createdBy)]);
  const compliance = isRecord(p.compliance) ? p.compliance : undefined;
  if (compliance?.hosts) fields.push(['Hosts comply', `${countsCell(compliance.hosts)} (of ${cell(compliance.hosts.total ?? '-')})`]);
  const perRule = new Map((Array.isArray(compliance?.rules) ? compliance.rules : []).map((r) => [r.index, r]));
  const rules = Array.isArray(p.rules) ? p.rules : [];
  const rows = rules.map((rule, i) => {
    const c = perRule.get(i);
    return [String(i), ruleSummary(rule), cell(c?.compliant), cell(c?.noncompliant), cell(c?.remediated), cell(c?.error)];
  });
  return `${formatFields(fields)}\n${formatTable(['#', 'RULE', 'COMPLIANT', 'NONCOMPLIANT', 'REMEDIATED', 'ERROR'], rows)}`;
}

function renderSaved(action: string) {
  return (p: PolicyView) => `Policy ${cell(p.id)} (${cell(p.name)}) ${action}: version ${cell(p.version)}, ${cell(p.mode)}.\n`;
}

// ---------------------------------------------------------------------------------------------
// Sub-commands

const list = listSubcommand<PolicyView>({
  usage: listUsage,
  request: '/policies',
  headers: ['ID', 'NAME', 'MODE', 'VERSION', 'RULES', 'TARGETS', 'INTERVAL', 'UPDATED'],
  row: (p) => [
    cell(p.id),
    cell(p.name),
    cell(p.mode),
    cell(p.version),
    cell(Array.isArray(p.rules) ? p.rules.map((r) => (isRecord(r) ? r.kind : '?')).join(',') : undefined),
    targetsCell(p.targets),
    p.intervalMinutes === undefined ? '-' : `${cell(p.intervalMinutes)}m`,
    timestamp(p.updatedAt),
  ],
});

const show = withParsedArgs({ usage: showUsage, options: SERVER_JSON_OPTIONS, operands: ['ID'] }, async ({ values, positionals }, ctx) => {
  const path = `/policies/${idSegment(positionals[0] ?? '', showUsage)}`;
  const { client } = await ctx.session(values.server);
  const policy = await client.get<PolicyDetailView>(path);
  if (!isRecord(policy)) throw new ApiError({ title: 'Unexpected response from server', detail: 'expected a policy object' });
  return printResult(ctx, values.json, policy, renderPolicy);
});

const CREATE_OPTIONS = {
  ...SERVER_JSON_OPTIONS,
  file: { type: 'string' },
  name: { type: 'string' },
  mode: { type: 'string' },
  // parseArgs collects a repeated option into a list with `multiple`; OptionSpec does not model it,
  // so the value is read as `unknown` below.
  rule: { type: 'string', multiple: true },
  antivirus: { type: 'string' },
  'max-signature-age-hours': { type: 'string' },
  groups: { type: 'string' },
  hosts: { type: 'string' },
  'interval-minutes': { type: 'string' },
  'quarantine-after-minutes': { type: 'string' },
} as const;

const FLAG_ONLY = [
  'name',
  'mode',
  'rule',
  'antivirus',
  'max-signature-age-hours',
  'groups',
  'hosts',
  'interval-minutes',
  'quarantine-after-minutes',
] as const;

const create = withParsedArgs({ usage: createUsage, options: CREATE_OPTIONS }, async ({ values }, ctx) => {
  let input: PolicyInputView;
  if (values.file !== undefined) {
    const mixed = FLAG_ONLY.filter((flag) => values[flag] !== undefined);
    if (mixed.length > 0) throw new UsageError(`--file cannot be combined with --${mixed.join(', --')}`, createUsage);
    input = await readPolicyFile(values.file, ctx.io, createUsage);
  } else {
    input = policyFromFlags(values);
  }
  const { client } = await ctx.session(values.server);
  const policy = await client.post<PolicyView>('/policies', input);
  return printResult(ctx, values.json, policy, renderSaved('created'));
});

function policyFromFlags(values: { [K in keyof typeof CREATE_OPTIONS]?: unknown }): PolicyInputView {
  const str = (key: keyof typeof CREATE_OPTIONS) => (typeof values[key] === 'string' ? (values[key] as string) : undefined);
  const name = str('name');
  if (name === undefined) throw new UsageError('--name is required (or --file)', createUsage);
  const mode = choiceOption('mode', str('mode'), MODES, createUsage);
  if (mode === undefined) throw new UsageError('--mode is required: audit or enforce', createUsage);
  const ruleTexts = Array.isArray(values.rule) ? (values.rule as string[]) : [];
  const rules = ruleTexts.map((text) => parseRule(text, createUsage));
  const provider = choiceOption('antivirus', str('antivirus'), AV_PROVIDERS, createUsage);
  const maxAge = boundedInt('max-signature-age-hours', str('max-signature-age-hours'), 1, MAX_SIGNATURE_AGE_HOURS, createUsage);
  if (maxAge !== undefined && provider === undefined) throw new UsageError('--max-signature-age-hours needs --antivirus', createUsage);
  if (provider !== undefined)
    rules.push({ kind: 'antivirus', provider, ...(maxAge !== undefined ? { maxSignatureAgeHours: maxAge } : {}) });
  if (rules.length === 0) throw new UsageError('a policy needs at least one --rule or --antivirus', createUsage);
  if (rules.length > MAX_RULES) throw new UsageError(`a policy holds at most ${MAX_RULES} rules`, createUsage);
  const groups = splitList(str('groups'));
  const hostIds = splitList(str('hosts'));
  for (const group of groups) plainText(group, '--groups', 100, createUsage);
  const interval = boundedInt('interval-minutes', str('interval-minutes'), 1, MAX_INTERVAL_MINUTES, createUsage);
  const quarantineAfter = intOption('quarantine-after-minutes', str('quarantine-after-minutes'), createUsage, 1);
  return {
    name: plainText(name, '--name', MAX_NAME, createUsage),
    mode,
    rules,
    targets: { ...(hostIds.length > 0 ? { hostIds } : {}), ...(groups.length > 0 ? { groups } : {}) },
    ...(interval !== undefined ? { intervalMinutes: interval } : {}),
    ...(quarantineAfter !== undefined ? { quarantineAfterMinutes: quarantineAfter } : {}),
  };
}

const update = withParsedArgs(
  { usage: updateUsage, options: { ...SERVER_JSON_OPTIONS, file: { type: 'string' } }, operands: ['ID'] },
  async ({ values, positionals }, ctx) => {
    const path = `/policies/${idSegment(positionals[0] ?? '', updateUsage)}`;
    if (values.file === undefined) throw new UsageError('--file is required', updateUsage);
    const input = await readPolicyFile(values.file, ctx.io, updateUsage);
    const { client } = await ctx.session(values.server);
    const policy = await client.put<PolicyView>(path, input);
    return printResult(ctx, values.json, policy, renderSaved('updated'));
  },
);

const remove = deleteByIdSubcommand({ usage: deleteUsage, collection: '/policies', noun: 'Policy', done: 'deleted' });

export const policiesCommand = commandGroup({
  name: 'policies',
  summary: 'Create, list, show, update and delete desired-state policies',
  usage,
  subcommands: { list, show, create, update, delete: remove },
});
