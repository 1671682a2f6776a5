import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeApi, problem, startFakeApi, tempConfigDir, testIo } from './__fixtures__/fake-api.js';
import { COMMANDS, runCli } from './run-cli.js';

const ME = { id: 'u-1', username: 'alice', role: 'admin' };

let api: FakeApi;
let configDir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  api = await startFakeApi({
    'POST /api/v1/auth/login': (req) => {
      const body = req.body as { username?: string; password?: string };
      if (body.username === 'alice' && body.password === 's3cret pass') {
        return { body: { token: 'tok-from-login', expiresAt: '2024-06-01T00:00:00.000Z', user: ME } };
      }
      return problem(401, 'Invalid credentials', 'invalid_credentials');
    },
    'GET /api/v1/auth/me': { body: ME },
    'POST /api/v1/auth/logout': { status: 204 },
  });
  ({ dir: configDir, cleanup } = await tempConfigDir());
});

afterEach(async () => {
  await api.close();
  await cleanup();
});

async function saveLogin(server: string, token: string): Promise<void> {
  await writeFile(join(configDir, 'credentials.json'), JSON.stringify({ server, token, username: 'alice' }), { mode: 0o600 });
}

describe('help and usage', () => {
  it('lists every command with its one-line summary under --help', async () => {
    const t = testIo({ configDir });
    expect(await runCli(['--help'], t.io)).toBe(0);
    for (const command of COMMANDS) expect(t.stdout()).toMatch(new RegExp(`^  ${command.name} +${command.summary}$`, 'm'));
  });

  it('answers --help on every command and sub-command without contacting a server', async () => {
    const invocations = [
      ['login'],
      ['logout'],
      ['whoami'],
      ['hosts'],
      ['hosts', 'list'],
      ['hosts', 'show'],
      ['hosts', 'approve'],
      ['hosts', 'revoke'],
      ['hosts', 'delete'],
      ['software'],
      ['tokens'],
      ['tokens', 'create'],
      ['tokens', 'list'],
      ['tokens', 'revoke'],
      ['api-tokens'],
      ['api-tokens', 'create'],
      ['api-tokens', 'list'],
      ['api-tokens', 'revoke'],
      ['users'],
      ['users', 'list'],
      ['users', 'create'],
      ['vulns'],
      ['vulns', 'import'],
      ['vulns', 'list'],
      ['vulns', 'host'],
      ['vulns', 'explain'],
      ['vulns', 'overdue'],
      ['vulns', 'remediate'],
      ['vulns', 'sla'],
      ['vulns', 'imports'],
      ['policies'],
      ['policies', 'list'],
      ['policies', 'show'],
      ['policies', 'create'],
      ['policies', 'update'],
      ['policies', 'delete'],
      ['compliance'],
      ['quarantine'],
      ['quarantine', 'requests'],
      ['quarantine', 'requests', 'approve'],
      ['quarantine', 'requests', 'reject'],
      ['release'],
      ['devices'],
      ['devices', 'unmanaged'],
      ['devices', 'mark'],
      ['vercmp'],
      ['work-key'],
      ['work-key', 'show'],
      ['work-key', 'rotate'],
    ];
    for (const words of invocations) {
      const t = testIo({ configDir });
      expect(await runCli([...words, '--help'], t.io), words.join(' ')).toBe(0);
      expect(t.stdout(), words.join(' ')).toMatch(new RegExp(`^Usage: brier ${words.join(' ')}`));
    }
    expect(api.requests).toHaveLength(0);
  });

  it('exits 2 with the command list when the command is unknown', async () => {
    const t = testIo({ configDir });
    expect(await runCli(['hsots', 'list'], t.io)).toBe(2);
    expect(t.stderr()).toContain("unknown command 'hsots'");
    expect(t.stderr()).toContain('Usage: brier [--server URL] <command>');
    expect(t.stdout()).toBe('');
  });

  it('exits 2 with the usage when no command is given', async () => {
    const t = testIo({ configDir });
    expect(await runCli([], t.io)).toBe(2);
    expect(t.stderr()).toContain('missing command');
  });

  it("exits 2 with the command's usage when a flag is unknown", async () => {
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url, BRIER_TOKEN: 't' } });
    expect(await runCli(['hosts', 'list', '--bogus'], t.io)).toBe(2);
    expect(t.stderr()).toContain("'--bogus'");
    expect(t.stderr()).toContain('Usage: brier hosts list');
    expect(api.requests).toHaveLength(0);
  });

  it('exits 2 when an unknown global flag comes before the command', async () => {
    const t = testIo({ configDir });
    expect(await runCli(['--verbose', 'whoami'], t.io)).toBe(2);
    expect(t.stderr()).toContain("unknown option '--verbose'");
  });

  it('exits 2 for an unknown sub-command', async () => {
    const t = testIo({ configDir });
    expect(await runCli(['hosts', 'destroy', 'h-1'], t.io)).toBe(2);
    expect(t.stderr()).toContain("unknown hosts sub-command 'destroy'");
    expect(t.stderr()).toContain('Usage: brier hosts <sub-command>');
  });

  it('prints the version', async () => {
    const t = testIo({ configDir });
    expect(await runCli(['--version'], t.io)).toBe(0);
    expect(t.stdout()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('login', () => {
  it('writes a 0600 credentials file that later commands use', async () => {
    const t = testIo({ configDir, stdin: 's3cret pass\n' });
    expect(await runCli(['login', '--server', `${api.url}/`, '--username', 'alice', '--password-stdin'], t.io)).toBe(0);
    expect(t.stdout()).toContain(`Logged in to ${api.url} as alice (admin)`);

    const login = api.requests[0]!;
    expect(login.method).toBe('POST');
    expect(login.body).toEqual({ username: 'alice', password: 's3cret pass' });
    expect(login.headers.authorization).toBeUndefined();

    const path = join(configDir, 'credentials.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ server: api.url, token: 'tok-from-login', username: 'alice' });

    const whoami = testIo({ configDir });
    expect(await runCli(['whoami'], whoami.io)).toBe(0);
    expect(whoami.stdout()).toBe(`alice (admin) on ${api.url}\n`);
    expect(api.requests[1]?.headers.authorization).toBe('Bearer tok-from-login');
  });

  it('prompts for the username and, hidden, the password when they are not given', async () => {
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url }, answers: ['alice', 's3cret pass'] });
    expect(await runCli(['login'], t.io)).toBe(0);
    expect(t.prompts).toEqual([
      { question: 'Username: ', secret: false },
      { question: 'Password: ', secret: true },
    ]);
  });

  it('refuses to prompt without a terminal and says which flag to use', async () => {
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url } });
    expect(await runCli(['login', '--username', 'alice'], t.io)).toBe(2);
    expect(t.stderr()).toContain('--password-stdin');
    expect(api.requests).toHaveLength(0);
  });

  it('needs --username together with --password-stdin', async () => {
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url }, stdin: 'pw\n', answers: ['alice'] });
    expect(await runCli(['login', '--password-stdin'], t.io)).toBe(2);
    expect(t.stderr()).toContain('--password-stdin needs --username');
  });

  it('exits 1 on wrong credentials and writes no file', async () => {
    const t = testIo({ configDir, stdin: 'wrong\n' });
    expect(await runCli(['login', '--server', api.url, '--username', 'alice', '--password-stdin'], t.io)).toBe(1);
    expect(t.stderr()).toContain('Invalid credentials');
    expect(t.stderr()).toContain('invalid_credentials');
    await expect(stat(join(configDir, 'credentials.json'))).rejects.toThrow(/ENOENT/);
  });

  it('exits 2 when no server is known', async () => {
    const t = testIo({ configDir, answers: ['alice', 'pw'] });
    expect(await runCli(['login'], t.io)).toBe(2);
    expect(t.stderr()).toContain('--server URL');
  });

  it('rejects a server URL that is not http or https', async () => {
    const t = testIo({ configDir, stdin: 'pw' });
    expect(await runCli(['login', '--server', 'file:///etc/passwd', '--username', 'a', '--password-stdin'], t.io)).toBe(2);
    expect(t.stderr()).toContain('only http and https');
  });
});

