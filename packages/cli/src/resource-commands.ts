import { itemsOf, type QueryParams, totalOf } from './api-client.js';
import {
  EXIT_OK,
  idSegment,
  type OptionSpec,
  type OptionValues,
  printResult,
  SERVER_JSON_OPTIONS,
  SERVER_OPTION,
  type Subcommand,
  withParsedArgs,
} from './command.js';
import { cell, formatTable } from './output.js';

/**
 * The two shapes most sub-commands share: list a collection (`brier hosts list`, `brier software`)
 * and delete one of its members by id (`brier tokens revoke ID`, `brier hosts delete ID`).
 */

export interface ListSpec<T, O extends Record<string, OptionSpec>> {
  usage: string;
  /** Flags beyond --server and --json, such as filters and paging. */
  options?: O;
  /** Required operands, e.g. `['HOST_ID']`. */
  operands?: string[];
  /**
   * What to GET: a fixed path, or one built from the parsed flags and operands. The builder runs
   * before the server is contacted, so the UsageErrors it throws cost no request.
   */
  request: string | ((parsed: { values: OptionValues<O>; positionals: string[] }) => { path: string; query?: QueryParams });
  headers: readonly string[];
  /** One table row per item; every cell must already be safe (see `cell`). */
  row: (item: T) => string[];
  /** Add an `N of TOTAL` line under the table, for paged listings. */
  showTotal?: boolean;
}

/** GET a listing; print its `items` as JSON under `--json`, otherwise as a table. */
export function listSubcommand<T, O extends Record<string, OptionSpec> = Record<never, OptionSpec>>(spec: ListSpec<T, O>): Subcommand {
  const options = { ...SERVER_JSON_OPTIONS, ...spec.options } as typeof SERVER_JSON_OPTIONS & O;
  return withParsedArgs({ usage: spec.usage, options, operands: spec.operands }, async ({ values, positionals }, ctx) => {
    const { path, query } = typeof spec.request === 'string' ? { path: spec.request } : spec.request({ values, positionals });
    const common = values as OptionValues<typeof SERVER_JSON_OPTIONS>;
    const { client } = await ctx.session(common.server);
    const response = await client.get<unknown>(path, query);
    const items = itemsOf<T>(response);
    return printResult(ctx, common.json, items, () => {
      const table = formatTable(spec.headers, items.map(spec.row));
      return spec.showTotal ? `${table}${items.length} of ${totalOf(response, items.length)}\n` : table;
    });
  });
}

export interface DeleteSpec {
  usage: string;
  /** Path of the collection, e.g. `/hosts`; the id is appended as one encoded segment. */
  collection: string;
  /** The confirmation reads `${noun} ${id} ${done}.`, e.g. `Host h-1 deleted.` */
  noun: string;
  done: string;
}

/** `… ID`: DELETE the member with that id and confirm it on one line. */
export function deleteByIdSubcommand(spec: DeleteSpec): Subcommand {
  const { usage } = spec;
  return withParsedArgs({ usage, options: SERVER_OPTION, operands: ['ID'] }, async ({ values, positionals }, ctx) => {
    const id = positionals[0] ?? '';
    const path = `${spec.collection}/${idSegment(id, usage)}`;
    const { client } = await ctx.session(values.server);
    await client.delete(path);
    ctx.io.stdout(`${spec.noun} ${cell(id)} ${spec.done}.\n`);
    return EXIT_OK;
  });
}
