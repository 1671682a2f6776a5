import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Services } from '../services.js';
import { authorize, principalOf } from './authorize.js';
import { authErrors, DateTime, List, NullableDateTime, Problem, Uuid } from './schemas.js';

const B64url = (n: number) => Type.String({ pattern: `^[A-Za-z0-9_-]{${n}}$` });

export const enrollmentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth, enrollment, audit, config, now } = services;

  const TokenInfo = Type.Object({
    id: Uuid,
    createdAt: DateTime,
    expiresAt: DateTime,
    maxUses: Type.Union([Type.Integer(), Type.Null()]),
    uses: Type.Integer(),
    autoApprove: Type.Boolean(),
    revokedAt: NullableDateTime,
    createdBy: Type.Union([Uuid, Type.Null()]),
  });

  app.post(
    '/enrollment-tokens',
    {
      onRequest: authorize(auth, 'enrollment:manage'),
      schema: {
        tags: ['enrollment'],
        summary: 'Create a join token; it carries this server’s key fingerprint so agents pin it',
        body: Type.Object(
          {
            autoApprove: Type.Optional(Type.Boolean()),
            expiresInHours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 365 })),
            maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            id: Uuid,
            token: Type.String(),
            expiresAt: DateTime,
            maxUses: Type.Union([Type.Integer(), Type.Null()]),
            autoApprove: Type.Boolean(),
          }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { user } = principalOf(request);
      const { token, record } = await enrollment.createToken({ createdBy: user.id, ...request.body });
      await audit.record({
        actor: user.username,
        action: 'enrollment-token.create',
        target: record.id,
        detail: { autoApprove: record.autoApprove, maxUses: record.maxUses, expiresAt: record.expiresAt.toISOString() },
        at: now(),
      });
      return reply
        .code(201)
        .send({ id: record.id, token, expiresAt: record.expiresAt, maxUses: record.maxUses, autoApprove: record.autoApprove });
    },
  );

  app.get(
    '/enrollment-tokens',
    {
      onRequest: authorize(auth, 'enrollment:manage'),
      schema: {
        tags: ['enrollment'],
        summary: 'List join tokens (secrets are never shown again)',
        response: { 200: List(TokenInfo), ...authErrors },
      },
    },
    async () => ({ items: await enrollment.listTokens() }),
  );

  app.delete(
    '/enrollment-tokens/:id',
    {
      onRequest: authorize(auth, 'enrollment:manage'),
      schema: {
        tags: ['enrollment'],
        summary: 'Revoke a join token',
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null(), 404: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      await enrollment.revokeToken(request.params.id);
      await audit.record({
        actor: principalOf(request).user.username,
        action: 'enrollment-token.revoke',
        target: request.params.id,
        at: now(),
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/agent/enroll',
    {
      config: { rateLimit: { max: config.enrollmentsPerMinute, timeWindow: 60_000 } },
      bodyLimit: 16 * 1024,
      schema: {
        tags: ['agent'],
        summary: 'Enrol an agent with a join token (called by brier-agent enroll)',
        body: Type.Object(
          {
            token: Type.String({ maxLength: 200 }),
            publicKey: B64url(43),
            hostname: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
            nonce: B64url(43),
            signature: B64url(86),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ hostId: Uuid, status: Type.String(), serverPublicKey: Type.String(), serverSignature: Type.String() }),
          400: Problem,
          401: Problem,
          409: Problem,
          429: Problem,
        },
      },
    },
    async (request, reply) => {
      const result = await enrollment.enroll(request.body);
      await audit.record({
        actor: `agent:${result.host.id}`,
        action: 'host.enroll',
        target: result.host.id,
        detail: { hostname: result.host.hostname, status: result.host.status, ip: request.ip },
        at: now(),
      });
      return reply.code(201).send({
        hostId: result.host.id,
        status: result.host.status,
        serverPublicKey: result.serverPublicKey,
        serverSignature: result.serverSignature,
      });
    },
  );
};
