import { itemsOf, totalOf } from '../api-client.js';
import {
  type Command,
  EXIT_OK,
  HELP_HELP,
  idSegment,
  intOption,
  JSON_HELP,
  JSON_OPTION,
  parseCommandArgs,
  SERVER_HELP,
  SERVER_OPTION,
} from '../command.js';
import { cell, formatJson, formatTable } from '../output.js';

/** One installed package as the host's agent reported it. */
export interface SoftwareItem {
  name: string;
  version: string;
  arch: string;
  ecosystem: string;
  source?: string;
  sourceVersion?: string;
}

const usage = `Usage: brier software HOST_ID [--q TEXT] [--limit N] [--offset N] [--json]

List the software installed on a host, as its agent last reported it.

Options:
  --q TEXT             Only packages whose name matches TEXT
  --limit N            At most N packages (server default when omitted)
  --offset N           Skip the first N packages
${SERVER_HELP}
${JSON_HELP}
${HELP_HELP}
`;

export const softwareCommand: Command = {
  name: 'software',
  summary: "List a host's installed software",
  usage,
  run: async (args, ctx) => {
    const { values, positionals, help } = parseCommandArgs(
      args,
      { ...SERVER_OPTION, ...JSON_OPTION, q: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' } },
      usage,
      { names: ['HOST_ID'] },
    );
    if (help) {
      ctx.io.stdout(usage);
      return EXIT_OK;
    }
    const path = `/hosts/${idSegment(positionals[0] ?? '', usage)}/software`;
    const query = {
      q: values.q || undefined,
      limit: intOption('limit', values.limit, usage, 1),
      offset: intOption('offset', values.offset, usage),
    };
    const { client } = await ctx.session(values.server);
    const response = await client.get<unknown>(path, query);
    const items = itemsOf<SoftwareItem>(response);
    if (values.json) {
      ctx.io.stdout(formatJson(items));
      return EXIT_OK;
    }
    const rows = items.map((p) => [
      cell(p.name),
      cell(p.version),
      cell(p.arch),
      cell(p.ecosystem),
      // The source package only says something when it differs from the binary package.
      p.source && (p.source !== p.name || (p.sourceVersion && p.sourceVersion !== p.version))
        ? cell(p.sourceVersion ? `${p.source} ${p.sourceVersion}` : p.source)
        : '-',
    ]);
    ctx.io.stdout(formatTable(['NAME', 'VERSION', 'ARCH', 'ECOSYSTEM', 'SOURCE'], rows));
    ctx.io.stdout(`${items.length} of ${totalOf(response, items.length)}\n`);
    return EXIT_OK;
  },
};
