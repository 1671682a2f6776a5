import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AGENT_ENROLL_PATH,
  BrierError,
  type ErrorCode,
  fingerprint,
  formatJoinToken,
  generateKeyPair,
  importPrivateKey,
  type KeyPair,
  PURPOSE,
  publicKeyOf,
  randomToken,
  sha256Hex,
  signFields,
  verifyFields,
} from '@brier/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enroll, normaliseServerUrl } from './enroll.js';
import { AgentState, StateError } from './state/agent-state.js';

const HOST_ID = '0b7e4d52-3c1a-4f7e-9a2b-5d6c7e8f9a0b';

interface EnrollRequest {
  token: string;
  publicKey: string;
  hostname: string;
  nonce: string;
  signature: string;
}

type Reply = (req: EnrollRequest, res: ServerResponse) => void;

/**
 * A stand-in for the Brier server's enrolment endpoint: it holds a key pair and a join secret,
 * checks the agent's proof like the real one, and answers however the test scripts it.
 */
class FakeEnrollServer {
  readonly keys: KeyPair = generateKeyPair();
  readonly secret = randomToken();
  readonly requests: Array<{ method: string | undefined; url: string | undefined; contentType: string | undefined; body: EnrollRequest }> =
    [];
  reply: Reply = (req, res) => this.accept(req, res);
  private server: Server | undefined;
  url = '';

  get token(): string {
    return formatJoinToken({ fingerprint: fingerprint(this.keys.publicKey), secret: this.secret });
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** What the real server does: check the agent's proof, then sign [hostId, nonce, agentKey] with the server key. */
  accept(req: EnrollRequest, res: ServerResponse, signWith: KeyPair = this.keys, fields?: string[]): void {
    const proof = [sha256Hex(this.secret), req.nonce, req.publicKey];
    if (!verifyFields(req.publicKey, PURPOSE.enroll, proof, req.signature)) {
      this.problem(res, 401, 'bad_signature', 'agent signature does not verify');
      return;
    }
    const signed = fields ?? [HOST_ID, req.nonce, req.publicKey];
    this.json(res, 201, {
      hostId: HOST_ID,
      status: 'active',
      serverPublicKey: signWith.publicKey,
      serverSignature: signFields(importPrivateKey(signWith.privateKeyPem), PURPOSE.enrollAck, signed),
    });
  }

  json(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
    res.writeHead(status, { 'content-type': contentType }).end(JSON.stringify(body));
  }

  problem(res: ServerResponse, status: number, code: string, detail: string): void {
    const body = { type: `https://brier.dev/problems/${code}`, title: code, status, detail, code };
    this.json(res, status, body, 'application/problem+json');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as EnrollRequest;
    this.requests.push({ method: req.method, url: req.url, contentType: req.headers['content-type'], body });
    this.reply(body, res);
  }
}

const server = new FakeEnrollServer();
let root: string;
let state: AgentState;

beforeAll(() => server.listen());
afterAll(() => server.close());

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'brier-enroll-'));
  state = new AgentState(path.join(root, 'state'));
  server.requests.length = 0;
  server.reply = (req, res) => server.accept(req, res);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const identityFile = () => path.join(state.dir, 'identity.json');

function run(overrides: Partial<Parameters<typeof enroll>[0]> = {}) {
  return enroll({
    serverUrl: server.url,
    token: server.token,
    hostname: 'laptop-7',
    state,
    now: () => new Date('2024-06-01T08:00:00Z'),
    ...overrides,
  });
}

