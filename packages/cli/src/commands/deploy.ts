import { ApiError, isRecord } from '../api-client.js';
import {
  type CommandContext,
  choiceOption,
  commandGroup,
  EXIT_API_ERROR,
  EXIT_OK,
  idSegment,
  intOption,
  printResult,
  SERVER_JSON_HELP,
  SERVER_JSON_OPTIONS,
  type Session,
  type Subcommand,
  UsageError,
  withParsedArgs,
} from '../command.js';
import { cell, formatFields, formatJson, formatTable, timestamp } from '../output.js';
import { listSubcommand } from '../resource-commands.js';

/** A deployment as GET /deployments/{id} returns it (the fields the CLI prints). */
export interface DeploymentView {
  id: string;
  name: string;
  state: string;
  stateReason: string | null;
  critical: boolean;
  emergency: boolean;
  /** The server sends {id, username}; older servers sent the bare name. */
  createdBy: { id: string; username: string } | string;
  /** {id, username}; servers before the schedule change sent the bare user id. */
  approvedBy: { id: string; username: string } | string | null;
  createdAt: string;
  startAt?: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  packages?: Array<{ name: string; version: string | null; minVersion?: string }>;
  waves?: Array<{ index: number; name: string; state: string; hostCount: number; counts: Record<string, number> }>;
  hosts?: Array<{ hostId: string; hostname: string; wave: number; state: string; reason: string | null; verified: boolean }>;
  summary?: Record<string, number>;
}

const usage = `Usage: brier deploy <create|list|show|watch|approve|pause|resume|abort|retry-failed> [options]

Push package upgrades to hosts in waves, with approvals and automatic halts.

Commands:
  create         Draft and submit a deployment
  list           Deployments, newest first
  show ID        Waves, per-host states and the summary of one deployment
  watch ID       Follow a deployment live, with a progress bar per wave
  approve ID     Approve a deployment someone else drafted (approver or admin)
  pause ID       Stop offering work; running work finishes
  resume ID      Continue a paused or halted deployment
  abort ID       End a deployment for good
  retry-failed ID  Offer the failed hosts their work again

Run 'brier deploy <command> --help' for its options.
`;

const createUsage = `Usage: brier deploy create --name NAME --packages PKG[=VERSION][,PKG…] (--hosts ID[,ID…] | --groups G[,G…])
                           [--waves SPEC] [--bake-minutes N] [--threshold RATE] [--critical] [--emergency]
                           [--reboot never|if-required|always] [--deadline-hours N] [--start-at TIME]
                           [--ecosystem dpkg|rpm|apk] [--json]

Draft a deployment and submit it. A small, non-critical one is approved at once; a critical,
emergency or large one waits for a second person (brier deploy approve).

Options:
  --name NAME          What the change is, for the record
  --packages LIST      Packages to upgrade: name=version pins a version, a bare name means
                       "the latest available", name>=version the latest, verified to be at
                       least that version (e.g. a vulnerability's fix)
  --hosts LIST         Target host ids
  --groups LIST        Target host groups
  --waves SPEC         Comma-separated waves in order: group:NAME (a pilot group) or a percentage
                       of the remaining hosts, e.g. group:pilot,10,50,100 (default: one wave)
  --bake-minutes N     Wait this long after a wave settles before the next (default 60)
  --threshold RATE     Success rate a wave must reach, 0..1 (default 0.95)
  --critical           Needs a second person's approval
  --emergency          Needs approval; ignores maintenance windows and bake times
  --reboot POLICY      never (default), if-required or always
  --deadline-hours N   Work not done by then is reported expired
  --start-at TIME      Do not start before TIME (RFC 3339, e.g. 2026-12-01T22:00:00Z); it waits
                       as 'scheduled' once approved
  --ecosystem E        Package ecosystem of the names (default dpkg)
${SERVER_JSON_HELP}
`;

const listUsage = `Usage: brier deploy list [--state STATE] [--limit N] [--offset N] [--json]

List deployments, newest first.

Options:
  --state STATE        Only deployments in this state (e.g. running, awaiting_approval)
  --limit N            At most N deployments
  --offset N           Skip the first N
${SERVER_JSON_HELP}
`;

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseRate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(value) || rate < 0 || rate > 1)
    throw new UsageError(`--threshold must be a rate between 0 and 1, got ${JSON.stringify(value)}`, createUsage);
  return rate;
}

