import { BrierError } from '@brier/protocol';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { AuthService, Principal } from '../auth/auth-service.js';
import { can, type Permission } from '../auth/roles.js';

export const SESSION_COOKIE = 'brier_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) throw new BrierError('unauthenticated', 'Authorization must be "Bearer <token>"');
    return m[1];
  }
  return request.cookies?.[SESSION_COOKIE];
}

/**
 * An onRequest hook that requires a live token whose user holds `permission`. It runs before the
 * body is read or validated, so a caller without the right learns nothing about the route's schema
 * and cannot make the server parse a large body.
 */
export function authorize(auth: AuthService, permission: Permission | null): onRequestAsyncHookHandler {
  return async (request) => {
    const token = tokenOf(request);
    if (!token) throw new BrierError('unauthenticated', 'send "Authorization: Bearer <token>" (from POST /api/v1/auth/login)');
    const principal = await auth.authenticate(token);
    if (permission && !can(principal.user.role, permission)) {
      throw new BrierError('forbidden', `role ${principal.user.role} may not ${permission}`);
    }
    request.principal = principal;
  };
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new BrierError('unauthenticated');
  return request.principal;
}
