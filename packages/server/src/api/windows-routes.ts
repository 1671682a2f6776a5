import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { MAX_WINDOW_MINUTES } from '../rollouts/windows.js';
import type { Services } from '../services.js';
import { authorize, principalOf } from './authorize.js';
import { authErrors, DateTime, IdParams, List, NullableDateTime, Problem, Uuid } from './schemas.js';

const GroupName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

const CreateBody = Type.Object(
  {
    group: GroupName,
    /** Five fields (minute hour day-of-month month day-of-week); checked by the cron parser. */
    cron: Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x20-\\x7e]+$' }),
    durationMinutes: Type.Integer({ minimum: 1, maximum: MAX_WINDOW_MINUTES }),
    /** IANA name, e.g. Europe/Berlin. */
    timeZone: Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\x21-\\x7e]+$' }),
  },
  { additionalProperties: false },
);

/** The response allow-list: nothing else of a stored window is serialised. */
const MaintenanceWindow = Type.Object({
  id: Uuid,
  group: Type.String(),
  cron: Type.String(),
  durationMinutes: Type.Integer(),
  timeZone: Type.String(),
  createdAt: DateTime,
  nextOpeningAt: NullableDateTime,
});

/**
 * Maintenance windows per host group. Work for a host whose groups have windows is offered only
 * while one of them is open; emergency deployments ignore them.
 */
export const windowsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth, deployments } = services;
  const read = authorize(auth, 'deployments:read');
  const manage = authorize(auth, 'groups:manage');

  const actorOf = (request: Parameters<typeof principalOf>[0]) => {
    const { user } = principalOf(request);
    return { id: user.id, username: user.username, role: user.role };
  };

  app.get(
    '/maintenance-windows',
    {
      onRequest: read,
      schema: {
        tags: ['maintenance-windows'],
        summary: 'List the maintenance windows of every group, with when each next opens',
        response: { 200: List(MaintenanceWindow), ...authErrors },
      },
    },
    async () => deployments.listWindows(),
  );

  app.post(
    '/maintenance-windows',
    {
      onRequest: manage,
      schema: {
        tags: ['maintenance-windows'],
        summary: "Add a maintenance window to a group: it opens at every cron fire time (the zone's wall clock) for durationMinutes",
        body: CreateBody,
        response: { 201: MaintenanceWindow, ...authErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await deployments.createWindow(actorOf(request), request.body)),
  );

  app.delete(
    '/maintenance-windows/:id',
    {
      onRequest: manage,
      schema: {
        tags: ['maintenance-windows'],
        summary: 'Remove a maintenance window',
        params: IdParams,
        response: { 204: Type.Null(), 404: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      await deployments.deleteWindow(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
