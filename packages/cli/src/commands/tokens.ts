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
} from '../command.js';
import { cell, formatFields, formatJson, formatTable, shellWord, timestamp, yesNo } from '../output.js';

/** The answer to creating an enrolment token; `token` is shown this once only. */
export interface CreatedEnrollmentToken {
  id: string | number;
  token: string;
  expiresAt: string | null;
  maxUses: number | null;
  autoApprove: boolean;
}

export interface EnrollmentToken {
  id: string | number;
  createdAt: string;
  expiresAt: string | null;
  maxUses: number | null;
  uses: number;
  autoApprove: boolean;
  revokedAt: string | null;
  createdBy: unknown;
}

const createUsage = `Usage: brier tokens create [--auto-approve] [--expires-in-hours N] [--max-uses N] [--json]

Create an enrolment token and print the command that enrols a host with it.
The token is shown only once.

Options:
  --auto-approve        Hosts enrolling with this token are approved at once
  --expires-in-hours N  Token stops working after N hours (server default when omitted)
  --max-uses N          Token enrols at most N hosts (unlimited when omitted)
${SERVER_HELP}
${JSON_HELP}
${HELP_HELP}
`;

const listUsage = `Usage: brier tokens list [--json]

List enrolment tokens (the secret token values are never shown again).

Options:
${SERVER_HELP}
${JSON_HELP}
${HELP_HELP}
`;

const revokeUsage = `Usage: brier tokens revoke ID

Revoke an enrolment token so no further host can enrol with it.

Options:
${SERVER_HELP}
${HELP_HELP}
`;

const usage = `Usage: brier tokens <sub-command> [options]

Enrolment tokens let new agents join the fleet.

Sub-commands:
  create     Create a token and print the enrol command
  list       List tokens
  revoke     Revoke a token

Run 'brier tokens <sub-command> --help' for its options.
`;

export const tokensCommand: Command = {
  name: 'tokens',
  summary: 'Create, list and revoke enrolment tokens for agents',
  usage,
  run: (args, ctx) => dispatchSubcommand('tokens', usage, { create, list, revoke }, args, ctx),
};

async function create(args: string[], ctx: CommandContext): Promise<number> {
  const { values, help } = parseCommandArgs(
    args,
    {
      ...SERVER_OPTION,
      ...JSON_OPTION,
      'auto-approve': { type: 'boolean' },
      'expires-in-hours': { type: 'string' },
      'max-uses': { type: 'string' },
    },
    createUsage,
  );
  if (help) {
    ctx.io.stdout(createUsage);
    return EXIT_OK;
  }
  const body = {
    autoApprove: values['auto-approve'] ? true : undefined,
    expiresInHours: intOption('expires-in-hours', values['expires-in-hours'], createUsage, 1),
    maxUses: intOption('max-uses', values['max-uses'], createUsage, 1),
  };
  const { client, server } = await ctx.session(values.server);
  const created = await client.post<CreatedEnrollmentToken>('/enrollment-tokens', body);
  if (values.json) {
    ctx.io.stdout(formatJson(created));
    return EXIT_OK;
  }
  const t: Partial<CreatedEnrollmentToken> = isRecord(created) ? created : {};
  ctx.io.stdout(
    formatFields([
      ['Token', cell(t.token)],
      ['ID', cell(t.id)],
      ['Expires', timestamp(t.expiresAt, 'never')],
      ['Max uses', t.maxUses === null || t.maxUses === undefined ? 'unlimited' : cell(t.maxUses)],
      ['Auto-approve', yesNo(t.autoApprove)],
    ]),
  );
  ctx.io.stdout('\nThe token is shown only this once. Enrol a host with:\n\n');
  ctx.io.stdout(`  brier-agent enroll --server ${shellWord(server)} --token ${shellWord(String(t.token ?? ''))}\n`);
  return EXIT_OK;
}

async function list(args: string[], ctx: CommandContext): Promise<number> {
  const { values, help } = parseCommandArgs(args, { ...SERVER_OPTION, ...JSON_OPTION }, listUsage);
  if (help) {
    ctx.io.stdout(listUsage);
    return EXIT_OK;
  }
  const { client } = await ctx.session(values.server);
  const items = itemsOf<EnrollmentToken>(await client.get<unknown>('/enrollment-tokens'));
  if (values.json) {
    ctx.io.stdout(formatJson(items));
    return EXIT_OK;
  }
  const rows = items.map((t) => [
    cell(t.id),
    timestamp(t.createdAt),
    timestamp(t.expiresAt, 'never'),
    `${cell(t.uses)}/${t.maxUses === null || t.maxUses === undefined ? 'unlimited' : cell(t.maxUses)}`,
    yesNo(t.autoApprove),
    timestamp(t.revokedAt),
    cell(isRecord(t.createdBy) && 'username' in t.createdBy ? t.createdBy.username : t.createdBy),
  ]);
  ctx.io.stdout(formatTable(['ID', 'CREATED', 'EXPIRES', 'USES', 'AUTO-APPROVE', 'REVOKED', 'CREATED BY'], rows));
  return EXIT_OK;
}

async function revoke(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals, help } = parseCommandArgs(args, SERVER_OPTION, revokeUsage, { names: ['ID'] });
  if (help) {
    ctx.io.stdout(revokeUsage);
    return EXIT_OK;
  }
  const id = positionals[0] ?? '';
  const path = `/enrollment-tokens/${idSegment(id, revokeUsage)}`;
  const { client } = await ctx.session(values.server);
  await client.delete(path);
  ctx.io.stdout(`Enrolment token ${cell(id)} revoked.\n`);
  return EXIT_OK;
}
