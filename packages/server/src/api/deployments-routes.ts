import { type FastifyPluginAsyncTypebox, type TSchema, Type } from '@fastify/type-provider-typebox';
import { DEPLOYMENT_STATES, type DeploymentState } from '../rollouts/types.js';
import type { Services } from '../services.js';
import { authorize, principalOf } from './authorize.js';
import { type DeploymentWatch, openDeploymentWatch } from './deployment-feed.js';
import { authErrors, DateTime, IdParams, Limit, NullableDateTime, Offset, Page, Problem, Uuid } from './schemas.js';

const PackageName = Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' });
const Reason = Type.String({ minLength: 1, maxLength: 1000, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    packages: Type.Array(
      Type.Object(
        { name: PackageName, version: Type.Optional(PackageName), minVersion: Type.Optional(PackageName) },
        { additionalProperties: false },
      ),
      {
        minItems: 1,
        maxItems: 500,
      },
    ),
    targets: Type.Object(
      {
        hostIds: Type.Optional(Type.Array(Uuid, { maxItems: 100_000 })),
        groups: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }), { maxItems: 100 }),
        ),
      },
      { additionalProperties: false },
    ),
    waves: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            percent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
            group: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            bakeMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 43_200 })),
            successThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 20 },
      ),
    ),
    critical: Type.Optional(Type.Boolean()),
    emergency: Type.Optional(Type.Boolean()),
    ecosystem: Type.Optional(
      Type.Union([Type.Literal('dpkg'), Type.Literal('rpm'), Type.Literal('apk'), Type.Literal('windows'), Type.Literal('macos')]),
    ),
    rebootPolicy: Type.Optional(Type.Union([Type.Literal('never'), Type.Literal('if-required'), Type.Literal('always')])),
    deadlineHours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 90 })),
    /** RFC 3339 instant with an offset; the deployment does not start before it. */
    startAt: Type.Optional(Type.String({ format: 'date-time', maxLength: 64 })),
    previewId: Type.Optional(
      Type.String({
        format: 'uuid',
        description:
          'The previewId POST /deployments/preview returned: the deployment takes it as its id, so its waves are the ones previewed',
      }),
    ),
  },
  { additionalProperties: false },
);

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Preview = Type.Object({
  previewId: Uuid,
  approval: Type.Object({ required: Type.Boolean(), why: Type.Array(Type.String()) }),
  waves: Type.Array(
    Type.Object({
      index: Type.Integer(),
      name: Type.String(),
      hosts: Type.Array(
        Type.Object({
          hostId: Uuid,
          hostname: Type.String(),
          packages: Type.Array(Type.Object({ name: Type.String(), from: Nullable(Type.String()), to: Nullable(Type.String()) })),
          skipped: Type.Optional(Type.String()),
        }),
      ),
    }),
  ),
  totals: Type.Object({ targeted: Type.Integer(), hosts: Type.Integer(), skipped: Type.Integer(), packages: Type.Integer() }),
  warnings: Type.Array(Type.String()),
});

/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

const Counts = Type.Record(Type.String(), Type.Integer());

const Person = Type.Object({ id: Uuid, username: Type.String() });

const DeploymentSummary = Type.Object({
  id: Uuid,
  name: Type.String(),
  state: Type.String(),
  stateReason: Type.String(),
  critical: Type.Boolean(),
  emergency: Type.Boolean(),
  createdBy: Person,
  approvedBy: Type.Union([Person, Type.Null()]),
  createdAt: DateTime,
  startAt: NullableDateTime,
  startedAt: NullableDateTime,
  finishedAt: NullableDateTime,
});

const DeploymentPackage = Type.Object({
  name: Type.String(),
  /** A pinned version; null: the candidate the host's package manager offers. */
  version: Type.Union([Type.String(), Type.Null()]),
  /** With version null: the least version that counts as done (a vulnerability's fixed version). */
  minVersion: Type.Optional(Type.String()),
});

const DeploymentListItem = Type.Intersect([
  DeploymentSummary,
  Type.Object({ packages: Type.Array(DeploymentPackage), hostCount: Type.Integer() }),
]);

