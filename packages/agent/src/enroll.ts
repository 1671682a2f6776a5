import {
  AGENT_ENROLL_PATH,
  BrierError,
  fingerprint,
  generateKeyPair,
  importPrivateKey,
  isErrorCode,
  PURPOSE,
  parseJoinToken,
  randomToken,
  sha256Hex,
  signFields,
  verifyFields,
} from '@brier/protocol';
import type { AgentState, Identity } from './state/agent-state.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface EnrollOptions {
  serverUrl: string;
  token: string;
  hostname: string;
  state: AgentState;
  fetch?: typeof fetch;
  now?: () => Date;
}

export function normaliseServerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new BrierError('bad_request', `--server must be a URL such as http://brier.example:8080, got ${JSON.stringify(url)}`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new BrierError('bad_request', '--server must use http or https');
  return parsed.origin + parsed.pathname.replace(/\/+$/, '');
}

/**
 * Enrols this machine: makes an Ed25519 key pair, proves possession of it with the join token, and
 * pins the server key whose fingerprint the token carries. Nothing is written unless the server
 * proves it holds that key.
 */
export async function enroll(options: EnrollOptions): Promise<{ identity: Identity; status: string }> {
  const doFetch = options.fetch ?? fetch;
  const serverUrl = normaliseServerUrl(options.serverUrl);
  const token = parseJoinToken(options.token);
  if (!token) throw new BrierError('token_invalid', 'the join token is malformed (expected brier1.<fingerprint>.<secret>)');
  if (options.state.readIdentity()) {
    throw new BrierError('conflict', `already enrolled (state in ${options.state.dir}); remove identity.json to enrol again`);
  }
  // Fail before the server spends a token use on us when the identity could not be stored anyway.
  options.state.ensureDir();
  const keys = generateKeyPair();
  const privateKey = importPrivateKey(keys.privateKeyPem);
  const nonce = randomToken();
  const signature = signFields(privateKey, PURPOSE.enroll, [sha256Hex(token.secret), nonce, keys.publicKey]);
  let response: Response;
  try {
    response = await doFetch(`${serverUrl}${AGENT_ENROLL_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: options.token.trim(), publicKey: keys.publicKey, hostname: options.hostname, nonce, signature }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw new BrierError('unavailable', `cannot reach ${serverUrl}`, { cause });
  }
  const parsed: unknown = await response.json().catch(() => undefined);
  // `null`, an array or a bare string are valid JSON too: only an object has fields to read.
  const body: Record<string, unknown> = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...parsed } : {};
  if (!response.ok) {
    const code = isErrorCode(body.code) ? body.code : response.status >= 500 ? 'unavailable' : 'internal';
    throw new BrierError(code, `enrolment refused (${response.status}): ${String(body.detail ?? body.title ?? 'no detail')}`);
  }
  const { hostId, serverPublicKey, serverSignature, status } = body;
  if (typeof hostId !== 'string' || typeof serverPublicKey !== 'string' || typeof serverSignature !== 'string') {
    throw new BrierError('invalid_message', 'enrolment answer is missing fields');
  }
  // Every auth frame carries the host ID and must pass the protocol's UUID schema.
  if (!UUID.test(hostId)) throw new BrierError('invalid_message', 'enrolment answer has a malformed host ID');
  if (fingerprint(serverPublicKey) !== token.fingerprint) {
    throw new BrierError('server_key_mismatch', 'the server’s key does not match the fingerprint in the join token: refusing to trust it');
  }
  if (!verifyFields(serverPublicKey, PURPOSE.enrollAck, [hostId, nonce, keys.publicKey], serverSignature)) {
    throw new BrierError('bad_signature', 'the server did not prove it holds the pinned key');
  }
  const identity: Identity = {
    hostId,
    privateKeyPem: keys.privateKeyPem,
    publicKey: keys.publicKey,
    serverUrl,
    serverPublicKey,
    serverFingerprint: token.fingerprint,
    enrolledAt: (options.now ?? (() => new Date()))().toISOString(),
  };
  options.state.writeIdentity(identity);
  return { identity, status: typeof status === 'string' ? status : 'unknown' };
}
