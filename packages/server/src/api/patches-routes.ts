import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Services } from '../services.js';
import { authorize } from './authorize.js';
import { authErrors, DateTime, IdParams, Limit, Offset, Page, Problem, SearchText } from './schemas.js';

const Update = Type.Object({
  ecosystem: Type.String(),
  manager: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  arch: Type.String(),
  installedVersion: Type.Optional(Type.String()),
  candidateVersion: Type.String(),
  origin: Type.Optional(Type.String()),
  suite: Type.Optional(Type.String()),
  title: Type.Optional(Type.String()),
  security: Type.Boolean(),
  advisories: Type.Optional(Type.Array(Type.String())),
  rebootLikely: Type.Optional(Type.Boolean()),
});

const CatalogueEntry = Type.Object({
  ecosystem: Type.String(),
  manager: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  candidateVersion: Type.String(),
  security: Type.Boolean(),
  hostCount: Type.Integer(),
  advisories: Type.Array(Type.String()),
  suites: Type.Array(Type.String()),
  title: Type.Union([Type.String(), Type.Null()]),
  rebootLikely: Type.Boolean(),
});

export const patchesRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const read = authorize(services.auth, 'hosts:read');

  app.get(
    '/patches',
    {
      onRequest: read,
      schema: {
        tags: ['patches'],
        summary: 'The fleet patch catalogue: each (package, candidate version) with the number of hosts that need it',
        querystring: Type.Object(
          { q: Type.Optional(SearchText), security: Type.Optional(Type.Boolean()), limit: Limit, offset: Offset },
          { additionalProperties: false },
        ),
        response: { 200: Page(CatalogueEntry), ...authErrors },
      },
    },
    async (request) => services.patches.catalogue(request.query),
  );

  app.get(
    '/hosts/:id/updates',
    {
      onRequest: read,
      schema: {
        tags: ['patches'],
        summary: 'Updates this host could install, as its agent last reported them',
        params: IdParams,
        response: {
          200: Type.Object({ items: Type.Array(Update), updatesAt: Type.Union([DateTime, Type.Null()]) }),
          404: Problem,
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { updates, updatesAt } = await services.patches.forHost(request.params.id);
      return { items: updates, updatesAt };
    },
  );
};
