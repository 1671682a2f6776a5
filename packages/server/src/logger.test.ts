import { parseJoinToken } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './app.js';
import { parseConfig } from './config.js';
import { createLogger } from './logger.js';
import { type Database, openDatabase } from './store/index.js';
import { testKeys } from './testing/test-keys.js';

const PASSWORD = 'a password that must never be logged';

describe('logging', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  let database: Database;
  let app: Awaited<ReturnType<typeof buildServer>>;

  beforeAll(async () => {
    database = await openDatabase({});
    app = await buildServer({ config: parseConfig({}), database, ...testKeys(), logger });
    await app.services.auth.ensureAdmin(PASSWORD);
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  it('redacts secrets in objects logged directly, wherever they appear', () => {
    logger.info({ password: 'p1-secret', token: 't1-secret', nested: { password: 'p2-secret', token: 't2-secret' } }, 'probe');
    logger.info({ config: { adminPassword: 'p3-secret', databaseUrl: 'postgres://u:p4-secret@db/brier' } }, 'probe');
    const text = lines.join('');
    expect(text).toContain('[redacted]');
    for (const secret of ['p1-secret', 't1-secret', 'p2-secret', 't2-secret', 'p3-secret', 'p4-secret']) expect(text).not.toContain(secret);
  });

  it('never writes a password or a token through a login, authenticated requests and an enrolment', async () => {
    lines.length = 0;
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: PASSWORD } });
    expect(login.statusCode).toBe(200);
    const session = login.json<{ token: string }>().token;
    const wrong = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin', password: `${PASSWORD}!` } });
    expect(wrong.statusCode).toBe(401);

    const bearer = { authorization: `Bearer ${session}` };
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', cookies: { brier_session: session } })).statusCode).toBe(200);
    const apiToken = (await app.inject({ method: 'POST', url: '/api/v1/api-tokens', headers: bearer, payload: { name: 'ci' } })).json<{
      token: string;
    }>().token;
    expect((await app.inject({ method: 'GET', url: '/api/v1/hosts', headers: { authorization: `Bearer ${apiToken}` } })).statusCode).toBe(
      200,
    );
    const joinToken = (await app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: bearer, payload: {} })).json<{
      token: string;
    }>().token;
    // A refused enrolment still carries the join token in its body.
    expect((await app.inject({ method: 'POST', url: '/api/v1/agent/enroll', payload: { token: joinToken } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer })).statusCode).toBe(204);

    const text = lines.join('');
    // The requests were logged at all, or this test would prove nothing.
    expect(text).toContain('/api/v1/auth/login');
    expect(text).toContain('/api/v1/auth/me');
    for (const secret of [
      PASSWORD,
      session,
      session.slice(4),
      apiToken,
      apiToken.slice(4),
      joinToken,
      parseJoinToken(joinToken)?.secret ?? '',
    ]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(text).not.toContain(secret);
    }
  });
});
