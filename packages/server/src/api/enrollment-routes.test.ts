import {
  fingerprint,
  formatJoinToken,
  generateKeyPair,
  importPrivateKey,
  type KeyPair,
  PURPOSE,
  parseJoinToken,
  randomToken,
  sha256Hex,
  signFields,
  verifyFields,
} from '@brier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

interface TokenInfo {
  id: string;
  createdAt: string;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  autoApprove: boolean;
  revokedAt: string | null;
  createdBy: string | null;
}

/** What a real agent sends: a fresh key pair, a nonce, and a proof of key possession bound to the token. */
function enrollBody(token: string, options: { keys?: KeyPair; hostname?: string; signWith?: KeyPair } = {}) {
  const keys = options.keys ?? generateKeyPair();
  const nonce = randomToken();
  const secret = parseJoinToken(token)?.secret ?? '';
  const signer = importPrivateKey((options.signWith ?? keys).privateKeyPem);
  const signature = signFields(signer, PURPOSE.enroll, [sha256Hex(secret), nonce, keys.publicKey]);
  return { keys, nonce, payload: { token, publicKey: keys.publicKey, hostname: options.hostname ?? 'agent-host', nonce, signature } };
}

/** A clock the test moves by hand. */
function manualClock(start = new Date('2030-01-01T00:00:00Z')) {
  let t = start.getTime();
  return { now: () => new Date(t), advanceMs: (ms: number) => (t += ms) };
}

