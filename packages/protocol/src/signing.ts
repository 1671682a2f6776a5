import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign, verify } from 'node:crypto';

/**
 * Ed25519 helpers. Public keys travel as base64url of the raw 32-byte key; private keys are stored
 * as PKCS#8 PEM. Every signature is over a domain-separated message (`purpose` + NUL + fields joined
 * by NUL) so a signature made for one purpose can never be replayed as another.
 */

/** The SPKI DER prefix of an Ed25519 public key; the raw key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface KeyPair {
  publicKey: string;
  privateKeyPem: string;
}

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: exportPublicKey(publicKey), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export function exportPublicKey(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(ED25519_SPKI_PREFIX.length).toString('base64url');
}

/** Parses a base64url raw Ed25519 public key; throws on anything that is not exactly 32 bytes. */
export function importPublicKey(publicKey: string): KeyObject {
  if (!/^[A-Za-z0-9_-]{43}$/.test(publicKey)) throw new Error('public key must be 32 bytes of base64url');
  const raw = Buffer.from(publicKey, 'base64url');
  // The last character carries 2 unused bits: only the canonical spelling is one key's name.
  if (raw.length !== 32 || raw.toString('base64url') !== publicKey) throw new Error('public key is not canonical base64url');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function importPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('private key is not Ed25519');
  return key;
}

export function publicKeyOf(privateKey: KeyObject): string {
  return exportPublicKey(createPublicKey(privateKey));
}

/** sha256 of the raw public key, base64url (43 chars). This is what a join token pins. */
export function fingerprint(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64url');
}

function message(purpose: string, fields: readonly string[]): Buffer {
  for (const f of fields) if (f.includes('\0')) throw new Error('signed fields must not contain NUL');
  return Buffer.from([purpose, ...fields].join('\0'), 'utf8');
}

export function signFields(privateKey: KeyObject, purpose: string, fields: readonly string[]): string {
  return sign(null, message(purpose, fields), privateKey).toString('base64url');
}

/** Never throws: a malformed key or signature simply does not verify. */
export function verifyFields(publicKey: string | KeyObject, purpose: string, fields: readonly string[], signature: string): boolean {
  try {
    const key = typeof publicKey === 'string' ? importPublicKey(publicKey) : publicKey;
    // Buffer.from skips characters that are not base64url and ignores the last character's 4 unused
    // bits, so without this check one signature would have many accepted spellings.
    if (!/^[A-Za-z0-9_-]{86}$/.test(signature)) return false;
    const sig = Buffer.from(signature, 'base64url');
    if (sig.length !== 64 || sig.toString('base64url') !== signature) return false;
    return verify(null, message(purpose, fields), key, sig);
  } catch {
    return false;
  }
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(input: string | Buffer): string {
  return createHash('sha256').update(input).digest('hex');
}

/** Signature purposes: one constant per thing that gets signed. */
export const PURPOSE = {
  /** Agent proves possession of its key at enrolment: [tokenHash, agentNonce, publicKey]. */
  enroll: 'brier/enroll/v1',
  /** Server proves its identity at enrolment: [hostId, agentNonce, agentPublicKey]. */
  enrollAck: 'brier/enroll-ack/v1',
  /** Agent answers the per-connection challenge: [serverNonce, hostId, serverFingerprint]. */
  authAnswer: 'brier/auth/v1',
  /** Server proves its identity on every connection: [agentNonce, hostId]. */
  authAck: 'brier/auth-ack/v1',
  /** Server identity certifies a work-signing key: [keyId, publicKey, notBefore, notAfter]. */
  workKey: 'brier/work-key/v1',
  /** Work-signing key signs one host's assignment: [canonicalJson(assignment)]. */
  assignment: 'brier/assignment/v1',
  /** Work-signing key signs a policy bundle or quarantine order: `${desiredState}/${kind}`, [canonicalJson(document)]. */
  desiredState: 'brier/desired-state/v1',
} as const;

/** Join tokens: `brier1.<server fingerprint>.<secret>` (the Docker Swarm join-token idea). */
export interface JoinToken {
  fingerprint: string;
  secret: string;
}

const JOIN_TOKEN = /^brier1\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

export function formatJoinToken(token: JoinToken): string {
  return `brier1.${token.fingerprint}.${token.secret}`;
}

export function parseJoinToken(text: string): JoinToken | undefined {
  const m = JOIN_TOKEN.exec(text.trim());
  if (!m?.[1] || !m[2]) return undefined;
  return { fingerprint: m[1], secret: m[2] };
}
