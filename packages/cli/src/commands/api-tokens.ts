import { isRecord, itemsOf } from '../api-client.js';
import {
  type Command,
  type CommandContext,
  dispatchSubcommand,
  EXIT_OK,
  HELP_HELP,
  idSegment,
  intOption,
  JSON_HELP,
  JSON_OPTION,
  parseCommandArgs,
  SERVER_HELP,
  SERVER_OPTION,
  UsageError,
} from '../command.js';
import { cell, formatFields, formatJson, formatTable, timestamp } from '../output.js';

export interface CreatedApiToken {
  id: string | number;
  token: string;
  name: string;
  expiresAt: string | null;
}

export interface ApiToken {
  id: string | number;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

const createUsage = `Usage: brier api-tokens create --name NAME [--expires-in-days N] [--json]

Create an API token for scripts and integrations; it acts as you. Use it by
setting BRIER_TOKEN. The token is shown only once.

Options:
  --name NAME          What the token is for (required)
  --expires-in-days N  Token stops working after N days (server default when omitted)
${SERVER_HELP}
${JSON_HELP}
${HELP_HELP}
`;

const listUsage = `Usage: brier api-tokens list [--json]

List your API tokens (the secret token values are never shown again).

Options:
${SERVER_HELP}
${JSON_HELP}
${HELP_HELP}
`;

const revokeUsage = `Usage: brier api-tokens revoke ID

Revoke an API token; requests using it are refused from then on.

Options:
${SERVER_HELP}
${HELP_HELP}
`;

const usage = `Usage: brier api-tokens <sub-command> [options]

API tokens authenticate scripts and integrations (set BRIER_TOKEN).

Sub-commands:
  create     Create a token
  list       List tokens
  revoke     Revoke a token

Run 'brier api-tokens <sub-command> --help' for its options.
`;

export const apiTokensCommand: Command = {
  name: 'api-tokens',
  summary: 'Create, list and revoke API tokens for scripts',
  usage,
  run: (args, ctx) => dispatchSubcommand('api-tokens', usage, { create, list, revoke }, args, ctx),
};

async function create(args: string[], ctx: CommandContext): Promise<number> {
  const { values, help } = parseCommandArgs(
    args,
    { ...SERVER_OPTION, ...JSON_OPTION, name: { type: 'string' }, 'expires-in-days': { type: 'string' } },
    createUsage,
  );
  if (help) {
    ctx.io.stdout(createUsage);
    return EXIT_OK;
  }
  if (values.name === undefined || values.name.trim() === '') throw new UsageError('--name is required', createUsage);
  const body = { name: values.name, expiresInDays: intOption('expires-in-days', values['expires-in-days'], createUsage, 1) };
  const { client } = await ctx.session(values.server);
  const created = await client.post<CreatedApiToken>('/api-tokens', body);
  if (values.json) {
    ctx.io.stdout(formatJson(created));
    return EXIT_OK;
  }
  const t: Partial<CreatedApiToken> = isRecord(created) ? created : {};
  ctx.io.stdout(
    formatFields([
      ['Token', cell(t.token)],
      ['ID', cell(t.id)],
      ['Name', cell(t.name)],
      ['Expires', timestamp(t.expiresAt, 'never')],
    ]),
  );
  ctx.io.stdout('\nThe token is shown only this once; store it now. Use it with BRIER_TOKEN=<token>.\n');
  return EXIT_OK;
}

async function list(args: string[], ctx: CommandContext): Promise<number> {
  const { values, help } = parseCommandArgs(args, { ...SERVER_OPTION, ...JSON_OPTION }, listUsage);
  if (help) {
    ctx.io.stdout(listUsage);
    return EXIT_OK;
  }
  const { client } = await ctx.session(values.server);
  const items = itemsOf<ApiToken>(await client.get<unknown>('/api-tokens'));
  if (values.json) {
    ctx.io.stdout(formatJson(items));
    return EXIT_OK;
  }
  const rows = items.map((t) => [
    cell(t.id),
    cell(t.name),
    timestamp(t.createdAt),
    timestamp(t.expiresAt, 'never'),
    timestamp(t.lastUsedAt, 'never'),
  ]);
  ctx.io.stdout(formatTable(['ID', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED'], rows));
  return EXIT_OK;
}

async function revoke(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs(args, SERVER_OPTION, revokeUsage, { names: ['ID'] });
  if (help) {
    ctx.io.stdout(revokeUsage);
    return EXIT_OK;
  }
  const id = positionals[0] ?? '';
  const path = `/api-tokens/${idSegment(id, revokeUsage)}`;
  const { client } = await ctx.session(values.server);
  await client.delete(path);
  ctx.io.stdout(`API token ${cell(id)} revoked.\n`);
  return EXIT_OK;
}
