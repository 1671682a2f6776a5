import { type Command, idSegment, intOption, SERVER_JSON_HELP } from '../command.js';
import { cell } from '../output.js';
import { listSubcommand } from '../resource-commands.js';

/** One installed package as the host's agent reported it. */
export interface SoftwareItem {
  name: string;
  version: string;
  arch: string;
  ecosystem: string;
  source?: string;
  sourceVersion?: string;
}

const OPTIONS = { q: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' } } as const;

const usage = `Usage: brier software HOST_ID [--q TEXT] [--limit N] [--offset N] [--json]

List the software installed on a host, as its agent last reported it.

Options:
  --q TEXT             Only packages whose name matches TEXT
  --limit N            At most N packages (server default when omitted)
  --offset N           Skip the first N packages
${SERVER_JSON_HELP}
`;

export const softwareCommand: Command = {
  name: 'software',
  summary: "List a host's installed software",
  usage,
  run: listSubcommand<SoftwareItem, typeof OPTIONS>({
    usage,
    options: OPTIONS,
    operands: ['HOST_ID'],
    request: ({ values, positionals }) => ({
      path: `/hosts/${idSegment(positionals[0] ?? '', usage)}/software`,
      query: {
        q: values.q || undefined,
        limit: intOption('limit', values.limit, usage, 1),
        offset: intOption('offset', values.offset, usage),
      },
    }),
    headers: ['NAME', 'VERSION', 'ARCH', 'ECOSYSTEM', 'SOURCE'],
    row: (p) => [
      cell(p.name),
      cell(p.version),
      cell(p.arch),
      cell(p.ecosystem),
      // The source package only says something when it differs from the binary package.
      p.source && (p.source !== p.name || (p.sourceVersion && p.sourceVersion !== p.version))
        ? cell(p.sourceVersion ? `${p.source} ${p.sourceVersion}` : p.source)
        : '-',
    ],
    showTotal: true,
  }),
};
