import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Services } from '../services.js';
import { authorize, principalOf } from './authorize.js';
import {
  authErrors,
  DateTime,
  Host,
  HostDetail,
  HostStatus,
  IdParams,
  Limit,
  List,
  Offset,
  Page,
  Problem,
  SearchText,
  Software,
} from './schemas.js';

/** A site, group or OS name as a filter: what the API accepts when setting them, nothing longer. */
const FilterName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

const Facet = Type.Array(Type.Object({ name: Type.String(), count: Type.Integer() }));

const HistoryItem = Type.Object({
  at: DateTime,
  kind: Type.Union([Type.Literal('audit'), Type.Literal('deployment'), Type.Literal('remediation'), Type.Literal('quarantine')]),
  summary: Type.String(),
  actor: Type.Union([Type.String(), Type.Null()]),
  ref: Type.Union([Type.String(), Type.Null()]),
});

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
            site: Type.Optional(FilterName),
            group: Type.Optional(FilterName),
            os: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 100,
                pattern: '^[^\\u0000-\\u001f\\u007f]+$',
                description: 'A distro (debian) or a distro and release (debian 12), case-insensitive',
              }),
            ),
            tier: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'The effective risk tier' })),
            sort: Type.Optional(Type.Union([Type.Literal('hostname'), Type.Literal('lastSeenAt'), Type.Literal('tier')])),
            order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
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
    '/hosts/facets',
    {
      onRequest: read,
      schema: {
        tags: ['hosts'],
        summary: 'The sites, groups and OS releases (distro release) the hosts filters offer, each with its number of hosts',
        response: { 200: Type.Object({ sites: Facet, groups: Facet, os: Facet }), ...authErrors },
      },
    },
    async () => hosts.facets(),
  );

  app.get(
    '/hosts/:id/history',
    {
      onRequest: read,
      schema: {
        tags: ['hosts'],
        summary:
          'What happened to a host, newest first: audit entries about it, the deployments it was in (with its state and reason), remediations and quarantine',
        params: IdParams,
        querystring: Type.Object({ limit: Limit, offset: Offset }, { additionalProperties: false }),
        response: { 200: Page(HistoryItem), 404: Problem, ...authErrors },
      },
    },
    async (request) => hosts.history(request.params.id, request.query.limit, request.query.offset),
  );

  app.get(
    '/groups',
    {
      onRequest: read,
      schema: {
        tags: ['hosts'],
        summary: 'Host groups (named by hosts, risk tiers or maintenance windows) with their number of hosts and risk tier',
        response: {
          200: List(
            Type.Object({
              name: Type.String(),
              hostCount: Type.Integer(),
              tier: Type.Union([Type.Integer({ minimum: 1, maximum: 5 }), Type.Null()]),
            }),
          ),
          ...authErrors,
        },
      },
    },
    async () => ({ items: await hosts.groups() }),
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
