import type { IncomingHttpHeaders } from 'node:http';

/**
 * Which web origins may drive this server from a browser: its own (the scheme it was reached by and
 * the Host header) and that of the configured public URL (BRIER_PUBLIC_URL), nothing else. Used by the
 * CSRF check of cookie-authenticated requests, the login route and the console WebSocket upgrade.
 *
 * Behind a TLS-terminating proxy the server sees plain http while the browser says https: set
 * BRIER_PUBLIC_URL (or BRIER_TRUST_PROXY, so X-Forwarded-Proto is believed) for those origins to match.
 */

/** The origin (`scheme://host[:port]`, lower case, default port dropped) of an http(s) URL; null when it is none. */
export function originOf(url: string | undefined): string | null {
  if (url === undefined || url === '') return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    return parsed.origin;
  } catch {
    return null;
  }
}

/** The origin a request was addressed to: its scheme and Host header; null without a usable Host. */
export function ownOrigin(protocol: string, host: string | undefined): string | null {
  if (!host || /[\s/\\@?#]/.test(host)) return null;
  return originOf(`${protocol}://${host}`);
}

/**
 * Where a browser says the request comes from: the Origin header, else the origin of the Referer.
 * undefined when neither is sent; null when what is sent is no http(s) origin (`Origin: null` from a
 * sandboxed frame, a malformed Referer): such a request is refused, never treated as absent.
 */
export function claimedOrigin(headers: IncomingHttpHeaders, options: { referer: boolean }): string | null | undefined {
  const origin = headers.origin;
  if (origin !== undefined) return originOf(origin);
  if (!options.referer) return undefined;
  const referer = headers.referer;
  if (referer === undefined) return undefined;
  return originOf(referer);
}

/** Whether `claimed` is this server's own origin or the public URL's. */
export function isTrustedOrigin(claimed: string, own: string | null, publicOrigin: string | null): boolean {
  return claimed === own || claimed === publicOrigin;
}
