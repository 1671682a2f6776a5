import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';
import { CONSOLE_NOT_BUILT } from './console-routes.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-3f2a9c.js"></script></head><body></body></html>';
const SCRIPT = 'console.log("console")';

/** Parses a Content-Security-Policy header into directive -> sources. */
function csp(header: string | string[] | number | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of String(header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name] = sources;
  }
  return out;
}

describe('the console at /', () => {
  let dir: string;
  let s: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'brier-console-'));
    const dist = path.join(dir, 'dist');
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), INDEX);
    writeFileSync(path.join(dist, 'assets', 'app-3f2a9c.js'), SCRIPT);
    writeFileSync(path.join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(path.join(dist, '.env'), 'SECRET=dotfile');
    // Next to the console's directory, never to be served.
    writeFileSync(path.join(dir, 'secret.txt'), 'outside the console');
    s = await createTestServer({ config: { consoleDir: dist } });
  });
  afterAll(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string) => s.app.inject({ method: 'GET', url });

  it('serves index.html at / without caching and with the strict security headers', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toBe(INDEX);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(csp(res.headers['content-security-policy'])).toEqual({
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
    });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('answers HEAD / like GET, without a body', async () => {
    const res = await s.app.inject({ method: 'HEAD', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
  });

  it.each(['/hosts/123', '/deployments/3f2a9c/report', '/hosts?site=Berlin', '/settings/users', '/index.html'])(
    'answers %s with the single-page app, so reloads work',
    async (url) => {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toBe(INDEX);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    },
  );

  it('serves hashed assets with a year of immutable caching and other files revalidated', async () => {
    const res = await get('/assets/app-3f2a9c.js');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.body).toBe(SCRIPT);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const icon = await get('/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers a missing asset with 404, never with the page', async () => {
    expectProblem(await get('/assets/app-000000.js'), 404, 'not_found');
  });

  it.each(['/api/v1/nothing', '/api/v2/hosts', '/api', '/api/', '/healthz/extra', '/readyz/x', '/metrics/x', '/docs/nothing-here'])(
    'keeps %s a JSON 404, not the app',
    async (url) => {
      const res = await get(url);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/(problem\+)?json/);
    },
  );

  it('leaves the API, probes and /docs as they were, without the console’s policy', async () => {
    expectProblem(await get('/api/v1/auth/me'), 401, 'unauthenticated');
    expect((await get('/healthz')).json()).toEqual({ status: 'ok' });
    const docs = await get('/docs/json');
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-security-policy'] ?? '').not.toContain("script-src 'self'");
    const ui = await get('/docs');
    expect([200, 302]).toContain(ui.statusCode);
    expect(ui.headers['content-security-policy'] ?? '').not.toContain("frame-ancestors 'none'");
  });

  it.each([
    '/..%2fsecret.txt',
    '/%2e%2e/secret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '/.env',
    '/%2eenv',
    '/assets/%2e%2e/%2e%2e/secret.txt',
  ])('never serves %s from outside the console or a dot-file', async (url) => {
    const res = await get(url);
    expect(res.body).not.toContain('outside the console');
    expect(res.body).not.toContain('SECRET=dotfile');
    expect([200, 400, 403, 404]).toContain(res.statusCode);
  });

  it.each(['/%00', '/hosts/%00x'])('refuses the path %s with a NUL byte with 404', async (url) => {
    expectProblem(await get(url), 404, 'not_found');
  });

  it.each(['/%E0%A4%A', '/assets/%ff.js', '/hosts/%zz'])('refuses the undecodable path %s with a 400 problem', async (url) => {
    expectProblem(await get(url), 400, 'bad_request');
  });

  it('answers methods other than GET and HEAD with a JSON 404', async () => {
    expectProblem(await s.app.inject({ method: 'POST', url: '/hosts/123', payload: {} }), 404, 'not_found');
    expectProblem(await s.app.inject({ method: 'DELETE', url: '/' }), 404, 'not_found');
  });
});

describe('the console when it is not built', () => {
  it.each([
    ['the directory is missing', (dir: string) => path.join(dir, 'no-such-dist')],
    [
      'index.html is missing',
      (dir: string) => {
        mkdirSync(path.join(dir, 'half', 'assets'), { recursive: true });
        writeFileSync(path.join(dir, 'half', 'assets', 'a.js'), SCRIPT);
        return path.join(dir, 'half');
      },
    ],
  ])('answers / with 503 and how to build it when %s, leaving the API working', async (_what, consoleDirOf) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'brier-console-'));
    const s = await createTestServer({ config: { consoleDir: consoleDirOf(dir) } });
    try {
      for (const url of ['/', '/hosts/123']) {
        const res = await s.app.inject({ method: 'GET', url });
        expect(res.statusCode).toBe(503);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.body).toBe(CONSOLE_NOT_BUILT);
        expect(res.body).toBe('The console is not built: run npm run build');
      }
      expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/hosts' }), 401, 'unauthenticated');
      expect((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
