import { isRecord } from '../api-client.js';
import {
  type CommandContext,
  choiceOption,
  commandGroup,
  printResult,
  readPasswordFromStdin,
  SERVER_JSON_HELP,
  SERVER_JSON_OPTIONS,
  UsageError,
  withParsedArgs,
} from '../command.js';
import { cell, timestamp, yesNo } from '../output.js';
import { listSubcommand } from '../resource-commands.js';

export const ROLES = ['admin', 'approver', 'operator', 'viewer'] as const;

export interface User {
  id: string | number;
  username: string;
  role: string;
  createdAt: string;
  disabled: boolean;
}

const listUsage = `Usage: brier users list [--json]

List operator accounts.

Options:
${SERVER_JSON_HELP}
`;

const createUsage = `Usage: brier users create --username NAME --role admin|approver|operator|viewer [--password-stdin] [--json]

Create an operator account. The password is prompted for twice, or read from
standard input with --password-stdin.

Options:
  --username NAME      Login name (required)
  --role ROLE          admin, approver, operator or viewer (required)
  --password-stdin     Read the password from standard input instead of prompting
${SERVER_JSON_HELP}
`;

const usage = `Usage: brier users <sub-command> [options]

Sub-commands:
  list       List users
  create     Create a user

Run 'brier users <sub-command> --help' for its options.
`;

const list = listSubcommand<User>({
  usage: listUsage,
  request: '/users',
  headers: ['ID', 'USERNAME', 'ROLE', 'CREATED', 'DISABLED'],
  row: (u) => [cell(u.id), cell(u.username), cell(u.role), timestamp(u.createdAt), yesNo(u.disabled)],
});

const create = withParsedArgs(
  {
    usage: createUsage,
    options: { ...SERVER_JSON_OPTIONS, username: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
  },
  async ({ values }, ctx) => {
    const { io } = ctx;
    if (values.username === undefined || values.username.trim() === '') throw new UsageError('--username is required', createUsage);
    if (values.role === undefined) throw new UsageError('--role is required', createUsage);
    const role = choiceOption('role', values.role, ROLES, createUsage);
    // Resolve the session before asking for a password, so a missing login fails without a prompt.
    const { client } = await ctx.session(values.server);
    const password = values['password-stdin'] ? await readPasswordFromStdin(io) : await promptNewPassword(ctx);
    if (password === '') throw new UsageError('password must not be empty', createUsage);

    const user = await client.post<User>('/users', { username: values.username, password, role });
    return printResult(ctx, values.json, user, () => {
      const u: Partial<User> = isRecord(user) ? user : {};
      return `Created user ${cell(u.username ?? values.username)} (${cell(u.role ?? role)}), id ${cell(u.id)}.\n`;
    });
  },
);

async function promptNewPassword(ctx: CommandContext): Promise<string> {
  const { prompt } = ctx.io;
  if (prompt === undefined) throw new UsageError('not running in a terminal, so cannot prompt: pass --password-stdin', createUsage);
  const first = await prompt('Password for the new user: ', { secret: true });
  const second = await prompt('Repeat the password: ', { secret: true });
  if (first !== second) throw new UsageError('the passwords do not match', createUsage);
  return first;
}

export const usersCommand = commandGroup({
  name: 'users',
  summary: 'List and create operator accounts',
  usage,
  subcommands: { list, create },
});
