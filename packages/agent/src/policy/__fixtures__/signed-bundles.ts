// Server-side stand-ins for policy tests: an identity the agent pins, a work key it certifies, and
// signed bundles. Built only from @brier/protocol helpers (agent tests never import server code).
import { randomUUID } from 'node:crypto';
import {
  certifyWorkKey,
  type DesiredStateSigner,
  generateKeyPair,
  type HostPolicy,
  importPrivateKey,
  type SignedPolicyBundle,
  signPolicyBundle,
} from '@brier/protocol';

export const NOW = new Date('2026-05-01T12:00:00.000Z');
export const HOUR = 3_600_000;
export const at = (ms: number): Date => new Date(NOW.getTime() + ms);

export interface ServerKeys {
  /** What the agent pins (Identity.serverPublicKey). */
  serverPublicKey: string;
  signer: DesiredStateSigner;
  /** Certifies another work key with the same identity (e.g. one that has expired). */
  certify(notBefore: Date, notAfter: Date): DesiredStateSigner;
}

export function serverKeys(): ServerKeys {
  const identity = generateKeyPair();
  const identityKey = importPrivateKey(identity.privateKeyPem);
  const certify = (notBefore: Date, notAfter: Date): DesiredStateSigner => {
    const work = generateKeyPair();
    return { privateKey: importPrivateKey(work.privateKeyPem), certificate: certifyWorkKey(identityKey, work.publicKey, notBefore, notAfter) };
  };
  return { serverPublicKey: identity.publicKey, signer: certify(at(-24 * HOUR), at(30 * 24 * HOUR)), certify };
}

export function policy(overrides: Partial<HostPolicy> = {}): HostPolicy {
  return {
    id: randomUUID(),
    name: 'antivirus everywhere',
    version: 1,
    mode: 'enforce',
    rules: [{ kind: 'package-installed', name: 'clamav' }],
    intervalMinutes: 15,
    ...overrides,
  };
}

export function signBundle(
  signer: DesiredStateSigner,
  hostId: string,
  sequence: number,
  policies: HostPolicy[],
  issuedAt: Date = NOW,
): SignedPolicyBundle {
  return signPolicyBundle(signer, { kind: 'policy-bundle', hostId, sequence, issuedAt: issuedAt.toISOString(), policies });
}
