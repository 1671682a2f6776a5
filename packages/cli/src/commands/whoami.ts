import { isRecord } from '../api-client.js';
import { type Command, EXIT_OK, HELP_HELP, JSON_HELP, JSON_OPTION, parseCommandArgs, SERVER_HELP, SERVER_OPTION } from '../command.js';
import { cell, formatJson } from '../output.js';

const usage = `Usage: brier whoami [--server URL] [--json]

Show the user the current token belongs to.

Options:
${SERVER_HELP}
${JSON_HELP}
${HELP_HELP}
`;

export const whoamiCommand: Command = {
  name: 'whoami',
  summary: 'Show the user you are logged in as',
  usage,
  run: async (args, ctx) => {
    const { values, help } = parseCommandArgs(args, { ...SERVER_OPTION, ...JSON_OPTION }, usage);
    if (help) {
      ctx.io.stdout(usage);
      return EXIT_OK;
    }
    const { client, server } = await ctx.session(values.server);
    const me = await client.get<unknown>('/auth/me');
    if (values.json) {
      ctx.io.stdout(formatJson(me));
      return EXIT_OK;
    }
    const user = isRecord(me) ? me : {};
    ctx.io.stdout(`${cell(user.username)} (${cell(user.role)}) on ${cell(server)}\n`);
    return EXIT_OK;
  },
};
