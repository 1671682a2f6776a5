import { BrierError } from '@brier/protocol';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { AuthService, Principal } from '../auth/auth-service.js';
import { can, type Permission } from '../auth/roles.js';
import { claimedOrigin, isTrustedOrigin, ownOrigin } from './origins.js';

export const SESSION_COOKIE = 'brier_session';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** The origin of BRIER_PUBLIC_URL (null when unset): browsers may call the API from it. */
    publicOrigin: string | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const CROSS_SITE_REFUSED = 'cross-site request refused';

/**
 * Whether a browser request comes from this server's own pages: its Origin (or, with `referer`,
 * the Referer's origin when no Origin is sent) is the server's own origin or the public URL's.
 * `required`: a request that names no origin at all is refused too.
 */
export function checkSameOrigin(request: FastifyRequest, options: { referer: boolean; required: boolean }): void {
  const claimed = claimedOrigin(request.headers, { referer: options.referer });
  if (claimed === undefined && !options.required) return;
  const own = ownOrigin(request.protocol, request.host);
  if (!claimed || !isTrustedOrigin(claimed, own, request.server.publicOrigin ?? null))
    throw new BrierError('forbidden', CROSS_SITE_REFUSED);
}

/** The request's token and where it came from: the Authorization header (CLI, scripts) or the console's cookie. */
function tokenOf(request: FastifyRequest): { token: string; via: 'header' | 'cookie' } | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) throw new BrierError('unauthenticated', 'Authorization must be "Bearer <token>"');
    return { token: m[1], via: 'header' };
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie ? { token: cookie, via: 'cookie' } : undefined;
}

/**
 * An onRequest hook that requires a live token whose user holds `permission`. It runs before the
 * body is read or validated, so a caller without the right learns nothing about the route's schema
 * and cannot make the server parse a large body.
 */
export function authorize(auth: AuthService, permission: Permission | null): onRequestAsyncHookHandler {
  return async (request) => {
    const found = tokenOf(request);
    if (!found) throw new BrierError('unauthenticated', 'send "Authorization: Bearer <token>" (from POST /api/v1/auth/login)');
    // The browser attaches the cookie to any site's request (SameSite=Strict aside, which older
    // browsers and same-site subdomains get around): a change made with it must come from our pages.
    // A bearer token is never sent by a browser on its own, so the CLI is not asked for an Origin.
    if (found.via === 'cookie' && !SAFE_METHODS.has(request.method)) checkSameOrigin(request, { referer: true, required: true });
    const principal = await auth.authenticate(found.token);
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
