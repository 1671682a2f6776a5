import { ApiError, isRecord } from '../api-client.js';
import {
  type Command,
  type CommandContext,
  choiceOption,
  dispatchSubcommand,
  idSegment,
  printResult,
  SERVER_JSON_HELP,
  SERVER_JSON_OPTIONS,
  type Subcommand,
  UsageError,
  withParsedArgs,
} from '../command.js';
import { cell, formatFields, isUnsafeCodePoint, timestamp } from '../output.js';
import { listSubcommand } from '../resource-commands.js';

/** A host's quarantine as the server holds it (GET/POST /hosts/{id}/quarantine, /release). */
export interface QuarantineView {
  hostId: string;
  /** What the server asked for last: isolate, release, or null when never asked. */
  action: string | null;
  /** What the agent reported: pending, isolated, released, failed, refused; none without any order. */
  state: string;
  sequence: number | null;
  reason: string | null;
  detail: string | null;
  requestedBy: string | null;
  requestedAt: string | null;
  updatedAt: string | null;
  notAfter?: string | null;
  allow?: string[];
  ports?: number[];
}

/** A quarantine a policy asked for, waiting for (or decided by) an approver. */
export interface QuarantineRequestView {
  id: string;
  hostId: string;
  hostname?: string;
  /** The policy that asked; its name is null once the policy was deleted. */
  policy: { id: string; name: string | null };
  reason: string;
  state: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
}

/** The server's limit on a reason (the signed order carries it). */
const MAX_REASON = 500;

const usage = `Usage: brier quarantine HOST_ID --reason TEXT [--json]
       brier quarantine HOST_ID --status [--json]
       brier quarantine requests [approve|reject ID] [options]

Cut an infected host off the network: its agent receives a signed order and drops all traffic
but its connection to the Brier server (nftables on Linux, Windows Firewall, pf on macOS). The
host stays isolated across restarts until 'brier release HOST_ID'.

  HOST_ID --reason TEXT   Isolate the host; the reason goes on the record
  HOST_ID --status        What the server asked for last and what the agent reported
  requests                Quarantines policies asked for, waiting for an approver

Options:
  --reason TEXT        Why (required to isolate)
  --status             Show the host's quarantine instead of changing it
${SERVER_JSON_HELP}
`;

const releaseUsage = `Usage: brier release HOST_ID [--reason TEXT] [--json]

Lift a host's quarantine: its agent receives a signed release order and restores its network.

Options:
  --reason TEXT        Why, for the record
${SERVER_JSON_HELP}
`;

const requestsUsage = `Usage: brier quarantine requests [approve|reject ID] [--state STATE] [--json]

Quarantines that policies asked for (an antivirus that stayed unhealthy this long), each waiting
for an approver. Without a command: list them with their state.

Commands:
  approve ID              Isolate the host as requested
  reject ID [--reason T]  Decline the request; the host stays connected

Options:
  --state STATE        Only requests in this state: pending, approved, rejected or cancelled
${SERVER_JSON_HELP}
`;

const REQUEST_STATES = ['pending', 'approved', 'rejected', 'cancelled'] as const;

const approveUsage = `Usage: brier quarantine requests approve ID [--json]

Approve a policy's quarantine request: the host is isolated at once.

Options:
${SERVER_JSON_HELP}
`;

const rejectUsage = `Usage: brier quarantine requests reject ID [--reason TEXT] [--json]

Reject a policy's quarantine request; the host stays connected.

Options:
  --reason TEXT        Why, for the record
${SERVER_JSON_HELP}
`;

/** A reason for the record: no control or bidi characters, at most MAX_REASON characters. */
function reasonText(value: string, usageText: string): string {
  if (value.trim() === '') throw new UsageError('--reason must not be empty', usageText);
  if ([...value].length > MAX_REASON) throw new UsageError(`--reason is longer than ${MAX_REASON} characters`, usageText);
  if ([...value].some((ch) => isUnsafeCodePoint(ch.codePointAt(0) ?? 0))) {
    throw new UsageError('--reason must not contain control characters', usageText);
  }
  return value;
}

function quarantineFields(q: QuarantineView): string {
  const fields: [string, string][] = [
    ['Host', cell(q.hostId)],
    ['State', cell(q.state)],
    ['Last order', q.action ? `${cell(q.action)} (sequence ${cell(q.sequence)})` : 'none'],
    ['Reason', cell(q.reason)],
    ['Requested by', cell(q.requestedBy)],
    ['Requested at', timestamp(q.requestedAt)],
    ['Updated', timestamp(q.updatedAt)],
  ];
  if (q.notAfter) fields.push(['Order valid until', timestamp(q.notAfter)]);
  if (Array.isArray(q.allow) && q.allow.length > 0) {
    const ports = Array.isArray(q.ports) && q.ports.length > 0 ? ` (TCP ${q.ports.join(', ')})` : '';
    fields.push(['Still reachable', `${cell(q.allow.join(', '))}${cell(ports)}`]);
  }
  if (q.detail) fields.push(['Agent says', cell(q.detail)]);
  return formatFields(fields);
}

function checkedView(value: unknown): QuarantineView {
  if (!isRecord(value)) throw new ApiError({ title: 'Unexpected response from server', detail: 'expected a quarantine object' });
  return value as unknown as QuarantineView;
}