/** Parses `group:pilot,10,50,100` into wave specs; the same bake time and threshold apply to each. */
function parseWaves(spec: string | undefined, bakeMinutes: number | undefined, successThreshold: number | undefined) {
  const parts = splitList(spec);
  if (parts.length === 0) return undefined;
  return parts.map((part) => {
    const common = {
      ...(bakeMinutes !== undefined ? { bakeMinutes } : {}),
      ...(successThreshold !== undefined ? { successThreshold } : {}),
    };
    if (part.startsWith('group:') && part.length > 6) return { name: part.slice(6), group: part.slice(6), ...common };
    const percent = Number(part.replace(/%$/, ''));
    if (!Number.isFinite(percent) || percent <= 0 || percent > 100)
      throw new UsageError(`--waves: ${JSON.stringify(part)} is neither group:NAME nor a percentage in (0, 100]`, createUsage);
    return { name: `${percent}%`, percent, ...common };
  });
}

/** The creator's username (the server sends {id, username}), never a raw JSON object. */
function person(p: DeploymentView['createdBy'] | undefined): string {
  if (isRecord(p)) return cell(typeof p.username === 'string' ? p.username : p.id);
  return cell(p);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function renderDeployment(d: DeploymentView): string {
  const fields = formatFields([
    ['ID', cell(d.id)],
    ['Name', cell(d.name)],
    ['State', cell(d.stateReason ? `${d.state} (${d.stateReason})` : d.state)],
    ['Created', `${timestamp(d.createdAt)} by ${person(d.createdBy)}`],
    ['Approved by', d.approvedBy ? person(d.approvedBy) : '-'],
    ...(d.startAt ? ([['Starts at', timestamp(d.startAt)]] as [string, string][]) : []),
    [
      'Packages',
      cell(
        (d.packages ?? [])
          .map((p) => (p.version ? `${p.name}=${p.version}` : p.minVersion ? `${p.name}>=${p.minVersion}` : p.name))
          .join(', '),
      ),
    ],
    [
      'Summary',
      cell(
        Object.entries(d.summary ?? {})
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ),
    ],
  ]);
  const waves = formatTable(
    ['WAVE', 'NAME', 'STATE', 'HOSTS', 'COUNTS'],
    (d.waves ?? []).map((w) => [
      cell(w.index),
      cell(w.name),
      cell(w.state),
      cell(w.hostCount),
      cell(
        Object.entries(w.counts)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', '),
      ),
    ]),
  );
  const hosts = formatTable(
    ['HOST', 'WAVE', 'STATE', 'VERIFIED', 'REASON'],
    (d.hosts ?? []).map((h) => [cell(h.hostname), cell(h.wave), cell(h.state), h.verified ? 'yes' : 'no', cell(h.reason ?? '-')]),
  );
  return `${fields}\n${waves}\n${hosts}`;
}

