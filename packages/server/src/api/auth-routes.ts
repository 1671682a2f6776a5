import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { PERMISSIONS, type Permission, permissionsOf } from '../auth/roles.js';
import { ROLES } from '../auth/types.js';
import type { Services } from '../services.js';
import { authorize, checkSameOrigin, principalOf, SESSION_COOKIE } from './authorize.js';
import { authErrors, DateTime, IdParams, List, Problem, Role, User, Uuid } from './schemas.js';

const PermissionName = Type.Unsafe<Permission>({ type: 'string', enum: Object.keys(PERMISSIONS) });

export const authRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth, audit, config, now } = services;

  app.post(
    '/auth/login',
    {
      config: { rateLimit: { max: config.loginAttemptsPerMinute, timeWindow: 60_000 } },
      // No cookie yet to protect, but a login from another site's page would plant a session of the
      // attacker's account in the operator's browser: a browser's Origin must be ours. The CLI sends none.
      onRequest: async (request) => checkSameOrigin(request, { referer: false, required: false }),
      schema: {
        tags: ['auth'],
        summary: 'Log in; returns a session token (also set as an HttpOnly cookie for the console)',
        body: Type.Object(
          { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ token: Type.String(), expiresAt: DateTime, user: User }),
          400: Problem,
          401: Problem,
          403: Problem,
          429: Problem,
        },
      },
    },
    async (request, reply) => {
      const result = await auth.login(request.body.username, request.body.password);
      await audit.record({
        actor: result.user.username,
        action: 'auth.login',
        target: result.user.id,
        detail: { ip: request.ip },
        at: now(),
      });
      reply.setCookie(SESSION_COOKIE, result.token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        path: '/',
        expires: result.expiresAt,
      });
      return result;
    },
  );

  app.post(
    '/auth/logout',
    {
      onRequest: authorize(auth, null),
      schema: { tags: ['auth'], summary: 'Revoke the token used for this request', response: { 204: Type.Null(), ...authErrors } },
    },
    async (request, reply) => {
      await auth.logout(principalOf(request));
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      onRequest: authorize(auth, null),
      schema: {
        tags: ['auth'],
        summary: 'Who the token belongs to, with every permission their role holds',
        response: {
          200: Type.Intersect([User, Type.Object({ permissions: Type.Array(PermissionName) })]),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { user } = principalOf(request);
      return { ...user, permissions: permissionsOf(user.role) };
    },
  );

  const ApiToken = Type.Object({
    id: Uuid,
    name: Type.String(),
    createdAt: DateTime,
    expiresAt: DateTime,
    lastUsedAt: Type.Union([DateTime, Type.Null()]),
  });

  app.post(
    '/api-tokens',
    {
      onRequest: authorize(auth, null),
      schema: {
        tags: ['auth'],
        summary: 'Create a long-lived API token for the calling user (shown once)',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
            expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ id: Uuid, token: Type.String(), name: Type.String(), expiresAt: DateTime }), ...authErrors },
      },
    },
    async (request, reply) => {
      const { user } = principalOf(request);
      const { token, record } = await auth.createApiToken(user.id, request.body.name, request.body.expiresInDays ?? 90);
      await audit.record({
        actor: user.username,
        action: 'api-token.create',
        target: record.id,
        detail: { name: request.body.name },
        at: now(),
      });
      return reply.code(201).send({ id: record.id, token, name: request.body.name, expiresAt: record.expiresAt });
    },
  );

  app.get(
    '/api-tokens',
    {
      onRequest: authorize(auth, null),
      schema: { tags: ['auth'], summary: "The calling user's live API tokens", response: { 200: List(ApiToken), ...authErrors } },
    },
    async (request) => {
      const tokens = await auth.listApiTokens(principalOf(request).user.id);
      return { items: tokens.map((t) => ({ ...t, name: t.name ?? '' })) };
    },
  );

  app.delete(
    '/api-tokens/:id',
    {
      onRequest: authorize(auth, null),
      schema: {
        tags: ['auth'],
        summary: 'Revoke one of your API tokens',
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null(), 404: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      const { user } = principalOf(request);
      await auth.revokeApiToken(user.id, request.params.id);
      await audit.record({ actor: user.username, action: 'api-token.revoke', target: request.params.id, at: now() });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/users',
    {
      onRequest: authorize(auth, 'users:manage'),
      schema: { tags: ['users'], summary: 'List operators', response: { 200: List(User), ...authErrors } },
    },
    async () => ({ items: await auth.listUsers() }),
  );

  app.patch(
    '/users/:id',
    {
      onRequest: authorize(auth, 'users:manage'),
      schema: {
        tags: ['users'],
        summary:
          "Change a user's role, disabled flag or password. Refused (409): disabling yourself, demoting or disabling the last enabled admin. Disabling revokes the user's sessions and API tokens; a new password revokes their sessions (but the caller's own)",
        params: IdParams,
        body: Type.Object(
          {
            role: Type.Optional(Role),
            disabled: Type.Optional(Type.Boolean()),
            password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: User, 404: Problem, 409: Problem, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { user, before, revokedTokens } = await auth.updateUser(principal, request.params.id, request.body);
      const changes: Record<string, unknown> = {};
      if (before.role !== user.role) changes.role = { from: before.role, to: user.role };
      if (before.disabled !== user.disabled) changes.disabled = { from: before.disabled, to: user.disabled };
      if (request.body.password !== undefined) changes.password = 'changed';
      await audit.record({
        actor: principal.user.username,
        action: 'user.update',
        target: user.id,
        detail: { username: user.username, ...changes, revokedTokens },
        at: now(),
      });
      return user;
    },
  );

  app.get(
    '/roles',
    {
      onRequest: authorize(auth, null),
      schema: {
        tags: ['users'],
        summary: 'Every role with the permissions it holds (the server’s own table, in catalogue order)',
        response: { 200: List(Type.Object({ role: Role, permissions: Type.Array(PermissionName) })), ...authErrors },
      },
    },
    async () => ({ items: ROLES.map((role) => ({ role, permissions: permissionsOf(role) })) }),
  );

  app.post(
    '/users',
    {
      onRequest: authorize(auth, 'users:manage'),
      schema: {
        tags: ['users'],
        summary: 'Create an operator account',
        body: Type.Object(
          { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }), role: Role },
          { additionalProperties: false },
        ),
        response: { 201: User, 409: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      const created = await auth.createUser(request.body);
      await audit.record({
        actor: principalOf(request).user.username,
        action: 'user.create',
        target: created.id,
        detail: { username: created.username, role: created.role },
        at: now(),
      });
      return reply.code(201).send(created);
    },
  );
};
