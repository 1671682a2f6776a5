import type { KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fingerprint, generateKeyPair, importPrivateKey, publicKeyOf } from '@brier/protocol';

/**
 * The server's Ed25519 identity. Agents pin its fingerprint at enrolment. It lives in a file in the
 * data directory (mode 0600), never in the database: someone who can write the database still
 * cannot impersonate the server to agents.
 */
export interface ServerIdentity {
  privateKey: KeyObject;
  publicKey: string;
  fingerprint: string;
}

export const IDENTITY_FILE = 'server-identity.pem';

export function identityFromPem(pem: string): ServerIdentity {
  const privateKey = importPrivateKey(pem);
  const publicKey = publicKeyOf(privateKey);
  return { privateKey, publicKey, fingerprint: fingerprint(publicKey) };
}

export function loadOrCreateServerIdentity(dataDir: string): ServerIdentity {
  const file = path.join(dataDir, IDENTITY_FILE);
  try {
    return identityFromPem(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read server identity ${file}`, { cause: err });
  }
  mkdirSync(dataDir, { recursive: true });
  const { privateKeyPem } = generateKeyPair();
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, privateKeyPem, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
  return identityFromPem(privateKeyPem);
}
