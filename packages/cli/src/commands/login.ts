import { ApiError, createApiClient, isRecord } from '../api-client.js';
import {
  type CliIo,
  type Command,
  EXIT_OK,
  HELP_HELP,
  readPasswordFromStdin,
  SERVER_OPTION,
  UsageError,
  withParsedArgs,
} from '../command.js';
import { writeCredentials } from '../credentials.js';
import { escapeControl, timestamp } from '../output.js';
import { resolveServer } from '../resolve-session.js';

const usage = `Usage: brier login [--server URL] [--username NAME] [--password-stdin]

Log in to a Brier server and save the session token to credentials.json in the
config directory ($BRIER_CONFIG_DIR, $XDG_CONFIG_HOME/brier or ~/.config/brier),
readable only by you (mode 0600). Later commands use it.

Options:
  --server URL         Server to log in to (default: $BRIER_SERVER, then the saved login)
  --username NAME      Account name (prompted for when omitted)
  --password-stdin     Read the password from standard input instead of prompting
${HELP_HELP}
`;

export const loginCommand: Command = {
  name: 'login',
  summary: 'Log in to a server and save the session token',
  usage,
  run: withParsedArgs(
    { usage, options: { ...SERVER_OPTION, username: { type: 'string' }, 'password-stdin': { type: 'boolean' } } },
    async ({ values }, ctx) => {
      const { io } = ctx;
      const { server } = await resolveServer(io, values.server ?? ctx.globalServer);
      if (server === undefined) throw new UsageError('no server given: pass --server URL or set BRIER_SERVER', usage);

      const passwordFromStdin = values['password-stdin'] === true;
      // With --password-stdin, stdin is the password, so there is nothing left to ask the username from.
      if (passwordFromStdin && values.username === undefined) throw new UsageError('--password-stdin needs --username', usage);
      const username = values.username ?? (await ask(io, 'Username: ', false, '--username NAME'));
      if (username.trim() === '') throw new UsageError('username must not be empty', usage);
      const password = passwordFromStdin ? await readPasswordFromStdin(io) : await ask(io, 'Password: ', true, '--password-stdin');
      if (password === '') throw new UsageError('password must not be empty', usage);

      if (sendsInClear(server)) io.stderr(`brier: warning: ${server} is plain http; the password crosses the network unencrypted\n`);

      const client = createApiClient({ baseUrl: server, fetch: io.fetch });
      const response = await client.post<unknown>('/auth/login', { username, password });
      if (!isRecord(response) || typeof response.token !== 'string' || response.token === '') {
        throw new ApiError({ title: 'Unexpected response from server', detail: 'login answer has no token' });
      }
      const user = isRecord(response.user) ? response.user : {};
      const savedName = typeof user.username === 'string' ? user.username : username;
      const path = await writeCredentials(io.configDir, { server, token: response.token, username: savedName });

      const role = typeof user.role === 'string' ? ` (${escapeControl(user.role)})` : '';
      io.stdout(`Logged in to ${escapeControl(server)} as ${escapeControl(savedName)}${role}.\n`);
      if (response.expiresAt !== undefined && response.expiresAt !== null) io.stdout(`Session expires ${timestamp(response.expiresAt)}.\n`);
      io.stderr(`Credentials saved to ${escapeControl(path)}\n`);
      return EXIT_OK;
    },
  ),
};

async function ask(io: CliIo, question: string, secret: boolean, alternative: string): Promise<string> {
  if (io.prompt === undefined) throw new UsageError(`not running in a terminal, so cannot prompt: pass ${alternative}`, usage);
  return io.prompt(question, { secret });
}

function sendsInClear(server: string): boolean {
  const url = new URL(server);
  if (url.protocol !== 'http:') return false;
  return !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}
