import { visibleText } from '../../ui/SafeText';

/**
 * A word to paste into a POSIX shell as it is: bare when only characters no shell treats specially,
 * otherwise single-quoted (the same rule as the CLI's `brier tokens create`). Invisible and control
 * characters are written visibly first, so what is shown is what gets pasted.
 */
export function shellWord(text: string): string {
  // visibleText leaves tab and newline alone (they are visible in prose); in a command they are not.
  const safe = visibleText(text).replace(/[\t\n]/g, (ch) => `⟨U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(safe)) return safe;
  return `'${safe.replace(/'/g, `'\\''`)}'`;
}

/** The state directory the README uses when enrolling from a checkout of the repository. */
export const CHECKOUT_STATE_DIR = './agent-state';

export interface EnrolCommands {
  /** From a checkout of Brier (npm install done), as the README's quick start: enrol, then run. */
  enroll: string;
  run: string;
  /** As a system service (root; state in /var/lib/brier-agent; deploy/systemd/brier-agent.service). */
  serviceEnroll: string;
  serviceStart: string;
}

/**
 * The commands an operator runs on a new machine to enrol it with a join token: the agent pins the
 * server key named in the token and connects to `server` (the console's own origin).
 */
export function enrolCommands(server: string, token: string): EnrolCommands {
  const base = server.replace(/\/+$/, '');
  const args = `--server ${shellWord(base)} --token ${shellWord(token)}`;
  return {
    enroll: `npx brier-agent enroll ${args} --state-dir ${CHECKOUT_STATE_DIR}`,
    run: `npx brier-agent run --state-dir ${CHECKOUT_STATE_DIR}`,
    serviceEnroll: `sudo node /opt/brier/packages/agent/bin/brier-agent.js enroll ${args}`,
    serviceStart: 'sudo systemctl enable --now brier-agent',
  };
}
