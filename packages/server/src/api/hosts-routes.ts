import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Services } from '../services.js';
import { authorize, principalOf } from './authorize.js';
import { authErrors, Host, HostDetail, HostStatus, IdParams, Limit, Offset, Page, Problem, SearchText, Software } from './schemas.js';

export const hostsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth, hosts } = services;
  const read = authorize(auth, 'hosts:read');
  const manage = authorize(auth, 'hosts:manage');

  app.get(
    '/hosts',
    {
      onRequest: read,
      schema: {
        tags: ['hosts'],
        summary: 'List enrolled hosts (paged, filtered on the server)',
        querystring: Type.Object(
          {
            q: Type.Optional(SearchText),
            status: Type.Optional(HostStatus),
            online: Type.Optional(Type.Boolean()),
            limit: Limit,
            offset: Offset,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Host), ...authErrors },
      },
    },
    async (request) => hosts.list(request.query),
  );

  app.get(
    '/hosts/:id',
    {
      onRequest: read,
      schema: {
        tags: ['hosts'],
        summary: 'One host with its facts',
        params: IdParams,
        response: { 200: HostDetail, 404: Problem, ...authErrors },
      },
    },
    async (request) => hosts.get(request.params.id),
  );

  app.get(
    '/hosts/:id/software',
    {
      onRequest: read,
      schema: {
        tags: ['hosts'],
        summary: 'Installed packages of a host; q matches name, source package or version',
        params: IdParams,
        querystring: Type.Object({ q: Type.Optional(SearchText), limit: Limit, offset: Offset }, { additionalProperties: false }),
        response: { 200: Page(Software), 404: Problem, ...authErrors },
      },
    },
    async (request) => {
      const page = await hosts.software(request.params.id, request.query);
      return {
        total: page.total,
        items: page.items.map(({ source, sourceVersion, ...rest }) => ({
          ...rest,
          ...(source ? { source } : {}),
          ...(sourceVersion ? { sourceVersion } : {}),
        })),
      };
    },
  );

  for (const action of ['approve', 'revoke'] as const) {
    app.post(
      `/hosts/:id/${action}`,
      {
        onRequest: manage,
        schema: {
          tags: ['hosts'],
          summary:
            action === 'approve' ? 'Approve a pending host' : 'Revoke a host: its key is refused from now on, and it is disconnected',
          params: IdParams,
          response: { 200: Host, 404: Problem, 409: Problem, ...authErrors },
        },
      },
      async (request) => hosts[action](principalOf(request).user.username, request.params.id),
    );
  }

  app.delete(
    '/hosts/:id',
    {
      onRequest: manage,
      schema: {
        tags: ['hosts'],
        summary: 'Delete a host and its inventory (its key stays revoked)',
        params: IdParams,
        response: { 204: Type.Null(), 404: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      await hosts.delete(principalOf(request).user.username, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
