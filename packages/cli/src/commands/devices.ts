import { isRecord } from '../api-client.js';
import { commandGroup, intOption, printResult, SERVER_JSON_HELP, SERVER_JSON_OPTIONS, UsageError, withParsedArgs } from '../command.js';
import { cell, isUnsafeCodePoint, timestamp } from '../output.js';
import { listSubcommand } from '../resource-commands.js';

/** A MAC/IP pair agents saw that belongs to no enrolled host, as GET /devices/unmanaged lists it. */
export interface UnmanagedDeviceView {
  mac: string;
  ip: string;
  firstSeenAt: string;
  lastSeenAt: string;
  /** The agents that saw it: {hostId, hostname}; bare host ids are shown as they are. */
  seenBy: Array<{ hostId: string; hostname?: string } | string>;
  /** Only with include=known,ignored (--all), on a device that has one. */
  mark?: { state: string; note: string | null; markedBy?: string; markedAt?: string } | null;
}

const MARKS = ['known', 'ignored', 'none'] as const;
const MAX_NOTE = 500;
/** How many agents a row names before it only counts the rest. */
const SEEN_BY_SHOWN = 3;

const usage = `Usage: brier devices <command> [options]

Devices on the fleet's networks that no agent manages, found in the agents' neighbour tables
(ARP, NDP).

Commands:
  unmanaged                         MAC/IP pairs that belong to no enrolled host
  mark MAC known|ignored|none       Mark a device known (expected, e.g. a printer) or ignored,
                                    or clear its mark

Run 'brier devices <command> --help' for its options.
`;

const unmanagedUsage = `Usage: brier devices unmanaged [--all] [--limit N] [--offset N] [--json]

List the MAC/IP pairs agents saw that belong to no enrolled host, most recently seen first, with
when they were first and last seen and by which agents. Devices marked known or ignored are left
out unless --all.

Options:
  --all                Include devices marked known or ignored
  --limit N            At most N devices (server default when omitted)
  --offset N           Skip the first N devices
${SERVER_JSON_HELP}
`;

const markUsage = `Usage: brier devices mark MAC known|ignored|none [--note TEXT] [--json]

Mark a device by its MAC: 'known' (expected on the network, e.g. a printer), 'ignored' (not worth
listing), or 'none' to clear the mark so it is listed as unmanaged again.

Options:
  --note TEXT          Why, for whoever looks next (with known or ignored)
${SERVER_JSON_HELP}
`;

/**
 * A MAC in the server's form (lower-case, colon-separated), from `aa:bb:cc:dd:ee:ff` or
 * `AA-BB-CC-DD-EE-FF`; anything else is a usage error, so no request is made for it.
 */
export function macOperand(value: string, usageText: string): string {
  if (!/^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/.test(value)) {
    throw new UsageError(`MAC must be six hex octets such as 52:54:00:12:34:56, got ${JSON.stringify(value)}`, usageText);
  }
  return value.toLowerCase().replaceAll('-', ':');
}

function seenByCell(seenBy: UnmanagedDeviceView['seenBy'] | undefined): string {
  const list = Array.isArray(seenBy) ? seenBy : [];
  if (list.length === 0) return '-';
  const names = list.map((s) => (isRecord(s) ? (s.hostname ?? s.hostId) : s));
  const shown = names.slice(0, SEEN_BY_SHOWN).join(', ');
  return cell(list.length > SEEN_BY_SHOWN ? `${shown} +${list.length - SEEN_BY_SHOWN}` : shown);
}

function markCell(mark: UnmanagedDeviceView['mark']): string {
  if (!isRecord(mark)) return '-';
  return cell(mark.note ? `${mark.state} (${mark.note})` : mark.state);
}

const UNMANAGED_OPTIONS = { all: { type: 'boolean' }, limit: { type: 'string' }, offset: { type: 'string' } } as const;

const unmanaged = listSubcommand<UnmanagedDeviceView, typeof UNMANAGED_OPTIONS>({
  usage: unmanagedUsage,
  options: UNMANAGED_OPTIONS,
  request: ({ values }) => ({
    path: '/devices/unmanaged',
    query: {
      include: values.all ? 'known,ignored' : undefined,
      limit: intOption('limit', values.limit, unmanagedUsage, 1),
      offset: intOption('offset', values.offset, unmanagedUsage),
    },
  }),
  headers: ['MAC', 'IP', 'FIRST SEEN', 'LAST SEEN', 'SEEN BY', 'MARK'],
  row: (d) => [cell(d.mac), cell(d.ip), timestamp(d.firstSeenAt), timestamp(d.lastSeenAt), seenByCell(d.seenBy), markCell(d.mark)],
});

const mark = withParsedArgs(
  { usage: markUsage, options: { ...SERVER_JSON_OPTIONS, note: { type: 'string' } }, operands: ['MAC', 'STATE'] },
  async ({ values, positionals }, ctx) => {
    const mac = macOperand(positionals[0] ?? '', markUsage);
    const word = positionals[1] ?? '';
    if (!(MARKS as readonly string[]).includes(word)) {
      throw new UsageError(`the mark must be one of ${MARKS.join(', ')}, got ${JSON.stringify(word)}`, markUsage);
    }
    const state = word === 'none' ? null : word;
    let note: string | undefined;
    if (values.note !== undefined) {
      if (state === null) throw new UsageError("--note goes with 'known' or 'ignored', not 'none'", markUsage);
      if ([...values.note].length > MAX_NOTE) throw new UsageError(`--note is longer than ${MAX_NOTE} characters`, markUsage);
      if ([...values.note].some((ch) => isUnsafeCodePoint(ch.codePointAt(0) ?? 0))) {
        throw new UsageError('--note must not contain control characters', markUsage);
      }
      note = values.note;
    }
    const { client } = await ctx.session(values.server);
    // A MAC holds only hex digits and colons: nothing in it can change the path.
    const result = await client.put<unknown>(`/devices/${encodeURIComponent(mac)}/mark`, {
      state,
      ...(note !== undefined ? { note } : {}),
    });
    return printResult(ctx, values.json, result, () =>
      state === null ? `Device ${mac}: mark cleared.\n` : `Device ${mac} marked ${state}${note ? ` (${cell(note)})` : ''}.\n`,
    );
  },
);

export const devicesCommand = commandGroup({
  name: 'devices',
  summary: 'Unmanaged devices the agents see on their networks; mark them known or ignored',
  usage,
  subcommands: { unmanaged, mark },
});
