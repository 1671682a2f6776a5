import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import { authorize, principalOf } from './authorize.js';
import { authErrors, DateTime, IdParams, Limit, List, NullableDateTime, Offset, Page, Problem, Uuid } from './schemas.js';

/** Reasons travel in the signed order (SafeText there); here: no control characters at all. */
const Reason = Type.String({ minLength: 1, maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
const RequestState = Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected'), Type.Literal('cancelled')]);

const OrderAction = Type.Union([Type.Literal('isolate'), Type.Literal('release')]);
/** What the agent reported doing with the current order (pending until it says). */
const OrderState = Type.Union([
  Type.Literal('pending'),
  Type.Literal('isolated'),
  Type.Literal('released'),
  Type.Literal('failed'),
  Type.Literal('refused'),
]);

const Quarantine = Type.Object({
  hostId: Uuid,
  action: Type.Union([OrderAction, Type.Null()]),
  state: Type.Union([Type.Literal('none'), OrderState]),
  sequence: Type.Union([Type.Integer(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
  requestedBy: Type.Union([Type.String(), Type.Null()]),
  requestedAt: NullableDateTime,
  updatedAt: NullableDateTime,
  notAfter: NullableDateTime,
  allow: Type.Array(Type.String()),
  ports: Type.Array(Type.Integer()),
});

const QuarantinedHost = Type.Intersect([Quarantine, Type.Object({ hostname: Type.String(), online: Type.Boolean() })]);

const QuarantineRequest = Type.Object({
  id: Uuid,
  hostId: Uuid,
  hostname: Type.String(),
  policy: Type.Object({ id: Uuid, name: Type.Union([Type.String(), Type.Null()]) }),
  reason: Type.String(),
  state: RequestState,
  requestedAt: DateTime,
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: NullableDateTime,
});

/** A POST whose body is all optional may come without one: read that as `{}` (validation refuses `undefined`). */
async function noBodyIsEmpty(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

type RequestRow = Awaited<ReturnType<Services['quarantine']['requests']>>[number];

function requestView(r: RequestRow) {
  return {
    id: r.id,
    hostId: r.hostId,
    hostname: r.hostname,
    policy: { id: r.policyId, name: r.policyName },
    reason: r.reason,
    state: r.state,
    requestedAt: r.requestedAt,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt,
  };
}

export const quarantineRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth, quarantine } = services;
  const read = authorize(auth, 'policies:read');
  const manage = authorize(auth, 'quarantine:manage');
  const approve = authorize(auth, 'quarantine:approve');
  const userOf = (request: Parameters<typeof principalOf>[0]) => {
    const { user } = principalOf(request);
    return { id: user.id, username: user.username, role: user.role };
  };

  app.get(
    '/hosts/:id/quarantine',
    {
      onRequest: read,
      schema: {
        tags: ['quarantine'],
        summary: "A host's quarantine: the last order (isolate or release) and what the agent reported doing with it",
        params: IdParams,
        response: { 200: Quarantine, 404: Problem, ...authErrors },
      },
    },
    async (request) => quarantine.view(request.params.id),
  );

  app.post(
    '/hosts/:id/quarantine',
    {
      onRequest: manage,
      schema: {
        tags: ['quarantine'],
        summary:
          'Isolate a host: a signed order cuts its network to all but the Brier server (sent now if connected, else on reconnect; valid 24 h, re-signed while undelivered)',
        params: IdParams,
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: Quarantine, 404: Problem, 409: Problem, ...authErrors },
      },
    },
    async (request) => quarantine.isolate(userOf(request).username, request.params.id, request.body.reason),
  );

  app.post(
    '/hosts/:id/release',
    {
      onRequest: manage,
      schema: {
        tags: ['quarantine'],
        summary: 'Release a quarantined host with a signed release order',
        params: IdParams,
        body: Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
        response: { 200: Quarantine, 404: Problem, 409: Problem, ...authErrors },
      },
      preValidation: noBodyIsEmpty,
    },
    async (request) => quarantine.release(userOf(request).username, request.params.id, request.body.reason),
  );

  app.get(
    '/quarantine',
    {
      onRequest: read,
      schema: {
        tags: ['quarantine'],
        summary:
          'Hosts in quarantine, newest order first: every current order except releases the agent confirmed (isolate pending, isolated, release pending, failed, refused); state and/or action list exactly those orders instead (state=released&action=release: released hosts)',
        querystring: Type.Object(
          { state: Type.Optional(OrderState), action: Type.Optional(OrderAction), limit: Limit, offset: Offset },
          { additionalProperties: false },
        ),
        response: { 200: Page(QuarantinedHost), ...authErrors },
      },
    },
    async (request) => quarantine.list(request.query),
  );

  app.get(
    '/quarantine/requests',
    {
      onRequest: read,
      schema: {
        tags: ['quarantine'],
        summary: 'Quarantines policies asked for (antivirus unhealthy for longer than the policy allows), newest first',
        querystring: Type.Object({ state: Type.Optional(RequestState) }, { additionalProperties: false }),
        response: { 200: List(QuarantineRequest), ...authErrors },
      },
    },
    async (request) => ({ items: (await quarantine.requests(request.query.state)).map(requestView) }),
  );

  app.post(
    '/quarantine/requests/:id/approve',
    {
      onRequest: approve,
      schema: {
        tags: ['quarantine'],
        summary: 'Approve a pending quarantine request: the host is isolated as if an operator had asked',
        params: IdParams,
        response: {
          200: Type.Object({ request: QuarantineRequest, quarantine: Quarantine }),
          404: Problem,
          409: Problem,
          ...authErrors,
        },
      },
    },
    async (request) => {
      const result = await quarantine.approve(userOf(request), request.params.id);
      return { request: requestView(result.request), quarantine: result.quarantine };
    },
  );

  app.post(
    '/quarantine/requests/:id/reject',
    {
      onRequest: approve,
      schema: {
        tags: ['quarantine'],
        summary: 'Reject a pending quarantine request',
        params: IdParams,
        body: Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
        response: { 200: QuarantineRequest, 404: Problem, 409: Problem, ...authErrors },
      },
      preValidation: noBodyIsEmpty,
    },
    async (request) => requestView(await quarantine.reject(userOf(request), request.params.id, request.body.reason)),
  );
};
