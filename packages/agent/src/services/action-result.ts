import type { ActionResult } from '../policy/ports.js';
import { CommandError, type CommandResult, type CommandRunner, type RunOptions } from '../run-command.js';

/** A successful action. */
export function succeeded(detail: string): ActionResult {
  return { ok: true, detail: oneLine(detail) };
}

/** A failed action with a stable code ('tool-missing', 'command-failed', 'timeout', 'not-found', ...). */
export function failed(code: string, detail: string): ActionResult {
  return { ok: false, code, detail: oneLine(detail) };
}

/** Remediation events carry one line: collapse whitespace and cut long output (characters, not bytes). */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The first non-empty line of a command's output (stderr first, where tools put their complaint). */
export function firstLineOf(result: CommandResult): string {
  for (const text of [result.stderr, result.stdout]) {
    const line = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== '');
    if (line) return oneLine(line, 200);
  }
  return '';
}

/** The stable failure code for an error from the command runner. */
export function codeOfRunError(err: unknown): string {
  if (err instanceof CommandError) {
    if (err.code === 'ENOENT') return 'tool-missing';
    if (err.code === 'ETIMEDOUT') return 'timeout';
  }
  return 'command-failed';
}

/** Why a command could not run, in words (never the raw stack). */
export function describeRunError(cmd: string, err: unknown): string {
  if (err instanceof CommandError) {
    if (err.code === 'ENOENT') return `${cmd} is not installed`;
    return err.message;
  }
  return `${cmd} could not be run: ${err instanceof Error ? err.message : String(err)}`;
}

export type Attempt = { result: CommandResult; failure?: undefined } | { result?: undefined; failure: ActionResult };

/**
 * Runs a command and turns runner errors (missing binary, timeout, output limit) into a failed
 * ActionResult, so a remediation reports them instead of throwing. A non-zero exit is a result, judged by the caller.
 */
export async function attempt(run: CommandRunner, cmd: string, args: readonly string[], opts?: RunOptions): Promise<Attempt> {
  try {
    return { result: await run(cmd, args, opts) };
  } catch (err) {
    return { failure: failed(codeOfRunError(err), describeRunError(cmd, err)) };
  }
}

/** `ok` for exit 0, else command-failed quoting the tool's first line. */
export function judgeExit(cmd: string, what: string, result: CommandResult): ActionResult {
  if (result.code === 0) return succeeded(what);
  const how = result.code === null ? 'was killed by a signal' : `exited with code ${result.code}`;
  const line = firstLineOf(result);
  return failed('command-failed', `${cmd} ${how}${line ? `: ${line}` : ''}`);
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
