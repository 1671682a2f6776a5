import { isRecord } from '../api-client.js';
import {
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
import { cell, formatFields, timestamp, yesNo } from '../output.js';
import { deleteByIdSubcommand, listSubcommand } from '../resource-commands.js';

/** A host as the API returns it; fields are read defensively since the server may be newer. */
export interface Host {
  id: string | number;
  hostname: string;
  status: string;
  online: boolean;
  lastSeenAt: string | null;
  enrolledAt: string;
  os: HostOs | null;
  packageCount: number;
  inventoryAt: string | null;
  facts?: HostFacts | null;
}

export interface HostOs {
  platform: string;
  distro: string;
  release: string;
  codename?: string;
  kernel?: string;
  arch?: string;
}

export interface HostFacts {
  hardware?: Record<string, unknown>;
  network?: { name: string; mac?: string; ipv4?: string[]; ipv6?: string[] }[];
  agentVersion?: string;
}

const STATUSES = ['pending', 'approved', 'revoked'] as const;

const LIST_OPTIONS = {
  q: { type: 'string' },
  status: { type: 'string' },
  online: { type: 'boolean' },
  offline: { type: 'boolean' },
  limit: { type: 'string' },
  offset: { type: 'string' },
} as const;

const listUsage = `Usage: brier hosts list [--q TEXT] [--status pending|approved|revoked]
                        [--online|--offline] [--limit N] [--offset N] [--json]

List enrolled hosts.

Options:
  --q TEXT             Only hosts matching TEXT (e.g. part of the hostname)
  --status STATUS      Only hosts in this state: pending, approved or revoked
  --online             Only hosts connected now
  --offline            Only hosts not connected now
  --limit N            At most N hosts (server default when omitted)
  --offset N           Skip the first N hosts
${SERVER_JSON_HELP}
`;

const showUsage = `Usage: brier hosts show ID [--json]

Show one host: status, operating system, hardware and network.

Options:
${SERVER_JSON_HELP}
`;

const approveUsage = `Usage: brier hosts approve ID [--json]

Approve a pending host so it may receive work.

Options:
${SERVER_JSON_HELP}
`;

const revokeUsage = `Usage: brier hosts revoke ID [--json]

Revoke a host: the server refuses its agent from now on.

Options:
${SERVER_JSON_HELP}
`;

const deleteUsage = `Usage: brier hosts delete ID

Delete a host from the server.

Options:
${SERVER_ONLY_HELP}
`;

const usage = `Usage: brier hosts <sub-command> [options]

Sub-commands:
  list       List hosts, with filters
  show       Show one host in detail
  approve    Approve a pending host
  revoke     Revoke a host
  delete     Delete a host
  groups     Set the groups a host belongs to

Run 'brier hosts <sub-command> --help' for its options.
`;

const list = listSubcommand<Host, typeof LIST_OPTIONS>({
  usage: listUsage,
  options: LIST_OPTIONS,
  request: ({ values }) => {
    if (values.online && values.offline) throw new UsageError('--online and --offline exclude each other', listUsage);
    const query = {
      q: values.q || undefined,
      status: choiceOption('status', values.status, STATUSES, listUsage),
      online: values.online ? 'true' : values.offline ? 'false' : undefined,
      limit: intOption('limit', values.limit, listUsage, 1),
      offset: intOption('offset', values.offset, listUsage),
    };
    return { path: '/hosts', query };
  },
  headers: ['ID', 'HOSTNAME', 'STATUS', 'ONLINE', 'OS', 'PACKAGES', 'LAST SEEN'],
  row: (h) => [
    cell(h.id),
    cell(h.hostname),
    cell(h.status),
    yesNo(h.online),
    osSummary(h.os),
    cell(h.packageCount),
    timestamp(h.lastSeenAt, 'never'),
  ],
  showTotal: true,
});

const show = withParsedArgs({ usage: showUsage, options: SERVER_JSON_OPTIONS, operands: ['ID'] }, async ({ values, positionals }, ctx) => {
  const path = `/hosts/${idSegment(positionals[0] ?? '', showUsage)}`;
  const { client } = await ctx.session(values.server);
  const host = await client.get<Host>(path);
  return printResult(ctx, values.json, host, () => formatFields(hostFields(isRecord(host) ? host : ({} as Host))));
});

function changeStatus(action: 'approve' | 'revoke', usageText: string) {
  return withParsedArgs({ usage: usageText, options: SERVER_JSON_OPTIONS, operands: ['ID'] }, async ({ values, positionals }, ctx) => {
    const id = positionals[0] ?? '';
    const path = `/hosts/${idSegment(id, usageText)}/${action}`;
    const { client } = await ctx.session(values.server);
    const host = await client.post<Host>(path);
    return printResult(ctx, values.json, host, () => {
      const h: Partial<Host> = isRecord(host) ? host : {};
      return `Host ${cell(h.id ?? id)} (${cell(h.hostname)}) is now ${cell(h.status)}.\n`;
    });
  });
}

const groupsUsage = `Usage: brier hosts groups ID --set GROUP[,GROUP…] [--json]

Set the groups a host belongs to (replacing its current ones); deployments target hosts and
pick pilot waves by group. --set '' removes the host from every group.

Options:
  --set LIST           Comma-separated group names
${SERVER_JSON_HELP}
`;

const groups = withParsedArgs(
  { usage: groupsUsage, options: { ...SERVER_JSON_OPTIONS, set: { type: 'string' } }, operands: ['ID'] },
  async ({ values, positionals }, ctx) => {
    if (values.set === undefined) throw new UsageError('--set is required', groupsUsage);
    const list = values.set
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== '');
    const id = idSegment(positionals[0] ?? '', groupsUsage);
    const { client } = await ctx.session(values.server);
    const result = await client.put<{ groups: string[] }>(`/hosts/${id}/groups`, { groups: [...new Set(list)] });
    return printResult(
      ctx,
      values.json,
      result,
      (r) => `Host ${cell(positionals[0])} is in: ${r.groups.length ? cell(r.groups.join(', ')) : 'no groups'}\n`,
    );
  },
);

