// Whether a package-manager binary the differential tests compare against is installed. In CI a missing
// binary fails the test (CI must exercise every test); elsewhere the test is skipped with the reason.
// Mirrors test/support/pg-available.ts, which packages/ may not import.
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'vitest';

export function inCi(): boolean {
  const value = process.env.CI?.toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

export interface Tool {
  name: string;
  /** What to install, e.g. "apt-get install rpm". */
  install: string;
  available: boolean;
}

/** A tool is available when `command args...` runs and exits 0. */
export function probeTool(name: string, install: string, command: string, args: string[]): Tool {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return { name, install, available: result.error === undefined && result.status === 0 };
}

/**
 * Call first in a test that needs the tool: returns when it is there; otherwise skips the test with
 * the reason, or, when CI is set, throws so the run fails instead of quietly testing less.
 */
export function requireTool(context: Pick<TestContext, 'skip'>, tool: Tool): void {
  if (tool.available) return;
  const reason = `${tool.name} is not installed, so the differential test against the real ${tool.name} cannot run; install it (${tool.install})`;
  if (inCi()) throw new Error(`${reason}. CI=${process.env.CI}, so this is a failure, not a skip.`);
  context.skip(reason);
}
