import { commandGroup, idSegment, intOption, SERVER_JSON_HELP } from '../command.js';
import { cell } from '../output.js';
import { listSubcommand } from '../resource-commands.js';

/** One row of the fleet patch catalogue. */
export interface CatalogueEntry {
  ecosystem: string;
  manager: string;
  name: string;
  candidateVersion: string;
  security: boolean;
  hostCount: number;
  advisories: string[];
  suites: string[];
  title: string | null;
}

/** One update a host could install. */
export interface HostUpdate {
  manager: string;
  name: string;
  arch: string;
  installedVersion?: string;
  candidateVersion: string;
  suite?: string;
  origin?: string;
  security: boolean;
}

const usage = `Usage: brier patches <list|host> [options]

The fleet patch catalogue: updates the agents report as installable.

Commands:
  list       Each (package, candidate version) with the number of hosts that need it
  host ID    The updates one host could install

Run 'brier patches <command> --help' for its options.
`;

const LIST_OPTIONS = {
  q: { type: 'string' },
  security: { type: 'boolean' },
  limit: { type: 'string' },
  offset: { type: 'string' },
} as const;

const listUsage = `Usage: brier patches list [--security] [--q TEXT] [--limit N] [--offset N] [--json]

List the fleet patch catalogue, security fixes and the most needed first.

Options:
  --security           Only updates a host's package tool marked as security fixes
  --q TEXT             Only updates whose name, title or advisory matches TEXT
  --limit N            At most N entries (server default when omitted)
  --offset N           Skip the first N entries
${SERVER_JSON_HELP}
`;

const hostUsage = `Usage: brier patches host HOST_ID [--json]

List the updates one host could install, as its agent last reported them.

Options:
${SERVER_JSON_HELP}
`;

const list = listSubcommand<CatalogueEntry, typeof LIST_OPTIONS>({
  usage: listUsage,
  options: LIST_OPTIONS,
  request: ({ values }) => ({
    path: '/patches',
    query: {
      q: values.q || undefined,
      security: values.security ? 'true' : undefined,
      limit: intOption('limit', values.limit, listUsage, 1),
      offset: intOption('offset', values.offset, listUsage),
    },
  }),
  headers: ['NAME', 'CANDIDATE', 'ECOSYSTEM', 'SECURITY', 'HOSTS', 'SUITE', 'ADVISORIES'],
  row: (p) => [
    cell(p.name),
    cell(p.candidateVersion),
    cell(p.ecosystem),
    p.security ? 'yes' : 'no',
    cell(p.hostCount),
    p.suites.length ? cell(p.suites.join(',')) : '-',
    p.advisories.length ? cell(p.advisories.slice(0, 3).join(',') + (p.advisories.length > 3 ? ',…' : '')) : '-',
  ],
  showTotal: true,
});

const host = listSubcommand<HostUpdate>({
  usage: hostUsage,
  operands: ['HOST_ID'],
  request: ({ positionals }) => ({ path: `/hosts/${idSegment(positionals[0] ?? '', hostUsage)}/updates` }),
  headers: ['NAME', 'ARCH', 'INSTALLED', 'CANDIDATE', 'SECURITY', 'SUITE'],
  row: (u) => [
    cell(u.name),
    cell(u.arch || '-'),
    cell(u.installedVersion ?? '-'),
    cell(u.candidateVersion),
    u.security ? 'yes' : 'no',
    cell(u.suite ?? u.origin ?? '-'),
  ],
});

export const patchesCommand = commandGroup({
  name: 'patches',
  summary: 'List the fleet patch catalogue and a host’s pending updates',
  usage,
  subcommands: { list, host },
});
