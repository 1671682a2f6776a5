import { parseArgs } from 'node:util';
import { itemsOf } from '../api-client.js';
import { type Command, EXIT_OK, idSegment, parseCommandArgs, printResult, SERVER_JSON_HELP, SERVER_JSON_OPTIONS } from '../command.js';
import { cell, formatTable, timestamp } from '../output.js';
import type { StatusCountsView } from './policies.js';

/** One policy's standing across the fleet, as GET /compliance lists it. */
export interface FleetComplianceView {
  policy: { id: string; name: string; version?: number; mode?: string };
  hosts: StatusCountsView;
}

/** The latest result of one rule on one host, as GET /hosts/{id}/compliance lists it. */
export interface HostComplianceView {
  policy: { id: string; name: string; version?: number };
  rule: { index: number; kind: string };
  status: string;
  detail: string;
  checkedAt: string;
  sinceAt?: string;
}

const DETAIL_CHARS = 80;

const usage = `Usage: brier compliance [HOST_ID] [--json]

Without HOST_ID: every policy with how many of its hosts comply, fail, were remediated or could
not be checked. With HOST_ID: the latest result of every rule on that host, with the agent's
explanation. Status is one of compliant, noncompliant, remediated, error; 'unknown' counts hosts
that have not reported the policy yet.

Options:
${SERVER_JSON_HELP}
`;

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function fleetTable(items: FleetComplianceView[]): string {
  const rows = items.map((i) => {
    const h = i.hosts ?? {};
    return [
      cell(i.policy?.name),
      cell(i.policy?.id),
      cell(i.policy?.mode),
      cell(i.policy?.version),
      cell(h.total),
      cell(h.compliant ?? 0),
      cell(h.noncompliant ?? 0),
      cell(h.remediated ?? 0),
      cell(h.error ?? 0),
      cell(h.unknown ?? 0),
    ];
  });
  return formatTable(['POLICY', 'ID', 'MODE', 'VERSION', 'HOSTS', 'COMPLIANT', 'NONCOMPLIANT', 'REMEDIATED', 'ERROR', 'UNKNOWN'], rows);
}

function hostTable(items: HostComplianceView[]): string {
  if (items.length === 0) return 'No compliance results for this host yet (no policy targets it, or its agent has not reported).\n';
  const rows = items.map((i) => [
    cell(i.policy?.name),
    cell(i.policy?.version),
    `${cell(i.rule?.index)} ${cell(i.rule?.kind)}`,
    cell(i.status),
    timestamp(i.checkedAt),
    truncate(cell(i.detail), DETAIL_CHARS),
  ]);
  return formatTable(['POLICY', 'VERSION', 'RULE', 'STATUS', 'CHECKED', 'DETAIL'], rows);
}

/** How many operands `args` holds, or 0 when they do not parse (parseCommandArgs then says why). */
function operandCount(args: string[]): number {
  try {
    return parseArgs({
      args,
      options: { ...SERVER_JSON_OPTIONS, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }).positionals.length;
  } catch {
    return 0;
  }
}

export const complianceCommand: Command = {
  name: 'compliance',
  summary: 'How hosts comply with their policies: the fleet, or one host rule by rule',
  usage,
  run: async (args, ctx) => {
    // HOST_ID is optional: parse with exactly as many operand names as were given (at most one).
    const names = operandCount(args) > 0 ? ['HOST_ID'] : [];
    const { values, positionals, help } = parseCommandArgs(args, SERVER_JSON_OPTIONS, usage, { names });
    if (help) {
      ctx.io.stdout(usage);
      return EXIT_OK;
    }
    const hostId = positionals[0];
    const path = hostId === undefined ? '/compliance' : `/hosts/${idSegment(hostId, usage)}/compliance`;
    const { client } = await ctx.session(values.server);
    const response = await client.get<unknown>(path);
    if (hostId === undefined) {
      const items = itemsOf<FleetComplianceView>(response);
      return printResult(ctx, values.json, items, fleetTable);
    }
    const items = itemsOf<HostComplianceView>(response);
    return printResult(ctx, values.json, items, hostTable);
  },
};