describe('enrolment', () => {
  const clock = manualClock();
  let s: TestServer;
  let admin: string;

  const auth = () => ({ authorization: `Bearer ${admin}` });
  const enroll = (payload: object) => s.app.inject({ method: 'POST', url: '/api/v1/agent/enroll', payload });

  async function createToken(body: object = {}) {
    const res = await s.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: auth(), payload: body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; token: string; expiresAt: string; maxUses: number | null; autoApprove: boolean }>();
  }

  async function listTokens(): Promise<TokenInfo[]> {
    const res = await s.app.inject({ method: 'GET', url: '/api/v1/enrollment-tokens', headers: auth() });
    expect(res.statusCode).toBe(200);
    return res.json<{ items: TokenInfo[] }>().items;
  }

  async function usesOf(id: string): Promise<number | undefined> {
    return (await listTokens()).find((t) => t.id === id)?.uses;
  }

  async function hostCount(): Promise<number> {
    const res = await s.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: auth() });
    expect(res.statusCode).toBe(200);
    return res.json<{ total: number }>().total;
  }

  /** Runs `attempt` and asserts it wrote nothing: no host, no use of the token, no audit entry. */
  async function expectNothingWritten(tokenId: string, attempt: () => Promise<void>) {
    const hostsBefore = await hostCount();
    const usesBefore = await usesOf(tokenId);
    const auditBefore = (await s.app.inject({ method: 'GET', url: '/api/v1/audit?limit=1', headers: auth() })).json<{ total: number }>()
      .total;
    await attempt();
    expect(await hostCount()).toBe(hostsBefore);
    expect(await usesOf(tokenId)).toBe(usesBefore);
    const auditAfter = (await s.app.inject({ method: 'GET', url: '/api/v1/audit?limit=1', headers: auth() })).json<{ total: number }>()
      .total;
    expect(auditAfter).toBe(auditBefore);
  }

  beforeAll(async () => {
    s = await createTestServer({ now: clock.now, config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000 } });
    admin = await s.login();
  });
  afterAll(async () => {
    await s.close();
  });

  describe('join tokens', () => {
    it('creates a token that carries this server’s fingerprint, valid for 24 hours by default', async () => {
      const created = await createToken();
      expect(created).toMatchObject({ maxUses: null, autoApprove: false });
      const parsed = parseJoinToken(created.token);
      expect(parsed).toBeDefined();
      expect(parsed?.fingerprint).toBe(s.identity.fingerprint);
      expect(parsed?.fingerprint).toBe(fingerprint(s.identity.publicKey));
      expect(new Date(created.expiresAt).getTime() - clock.now().getTime()).toBe(24 * 3_600_000);
    });

    it('honours autoApprove, expiresInHours and maxUses', async () => {
      const created = await createToken({ autoApprove: true, expiresInHours: 0.5, maxUses: 3 });
      expect(created).toMatchObject({ autoApprove: true, maxUses: 3 });
      expect(new Date(created.expiresAt).getTime() - clock.now().getTime()).toBe(30 * 60_000);
    });

    it('lists tokens with their use counts and never their secrets', async () => {
      const created = await createToken({ autoApprove: true, maxUses: 5 });
      await s.enrollAgent(created.token, 'counted-1');
      await s.enrollAgent(created.token, 'counted-2');
      const res = await s.app.inject({ method: 'GET', url: '/api/v1/enrollment-tokens', headers: auth() });
      const listed = res.json<{ items: TokenInfo[] }>().items.find((t) => t.id === created.id);
      expect(listed).toMatchObject({ uses: 2, maxUses: 5, autoApprove: true, revokedAt: null });
      expect(Object.keys(listed ?? {}).sort()).toEqual([
        'autoApprove',
        'createdAt',
        'createdBy',
        'expiresAt',
        'id',
        'maxUses',
        'revokedAt',
        'uses',
      ]);
      const secret = parseJoinToken(created.token)?.secret ?? 'missing';
      expect(res.body).not.toContain(secret);
      expect(res.body).not.toContain(sha256Hex(secret));
    });

    it('records who created the token and audits it', async () => {
      const created = await createToken();
      const me = (await s.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: auth() })).json<{ id: string }>();
      expect((await listTokens()).find((t) => t.id === created.id)?.createdBy).toBe(me.id);
      const audit = await s.app.inject({ method: 'GET', url: '/api/v1/audit?limit=1', headers: auth() });
      expect(audit.json<{ items: unknown[] }>().items[0]).toMatchObject({
        actor: 'admin',
        action: 'enrollment-token.create',
        target: created.id,
      });
      expect(audit.body).not.toContain(parseJoinToken(created.token)?.secret ?? 'missing');
    });

    it('revokes a token once; revoking it again or an unknown id is 404', async () => {
      const created = await createToken();
      const res = await s.app.inject({ method: 'DELETE', url: `/api/v1/enrollment-tokens/${created.id}`, headers: auth() });
      expect(res.statusCode).toBe(204);
      expect((await listTokens()).find((t) => t.id === created.id)?.revokedAt).not.toBeNull();
      expectProblem(
        await s.app.inject({ method: 'DELETE', url: `/api/v1/enrollment-tokens/${created.id}`, headers: auth() }),
        404,
        'not_found',
      );
      expectProblem(
        await s.app.inject({ method: 'DELETE', url: '/api/v1/enrollment-tokens/00000000-0000-4000-8000-000000000000', headers: auth() }),
        404,
        'not_found',
      );
      expectProblem(await s.app.inject({ method: 'DELETE', url: '/api/v1/enrollment-tokens/nope', headers: auth() }), 400, 'bad_request');
    });

    it.each([
      ['a zero lifetime', { expiresInHours: 0 }],
      ['a negative lifetime', { expiresInHours: -1 }],
      ['a lifetime over a year', { expiresInHours: 24 * 365 + 1 }],
      ['zero uses', { maxUses: 0 }],
      ['fractional uses', { maxUses: 1.5 }],
      ['a non-boolean autoApprove', { autoApprove: 'yes' }],
      ['an extra field', { autoApprove: true, fingerprint: 'mine' }],
    ])('refuses to create a token with %s', async (_name, body) => {
      const before = (await listTokens()).length;
      const res = await s.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: auth(), payload: body });
      expectProblem(res, 400, 'bad_request');
      expect((await listTokens()).length).toBe(before);
    });

    it('refuses to create or list tokens without authentication', async () => {
      expectProblem(await s.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', payload: {} }), 401, 'unauthenticated');
      expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/enrollment-tokens' }), 401, 'unauthenticated');
    });
  });

  describe('POST /agent/enroll', () => {
    it('approves an agent at once with an autoApprove token, and signs the answer with the server key', async () => {
      const { token, id } = await createToken({ autoApprove: true });
      const { keys, nonce, payload } = enrollBody(token, { hostname: 'web-01.example.org' });
      const res = await enroll(payload);
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json<{ hostId: string; status: string; serverPublicKey: string; serverSignature: string }>();
      expect(body.status).toBe('approved');
      expect(body.serverPublicKey).toBe(s.identity.publicKey);
      expect(verifyFields(s.identity.publicKey, PURPOSE.enrollAck, [body.hostId, nonce, keys.publicKey], body.serverSignature)).toBe(true);
      // The signature is bound to this agent's nonce and key, so it cannot be replayed to another agent.
      expect(
        verifyFields(s.identity.publicKey, PURPOSE.enrollAck, [body.hostId, randomToken(), keys.publicKey], body.serverSignature),
      ).toBe(false);

      const host = await s.app.inject({ method: 'GET', url: `/api/v1/hosts/${body.hostId}`, headers: auth() });
      expect(host.json()).toMatchObject({ id: body.hostId, hostname: 'web-01.example.org', status: 'approved', online: false });
      expect(await usesOf(id)).toBe(1);
      const audit = await s.app.inject({ method: 'GET', url: '/api/v1/audit?limit=1', headers: auth() });
      expect(audit.json<{ items: unknown[] }>().items[0]).toMatchObject({
        actor: `agent:${body.hostId}`,
        action: 'host.enroll',
        target: body.hostId,
      });
    });

    it('leaves an agent pending without autoApprove until an admin approves it', async () => {
      const { token } = await createToken({ autoApprove: false });
      const res = await enroll(enrollBody(token, { hostname: 'laptop-7' }).payload);
      expect(res.statusCode).toBe(201);
      const { hostId, status } = res.json<{ hostId: string; status: string }>();
      expect(status).toBe('pending');
      const approved = await s.app.inject({ method: 'POST', url: `/api/v1/hosts/${hostId}/approve`, headers: auth() });
      expect(approved.statusCode).toBe(200);
      expect(approved.json()).toMatchObject({ id: hostId, status: 'approved' });
      expect(approved.json<{ approvedAt: string | null }>().approvedAt).not.toBeNull();
    });

    it('refuses a token used beyond maxUses with token_exhausted and creates no host', async () => {
      const { token, id } = await createToken({ autoApprove: true, maxUses: 1 });
      expect((await enroll(enrollBody(token).payload)).statusCode).toBe(201);
      await expectNothingWritten(id, async () => {
        expectProblem(await enroll(enrollBody(token).payload), 401, 'token_exhausted');
      });
    });

    it('refuses an expired token with token_expired', async () => {
      const { token, id } = await createToken({ autoApprove: true, expiresInHours: 1 });
      clock.advanceMs(3_600_000 + 1);
      await expectNothingWritten(id, async () => {
        expectProblem(await enroll(enrollBody(token).payload), 401, 'token_expired');
      });
    });

    it('accepts a token until the instant it expires', async () => {
      const { token } = await createToken({ autoApprove: true, expiresInHours: 1 });
      clock.advanceMs(3_600_000 - 1);
      expect((await enroll(enrollBody(token).payload)).statusCode).toBe(201);
      clock.advanceMs(1);
      expectProblem(await enroll(enrollBody(token).payload), 401, 'token_expired');
    });

    it('refuses a revoked token with token_invalid', async () => {
      const { token, id } = await createToken({ autoApprove: true });
      await s.app.inject({ method: 'DELETE', url: `/api/v1/enrollment-tokens/${id}`, headers: auth() });
      await expectNothingWritten(id, async () => {
        expectProblem(await enroll(enrollBody(token).payload), 401, 'token_invalid');
      });
    });

    it('refuses a token issued by another server (a different fingerprint) with token_invalid', async () => {
      const { token, id } = await createToken({ autoApprove: true });
      const secret = parseJoinToken(token)?.secret ?? '';
      const foreign = formatJoinToken({ fingerprint: fingerprint(generateKeyPair().publicKey), secret });
      await expectNothingWritten(id, async () => {
        expectProblem(await enroll(enrollBody(foreign).payload), 401, 'token_invalid');
      });
      // The genuine token was not consumed by the attempt and still works.
      expect((await enroll(enrollBody(token).payload)).statusCode).toBe(201);
    });

    it('refuses a token this server never issued, or one that is malformed, with token_invalid', async () => {
      const unknown = formatJoinToken({ fingerprint: s.identity.fingerprint, secret: randomToken() });
      expectProblem(await enroll(enrollBody(unknown).payload), 401, 'token_invalid');
      const { payload } = enrollBody(`brier2.${s.identity.fingerprint}.${randomToken()}`);
      expectProblem(await enroll(payload), 401, 'token_invalid');
    });

    it('refuses a proof of possession made with another key with bad_signature', async () => {
      const { token, id } = await createToken({ autoApprove: true });
      await expectNothingWritten(id, async () => {
        expectProblem(await enroll(enrollBody(token, { signWith: generateKeyPair() }).payload), 401, 'bad_signature');
      });
    });

    it('refuses a proof of possession bound to another token or nonce with bad_signature', async () => {
      const { token, id } = await createToken({ autoApprove: true });
      const other = await createToken({ autoApprove: true });
      await expectNothingWritten(id, async () => {
        // Signed for `other`, presented with `token`: a proof cannot be lifted from one token to another.
        const signedForOther = enrollBody(other.token).payload;
        expectProblem(await enroll({ ...signedForOther, token }), 401, 'bad_signature');
        const { payload } = enrollBody(token);
        expectProblem(await enroll({ ...payload, nonce: randomToken() }), 401, 'bad_signature');
      });
    });

    it('refuses the same public key twice with 409 and does not consume a use', async () => {
      const { token, id } = await createToken({ autoApprove: true, maxUses: 10 });
      const keys = generateKeyPair();
      expect((await enroll(enrollBody(token, { keys }).payload)).statusCode).toBe(201);
      await expectNothingWritten(id, async () => {
        expectProblem(await enroll(enrollBody(token, { keys, hostname: 'impostor' }).payload), 409, 'conflict');
      });
    });

    it('refuses another base64url spelling of an enrolled key with 400', async () => {
      const { token, id } = await createToken({ autoApprove: true, maxUses: 10 });
      const keys = generateKeyPair();
      expect((await enroll(enrollBody(token, { keys }).payload)).statusCode).toBe(201);
      // 32 bytes take 43 characters with 2 bits to spare: setting a spare bit names the same key differently.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(keys.publicKey.slice(-1));
      const respelled = { ...keys, publicKey: keys.publicKey.slice(0, -1) + alphabet[last | 1] };
      expect(Buffer.from(respelled.publicKey, 'base64url').equals(Buffer.from(keys.publicKey, 'base64url'))).toBe(true);
      await expectNothingWritten(id, async () => {
        expectProblem(await enroll(enrollBody(token, { keys: respelled, signWith: keys }).payload), 400, 'bad_request');
      });
    });

    it('refuses the key of a revoked host, and of a revoked then deleted host, with 409', async () => {
      const { token } = await createToken({ autoApprove: true, maxUses: 10 });
      const keys = generateKeyPair();
      const { hostId } = (await enroll(enrollBody(token, { keys }).payload)).json<{ hostId: string }>();
      await s.app.inject({ method: 'POST', url: `/api/v1/hosts/${hostId}/revoke`, headers: auth() });
      expectProblem(await enroll(enrollBody(token, { keys }).payload), 409, 'conflict');
      await s.app.inject({ method: 'DELETE', url: `/api/v1/hosts/${hostId}`, headers: auth() });
      expectProblem(await enroll(enrollBody(token, { keys }).payload), 409, 'conflict');
    });

    it.each([
      ['a hostname with a NUL byte', (p: Record<string, unknown>) => ({ ...p, hostname: 'evil\u0000host' })],
      ['a hostname with a newline', (p: Record<string, unknown>) => ({ ...p, hostname: 'evil\nhost' })],
      ['a hostname of 300 characters', (p: Record<string, unknown>) => ({ ...p, hostname: 'h'.repeat(300) })],
      ['an empty hostname', (p: Record<string, unknown>) => ({ ...p, hostname: '' })],
      ['an extra field', (p: Record<string, unknown>) => ({ ...p, status: 'approved' })],
      ['a missing signature', ({ signature: _s, ...p }: Record<string, unknown>) => p],
      ['a public key that is not 32 bytes of base64url', (p: Record<string, unknown>) => ({ ...p, publicKey: 'A'.repeat(44) })],
      ['a token over 200 characters', (p: Record<string, unknown>) => ({ ...p, token: 'b'.repeat(201) })],
    ])('refuses %s with 400 and writes nothing', async (_name, mutate) => {
      const { token, id } = await createToken({ autoApprove: true });
      await expectNothingWritten(id, async () => {
        expectProblem(await enroll(mutate(enrollBody(token).payload)), 400, 'bad_request');
      });
    });

    // Bodies are validated without type coercion (query strings keep it): 42 must not become "42".
    it('refuses a hostname that is a JSON number rather than a string', async () => {
      const { token, id } = await createToken({ autoApprove: true });
      await expectNothingWritten(id, async () => {
        expectProblem(await enroll({ ...enrollBody(token).payload, hostname: 42 }), 400, 'bad_request');
      });
    });

    it('refuses a body over 16 KiB with 413 and writes nothing', async () => {
      const { token, id } = await createToken({ autoApprove: true });
      await expectNothingWritten(id, async () => {
        const res = await s.app.inject({
          method: 'POST',
          url: '/api/v1/agent/enroll',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ ...enrollBody(token).payload, padding: 'x'.repeat(17 * 1024) }),
        });
        expectProblem(res, 413, 'payload_too_large');
      });
    });

    it('accepts a hostname of 255 characters with non-ASCII text', async () => {
      const { token } = await createToken({ autoApprove: true });
      const hostname = `Müller’s-MacBook-${'x'.repeat(238)}`;
      expect(hostname).toHaveLength(255);
      const res = await enroll(enrollBody(token, { hostname }).payload);
      expect(res.statusCode, res.body).toBe(201);
      const host = await s.app.inject({ method: 'GET', url: `/api/v1/hosts/${res.json<{ hostId: string }>().hostId}`, headers: auth() });
      expect(host.json<{ hostname: string }>().hostname).toBe(hostname);
    });
  });
});

describe('enrolment rate limit', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer({ config: { enrollmentsPerMinute: 2 } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('refuses the third enrolment in a minute with 429 rate_limited and creates no host', async () => {
    const token = await s.createJoinToken({ autoApprove: true, maxUses: 10 });
    await s.enrollAgent(token, 'first');
    await s.enrollAgent(token, 'second');
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/agent/enroll',
      payload: enrollBody(token, { hostname: 'third' }).payload,
    });
    expectProblem(res, 429, 'rate_limited');
    const admin = await s.login();
    const hosts = await s.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: { authorization: `Bearer ${admin}` } });
    expect(hosts.json<{ total: number }>().total).toBe(2);
  });
});
