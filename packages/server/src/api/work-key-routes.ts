import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { WorkSigningKey } from '../auth/work-signing-key.js';
import type { Services } from '../services.js';
import { authorize, principalOf } from './authorize.js';
import { authErrors } from './schemas.js';

const Certificate = Type.Object({ keyId: Type.String(), notBefore: Type.String(), notAfter: Type.String() });
const WorkKey = Type.Object({ current: Certificate, retired: Type.Array(Certificate) });

function view(key: WorkSigningKey) {
  const cert = (c: WorkSigningKey['certificate']) => ({ keyId: c.keyId, notBefore: c.notBefore, notAfter: c.notAfter });
  return { current: cert(key.certificate), retired: key.retired.map(cert) };
}

/**
 * The key that signs agents' work (not the server identity agents pinned). Rotating it needs no
 * re-enrolment: the new key is certified by the identity, and work signed before the rotation stays
 * valid until its retired certificate lapses. Another replica keeps signing with the key it loaded
 * (still valid) until it restarts.
 */
export const workKeyRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const admin = authorize(services.auth, 'settings:manage');

  app.get(
    '/work-key',
    {
      onRequest: admin,
      schema: {
        tags: ['system'],
        summary: 'The work-signing key in use and the retired ones, by certificate',
        response: { 200: WorkKey, ...authErrors },
      },
    },
    async () => view(services.workKeys.current()),
  );

  app.post(
    '/work-key/rotate',
    {
      onRequest: admin,
      schema: {
        tags: ['system'],
        summary: 'Replaces the work-signing key with a new one certified by the server identity; agents need nothing',
        response: { 200: WorkKey, ...authErrors },
      },
    },
    async (request) => {
      const before = services.workKeys.current().keyId;
      const key = services.workKeys.rotate();
      await services.audit.record({
        actor: principalOf(request).user.username,
        action: 'work-key.rotate',
        target: key.keyId,
        detail: { previous: before, notAfter: key.certificate.notAfter },
        at: services.now(),
      });
      return view(key);
    },
  );
};
