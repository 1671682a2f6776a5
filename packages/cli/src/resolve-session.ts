import { createApiClient } from './api-client.js';
import { type CliIo, type Session, UsageError } from './command.js';
import { type Credentials, credentialsPath, credentialsTooOpen, readCredentials } from './credentials.js';

/**
 * Server URL precedence: `--server` flag, then `BRIER_SERVER`, then the saved login.
 * Returns the normalised URL (no trailing slash) and the saved credentials, if any.
 */
export async function resolveServer(
  io: CliIo,
  serverFlag: string | undefined,
): Promise<{ server: string | undefined; saved: Credentials | undefined }> {
  const saved = await readCredentials(io.configDir);
  const raw = serverFlag ?? (io.env.BRIER_SERVER || undefined) ?? saved?.server;
  return { server: raw === undefined ? undefined : normalizeServer(raw), saved };
}

/**
 * An authenticated session. The token is `BRIER_TOKEN`, else the saved one, but the saved token is
 * only sent to the server it was issued by: `--server https://elsewhere` must not leak it.
 */
export async function resolveSession(io: CliIo, serverFlag: string | undefined): Promise<Session> {
  const { server, saved } = await resolveServer(io, serverFlag);
  if (server === undefined) {
    throw new UsageError("no server configured: run 'brier login --server URL', or set BRIER_SERVER and BRIER_TOKEN");
  }
  let token = io.env.BRIER_TOKEN || undefined;
  if (token === undefined && saved !== undefined) {
    if (sameServer(saved.server, server)) {
      token = saved.token;
      if (await credentialsTooOpen(io.configDir)) {
        io.stderr(`brier: warning: ${credentialsPath(io.configDir)} is readable by others; chmod 600 it\n`);
      }
    } else {
      throw new UsageError(
        `the saved login is for ${saved.server}, not ${server}: run 'brier login --server ${server}', or set BRIER_TOKEN`,
      );
    }
  }
  if (token === undefined) {
    throw new UsageError(`not logged in to ${server}: run 'brier login --server ${server}', or set BRIER_TOKEN`);
  }
  return { server, token, client: createApiClient({ baseUrl: server, token, fetch: io.fetch }) };
}

/** An http(s) URL without credentials, query or fragment, and without a trailing slash. */
export function normalizeServer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new UsageError(`invalid server URL '${raw}': expected e.g. https://brier.example.com`, undefined, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid server URL '${raw}': only http and https are supported`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UsageError(`invalid server URL '${raw}': no user, password, query or fragment allowed`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function sameServer(a: string, b: string): boolean {
  try {
    return normalizeServer(a) === normalizeServer(b);
  } catch {
    return false;
  }
}
