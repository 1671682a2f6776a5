import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { verifyWorkKeyCertificate } from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORK_KEY_FILE } from '../auth/work-signing-key.js';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

describe('work-key routes', () => {
  let s: TestServer;
  let dataDir: string;
  let admin: string;
  let operator: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'brier-workkey-'));
    s = await createTestServer({ config: { dataDir } });
    admin = await s.login();
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${admin}` },
      payload: { username: 'op', password: 'a-long-enough-password', role: 'operator' },
    });
    expect(res.statusCode, res.body).toBe(201);
    operator = await s.login('op', 'a-long-enough-password');
  });
  afterAll(async () => {
    await s.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const call = (method: 'GET' | 'POST', url: string, token: string) =>
    s.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });

  it('rotates the key: a new certificate from the pinned identity, the old one retired, work signed with the new one', async () => {
    const before = s.app.services.workKeys.current();
    const res = await call('POST', '/api/v1/work-key/rotate', admin);
    expect(res.statusCode, res.body).toBe(200);
    const view = res.json<{ current: { keyId: string }; retired: { keyId: string }[] }>();
    const now = s.app.services.workKeys.current();
    expect(view.current.keyId).toBe(now.keyId);
    expect(now.keyId).not.toBe(before.keyId);
    expect(view.retired.map((c) => c.keyId)).toContain(before.keyId);
    expect(verifyWorkKeyCertificate(now.certificate, s.identity.publicKey)).toBe(true);
    // The private key lives in the data directory, readable by the server's user only.
    expect(statSync(path.join(dataDir, WORK_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect((await call('GET', '/api/v1/work-key', admin)).json()).toEqual(view);
    const audit = await call('GET', '/api/v1/audit?limit=100', admin);
    expect(audit.json<{ items: { action: string; target: string }[] }>().items).toContainEqual(
      expect.objectContaining({ action: 'work-key.rotate', target: now.keyId }),
    );
  });

  it('is for admins only', async () => {
    expectProblem(await call('POST', '/api/v1/work-key/rotate', operator), 403, 'forbidden');
    expectProblem(await call('GET', '/api/v1/work-key', operator), 403, 'forbidden');
    expectProblem(await s.app.inject({ method: 'POST', url: '/api/v1/work-key/rotate' }), 401, 'unauthenticated');
  });
});
