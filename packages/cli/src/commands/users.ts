import { isRecord, itemsOf } from '../api-client.js';
import {
  type Command,
  type CommandContext,
  choiceOption,
  dispatchSubcommand,
  EXIT_OK,
  HELP_HELP,
  JSON_HELP,
  JSON_OPTION,
  parseCommandArgs,
  readPasswordFromStdin,
  SERVER_HELP,
  SERVER_OPTION,
  UsageError,
} from '../command.js';
import { cell, formatJson, formatTable, timestamp, yesNo } from '../output.js';

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
${SERVER_HELP}
${JSON_HELP}
${HELP_HELP}
`;

const createUsage = `Usage: brier users create --username NAME --role admin|approver|operator|viewer [--password-stdin] [--json]

Create an operator account. The password is prompted for twice, or read from
standard input with --password-stdin.

Options:
  --username NAME      Login name (required)
  --role ROLE          admin, approver, operator or viewer (required)
  --password-stdin     Read the password from standard input instead of prompting
${SERVER_HELP}
${JSON_HELP}
${HELP_HELP}
`;

const usage = `Usage: brier users <sub-command> [options]

Sub-commands:
  list       List users
  create     Create a user

Run 'brier users <sub-command> --help' for its options.
`;

export const usersCommand: Command = {
  name: 'users',
  summary: 'List and create operator accounts',
  usage,
  run: (args, ctx) => dispatchSubcommand('users', usage, { list, create }, args, ctx),
};

async function list(args: string[], ctx: CommandContext): Promise<number> {
  const { values, help } = parseCommandArgs(args, { ...SERVER_OPTION, ...JSON_OPTION }, listUsage);
  if (help) {
    ctx.io.stdout(listUsage);
    return EXIT_OK;
  }
  const { client } = await ctx.session(values.server);
  const items = itemsOf<User>(await client.get<unknown>('/users'));
  if (values.json) {
    ctx.io.stdout(formatJson(items));
    return EXIT_OK;
  }
  const rows = items.map((u) => [cell(u.id), cell(u.username), cell(u.role), timestamp(u.createdAt), yesNo(u.disabled)]);
  ctx.io.stdout(formatTable(['ID', 'USERNAME', 'ROLE', 'CREATED', 'DISABLED'], rows));
  return EXIT_OK;
}

async function create(args: string[], ctx: CommandContext): Promise<number> {
  const { values, help } = parseCommandArgs(
    args,
    { ...SERVER_OPTION, ...JSON_OPTION, username: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    createUsage,
  );
  if (help) {
    ctx.io.stdout(createUsage);
    return EXIT_OK;
  }
  const { io } = ctx;
  if (values.username === undefined || values.username.trim() === '') throw new UsageError('--username is required', createUsage);
  if (values.role === undefined) throw new UsageError('--role is required', createUsage);
  const role = choiceOption('role', values.role, ROLES, createUsage);
  // Resolve the session before asking for a password, so a missing login fails without a prompt.
  const { client } = await ctx.session(values.server);
  const password = values['password-stdin'] ? await readPasswordFromStdin(io) : await promptNewPassword(ctx);
  if (password === '') throw new UsageError('password must not be empty', createUsage);

  const user = await client.post<User>('/users', { username: values.username, password, role });
  if (values.json) {
    io.stdout(formatJson(user));
    return EXIT_OK;
  }
  const u: Partial<User> = isRecord(user) ? user : {};
  io.stdout(`Created user ${cell(u.username ?? values.username)} (${cell(u.role ?? role)}), id ${cell(u.id)}.\n`);
  return EXIT_OK;
}

async function promptNewPassword(ctx: CommandContext): Promise<string> {
  const { prompt } = ctx.io;
  if (prompt === undefined) throw new UsageError('not running in a terminal, so cannot prompt: pass --password-stdin', createUsage);
  const first = await prompt('Password for the new user: ', { secret: true });
  const second = await prompt('Repeat the password: ', { secret: true });
  if (first !== second) throw new UsageError('the passwords do not match', createUsage);
  return first;
}