describe('logout', () => {
  it('ends the session on the server and deletes the credentials file', async () => {
    await saveLogin(api.url, 'tok-saved');
    const t = testIo({ configDir });
    expect(await runCli(['logout'], t.io)).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', pathname: '/api/v1/auth/logout' });
    expect(api.requests[0]?.headers.authorization).toBe('Bearer tok-saved');
    await expect(stat(join(configDir, 'credentials.json'))).rejects.toThrow(/ENOENT/);
  });

  it('still deletes the file when the server says the token had already expired', async () => {
    await saveLogin(api.url, 'tok-stale');
    api.routes.set('POST /api/v1/auth/logout', problem(401, 'Authentication required', 'unauthenticated'));
    const t = testIo({ configDir });
    expect(await runCli(['logout'], t.io)).toBe(0);
    await expect(stat(join(configDir, 'credentials.json'))).rejects.toThrow(/ENOENT/);
  });

  it('says so when there is no saved login', async () => {
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url } });
    expect(await runCli(['logout'], t.io)).toBe(0);
    expect(t.stderr()).toContain('Not logged in');
    expect(api.requests).toHaveLength(0);
  });
});

describe('server and token resolution', () => {
  let envApi: FakeApi;
  let flagApi: FakeApi;

  beforeEach(async () => {
    envApi = await startFakeApi({ 'GET /api/v1/auth/me': { body: { ...ME, username: 'from-env-server' } } });
    flagApi = await startFakeApi({ 'GET /api/v1/auth/me': { body: { ...ME, username: 'from-flag-server' } } });
  });

  afterEach(async () => {
    await envApi.close();
    await flagApi.close();
  });

  it('uses the saved server and token when nothing else is given', async () => {
    await saveLogin(api.url, 'tok-saved');
    const t = testIo({ configDir });
    expect(await runCli(['whoami'], t.io)).toBe(0);
    expect(api.requests[0]?.headers.authorization).toBe('Bearer tok-saved');
  });

  it('prefers BRIER_SERVER over the saved server, and --server over both', async () => {
    const env = { BRIER_SERVER: envApi.url, BRIER_TOKEN: 'tok-env' };
    await saveLogin(api.url, 'tok-saved');

    const viaEnv = testIo({ configDir, env });
    expect(await runCli(['whoami'], viaEnv.io)).toBe(0);
    expect(viaEnv.stdout()).toContain('from-env-server');

    const viaFlag = testIo({ configDir, env });
    expect(await runCli(['whoami', '--server', flagApi.url], viaFlag.io)).toBe(0);
    expect(viaFlag.stdout()).toContain('from-flag-server');

    const viaGlobalFlag = testIo({ configDir, env });
    expect(await runCli([`--server=${flagApi.url}`, 'whoami'], viaGlobalFlag.io)).toBe(0);
    expect(viaGlobalFlag.stdout()).toContain('from-flag-server');

    expect(api.requests).toHaveLength(0);
    expect(envApi.requests).toHaveLength(1);
    expect(flagApi.requests).toHaveLength(2);
  });

  it('prefers BRIER_TOKEN over the saved token', async () => {
    await saveLogin(api.url, 'tok-saved');
    const t = testIo({ configDir, env: { BRIER_TOKEN: 'tok-env' } });
    expect(await runCli(['whoami'], t.io)).toBe(0);
    expect(api.requests[0]?.headers.authorization).toBe('Bearer tok-env');
  });

  it('never sends the saved token to a different server', async () => {
    await saveLogin(api.url, 'tok-saved');
    const t = testIo({ configDir });
    expect(await runCli(['whoami', '--server', flagApi.url], t.io)).toBe(2);
    expect(t.stderr()).toContain(`the saved login is for ${api.url}`);
    expect(flagApi.requests).toHaveLength(0);
  });

  it('exits 2 and points to brier login when there is no server or token', async () => {
    const noServer = testIo({ configDir });
    expect(await runCli(['hosts', 'list'], noServer.io)).toBe(2);
    expect(noServer.stderr()).toContain("run 'brier login --server URL', or set BRIER_SERVER and BRIER_TOKEN");

    const noToken = testIo({ configDir, env: { BRIER_SERVER: api.url } });
    expect(await runCli(['hosts', 'list'], noToken.io)).toBe(2);
    expect(noToken.stderr()).toContain(`not logged in to ${api.url}: run 'brier login`);
    expect(api.requests).toHaveLength(0);
  });

  it('exits 2 with a clear message when the credentials file is damaged', async () => {
    await writeFile(join(configDir, 'credentials.json'), '{"server": 1');
    const t = testIo({ configDir });
    expect(await runCli(['whoami'], t.io)).toBe(2);
    expect(t.stderr()).toContain("is not valid JSON; run 'brier login' again");
  });
});

