import type { ActionResult } from '../policy/ports.js';
import { failed } from './action-result.js';

/**
 * The names any service manager accepts: systemd units (`getty@tty1`), init scripts, Windows
 * service names and launchd labels all fit. A letter or digit first, so a name can never be read as
 * an option (`-x`, `--now`) or a relative path (`..`); no slash, space, quote, `$` or `;`, so it is
 * safe as one argv element, as a file name under /etc/init.d and inside a single-quoted PowerShell string.
 */
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9@._+-]{0,127}$/;

export function isValidServiceName(name: unknown): name is string {
  return typeof name === 'string' && SERVICE_NAME.test(name);
}

/** A service name that failed the grammar; thrown by `status`, which has no result to carry it. */
export class InvalidServiceNameError extends Error {
  readonly code = 'invalid-request';

  constructor(name: unknown) {
    super(`refused service name ${showName(name)}: a letter or digit, then up to 127 of A-Z a-z 0-9 @ . _ + -`);
    this.name = 'InvalidServiceNameError';
  }
}

/** The name for a message: quoted, control characters escaped, cut short. */
export function showName(name: unknown): string {
  const text = typeof name === 'string' ? name : String(name);
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** Throws InvalidServiceNameError unless the name fits the grammar. */
export function assertServiceName(name: unknown): asserts name is string {
  if (!isValidServiceName(name)) throw new InvalidServiceNameError(name);
}

/** The refusal `start`/`enable` return for a bad name, before any command runs. */
export function refusedName(name: unknown): ActionResult {
  return failed('invalid-request', new InvalidServiceNameError(name).message);
}
