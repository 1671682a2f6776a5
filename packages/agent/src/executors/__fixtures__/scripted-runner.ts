// A CommandRunner that plays back recorded outputs in a fixed order, for executors whose tools cannot
// run on the Linux test machine. Every call must be the next expected one, so the tests also pin down
// the exact command lines; an unexpected call fails the test instead of returning something made up.
import { readFileSync } from 'node:fs';
import { CommandError, type CommandResult, type CommandRunner, type RunOptions } from '../../run-command.js';

export interface ScriptedStep {
  cmd: string;
  /** Exact argv, or a predicate for argv that carries variable parts. */
  args: readonly string[] | ((args: readonly string[]) => boolean);
  /** The recorded result, or an error code to throw as the real runner would (ENOENT, ETIMEDOUT). */
  reply: CommandResult | { throws: string };
}

export interface ScriptedCall {
  cmd: string;
  args: readonly string[];
  opts: RunOptions | undefined;
}

export interface ScriptedRunner {
  run: CommandRunner;
  calls: ScriptedCall[];
  /** Steps not yet consumed; a test that expects all of them to run checks this is empty. */
  remaining(): ScriptedStep[];
}

export function scriptedRunner(steps: readonly ScriptedStep[]): ScriptedRunner {
  const queue = [...steps];
  const calls: ScriptedCall[] = [];
  const run: CommandRunner = async (cmd, args, opts) => {
    calls.push({ cmd, args, opts });
    const next = queue.shift();
    const shown = [cmd, ...args].join(' ');
    if (!next) throw new Error(`unexpected command after the script ended: ${shown}`);
    const argsMatch = typeof next.args === 'function' ? next.args(args) : JSON.stringify(next.args) === JSON.stringify(args);
    if (next.cmd !== cmd || !argsMatch) {
      const wanted = typeof next.args === 'function' ? '(predicate)' : next.args.join(' ');
      throw new Error(`unexpected command: ${shown}\nexpected: ${next.cmd} ${wanted}`);
    }
    if ('throws' in next.reply) throw new CommandError(next.reply.throws, cmd, `${cmd}: ${next.reply.throws}`, { cause: Object.assign(new Error(next.reply.throws), { code: next.reply.throws }) });
    return next.reply;
  };
  return { run, calls, remaining: () => [...queue] };
}

/** A recorded output file from __fixtures__/<tool>/<name>. */
export function fixture(tool: string, name: string): string {
  return readFileSync(new URL(`./${tool}/${name}`, import.meta.url), 'utf8');
}

/** A result with the given stdout (and optional stderr and exit code). */
export function out(stdout: string, code = 0, stderr = ''): CommandResult {
  return { stdout, stderr, code };
}
