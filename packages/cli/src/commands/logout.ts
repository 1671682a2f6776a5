import { ApiError, createApiClient } from '../api-client.js';
import { type Command, EXIT_API_ERROR, EXIT_OK, SERVER_ONLY_HELP, SERVER_OPTION, withParsedArgs } from '../command.js';
import { credentialsPath, deleteCredentials } from '../credentials.js';
import { escapeControl } from '../output.js';
import { normalizeServer, resolveServer } from '../resolve-session.js';

const usage = `Usage: brier logout [--server URL]

End the session saved by 'brier login': the server invalidates the token and the
credentials file is deleted. A token in BRIER_TOKEN is left alone (API tokens are
revoked with 'brier api-tokens revoke').

Options:
${SERVER_ONLY_HELP}
`;

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'End the saved session and delete the credentials file',
  usage,
  run: withParsedArgs({ usage, options: SERVER_OPTION }, async ({ values }, ctx) => {
    const { io } = ctx;
    const { server, saved } = await resolveServer(io, values.server ?? ctx.globalServer);
    // Logout undoes login, so it acts on the saved session only, and only for the server it names.
    if (saved === undefined || (server !== undefined && normalizeServer(saved.server) !== server)) {
      io.stderr(`Not logged in${server === undefined ? '' : ` to ${escapeControl(server)}`}.\n`);
      return EXIT_OK;
    }
    const client = createApiClient({ baseUrl: saved.server, token: saved.token, fetch: io.fetch });
    let failure: ApiError | undefined;
    try {
      await client.post('/auth/logout');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      // 401: the token had already expired or been revoked, which is the state we want.
      if (err.status !== 401) failure = err;
    }
    // The local file goes either way: keeping it after the user asked to log out would be worse.
    await deleteCredentials(io.configDir);
    if (failure !== undefined) {
      io.stderr(`brier: the server did not confirm the logout: ${escapeControl(failure.message)}\n`);
      io.stderr(`Removed ${escapeControl(credentialsPath(io.configDir))}; the token may stay valid until it expires.\n`);
      return EXIT_API_ERROR;
    }
    io.stdout(`Logged out of ${escapeControl(saved.server)}.\n`);
    return EXIT_OK;
  }),
};
