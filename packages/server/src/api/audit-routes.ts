import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Services } from '../services.js';
import { authorize } from './authorize.js';
import { authErrors, DateTime, Limit, Offset, Page } from './schemas.js';

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/audit',
    {
      onRequest: authorize(services.auth, 'audit:read'),
      schema: {
        tags: ['audit'],
        summary: 'Operator actions, newest first',
        querystring: Type.Object({ limit: Limit, offset: Offset }, { additionalProperties: false }),
        response: {
          200: Page(
            Type.Object({
              id: Type.Integer(),
              at: DateTime,
              actor: Type.String(),
              action: Type.String(),
              target: Type.Union([Type.String(), Type.Null()]),
              detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
            }),
          ),
          ...authErrors,
        },
      },
    },
    async (request) => services.audit.list(request.query),
  );
};