/** Runs enroll expecting a refusal; returns the error's code. */
async function refusal(overrides: Partial<Parameters<typeof enroll>[0]> = {}): Promise<ErrorCode> {
  try {
    await run(overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(BrierError);
    return (err as BrierError).code;
  }
  throw new Error('enroll succeeded');
}

describe('enroll', () => {
  it('stores an identity (mode 0600) that pins the server key named by the token', async () => {
    const { identity, status } = await run();

    expect(status).toBe('active');
    expect(identity).toEqual({
      hostId: HOST_ID,
      privateKeyPem: expect.stringContaining('BEGIN PRIVATE KEY'),
      publicKey: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      serverUrl: server.url,
      serverPublicKey: server.keys.publicKey,
      serverFingerprint: fingerprint(server.keys.publicKey),
      enrolledAt: '2024-06-01T08:00:00.000Z',
    });
    expect(publicKeyOf(importPrivateKey(identity.privateKeyPem))).toBe(identity.publicKey);
    expect(statSync(identityFile()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(identityFile(), 'utf8'))).toEqual(identity);
    expect(new AgentState(state.dir).readIdentity()).toEqual(identity);
  });

  it('posts its new public key, hostname and a proof of possession to the enrolment path', async () => {
    const { identity } = await run();
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', url: AGENT_ENROLL_PATH, contentType: 'application/json' });
    expect(request!.body).toEqual({
      token: server.token,
      publicKey: identity.publicKey,
      hostname: 'laptop-7',
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/),
    });
  });

  it('uses a fresh key pair and nonce for every enrolment', async () => {
    const first = await run();
    const other = new AgentState(path.join(root, 'other'));
    const second = await run({ state: other });
    expect(second.identity.publicKey).not.toBe(first.identity.publicKey);
    expect(server.requests[1]!.body.nonce).not.toBe(server.requests[0]!.body.nonce);
  });

  it('accepts a token with surrounding whitespace and a server URL with a trailing slash', async () => {
    const { identity } = await run({ token: `  ${server.token}\n`, serverUrl: `${server.url}/` });
    expect(identity.serverUrl).toBe(server.url);
    expect(server.requests[0]!.body.token).toBe(server.token);
  });

  it('keeps a path prefix of the server URL, for a server behind a reverse proxy', async () => {
    const { identity } = await run({ serverUrl: `${server.url}/brier/` });
    expect(server.requests[0]!.url).toBe(`/brier${AGENT_ENROLL_PATH}`);
    expect(identity.serverUrl).toBe(`${server.url}/brier`);
  });

  it('refuses a server whose key does not match the fingerprint in the token, and writes nothing', async () => {
    const impostor = generateKeyPair();
    server.reply = (req, res) => server.accept(req, res, impostor);
    expect(await refusal()).toBe('server_key_mismatch');
    expect(existsSync(identityFile())).toBe(false);
  });

  it('refuses a server whose signature does not verify, and writes nothing', async () => {
    // The right key, but a signature over another nonce: a replayed answer.
    server.reply = (req, res) => server.accept(req, res, server.keys, [HOST_ID, randomToken(), req.publicKey]);
    expect(await refusal()).toBe('bad_signature');
    expect(existsSync(identityFile())).toBe(false);
  });

  it('refuses a server that signs a different host ID than it returns, and writes nothing', async () => {
    server.reply = (req, res) => server.accept(req, res, server.keys, ['11111111-2222-4333-8444-555555555555', req.nonce, req.publicKey]);
    expect(await refusal()).toBe('bad_signature');
    expect(existsSync(identityFile())).toBe(false);
  });

  it('refuses a signature of the right fields made for another purpose', async () => {
    server.reply = (req, res) => {
      server.json(res, 201, {
        hostId: HOST_ID,
        status: 'active',
        serverPublicKey: server.keys.publicKey,
        serverSignature: signFields(importPrivateKey(server.keys.privateKeyPem), PURPOSE.authAck, [HOST_ID, req.nonce, req.publicKey]),
      });
    };
    expect(await refusal()).toBe('bad_signature');
    expect(existsSync(identityFile())).toBe(false);
  });

  it('reports the code of a problem+json refusal, with its detail', async () => {
    server.reply = (_req, res) => server.problem(res, 401, 'token_expired', 'the join token expired at 2024-05-01');
    await expect(run()).rejects.toThrow(
      expect.objectContaining({ code: 'token_expired', message: expect.stringContaining('expired at 2024-05-01') }),
    );
    expect(existsSync(identityFile())).toBe(false);
  });

  it('reports every token refusal by its own code', async () => {
    for (const code of ['token_invalid', 'token_exhausted', 'bad_signature', 'rate_limited'] as const) {
      server.reply = (_req, res) => server.problem(res, code === 'rate_limited' ? 429 : 401, code, 'no');
      expect(await refusal(), code).toBe(code);
    }
  });

  it('reports a refusal without a known code as internal, and a gateway failure as unavailable', async () => {
    server.reply = (_req, res) => server.problem(res, 400, 'toString', 'odd');
    expect(await refusal()).toBe('internal');
    server.reply = (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
    expect(await refusal()).toBe('unavailable');
  });

  it('refuses an answer that is not an object or lacks fields, and writes nothing', async () => {
    const answers: unknown[] = [
      null,
      [],
      'ok',
      { hostId: HOST_ID },
      { hostId: 7, serverPublicKey: server.keys.publicKey, serverSignature: 'x' },
    ];
    for (const answer of answers) {
      server.reply = (_req, res) => server.json(res, 201, answer);
      expect(await refusal(), JSON.stringify(answer)).toBe('invalid_message');
    }
    server.reply = (_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{not json');
    expect(await refusal()).toBe('invalid_message');
    expect(existsSync(identityFile())).toBe(false);
  });

  it('refuses a properly signed answer whose host ID is not a UUID, and writes nothing', async () => {
    server.reply = (req, res) => {
      server.json(res, 201, {
        hostId: 'host-1',
        status: 'active',
        serverPublicKey: server.keys.publicKey,
        serverSignature: signFields(importPrivateKey(server.keys.privateKeyPem), PURPOSE.enrollAck, ['host-1', req.nonce, req.publicKey]),
      });
    };
    expect(await refusal()).toBe('invalid_message');
    expect(existsSync(identityFile())).toBe(false);
  });

  it('refuses a malformed token without sending any request', async () => {
    const fp = fingerprint(server.keys.publicKey);
    for (const token of ['', 'brier1', `brier2.${fp}.${server.secret}`, `brier1.${fp}.${server.secret}.x`, `brier1.${fp}.sec ret`]) {
      expect(await refusal({ token }), token).toBe('token_invalid');
    }
    expect(server.requests).toEqual([]);
    expect(existsSync(identityFile())).toBe(false);
  });

  it('refuses to enrol again over an existing identity, without sending any request', async () => {
    const { identity } = await run();
    server.requests.length = 0;
    expect(await refusal()).toBe('conflict');
    expect(server.requests).toEqual([]);
    expect(state.readIdentity()).toEqual(identity);
  });

  it('refuses a server URL that is not http(s), without sending any request', async () => {
    for (const serverUrl of ['not a url', 'ftp://127.0.0.1/', 'file:///etc/passwd']) {
      expect(await refusal({ serverUrl }), serverUrl).toBe('bad_request');
    }
    expect(server.requests).toEqual([]);
  });

  it('reports an unreachable server as unavailable, and writes nothing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await refusal({ serverUrl: `http://127.0.0.1:${port}` })).toBe('unavailable');
    expect(existsSync(identityFile())).toBe(false);
  });

  it('fails before contacting the server when the state directory is unusable', async () => {
    const blocked = path.join(root, 'file');
    writeFileSync(blocked, '');
    await expect(run({ state: new AgentState(path.join(blocked, 'state')) })).rejects.toThrow(StateError);
    expect(server.requests).toEqual([]);
  });
});

describe('normaliseServerUrl', () => {
  it('keeps scheme, host, port and path, without trailing slashes, query or fragment', () => {
    expect(normaliseServerUrl('https://brier.example:8443/')).toBe('https://brier.example:8443');
    expect(normaliseServerUrl('http://brier.example/base//')).toBe('http://brier.example/base');
    expect(normaliseServerUrl('http://brier.example/base?x=1#y')).toBe('http://brier.example/base');
  });
});