const create = withParsedArgs(
  {
    usage: createUsage,
    options: {
      ...SERVER_JSON_OPTIONS,
      name: { type: 'string' },
      packages: { type: 'string' },
      hosts: { type: 'string' },
      groups: { type: 'string' },
      waves: { type: 'string' },
      'bake-minutes': { type: 'string' },
      threshold: { type: 'string' },
      critical: { type: 'boolean' },
      emergency: { type: 'boolean' },
      reboot: { type: 'string' },
      'deadline-hours': { type: 'string' },
      'start-at': { type: 'string' },
      ecosystem: { type: 'string' },
    },
  },
  async ({ values }, ctx) => {
    if (!values.name?.trim()) throw new UsageError('--name is required', createUsage);
    const packages = splitList(values.packages).map((p) => {
      const min = p.indexOf('>=');
      if (min >= 0) return { name: p.slice(0, min), minVersion: p.slice(min + 2) };
      const at = p.indexOf('=');
      return at < 0 ? { name: p } : { name: p.slice(0, at), version: p.slice(at + 1) };
    });
    if (packages.length === 0) throw new UsageError('--packages is required', createUsage);
    const hostIds = splitList(values.hosts);
    const groups = splitList(values.groups);
    if (hostIds.length === 0 && groups.length === 0) throw new UsageError('give --hosts or --groups (or both)', createUsage);
    const waves = parseWaves(values.waves, intOption('bake-minutes', values['bake-minutes'], createUsage), parseRate(values.threshold));
    const deadlineHours = intOption('deadline-hours', values['deadline-hours'], createUsage, 1);
    const startAt = values['start-at'];
    if (startAt !== undefined && !(RFC3339.test(startAt) && !Number.isNaN(Date.parse(startAt))))
      throw new UsageError(
        `--start-at must be an RFC 3339 time with a zone, e.g. 2026-12-01T22:00:00Z (got ${JSON.stringify(startAt)})`,
        createUsage,
      );
    const body = {
      name: values.name,
      packages,
      targets: { ...(hostIds.length ? { hostIds } : {}), ...(groups.length ? { groups } : {}) },
      ...(waves ? { waves } : {}),
      ...(values.critical ? { critical: true } : {}),
      ...(values.emergency ? { emergency: true } : {}),
      ...(values.reboot
        ? { rebootPolicy: choiceOption('reboot', values.reboot, ['never', 'if-required', 'always'] as const, createUsage) }
        : {}),
      ...(values.ecosystem ? { ecosystem: choiceOption('ecosystem', values.ecosystem, ['dpkg', 'rpm', 'apk'] as const, createUsage) } : {}),
      ...(deadlineHours !== undefined ? { deadlineHours } : {}),
      ...(startAt !== undefined ? { startAt } : {}),
    };
    const { client } = await ctx.session(values.server);
    const created = await client.post<DeploymentView>('/deployments', body);
    return printResult(ctx, values.json, created, (d) => (isRecord(d) ? renderDeployment(d) : ''));
  },
);

