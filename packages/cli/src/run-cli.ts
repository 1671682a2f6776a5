import { ApiError } from './api-client.js';
import {
  AbortedError,
  type CliIo,
  type Command,
  type CommandContext,
  EXIT_ABORTED,
  EXIT_API_ERROR,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
} from './command.js';
import { apiTokensCommand } from './commands/api-tokens.js';
import { complianceCommand } from './commands/compliance.js';
import { deployCommand } from './commands/deploy.js';
import { devicesCommand } from './commands/devices.js';
import { hostsCommand } from './commands/hosts.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { patchesCommand } from './commands/patches.js';
import { policiesCommand } from './commands/policies.js';
import { quarantineCommand, releaseCommand } from './commands/quarantine.js';
import { softwareCommand } from './commands/software.js';
import { tokensCommand } from './commands/tokens.js';
import { usersCommand } from './commands/users.js';
import { vercmpCommand } from './commands/vercmp.js';
import { vulnsCommand } from './commands/vulns.js';
import { whoamiCommand } from './commands/whoami.js';
import { workKeyCommand } from './commands/work-key.js';
import { escapeControl } from './output.js';
import { resolveSession } from './resolve-session.js';
import { CLI_VERSION } from './version.js';

export type { CliIo } from './command.js';

/** In the order `brier --help` lists them. */
export const COMMANDS: readonly Command[] = [
  loginCommand,
  logoutCommand,
  whoamiCommand,
  hostsCommand,
  softwareCommand,
  patchesCommand,
  deployCommand,
  vulnsCommand,
  policiesCommand,
  complianceCommand,
  quarantineCommand,
  releaseCommand,
  devicesCommand,
  tokensCommand,
  apiTokensCommand,
  usersCommand,
  vercmpCommand,
  workKeyCommand,
];

const nameWidth = Math.max(...COMMANDS.map((c) => c.name.length));

export const MAIN_USAGE = `Usage: brier [--server URL] <command> [options]

Operate a Brier fleet from the command line.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(nameWidth)}  ${c.summary}`).join('\n')}

Options:
  --server URL   Brier server (default: $BRIER_SERVER, then the saved login)
  -h, --help     Show this help
  --version      Print the CLI version

Environment:
  BRIER_SERVER       Server URL
  BRIER_TOKEN        Bearer token (an API token); takes precedence over the saved login
  BRIER_CONFIG_DIR   Where credentials.json is kept (default: $XDG_CONFIG_HOME/brier
                     or ~/.config/brier)

Run 'brier <command> --help' for the options of a command.
`;

/**
 * Runs one CLI invocation. `argv` excludes the node binary and script path. Returns the exit code:
 * 0 success, 1 the server refused or could not be reached, 2 wrong usage or missing configuration,
 * 130 the user aborted a prompt. Never throws for expected failures.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let globalServer: string | undefined;
  let i = 0;
  // Only --server, --help and --version may come before the command name.
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-')) break;
    if (arg === '--help' || arg === '-h') {
      io.stdout(MAIN_USAGE);
      return EXIT_OK;
    }
    if (arg === '--version') {
      io.stdout(`${CLI_VERSION}\n`);
      return EXIT_OK;
    }
    if (arg === '--server' && i + 1 < argv.length) {
      globalServer = argv[++i];
    } else if (arg.startsWith('--server=')) {
      globalServer = arg.slice('--server='.length);
    } else {
      return usageFailure(io, new UsageError(arg === '--server' ? "option '--server' needs a URL" : `unknown option '${arg}'`, MAIN_USAGE));
    }
  }

  const name = argv[i];
  if (name === undefined) return usageFailure(io, new UsageError('missing command', MAIN_USAGE));
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) return usageFailure(io, new UsageError(`unknown command '${name}'`, MAIN_USAGE));

  const ctx: CommandContext = {
    io,
    globalServer,
    session: (serverFlag) => resolveSession(io, serverFlag ?? globalServer),
  };
  try {
    return await command.run(argv.slice(i + 1), ctx);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, err);
    if (err instanceof ApiError) {
      io.stderr(`brier: ${escapeControl(err.message)}\n`);
      if (err.status === 401) io.stderr("Run 'brier login' to log in again, or check BRIER_TOKEN.\n");
      return EXIT_API_ERROR;
    }
    if (err instanceof AbortedError) {
      io.stderr('\nbrier: aborted\n');
      return EXIT_ABORTED;
    }
    // A bug or an environment failure (disk full writing credentials): say what, not a stack trace.
    io.stderr(`brier: ${escapeControl(err instanceof Error ? err.message : String(err))}\n`);
    return EXIT_API_ERROR;
  }
}

function usageFailure(io: CliIo, err: UsageError): number {
  io.stderr(`brier: ${escapeControl(err.message)}\n`);
  if (err.usage !== undefined) io.stderr(`\n${err.usage}`);
  return EXIT_USAGE;
}
