import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from './command.js';

/** What `brier login` saves: a bearer token is as good as a password, hence mode 0600. */
export interface Credentials {
  server: string;
  token: string;
  username: string;
}

const FILE_NAME = 'credentials.json';
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** `$BRIER_CONFIG_DIR`, else `$XDG_CONFIG_HOME/brier`, else `~/.config/brier`. */
export function defaultConfigDir(env: Record<string, string | undefined>, homeDir: string): string {
  if (env.BRIER_CONFIG_DIR) return env.BRIER_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'brier');
  return join(homeDir, '.config', 'brier');
}

export function credentialsPath(configDir: string): string {
  return join(configDir, FILE_NAME);
}

/** The saved credentials, undefined when there are none; a damaged file is an error, not ignored. */
export async function readCredentials(configDir: string): Promise<Credentials | undefined> {
  const path = credentialsPath(configDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isNodeError(err) && err.code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON; run 'brier login' again`, undefined, { cause: err });
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !('server' in parsed && typeof parsed.server === 'string') ||
    !('token' in parsed && typeof parsed.token === 'string')
  ) {
    throw new UsageError(`${path} lacks server or token; run 'brier login' again`);
  }
  const username = 'username' in parsed && typeof parsed.username === 'string' ? parsed.username : '';
  return { server: parsed.server, token: parsed.token, username };
}

/** True when group or others may read the file (ssh refuses such keys; we only warn). */
export async function credentialsTooOpen(configDir: string): Promise<boolean> {
  try {
    const info = await stat(credentialsPath(configDir));
    return (info.mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/**
 * Writes the file atomically (temp file in the same directory, then rename), created with mode
 * 0600 from the start so the token is never readable by others, not even for a moment.
 */
export async function writeCredentials(configDir: string, credentials: Credentials): Promise<string> {
  await mkdir(configDir, { recursive: true, mode: DIR_MODE });
  const path = credentialsPath(configDir);
  const temp = join(configDir, `.${FILE_NAME}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', FILE_MODE);
  try {
    try {
      await handle.writeFile(`${JSON.stringify(credentials, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The mode given to open() is reduced by the umask but never widened; chmod makes it exact.
    await chmod(temp, FILE_MODE);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return path;
}

/** Removes the file; true when there was one. */
export async function deleteCredentials(configDir: string): Promise<boolean> {
  try {
    await rm(credentialsPath(configDir));
    return true;
  } catch (err) {
    if (isNodeError(err) && err.code === 'ENOENT') return false;
    throw err;
  }
}

function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err;
}