const list = listSubcommand<DeploymentView, { state: { type: 'string' }; limit: { type: 'string' }; offset: { type: 'string' } }>({
  usage: listUsage,
  options: { state: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' } },
  request: ({ values }) => ({
    path: '/deployments',
    query: {
      state: values.state || undefined,
      limit: intOption('limit', values.limit, listUsage, 1),
      offset: intOption('offset', values.offset, listUsage),
    },
  }),
  headers: ['ID', 'NAME', 'STATE', 'CREATED', 'BY', 'APPROVED BY'],
  row: (d) => [
    cell(d.id),
    cell(d.name),
    cell(d.state),
    timestamp(d.createdAt),
    person(d.createdBy),
    d.approvedBy ? person(d.approvedBy) : '-',
  ],
  showTotal: true,
});

function byId(verb: string, summary: string, path: (id: string) => string, withReason = false): Subcommand {
  const subUsage = `Usage: brier deploy ${verb} ID${withReason ? ' [--reason TEXT]' : ''} [--json]

${summary}

Options:
${withReason ? '  --reason TEXT        Why, for the record\n' : ''}${SERVER_JSON_HELP}
`;
  return withParsedArgs(
    { usage: subUsage, options: { ...SERVER_JSON_OPTIONS, ...(withReason ? { reason: { type: 'string' } } : {}) }, operands: ['ID'] },
    async ({ values, positionals }, ctx: CommandContext) => {
      const id = idSegment(positionals[0] ?? '', subUsage);
      const { client } = await ctx.session(values.server);
      const reason = (values as { reason?: string }).reason;
      const result =
        verb === 'show'
          ? await client.get<DeploymentView>(path(id))
          : await client.post<DeploymentView>(path(id), withReason && reason ? { reason } : withReason ? {} : undefined);
      return printResult(ctx, values.json, result, (d) => (isRecord(d) ? renderDeployment(d) : ''));
    },
  );
}

const watchUsage = `Usage: brier deploy watch ID [--json]

Follow a deployment live: one line per wave with a progress bar, redrawn as hosts report.
Exits 0 when the deployment completes, 1 when it halts or is aborted.

Options:
${SERVER_JSON_HELP.replace('Print the server response as JSON', 'Print each progress update as one line of JSON')}
`;

/** What `GET /deployments/{id}/events` sends in each `progress` event (and GET /deployments/{id} contains). */
export interface DeploymentProgress {
  id: string;
  state: string;
  stateReason: string | null;
  waves?: DeploymentView['waves'];
  summary?: Record<string, number>;
}

const BAR_WIDTH = 20;
const POLL_MS = 2_000;
/** With a keep-alive every 15 s, this long without a byte means the stream is dead: poll instead. */
const STREAM_IDLE_MS = 60_000;
/** Assignment states that are over for a host. */
const DONE_STATES = ['succeeded', 'failed', 'expired'] as const;

/** The lines `watch` shows for one update: the deployment, then a progress bar per wave. */
export function progressLines(p: DeploymentProgress): string[] {
  const waves = p.waves ?? [];
  const labels = waves.map((w) => `wave ${cell(Number(w.index) + 1)} ${cell(w.name)}`);
  const pad = Math.max(0, ...labels.map((l) => l.length));
  const head = `${cell(p.id)} ${cell(p.state)}${p.stateReason ? ` (${cell(p.stateReason)})` : ''}`;
  return [
    head,
    ...waves.map((w, i) => {
      const counts = isRecord(w.counts) ? w.counts : {};
      const n = (k: string) => (typeof counts[k] === 'number' && Number.isFinite(counts[k]) ? counts[k] : 0);
      const total = typeof w.hostCount === 'number' && w.hostCount > 0 ? w.hostCount : 0;
      const done = Math.min(
        total,
        DONE_STATES.reduce((sum, k) => sum + n(k), 0),
      );
      const ratio = total === 0 ? 0 : done / total;
      const filled = Math.round(ratio * BAR_WIDTH);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
      const expired = n('expired') > 0 ? ` expired ${n('expired')}` : '';
      return `${(labels[i] ?? '').padEnd(pad)} ${bar} ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${total} succeeded ${n('succeeded')} failed ${n('failed')}${expired} (${cell(w.state)})`;
    }),
  ];
}

/**
 * Prints successive updates: on a terminal the block is redrawn in place (cursor up, clear line),
 * elsewhere each changed update is printed as a new block after a blank line.
 */
export function progressPrinter(write: (s: string) => void, tty: boolean) {
  let shown: string[] = [];
  return (p: DeploymentProgress) => {
    const lines = progressLines(p);
    if (lines.join('\n') === shown.join('\n')) return;
    if (tty) {
      const up = shown.length > 0 ? `\u001b[${shown.length}A` : '';
      // Lines that were there before and are not any more are cleared too.
      const cleared =
        shown.length > lines.length
          ? shown
              .slice(lines.length)
              .map(() => '\r\u001b[2K\n')
              .join('')
          : '';
      const back = shown.length > lines.length ? `\u001b[${shown.length - lines.length}A` : '';
      write(`${up}${lines.map((l) => `\r\u001b[2K${l}\n`).join('')}${cleared}${back}`);
    } else {
      write(`${shown.length > 0 ? '\n' : ''}${lines.join('\n')}\n`);
    }
    shown = lines;
  };
}

/** 0 when completed, 1 when halted or aborted, undefined while it goes on. */
function exitCodeOf(state: string): number | undefined {
  if (state === 'completed') return EXIT_OK;
  if (state === 'halted' || state === 'aborted') return EXIT_API_ERROR;
  return undefined;
}

function isProgress(value: unknown): value is DeploymentProgress {
  return isRecord(value) && typeof value.state === 'string' && (value.waves === undefined || Array.isArray(value.waves));
}

async function problemOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isRecord(body) && typeof body.title === 'string')
    return new ApiError({
      status: res.status,
      title: body.title,
      ...(typeof body.detail === 'string' ? { detail: body.detail } : {}),
      ...(typeof body.code === 'string' ? { code: body.code } : {}),
    });
  return new ApiError({ status: res.status, title: res.statusText || 'Request failed', detail: text.trim().slice(0, 200) || undefined });
}

/**
 * Follows `GET /deployments/{id}/events`. Returns the exit code once the deployment ends, 'poll'
 * when the server has no such route (404) or the stream breaks off before the end.
 */