describe('errors from the server', () => {
  it('prints the problem title, detail, code and status and exits 1', async () => {
    api.routes.set('GET /api/v1/auth/me', problem(403, 'Forbidden', 'forbidden', 'viewers may not do this'));
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url, BRIER_TOKEN: 't' } });
    expect(await runCli(['whoami'], t.io)).toBe(1);
    expect(t.stderr()).toBe('brier: Forbidden: viewers may not do this (code forbidden, HTTP 403)\n');
    expect(t.stdout()).toBe('');
  });

  it('suggests logging in again on 401', async () => {
    api.routes.set('GET /api/v1/auth/me', problem(401, 'Authentication required', 'unauthenticated'));
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url, BRIER_TOKEN: 'expired' } });
    expect(await runCli(['whoami'], t.io)).toBe(1);
    expect(t.stderr()).toContain("Run 'brier login'");
  });

  it('escapes control characters in server error text', async () => {
    api.routes.set('GET /api/v1/auth/me', problem(404, 'Not found', 'not_found', 'no host \u001b]0;pwned\u0007'));
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url, BRIER_TOKEN: 't' } });
    expect(await runCli(['whoami'], t.io)).toBe(1);
    expect(t.stderr()).toContain('no host \\x1b]0;pwned\\x07');
    expect(t.stderr()).not.toContain('\u001b');
  });

  it('reports a non-JSON error page with its HTTP status', async () => {
    api.routes.set('GET /api/v1/auth/me', { status: 502, contentType: 'text/html', body: '<html>Bad Gateway</html>' });
    const t = testIo({ configDir, env: { BRIER_SERVER: api.url, BRIER_TOKEN: 't' } });
    expect(await runCli(['whoami'], t.io)).toBe(1);
    expect(t.stderr()).toContain('HTTP 502');
    expect(t.stderr()).toContain('<html>Bad Gateway</html>');
  });

  it('exits 1 with the reason when the server cannot be reached', async () => {
    const closed = await startFakeApi();
    await closed.close();
    const t = testIo({ configDir, env: { BRIER_SERVER: closed.url, BRIER_TOKEN: 't' } });
    expect(await runCli(['whoami'], t.io)).toBe(1);
    expect(t.stderr()).toContain(`Cannot reach server ${closed.url}`);
    expect(t.stderr()).toContain('ECONNREFUSED');
  });
});
