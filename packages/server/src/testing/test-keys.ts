import { certifyWorkKey, fingerprint, generateKeyPair, importPrivateKey } from '@brier/protocol';
import { identityFromPem, type ServerIdentity } from '../auth/server-identity.js';
import type { WorkSigningKey } from '../auth/work-signing-key.js';

/** A fresh server identity and a work key it certified, in memory (tests only; main.ts uses files). */
export function testKeys(now = new Date()): { identity: ServerIdentity; workKey: WorkSigningKey } {
  const identity = identityFromPem(generateKeyPair().privateKeyPem);
  const work = generateKeyPair();
  const day = 86_400_000;
  return {
    identity,
    workKey: {
      privateKey: importPrivateKey(work.privateKeyPem),
      publicKey: work.publicKey,
      keyId: fingerprint(work.publicKey),
      certificate: certifyWorkKey(identity.privateKey, work.publicKey, new Date(now.getTime() - day), new Date(now.getTime() + 365 * day)),
      retired: [],
    },
  };
}