async function followEvents(
  session: Session,
  ctx: CommandContext,
  id: string,
  show: (p: DeploymentProgress) => void,
): Promise<number | 'poll'> {
  const url = `${session.server.replace(/\/+$/, '')}/api/v1/deployments/${id}/events`;
  const abort = new AbortController();
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    if (idle !== undefined) clearTimeout(idle);
    idle = setTimeout(() => abort.abort(), STREAM_IDLE_MS);
  };
  try {
    touch();
    let res: Response;
    try {
      res = await ctx.io.fetch(url, {
        headers: { accept: 'text/event-stream, application/problem+json', authorization: `Bearer ${session.token}` },
        signal: abort.signal,
      });
    } catch (err) {
      throw new ApiError({ title: `Cannot reach server ${session.server}`, detail: err instanceof Error ? err.message : String(err) });
    }
    if (res.status === 404) {
      // An old server without the route, or an unknown id: polling GET tells which.
      await res.body?.cancel();
      return 'poll';
    }
    if (!res.ok) throw await problemOf(res);
    if (res.body === null) return 'poll';
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = 'message';
    let data: string[] = [];
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'poll';
        touch();
        buffer += value;
        let newline = buffer.search(/\r?\n|\r/);
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          newline = buffer.search(/\r?\n|\r/);
          if (line === '') {
            // A blank line dispatches the event gathered so far.
            if (event === 'progress' && data.length > 0) {
              let parsed: unknown;
              try {
                parsed = JSON.parse(data.join('\n'));
              } catch {
                parsed = undefined;
              }
              if (isProgress(parsed)) {
                show(parsed);
                const code = exitCodeOf(parsed.state);
                if (code !== undefined) return code;
              }
            }
            event = 'message';
            data = [];
          } else if (line.startsWith(':')) {
            // a comment (keep-alive)
          } else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const raw = colon < 0 ? '' : line.slice(colon + 1);
            const val = raw.startsWith(' ') ? raw.slice(1) : raw;
            if (field === 'event') event = val;
            else if (field === 'data') data.push(val);
          }
        }
      }
    } catch (err) {
      if (abort.signal.aborted) return 'poll';
      throw err;
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  } finally {
    if (idle !== undefined) clearTimeout(idle);
  }
}

const watch = withParsedArgs(
  { usage: watchUsage, options: SERVER_JSON_OPTIONS, operands: ['ID'] },
  async ({ values, positionals }, ctx) => {
    const id = idSegment(positionals[0] ?? '', watchUsage);
    const session = await ctx.session(values.server);
    const env = ctx.io.env;
    // CliIo does not say whether stdout is a terminal; a real one has a TERM and a TTY stdout.
    const tty = !values.json && process.stdout.isTTY === true && env.TERM !== undefined && env.TERM !== 'dumb';
    const draw = progressPrinter(ctx.io.stdout, tty);
    const show = (p: DeploymentProgress) => (values.json ? ctx.io.stdout(`${formatJson(p).replace(/\n\s*/g, '')}\n`) : draw(p));
    const streamed = await followEvents(session, ctx, id, show);
    if (streamed !== 'poll') return streamed;
    for (;;) {
      const d = await session.client.get<DeploymentView>(`/deployments/${id}`);
      if (!isProgress(d)) throw new ApiError({ title: 'Unexpected response from server', detail: 'expected a deployment' });
      show({ id: d.id, state: d.state, stateReason: d.stateReason, waves: d.waves ?? [], summary: d.summary ?? {} });
      const code = exitCodeOf(d.state);
      if (code !== undefined) return code;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  },
);

export const deployCommand = commandGroup({
  name: 'deploy',
  summary: 'Create, approve and steer patch deployments',
  usage,
  subcommands: {
    create,
    list,
    watch,
    show: byId('show', 'Show a deployment: waves, per-host states and the summary.', (id) => `/deployments/${id}`),
    approve: byId('approve', 'Approve a deployment someone else drafted.', (id) => `/deployments/${id}/approve`),
    pause: byId('pause', 'Stop offering work; work already running finishes.', (id) => `/deployments/${id}/pause`),
    resume: byId('resume', 'Continue a paused or halted deployment.', (id) => `/deployments/${id}/resume`),
    abort: byId('abort', 'End a deployment for good.', (id) => `/deployments/${id}/abort`, true),
    'retry-failed': byId('retry-failed', 'Offer the failed hosts their work again.', (id) => `/deployments/${id}/retry-failed`),
  },
});
