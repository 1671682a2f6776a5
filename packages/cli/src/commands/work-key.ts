import { isRecord } from '../api-client.js';
import { commandGroup, printResult, SERVER_JSON_HELP, SERVER_JSON_OPTIONS, withParsedArgs } from '../command.js';
import { cell, formatFields } from '../output.js';

interface Certificate {
  keyId: string;
  notBefore: string;
  notAfter: string;
}

interface WorkKeyView {
  current: Certificate;
  retired: Certificate[];
}

const usage = `Usage: brier work-key <show|rotate> [options]

The key that signs work for agents (not the server identity agents pinned at enrolment).

Commands:
  show      The key in use and the retired ones, by certificate
  rotate    Replace it with a new key certified by the server identity. Agents need nothing:
            work signed before stays valid until its retired certificate lapses. Other server
            replicas keep signing with the key they loaded (still valid) until they restart.

Run 'brier work-key <command> --help' for its options.
`;

const showUsage = `Usage: brier work-key show [--server URL] [--json]

Show the work-signing key in use and the retired ones (admin only).

Options:
${SERVER_JSON_HELP}
`;

const rotateUsage = `Usage: brier work-key rotate [--server URL] [--json]

Replace the work-signing key with a new one (admin only); the change is audited.

Options:
${SERVER_JSON_HELP}
`;

function render(view: unknown): string {
  if (!isRecord(view) || !isRecord(view.current)) return '';
  const key = view as unknown as WorkKeyView;
  const line = (c: Certificate) => `${cell(c.keyId)} valid ${cell(c.notBefore)} to ${cell(c.notAfter)}`;
  return formatFields([['Current', line(key.current)], ...key.retired.map((c, i) => [i === 0 ? 'Retired' : '', line(c)] as const)]);
}

const show = withParsedArgs({ usage: showUsage, options: SERVER_JSON_OPTIONS }, async ({ values }, ctx) => {
  const { client } = await ctx.session(values.server);
  return printResult(ctx, values.json, await client.get<unknown>('/work-key'), render);
});

const rotate = withParsedArgs({ usage: rotateUsage, options: SERVER_JSON_OPTIONS }, async ({ values }, ctx) => {
  const { client } = await ctx.session(values.server);
  return printResult(ctx, values.json, await client.post<unknown>('/work-key/rotate'), render);
});

export const workKeyCommand = commandGroup({
  name: 'work-key',
  summary: 'Show or rotate the key that signs work for agents',
  usage,
  subcommands: { show, rotate },
});
