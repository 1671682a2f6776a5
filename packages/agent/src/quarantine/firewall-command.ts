import type { ActionResult } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { CommandError, type CommandResult } from '../run-command.js';

/** Firewall tools answer in seconds; one that hangs is killed and reported as 'timeout'. */
export const FIREWALL_TIMEOUT_MS = 30_000;

/** One line of a tool's complaint for a report: control characters out, bounded. */
export function oneLine(text: string, max = 300): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point.
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The ActionResult for a command that could not run at all (missing tool, timeout, …). */
export function failureOf(cmd: string, err: unknown): ActionResult {
  if (err instanceof CommandError) {
    if (err.code === 'ENOENT') return { ok: false, code: 'tool-missing', detail: `${cmd} is not installed or not on PATH` };
    if (err.code === 'ETIMEDOUT') return { ok: false, code: 'timeout', detail: oneLine(err.message) };
    return { ok: false, code: 'command-failed', detail: oneLine(err.message) };
  }
  return { ok: false, code: 'command-failed', detail: oneLine(err instanceof Error ? err.message : String(err)) };
}

/** Runs one firewall command; `{ result }` when it ran (any exit code), `{ failure }` when it could not. */
export async function runFirewallCommand(
  run: CommandRunner,
  cmd: string,
  args: readonly string[],
  input?: string,
): Promise<{ result: CommandResult; failure?: undefined } | { result?: undefined; failure: ActionResult }> {
  try {
    return { result: await run(cmd, args, { timeoutMs: FIREWALL_TIMEOUT_MS, ...(input !== undefined ? { input } : {}) }) };
  } catch (err) {
    return { failure: failureOf(cmd, err) };
  }
}

/** 'command-failed' quoting the exit code and the start of stderr (or stdout when stderr is empty). */
export function exitFailure(cmd: string, result: CommandResult): ActionResult {
  const how = result.code === null ? 'was killed by a signal' : `exited with code ${result.code}`;
  const said = oneLine(result.stderr || result.stdout);
  return { ok: false, code: 'command-failed', detail: `${cmd} ${how}${said ? `: ${said}` : ''}` };
}
