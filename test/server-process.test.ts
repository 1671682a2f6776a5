import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './support/system.js';

/** The server as an operator starts it: main.ts reads the environment, migrates, listens, stops on SIGTERM. */
const ROOT = path.resolve(import.meta.dirname, '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, BRIER_LOG_LEVEL: 'warn', BRIER_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout?.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr?.on('data', (d) => {
    stdout += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => stdout };
}

async function waitReady(port: number, proc: { output: () => string }, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the brier server process', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  it('starts on BRIER_PORT with the embedded database in BRIER_DATA_DIR, prints the admin password once, and stops on SIGTERM', async () => {
    const data = await tempDir('brier-data-');
    try {
      const port = await freePort();
      const first = start({ BRIER_PORT: String(port), BRIER_DATA_DIR: data.dir });
      children.push(first.child);
      await waitReady(port, first);
      const password = /created user "admin" with password: (\S+)/.exec(first.output())?.[1];
      expect(password).toBeDefined();
      expect(first.output()).toContain('brier-agent enroll');
      expect(existsSync(path.join(data.dir, 'server-identity.pem'))).toBe(true);
      expect(existsSync(path.join(data.dir, 'pgdata'))).toBe(true);
      const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      expect(login.status).toBe(200);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      // A restart keeps the data and the identity, and does not print a password again.
      const second = start({ BRIER_PORT: String(port), BRIER_DATA_DIR: data.dir });
      children.push(second.child);
      await waitReady(port, second);
      expect(second.output()).not.toContain('created user');
      const again = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      expect(again.status).toBe(200);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await data.cleanup();
    }
  });

  it('refuses a bad configuration with a clear message and exit code 2', async () => {
    const proc = start({ BRIER_PORT: 'eighty' });
    children.push(proc.child);
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain('BRIER_PORT must be an integer');
  });
});
