import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Services } from '../services.js';

/** Liveness, readiness and Prometheus metrics: unauthenticated, outside /api/v1, hidden from OpenAPI. */
export const systemRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get('/healthz', { schema: { hide: true, response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await services.database.ping();
      return { status: 'ready', database: services.database.kind };
    } catch (err) {
      reply.log.warn({ err }, 'database not ready');
      return reply.code(503).send({ status: 'unavailable', database: services.database.kind });
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await services.metrics.registry.metrics();
    return reply.type(services.metrics.registry.contentType).send(body);
  });
};
