import { parseArgs } from 'node:util';
import type { ApiClient } from './api-client.js';
import { formatJson } from './output.js';

/** Everything the CLI may touch of the outside world; `main.ts` builds the real one, tests a fake. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  readStdin: () => Promise<string>;
  /** Absent when there is no terminal to ask (stdin is a pipe), so commands must not block on it. */
  prompt?: (question: string, options: { secret: boolean }) => Promise<string>;
  configDir: string;
}

export interface CommandContext {
  io: CliIo;
  /** `--server` given before the command name; a `--server` after it wins. */
  globalServer: string | undefined;
  /** Builds an authenticated client from flag, env and saved credentials (see resolve-session.ts). */
  session: (serverFlag: string | undefined) => Promise<Session>;
}

export interface Session {
  server: string;
  token: string;
  client: ApiClient;
}

export interface Command {
  name: string;
  /** One line, shown in `brier --help`. */
  summary: string;
  usage: string;
  run: (args: string[], ctx: CommandContext) => Promise<number>;
}

/** Wrong invocation or missing configuration: exit code 2, usage text when there is one. */
export class UsageError extends Error {
  readonly usage: string | undefined;

  constructor(message: string, usage?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/** The user interrupted a prompt (Ctrl-C / Ctrl-D). */
export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortedError';
  }
}

export const EXIT_OK = 0;
export const EXIT_API_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_ABORTED = 130;

/** A handler for one word of a command group, such as `list` in `brier hosts list`. */
export type Subcommand = (args: string[], ctx: CommandContext) => Promise<number>;

export type OptionSpec = { type: 'string' | 'boolean'; short?: string };
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string;
};

/**
 * `util.parseArgs` in strict mode, with `--help` added and its TypeErrors turned into UsageErrors
 * that carry the command's usage text. `positionals` is the exact number of operands required,
 * so a stray word is an error rather than silently ignored.
 */
export function parseCommandArgs<O extends Record<string, OptionSpec>>(
  args: string[],
  options: O,
  usage: string,
  positionals: { names: string[] } = { names: [] },
): { values: OptionValues<O>; positionals: string[]; help: boolean } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), usage, { cause: err });
  }
  const values = parsed.values as OptionValues<O> & { help?: boolean };
  if (values.help === true) return { values, positionals: parsed.positionals, help: true };
  const expected = positionals.names;
  if (parsed.positionals.length < expected.length) {
    throw new UsageError(`missing ${expected.slice(parsed.positionals.length).join(' ')}`, usage);
  }
  if (parsed.positionals.length > expected.length) {
    throw new UsageError(`unexpected argument '${parsed.positionals[expected.length]}'`, usage);
  }
  return { values, positionals: parsed.positionals, help: false };
}

/** A non-negative integer option, or undefined when absent. */
export function intOption(name: string, value: string | undefined, usage: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`, usage);
  }
  return n;
}

/** One of a fixed set of words, or undefined when absent. */
export function choiceOption<T extends string>(
  name: string,
  value: string | undefined,
  choices: readonly T[],
  usage: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${value}'`, usage);
  }
  return value as T;
}

/**
 * Path segment for an id. encodeURIComponent leaves '.' alone and URL parsing collapses '.' and '..'
 * segments, so such ids would address a different route; refuse them ('%' itself gets encoded).
 */
export function idSegment(id: string, usage: string): string {
  if (id === '' || id === '.' || id === '..') throw new UsageError(`invalid id '${id}'`, usage);
  return encodeURIComponent(id);
}

/** A command made of sub-commands, such as `brier hosts`; see `dispatchSubcommand`. */
export function commandGroup(spec: Omit<Command, 'run'> & { subcommands: Record<string, Subcommand> }): Command {
  const { name, summary, usage, subcommands } = spec;
  return { name, summary, usage, run: (args, ctx) => dispatchSubcommand(name, usage, subcommands, args, ctx) };
}

/**
 * Sub-command dispatch for `brier hosts list`, `brier tokens create`, ...: the first word picks the
 * handler; `--help` or no word prints the group's usage.
 */
export async function dispatchSubcommand(
  group: string,
  usage: string,
  handlers: Record<string, Subcommand>,
  args: string[],
  ctx: CommandContext,
): Promise<number> {
  const [word, ...rest] = args;
  if (word === '--help' || word === '-h') return printUsage(ctx, usage);
  if (word === undefined) throw new UsageError(`missing ${group} sub-command`, usage);
  const handler = Object.hasOwn(handlers, word) ? handlers[word] : undefined;
  if (handler === undefined) throw new UsageError(`unknown ${group} sub-command '${word}'`, usage);
  return handler(rest, ctx);
}

/** The answer to `--help`: the usage text on stdout, exit 0. */
function printUsage(ctx: CommandContext, usage: string): number {
  ctx.io.stdout(usage);
  return EXIT_OK;
}

/**
 * A handler that starts as they all do: `args` parsed by `parseCommandArgs` against `options` and
 * `operands`, and `--help` answered with `usage` before `run` is called.
 */
export function withParsedArgs<O extends Record<string, OptionSpec>>(
  spec: { usage: string; options: O; operands?: string[] },
  run: (parsed: { values: OptionValues<O>; positionals: string[] }, ctx: CommandContext) => Promise<number>,
): Subcommand {
  const { usage, options } = spec;
  return async (args, ctx) => {
    const { values, positionals, help } = parseCommandArgs(args, options, usage, { names: spec.operands ?? [] });
    if (help) return printUsage(ctx, usage);
    return run({ values, positionals }, ctx);
  };
}

/** The server's answer as JSON under `--json`, otherwise the text `render` makes of it; exit 0. */
export function printResult<T>(ctx: CommandContext, json: boolean | undefined, value: T, render: (value: T) => string): number {
  ctx.io.stdout(json ? formatJson(value) : render(value));
  return EXIT_OK;
}

/**
 * A password piped in with `--password-stdin`. `echo secret | brier ...` adds a newline that is not
 * part of the password, so exactly one trailing line break is dropped, nothing else.
 */
export async function readPasswordFromStdin(io: CliIo): Promise<string> {
  return (await io.readStdin()).replace(/\r?\n$/, '');
}

/** Accepted by every command that talks to the server. */
export const SERVER_OPTION = { server: { type: 'string' } } as const;
export const JSON_OPTION = { json: { type: 'boolean' } } as const;

export const SERVER_HELP = '  --server URL         Brier server (default: $BRIER_SERVER, then the saved login)';
export const JSON_HELP = '  --json               Print the server response as JSON';
export const HELP_HELP = '  -h, --help           Show this help';

/** `--server` and `--json`, for commands that print what the server answers. */
export const SERVER_JSON_OPTIONS = { ...SERVER_OPTION, ...JSON_OPTION } as const;

/** The option lines that close the usage of a command taking SERVER_JSON_OPTIONS, and of one taking SERVER_OPTION. */
export const SERVER_JSON_HELP = `${SERVER_HELP}\n${JSON_HELP}\n${HELP_HELP}`;
export const SERVER_ONLY_HELP = `${SERVER_HELP}\n${HELP_HELP}`;
