import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../testing/test-server.js';

describe('system routes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it('reports liveness on /healthz without authentication', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('reports readiness on /readyz with the kind of database behind it', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', database: 'pglite' });
  });

  it('exposes request durations and connected agents in Prometheus text on /metrics', async () => {
    await s.app.inject({ method: 'GET', url: '/healthz' });
    const res = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE brier_http_request_duration_seconds histogram');
    expect(res.body).toMatch(/brier_http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*\} \d+/);
    expect(res.body).toMatch(/^brier_agents_connected 0$/m);
  });

  it('serves an OpenAPI document that lists the hosts and login routes', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/api/v1/hosts']).toHaveProperty('get');
    expect(doc.paths['/api/v1/auth/login']).toHaveProperty('post');
    // Operational endpoints are deliberately hidden from the API description.
    expect(doc.paths).not.toHaveProperty('/metrics');
  });
});
