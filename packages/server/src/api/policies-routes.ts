import { PolicyRule } from '@brier/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { MAX_QUARANTINE_AFTER_MINUTES } from '../policies/policies-service.js';
import type { Services } from '../services.js';
import { authorize, principalOf } from './authorize.js';
import { authErrors, DateTime, IdParams, Limit, List, Offset, Page, Problem, Uuid } from './schemas.js';

/** Names shown to operators and sent to agents: no control characters. */
const PolicyName = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
const GroupName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
const Mode = Type.Union([Type.Literal('audit'), Type.Literal('enforce')]);
const Kind = Type.Union([
  Type.Literal('package-installed'),
  Type.Literal('package-absent'),
  Type.Literal('service-running'),
  Type.Literal('antivirus'),
  Type.Literal('firewall-enabled'),
  Type.Literal('file-present'),
]);
const Status = Type.Union([Type.Literal('compliant'), Type.Literal('noncompliant'), Type.Literal('remediated'), Type.Literal('error')]);

/**
 * A policy as operators write it. Rules use the agent's own wire schema (PolicyRule), so a package
 * or service name that could become an option or shell syntax is refused here, with 400, before
 * anything is stored.
 */
const PolicyBody = Type.Object(
  {
    name: PolicyName,
    mode: Mode,
    rules: Type.Array(PolicyRule, { minItems: 1, maxItems: 100 }),
    targets: Type.Object(
      {
        hostIds: Type.Optional(Type.Array(Uuid, { maxItems: 10_000, uniqueItems: true })),
        groups: Type.Optional(Type.Array(GroupName, { maxItems: 1_000, uniqueItems: true })),
      },
      { additionalProperties: false },
    ),
    intervalMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
    quarantineAfterMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_QUARANTINE_AFTER_MINUTES })),
  },
  { additionalProperties: false },
);

const Counts = Type.Object({
  compliant: Type.Integer(),
  noncompliant: Type.Integer(),
  remediated: Type.Integer(),
  error: Type.Integer(),
  unknown: Type.Integer(),
});
const HostCounts = Type.Intersect([Counts, Type.Object({ total: Type.Integer() })]);

const Policy = Type.Object({
  id: Uuid,
  name: Type.String(),
  mode: Mode,
  rules: Type.Array(PolicyRule),
  targets: Type.Object({ hostIds: Type.Array(Type.String()), groups: Type.Array(Type.String()) }),
  intervalMinutes: Type.Integer(),
  quarantineAfterMinutes: Type.Union([Type.Integer(), Type.Null()]),
  version: Type.Integer(),
  createdBy: Type.String(),
  createdAt: DateTime,
  updatedAt: DateTime,
});

const PolicyDetail = Type.Intersect([
  Policy,
  Type.Object({
    compliance: Type.Object({
      hosts: HostCounts,
      rules: Type.Array(Type.Intersect([Counts, Type.Object({ index: Type.Integer(), kind: Kind })])),
    }),
  }),
]);

const HostCompliance = Type.Object({
  policy: Type.Object({ id: Uuid, name: Type.String(), version: Type.Integer() }),
  rule: Type.Object({ index: Type.Integer(), kind: Kind }),
  status: Status,
  detail: Type.String(),
  checkedAt: DateTime,
  sinceAt: DateTime,
});

const FleetCompliance = Type.Object({
  policy: Type.Object({ id: Uuid, name: Type.String(), version: Type.Integer(), mode: Mode }),
  hosts: HostCounts,
});

const Remediation = Type.Object({
  id: Type.Integer(),
  policyId: Uuid,
  policyVersion: Type.Integer(),
  rule: Type.Integer(),
  action: Type.String(),
  ok: Type.Boolean(),
  before: Type.String(),
  after: Type.String(),
  at: Type.String(),
  receivedAt: DateTime,
});

export const policiesRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth, policies } = services;
  const read = authorize(auth, 'policies:read');
  const manage = authorize(auth, 'policies:manage');
  const actorOf = (request: Parameters<typeof principalOf>[0]) => {
    const { user } = principalOf(request);
    return { id: user.id, username: user.username, role: user.role };
  };

  app.get(
    '/policies',
    {
      onRequest: read,
      schema: { tags: ['policies'], summary: 'Every policy, by name', response: { 200: List(Policy), ...authErrors } },
    },
    async () => ({ items: await policies.list() }),
  );

  app.post(
    '/policies',
    {
      onRequest: manage,
      schema: {
        tags: ['policies'],
        summary:
          'Create a policy: rules in audit (report only) or enforce (remediate) mode for hosts and groups; the targeted hosts get a new signed bundle',
        body: PolicyBody,
        response: { 201: PolicyDetail, 409: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      const created = await policies.create(actorOf(request), request.body);
      return reply.code(201).send(await policies.get(created.id));
    },
  );

  app.get(
    '/policies/:id',
    {
      onRequest: read,
      schema: {
        tags: ['policies'],
        summary:
          'One policy with its compliance: per host (noncompliant if any rule is, else error, else unknown, else remediated, else compliant) and per rule',
        params: IdParams,
        response: { 200: PolicyDetail, 404: Problem, ...authErrors },
      },
    },
    async (request) => policies.get(request.params.id),
  );

  app.put(
    '/policies/:id',
    {
      onRequest: manage,
      schema: {
        tags: ['policies'],
        summary: 'Replace a policy (its version goes up by one); the hosts it targeted and targets now get new bundles',
        params: IdParams,
        body: PolicyBody,
        response: { 200: PolicyDetail, 404: Problem, 409: Problem, ...authErrors },
      },
    },
    async (request) => {
      await policies.replace(actorOf(request), request.params.id, request.body);
      return policies.get(request.params.id);
    },
  );

  app.delete(
    '/policies/:id',
    {
      onRequest: manage,
      schema: {
        tags: ['policies'],
        summary: 'Delete a policy; the hosts it targeted get bundles without it',
        params: IdParams,
        response: { 204: Type.Null(), 404: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      await policies.remove(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/compliance',
    {
      onRequest: read,
      schema: {
        tags: ['policies'],
        summary: 'Fleet compliance: per policy, how many approved targeted hosts are compliant, noncompliant, remediated, error or unknown',
        response: { 200: List(FleetCompliance), ...authErrors },
      },
    },
    async () => ({ items: await policies.fleetCompliance() }),
  );

  app.get(
    '/hosts/:id/compliance',
    {
      onRequest: read,
      schema: {
        tags: ['policies'],
        summary:
          'The latest result of every rule on a host: {items: [{policy: {id, name, version}, rule: {index, kind}, status, detail, checkedAt, sinceAt}]}; version is the policy version evaluated, sinceAt when the status last changed',
        params: IdParams,
        response: { 200: List(HostCompliance), 404: Problem, ...authErrors },
      },
    },
    async (request) => {
      await services.hosts.get(request.params.id);
      return { items: await policies.hostCompliance(request.params.id) };
    },
  );

  app.get(
    '/hosts/:id/remediations',
    {
      onRequest: read,
      schema: {
        tags: ['policies'],
        summary: 'Remediations the agent attempted on a host, with the state before and after, newest first',
        params: IdParams,
        querystring: Type.Object({ limit: Limit, offset: Offset }, { additionalProperties: false }),
        response: { 200: Page(Remediation), 404: Problem, ...authErrors },
      },
    },
    async (request) => {
      await services.hosts.get(request.params.id);
      return policies.remediations(request.params.id, request.query.limit, request.query.offset);
    },
  );
};