/** `brier quarantine HOST_ID --reason TEXT` and `--status`. */
const hostQuarantine = withParsedArgs(
  { usage, options: { ...SERVER_JSON_OPTIONS, reason: { type: 'string' }, status: { type: 'boolean' } }, operands: ['HOST_ID'] },
  async ({ values, positionals }, ctx) => {
    const id = positionals[0] ?? '';
    const path = `/hosts/${idSegment(id, usage)}/quarantine`;
    if (values.status) {
      if (values.reason !== undefined) throw new UsageError('--status and --reason exclude each other', usage);
      const { client } = await ctx.session(values.server);
      const view = checkedView(await client.get<unknown>(path));
      return printResult(ctx, values.json, view, quarantineFields);
    }
    if (values.reason === undefined) throw new UsageError('--reason is required to quarantine a host', usage);
    const reason = reasonText(values.reason, usage);
    const { client } = await ctx.session(values.server);
    const view = checkedView(await client.post<unknown>(path, { reason }));
    return printResult(
      ctx,
      values.json,
      view,
      (q) => `Quarantine of host ${cell(id)} ordered; the agent reports back (state now: ${cell(q.state)}).\n${quarantineFields(q)}`,
    );
  },
);

const requestsList = listSubcommand<QuarantineRequestView, { state: { type: 'string' } }>({
  usage: requestsUsage,
  options: { state: { type: 'string' } },
  request: ({ values }) => ({
    path: '/quarantine/requests',
    query: { state: choiceOption('state', values.state, REQUEST_STATES, requestsUsage) },
  }),
  headers: ['ID', 'HOST', 'POLICY', 'STATE', 'REQUESTED', 'DECIDED BY', 'REASON'],
  row: (r) => [
    cell(r.id),
    cell(r.hostname ?? r.hostId),
    cell(isRecord(r.policy) ? (r.policy.name ?? r.policy.id) : undefined),
    cell(r.state),
    timestamp(r.requestedAt),
    cell(r.decidedBy),
    cell(r.reason),
  ],
});

const approve = withParsedArgs(
  { usage: approveUsage, options: SERVER_JSON_OPTIONS, operands: ['ID'] },
  async ({ values, positionals }, ctx) => {
    const id = positionals[0] ?? '';
    const path = `/quarantine/requests/${idSegment(id, approveUsage)}/approve`;
    const { client } = await ctx.session(values.server);
    const result = await client.post<{ request?: QuarantineRequestView; quarantine?: QuarantineView }>(path);
    return printResult(ctx, values.json, result, (r) => {
      const q = isRecord(r) && isRecord(r.quarantine) ? (r.quarantine as QuarantineView) : undefined;
      return `Request ${cell(id)} approved; the host is being isolated.\n${q ? quarantineFields(q) : ''}`;
    });
  },
);

const reject = withParsedArgs(
  { usage: rejectUsage, options: { ...SERVER_JSON_OPTIONS, reason: { type: 'string' } }, operands: ['ID'] },
  async ({ values, positionals }, ctx) => {
    const id = positionals[0] ?? '';
    const path = `/quarantine/requests/${idSegment(id, rejectUsage)}/reject`;
    const reason = values.reason === undefined ? undefined : reasonText(values.reason, rejectUsage);
    const { client } = await ctx.session(values.server);
    const result = await client.post<QuarantineRequestView>(path, reason === undefined ? {} : { reason });
    return printResult(
      ctx,
      values.json,
      result,
      (r) => `Request ${cell(id)} rejected (state ${cell(isRecord(r) ? r.state : undefined)}).\n`,
    );
  },
);

const requests: Subcommand = (args, ctx) => {
  const [word] = args;
  // No word, or a flag first (--json, --help): the listing; a word picks approve or reject.
  if (word === undefined || word.startsWith('-')) return requestsList(args, ctx);
  return dispatchSubcommand('quarantine requests', requestsUsage, { approve, reject }, args, ctx);
};

export const quarantineCommand: Command = {
  name: 'quarantine',
  summary: "Isolate a host from the network, all but the Brier server; show a host's quarantine",
  usage,
  run: (args: string[], ctx: CommandContext) => (args[0] === 'requests' ? requests(args.slice(1), ctx) : hostQuarantine(args, ctx)),
};

const release = withParsedArgs(
  { usage: releaseUsage, options: { ...SERVER_JSON_OPTIONS, reason: { type: 'string' } }, operands: ['HOST_ID'] },
  async ({ values, positionals }, ctx) => {
    const id = positionals[0] ?? '';
    const path = `/hosts/${idSegment(id, releaseUsage)}/release`;
    const reason = values.reason === undefined ? undefined : reasonText(values.reason, releaseUsage);
    const { client } = await ctx.session(values.server);
    const view = checkedView(await client.post<unknown>(path, reason === undefined ? {} : { reason }));
    return printResult(
      ctx,
      values.json,
      view,
      (q) => `Release of host ${cell(id)} ordered; the agent reports back (state now: ${cell(q.state)}).\n${quarantineFields(q)}`,
    );
  },
);

export const releaseCommand: Command = {
  name: 'release',
  summary: "Lift a host's quarantine",
  usage: releaseUsage,
  run: release,
};
