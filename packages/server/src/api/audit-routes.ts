import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Services } from '../services.js';
import { authorize } from './authorize.js';
import { authErrors, DateTime, Limit, Offset, Page, SearchText } from './schemas.js';

const Exact = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/audit',
    {
      onRequest: authorize(services.auth, 'audit:read'),
      schema: {
        tags: ['audit'],
        summary: 'Operator actions, newest first; filtered by actor, action prefix, target and text (all together)',
        querystring: Type.Object(
          {
            actor: Type.Optional(Exact),
            action: Type.Optional(
              Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'An action prefix' }),
            ),
            target: Type.Optional(Exact),
            q: Type.Optional(SearchText),
            limit: Limit,
            offset: Offset,
          },
          { additionalProperties: false },
        ),
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