const DeploymentDetail = Type.Intersect([
  DeploymentSummary,
  Type.Object({
    deadlineAt: NullableDateTime,
    ecosystem: Type.String(),
    rebootPolicy: Type.String(),
    postmortem: Type.Union([Type.String(), Type.Null()]),
    packages: Type.Array(DeploymentPackage),
    waves: Type.Array(
      Type.Object({
        index: Type.Integer(),
        name: Type.String(),
        state: Type.String(),
        hostCount: Type.Integer(),
        counts: Counts,
        startedAt: NullableDateTime,
        passedAt: NullableDateTime,
        haltedReason: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
    hosts: Type.Array(
      Type.Object({
        hostId: Uuid,
        hostname: Type.String(),
        wave: Type.Integer(),
        state: Type.String(),
        reason: Type.Union([Type.String(), Type.Null()]),
        code: Type.Union([Type.String(), Type.Null()]),
        installed: Type.Union([Type.Array(Type.Object({ name: Type.String(), version: Type.String() })), Type.Null()]),
        rebootRequired: Type.Union([Type.Boolean(), Type.Null()]),
        verified: Type.Boolean(),
        updatedAt: NullableDateTime,
      }),
    ),
    summary: Type.Object({
      total: Type.Integer(),
      succeeded: Type.Integer(),
      failed: Type.Integer(),
      expired: Type.Integer(),
      unreached: Type.Integer(),
      inProgress: Type.Integer(),
      rebootPending: Type.Integer(),
      verified: Type.Integer(),
    }),
    timeline: Type.Object({
      entries: Type.Array(
        Type.Object({
          at: DateTime,
          actor: Type.Union([Type.String(), Type.Null()]),
          kind: Type.String(),
          title: Type.String(),
          reason: Type.String(),
          state: Type.Union([Type.String(), Type.Null()]),
        }),
      ),
      timeInStateMs: Type.Record(Type.String(), Type.Number()),
    }),
  }),
]);

export const deploymentsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth, deployments } = services;
  const read = authorize(auth, 'deployments:read');
  const manage = authorize(auth, 'deployments:manage');
  const approve = authorize(auth, 'deployments:approve');

  const actorOf = (request: Parameters<typeof principalOf>[0]) => {
    const { user } = principalOf(request);
    return { id: user.id, username: user.username, role: user.role };
  };

  app.post(
    '/deployments',
    {
      onRequest: manage,
      schema: {
        tags: ['deployments'],
        summary: 'Draft and submit a deployment; small non-critical ones are approved at once, others wait for a second person',
        body: CreateBody,
        response: { 201: DeploymentDetail, 409: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      const { startAt, ...rest } = request.body;
      return reply
        .code(201)
        .send(await deployments.create(actorOf(request), { ...rest, ...(startAt === undefined ? {} : { startAt: new Date(startAt) }) }));
    },
  );

  app.post(
    '/deployments/preview',
    {
      onRequest: manage,
      schema: {
        tags: ['deployments'],
        summary:
          'What POST /deployments with this body would do, creating nothing: per wave, which hosts get which versions (from installed to the pinned or candidate version), hosts with nothing to install with the reason, and warnings',
        body: CreateBody,
        response: { 200: Preview, 409: Problem, ...authErrors },
      },
    },
    async (request) => {
      const { startAt, ...rest } = request.body;
      return deployments.preview(actorOf(request), { ...rest, ...(startAt === undefined ? {} : { startAt: new Date(startAt) }) });
    },
  );

  app.get(
    '/deployments',
    {
      onRequest: read,
      schema: {
        tags: ['deployments'],
        summary: 'Deployments, newest first, each with its packages and number of targeted hosts',
        querystring: Type.Object(
          { state: Type.Optional(Type.Union(DEPLOYMENT_STATES.map((st) => Type.Literal(st)))), limit: Limit, offset: Offset },
          { additionalProperties: false },
        ),
        response: { 200: Page(DeploymentListItem), ...authErrors },
      },
    },
    async (request) => deployments.list({ ...request.query, state: request.query.state as DeploymentState | undefined }),
  );

  app.get(
    '/deployments/:id',
    {
      onRequest: read,
      schema: {
        tags: ['deployments'],
        summary: 'A deployment with per-wave counts and per-host states',
        params: IdParams,
        response: { 200: DeploymentDetail, 404: Problem, ...authErrors },
      },
    },
    async (request) => deployments.get(request.params.id),
  );

  app.get(
    '/deployments/:id/events',
    {
      onRequest: read,
      schema: {
        tags: ['deployments'],
        summary:
          'Live progress as server-sent events: `progress` now and after each change (at most one per 250 ms), until the deployment is completed or aborted',
        params: IdParams,
        response: { 200: Type.String({ description: 'text/event-stream' }), 404: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      // Opened (subscribed, first read) before the stream: an unknown id is a 404 problem as usual.
      const watch: DeploymentWatch = await openDeploymentWatch(deployments, request.params.id);

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let closed = false;
      const keepAlive = setInterval(() => {
        if (!closed) raw.write(': keep-alive\n\n');
      }, KEEP_ALIVE_MS);
      keepAlive.unref();

      const close = () => {
        if (closed) return;
        closed = true;
        watch.stop();
        clearInterval(keepAlive);
        if (!raw.writableEnded) raw.end();
      };
      raw.on('close', close);
      request.raw.on('close', () => {
        if (!raw.writableEnded) close();
      });

      watch.start({
        progress: (data) => {
          if (!closed) raw.write(`event: progress\ndata: ${data}\n\n`);
        },
        end: (why, err) => {
          if (why === 'error')
            request.log.warn({ err, deploymentId: request.params.id }, 'deployment events: reading the deployment failed');
          close();
        },
      });
    },
  );

  app.post(
    '/deployments/:id/approve',
    {
      onRequest: approve,
      schema: {
        tags: ['deployments'],
        summary: 'Approve (never your own)',
        params: IdParams,
        response: { 200: DeploymentDetail, 404: Problem, 409: Problem, ...authErrors },
      },
    },
    async (request) => deployments.approve(actorOf(request), request.params.id),
  );

  for (const action of ['pause', 'resume', 'retryFailed'] as const) {
    app.post(
      `/deployments/:id/${action === 'retryFailed' ? 'retry-failed' : action}`,
      {
        onRequest: manage,
        schema: {
          tags: ['deployments'],
          summary: `${action} a deployment`,
          params: IdParams,
          response: { 200: DeploymentDetail, 404: Problem, 409: Problem, ...authErrors },
        },
      },
      async (request) => deployments[action](actorOf(request), request.params.id),
    );
  }

  app.post(
    '/deployments/:id/abort',
    {
      onRequest: manage,
      schema: {
        tags: ['deployments'],
        summary: 'Abort: no further work is offered; work already running on hosts finishes',
        params: IdParams,
        body: Type.Optional(Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false })),
        response: { 200: DeploymentDetail, 404: Problem, 409: Problem, ...authErrors },
      },
    },
    async (request) => deployments.abort(actorOf(request), request.params.id, request.body?.reason ?? 'aborted by an operator'),
  );

  app.put(
    '/deployments/:id/postmortem',
    {
      onRequest: manage,
      schema: {
        tags: ['deployments'],
        summary: 'Record the post-mortem note of a deployment',
        params: IdParams,
        body: Type.Object({ text: Type.String({ maxLength: 20_000 }) }, { additionalProperties: false }),
        response: { 200: DeploymentDetail, 404: Problem, ...authErrors },
      },
    },
    async (request) => deployments.setPostmortem(actorOf(request), request.params.id, request.body.text),
  );

  app.put(
    '/hosts/:id/groups',
    {
      onRequest: authorize(auth, 'groups:manage'),
      schema: {
        tags: ['hosts'],
        summary: "Set a host's groups (deployment targets and pilot waves select hosts by group)",
        params: IdParams,
        body: Type.Object(
          {
            groups: Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }), {
              maxItems: 100,
              uniqueItems: true,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ groups: Type.Array(Type.String()) }), 404: Problem, ...authErrors },
      },
    },
    async (request) => {
      await services.hosts.get(request.params.id);
      await deployments.setHostGroups(request.params.id, request.body.groups);
      await services.audit.record({
        actor: principalOf(request).user.username,
        action: 'host.groups',
        target: request.params.id,
        detail: { groups: request.body.groups },
        at: services.now(),
      });
      return { groups: [...request.body.groups].sort() };
    },
  );
};
