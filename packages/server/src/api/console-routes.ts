import { stat } from 'node:fs/promises';
import path from 'node:path';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The Content Security Policy of every console response: scripts, styles, fonts and API calls from
 * this origin only (CSP Level 3 lets 'self' cover same-origin ws:/wss: too, which the console's live
 * socket needs), images also as data: URLs, no plugins, no <base>, no framing, forms only to us.
 */
export const CONSOLE_CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'self'"],
} as const;

/** What `/` answers while packages/console/dist has not been built. */
export const CONSOLE_NOT_BUILT = 'The console is not built: run npm run build';

/** Paths that are never the console's: an unknown one among them is a 404, not the single-page app. */
const SERVER_PREFIXES = ['/api', '/docs', '/healthz', '/readyz', '/metrics'];

/** Vite names everything under assets/ by content hash: a new build has new names, so they never change. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function isServerPath(pathname: string): boolean {
  return SERVER_PREFIXES.some((p) => pathname === p || pathname.startsWith(`${p}/`));
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * The web console (packages/console/dist) at `/`: its files as they are, and index.html for every
 * other GET outside the API, so a reload of /hosts/123 opens the single-page app on that screen.
 * Registered in its own encapsulated context: the strict security headers apply to the console's
 * responses only, leaving /docs (swagger-ui's inline scripts) and the API as they were.
 */
export const consoleRoutes: FastifyPluginAsync<{ consoleDir: string }> = async (app, { consoleDir }) => {
  const root = path.resolve(consoleDir);

  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CONSOLE_CSP },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    // HSTS belongs to whatever terminates TLS (nginx); a plain-http test server must not send it.
    strictTransportSecurity: false,
  });
  // serve: false: only reply.sendFile; which paths are files is decided below.
  await app.register(fastifyStatic, { serve: false });

  async function sendIndex(reply: FastifyReply) {
    if (!(await isFile(path.join(root, 'index.html'))))
      return reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(CONSOLE_NOT_BUILT);
    // Always revalidated: it names the current build's hashed assets.
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', root, { cacheControl: false });
  }

  async function serve(request: FastifyRequest, reply: FastifyReply) {
    const raw = (request.raw.url ?? '/').split('?')[0] ?? '/';
    let pathname: string;
    try {
      pathname = decodeURIComponent(raw);
    } catch {
      return reply.callNotFound();
    }
    if (isServerPath(pathname) || pathname.includes('\0')) return reply.callNotFound();
    const relative = pathname.replace(/^\/+/, '');
    // No dot-files or dot-directories, and nothing outside the console's directory.
    const segments = relative.split('/');
    const plain = relative !== '' && segments.every((s) => s !== '' && !s.startsWith('.') && !s.includes('\\'));
    const file = path.resolve(root, relative);
    if (plain && file.startsWith(root + path.sep) && (await isFile(file))) {
      reply.header('cache-control', segments[0] === 'assets' ? IMMUTABLE : 'no-cache');
      return reply.sendFile(relative, root, { cacheControl: false, dotfiles: 'deny' });
    }
    // A missing script or stylesheet must not come back as the HTML page (a stale tab after a deploy).
    if (segments[0] === 'assets') return reply.callNotFound();
    return sendIndex(reply);
  }

  app.get('/', { schema: { hide: true } }, (_request, reply) => sendIndex(reply));
  app.get('/*', { schema: { hide: true } }, serve);
};
