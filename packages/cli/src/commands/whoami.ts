import { isRecord } from '../api-client.js';
import { type Command, printResult, SERVER_JSON_HELP, SERVER_JSON_OPTIONS, withParsedArgs } from '../command.js';
import { cell } from '../output.js';

const usage = `Usage: brier whoami [--server URL] [--json]

Show the user the current token belongs to.

Options:
${SERVER_JSON_HELP}
`;

export const whoamiCommand: Command = {
  name: 'whoami',
  summary: 'Show the user you are logged in as',
  usage,
  run: withParsedArgs({ usage, options: SERVER_JSON_OPTIONS }, async ({ values }, ctx) => {
    const { client, server } = await ctx.session(values.server);
    const me = await client.get<unknown>('/auth/me');
    return printResult(ctx, values.json, me, () => {
      const user = isRecord(me) ? me : {};
      return `${cell(user.username)} (${cell(user.role)}) on ${cell(server)}\n`;
    });
  }),
};
