import { BrierError, formatJoinToken, PURPOSE, parseJoinToken, randomToken, sha256Hex, signFields, verifyFields } from '@brier/protocol';
import type { Host } from '../hosts/types.js';
import type { ServerIdentity } from './server-identity.js';
import type { EnrollmentToken, EnrollmentTokensStore } from './types.js';

export interface EnrollmentStore {
  enroll(
    secretHash: string,
    check: (token: EnrollmentToken) => 'token_expired' | 'token_exhausted' | 'token_invalid' | null,
    input: { hostname: string; publicKey: string; at: Date },
  ): Promise<{ host: Host } | { refused: 'token_invalid' | 'token_expired' | 'token_exhausted' | 'conflict' }>;
}

export interface EnrollmentServiceDeps {
  tokens: EnrollmentTokensStore;
  hosts: EnrollmentStore;
  identity: ServerIdentity;
  now: () => Date;
}

export interface EnrollRequest {
  token: string;
  publicKey: string;
  hostname: string;
  nonce: string;
  signature: string;
}

const MAX_TOKEN_HOURS = 24 * 365;

export function createEnrollmentService(deps: EnrollmentServiceDeps) {
  const { identity, now } = deps;

  function checkToken(token: EnrollmentToken) {
    const at = now();
    if (token.revokedAt) return 'token_invalid' as const;
    if (token.expiresAt.getTime() <= at.getTime()) return 'token_expired' as const;
    if (token.maxUses !== null && token.uses >= token.maxUses) return 'token_exhausted' as const;
    return null;
  }

  return {
    async createToken(input: {
      createdBy: string;
      autoApprove?: boolean | undefined;
      expiresInHours?: number | undefined;
      maxUses?: number | undefined;
    }) {
      const hours = input.expiresInHours ?? 24;
      if (!(hours > 0 && hours <= MAX_TOKEN_HOURS))
        throw new BrierError('bad_request', `expiresInHours must be in (0, ${MAX_TOKEN_HOURS}]`);
      const secret = randomToken();
      const record = await deps.tokens.create({
        secretHash: sha256Hex(secret),
        createdBy: input.createdBy,
        autoApprove: input.autoApprove ?? false,
        maxUses: input.maxUses ?? null,
        expiresAt: new Date(now().getTime() + hours * 3_600_000),
      });
      return { token: formatJoinToken({ fingerprint: identity.fingerprint, secret }), record };
    },

    listTokens: () => deps.tokens.list(),

    async revokeToken(id: string) {
      if (!(await deps.tokens.revoke(id, now()))) throw new BrierError('not_found', 'no such live enrollment token');
    },

    /**
     * Enrols an agent: the join token must be live, the agent must prove it holds the private key of
     * the public key it registers, and the answer carries the server's signature over the agent's
     * nonce so the agent can check it reached the server its token pins.
     */
    async enroll(req: EnrollRequest) {
      const parsed = parseJoinToken(req.token);
      if (!parsed) throw new BrierError('token_invalid', 'join token is malformed');
      if (parsed.fingerprint !== identity.fingerprint) throw new BrierError('token_invalid', 'join token was issued by another server');
      // Keys are compared as strings (uniqueness, the revoked list), so only one spelling may name a key:
      // 32 bytes leave 2 spare bits in 43 base64url characters.
      if (Buffer.from(req.publicKey, 'base64url').toString('base64url') !== req.publicKey) {
        throw new BrierError('bad_request', 'publicKey must be the canonical base64url of 32 bytes');
      }
      const secretHash = sha256Hex(parsed.secret);
      if (!verifyFields(req.publicKey, PURPOSE.enroll, [secretHash, req.nonce, req.publicKey], req.signature)) {
        throw new BrierError('bad_signature', 'proof of key possession does not verify');
      }
      const outcome = await deps.hosts.enroll(secretHash, checkToken, { hostname: req.hostname, publicKey: req.publicKey, at: now() });
      if ('refused' in outcome) {
        if (outcome.refused === 'conflict')
          throw new BrierError('conflict', 'this key is already enrolled or was revoked; generate a new identity');
        throw new BrierError(outcome.refused);
      }
      const { host } = outcome;
      return {
        host,
        serverPublicKey: identity.publicKey,
        serverSignature: signFields(identity.privateKey, PURPOSE.enrollAck, [host.id, req.nonce, req.publicKey]),
      };
    },
  };
}

export type EnrollmentService = ReturnType<typeof createEnrollmentService>;
