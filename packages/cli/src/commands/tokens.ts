import { isRecord } from '../api-client.js';
import {
  commandGroup,
  intOption,
  printResult,
  SERVER_JSON_HELP,
  SERVER_JSON_OPTIONS,
  SERVER_ONLY_HELP,
  withParsedArgs,
} from '../command.js';
import { cell, formatFields, shellWord, timestamp, yesNo } from '../output.js';
import { deleteByIdSubcommand, listSubcommand } from '../resource-commands.js';

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
${SERVER_JSON_HELP}
`;

const listUsage = `Usage: brier tokens list [--json]

List enrolment tokens (the secret token values are never shown again).

Options:
${SERVER_JSON_HELP}
`;

const revokeUsage = `Usage: brier tokens revoke ID

Revoke an enrolment token so no further host can enrol with it.

Options:
${SERVER_ONLY_HELP}
`;

const usage = `Usage: brier tokens <sub-command> [options]

Enrolment tokens let new agents join the fleet.

Sub-commands:
  create     Create a token and print the enrol command
  list       List tokens
  revoke     Revoke a token

Run 'brier tokens <sub-command> --help' for its options.
`;

const create = withParsedArgs(
  {
    usage: createUsage,
    options: {
      ...SERVER_JSON_OPTIONS,
      'auto-approve': { type: 'boolean' },
      'expires-in-hours': { type: 'string' },
      'max-uses': { type: 'string' },
    },
  },
  async ({ values }, ctx) => {
    const body = {
      autoApprove: values['auto-approve'] ? true : undefined,
      expiresInHours: intOption('expires-in-hours', values['expires-in-hours'], createUsage, 1),
      maxUses: intOption('max-uses', values['max-uses'], createUsage, 1),
    };
    const { client, server } = await ctx.session(values.server);
    const created = await client.post<CreatedEnrollmentToken>('/enrollment-tokens', body);
    return printResult(ctx, values.json, created, () => {
      const t: Partial<CreatedEnrollmentToken> = isRecord(created) ? created : {};
      const fields = formatFields([
        ['Token', cell(t.token)],
        ['ID', cell(t.id)],
        ['Expires', timestamp(t.expiresAt, 'never')],
        ['Max uses', maxUses(t.maxUses)],
        ['Auto-approve', yesNo(t.autoApprove)],
      ]);
      const enrol = `brier-agent enroll --server ${shellWord(server)} --token ${shellWord(String(t.token ?? ''))}`;
      return `${fields}\nThe token is shown only this once. Enrol a host with:\n\n  ${enrol}\n`;
    });
  },
);

const list = listSubcommand<EnrollmentToken>({
  usage: listUsage,
  request: '/enrollment-tokens',
  headers: ['ID', 'CREATED', 'EXPIRES', 'USES', 'AUTO-APPROVE', 'REVOKED', 'CREATED BY'],
  row: (t) => [
    cell(t.id),
    timestamp(t.createdAt),
    timestamp(t.expiresAt, 'never'),
    `${cell(t.uses)}/${maxUses(t.maxUses)}`,
    yesNo(t.autoApprove),
    timestamp(t.revokedAt),
    cell(isRecord(t.createdBy) && 'username' in t.createdBy ? t.createdBy.username : t.createdBy),
  ],
});

const revoke = deleteByIdSubcommand({ usage: revokeUsage, collection: '/enrollment-tokens', noun: 'Enrolment token', done: 'revoked' });

function maxUses(value: number | null | undefined): string {
  return value === null || value === undefined ? 'unlimited' : cell(value);
}

export const tokensCommand = commandGroup({
  name: 'tokens',
  summary: 'Create, list and revoke enrolment tokens for agents',
  usage,
  subcommands: { create, list, revoke },
});
