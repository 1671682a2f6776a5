import { isRecord } from '../api-client.js';
import {
  commandGroup,
  intOption,
  printResult,
  SERVER_JSON_HELP,
  SERVER_JSON_OPTIONS,
  SERVER_ONLY_HELP,
  UsageError,
  withParsedArgs,
} from '../command.js';
import { cell, formatFields, timestamp } from '../output.js';
import { deleteByIdSubcommand, listSubcommand } from '../resource-commands.js';

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
${SERVER_JSON_HELP}
`;

const listUsage = `Usage: brier api-tokens list [--json]

List your API tokens (the secret token values are never shown again).

Options:
${SERVER_JSON_HELP}
`;

const revokeUsage = `Usage: brier api-tokens revoke ID

Revoke an API token; requests using it are refused from then on.

Options:
${SERVER_ONLY_HELP}
`;

const usage = `Usage: brier api-tokens <sub-command> [options]

API tokens authenticate scripts and integrations (set BRIER_TOKEN).

Sub-commands:
  create     Create a token
  list       List tokens
  revoke     Revoke a token

Run 'brier api-tokens <sub-command> --help' for its options.
`;

const create = withParsedArgs(
  { usage: createUsage, options: { ...SERVER_JSON_OPTIONS, name: { type: 'string' }, 'expires-in-days': { type: 'string' } } },
  async ({ values }, ctx) => {
    if (values.name === undefined || values.name.trim() === '') throw new UsageError('--name is required', createUsage);
    const body = { name: values.name, expiresInDays: intOption('expires-in-days', values['expires-in-days'], createUsage, 1) };
    const { client } = await ctx.session(values.server);
    const created = await client.post<CreatedApiToken>('/api-tokens', body);
    return printResult(ctx, values.json, created, () => {
      const t: Partial<CreatedApiToken> = isRecord(created) ? created : {};
      const fields = formatFields([
        ['Token', cell(t.token)],
        ['ID', cell(t.id)],
        ['Name', cell(t.name)],
        ['Expires', timestamp(t.expiresAt, 'never')],
      ]);
      return `${fields}\nThe token is shown only this once; store it now. Use it with BRIER_TOKEN=<token>.\n`;
    });
  },
);

const list = listSubcommand<ApiToken>({
  usage: listUsage,
  request: '/api-tokens',
  headers: ['ID', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED'],
  row: (t) => [cell(t.id), cell(t.name), timestamp(t.createdAt), timestamp(t.expiresAt, 'never'), timestamp(t.lastUsedAt, 'never')],
});

const revoke = deleteByIdSubcommand({ usage: revokeUsage, collection: '/api-tokens', noun: 'API token', done: 'revoked' });

export const apiTokensCommand = commandGroup({
  name: 'api-tokens',
  summary: 'Create, list and revoke API tokens for scripts',
  usage,
  subcommands: { create, list, revoke },
});