const remove = deleteByIdSubcommand({ usage: deleteUsage, collection: '/hosts', noun: 'Host', done: 'deleted' });

export const hostsCommand = commandGroup({
  name: 'hosts',
  summary: 'List, show, approve, revoke and delete hosts',
  usage,
  subcommands: {
    list,
    show,
    approve: changeStatus('approve', approveUsage),
    revoke: changeStatus('revoke', revokeUsage),
    delete: remove,
    groups,
  },
});

/** "debian 12", falling back to the platform when the agent could not name a distribution. */
function osSummary(os: HostOs | null | undefined): string {
  if (!isRecord(os)) return '-';
  const parts = [os.distro || os.platform, os.release].filter((p) => typeof p === 'string' && p !== '');
  return parts.length > 0 ? cell(parts.join(' ')) : '-';
}

function hostFields(host: Host): [string, string][] {
  const os = isRecord(host.os) ? host.os : undefined;
  const fields: [string, string][] = [
    ['ID', cell(host.id)],
    ['Hostname', cell(host.hostname)],
    ['Status', cell(host.status)],
    ['Online', yesNo(host.online)],
    ['Last seen', timestamp(host.lastSeenAt, 'never')],
    ['Enrolled', timestamp(host.enrolledAt)],
    ['Platform', cell(os?.platform)],
    ['OS', osSummary(host.os) + (os?.codename ? ` (${cell(os.codename)})` : '')],
    ['Kernel', cell(os?.kernel)],
    ['Arch', cell(os?.arch)],
    ['Packages', cell(host.packageCount)],
    ['Inventory at', timestamp(host.inventoryAt, 'never')],
  ];
  const facts = isRecord(host.facts) ? (host.facts as HostFacts) : undefined;
  if (facts === undefined) {
    fields.push(['Facts', 'not reported yet']);
    return fields;
  }
  fields.push(['Agent version', cell(facts.agentVersion)]);
  if (isRecord(facts.hardware)) {
    for (const [key, value] of Object.entries(facts.hardware)) fields.push([`Hardware ${cell(key)}`, cell(value)]);
  }
  for (const nic of Array.isArray(facts.network) ? facts.network : []) {
    if (!isRecord(nic)) continue;
    const addresses = [...arrayOf(nic.ipv4), ...arrayOf(nic.ipv6)].map(cell).join(', ');
    const parts = [cell(nic.mac), addresses || '-'];
    fields.push([`Network ${cell(nic.name)}`, parts.join('  ')]);
  }
  return fields;
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
