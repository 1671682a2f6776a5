import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { MarkState } from '../discovery/discovery-repository.js';
import type { Services } from '../services.js';
import { authorize, principalOf } from './authorize.js';
import { authErrors, DateTime, Offset, Page, Problem, Uuid } from './schemas.js';

/** Six hex octets, `:` or `-` between them, either case; stored lower case with colons. */
const Mac = Type.String({ pattern: '^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$' });
const MarkStateSchema = Type.Union([Type.Literal('known'), Type.Literal('ignored')]);

const Mark = Type.Object({
  state: MarkStateSchema,
  note: Type.Union([Type.String(), Type.Null()]),
  markedBy: Type.String(),
  markedAt: DateTime,
});

const UnmanagedDevice = Type.Object({
  mac: Type.String(),
  ip: Type.String(),
  firstSeenAt: DateTime,
  lastSeenAt: DateTime,
  seenBy: Type.Array(Type.Object({ hostId: Uuid, hostname: Type.String() })),
  /** Only with ?include=…: the operator's mark of a listed device that has one. */
  mark: Type.Optional(Mark),
});

export const devicesRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth, discovery } = services;

  app.get(
    '/devices/unmanaged',
    {
      onRequest: authorize(auth, 'policies:read'),
      schema: {
        tags: ['devices'],
        summary:
          'MAC/IP pairs agents saw in their neighbour tables that belong to no enrolled host and are not marked: {items: [{mac, ip, firstSeenAt, lastSeenAt, seenBy: [{hostId, hostname}]}], total}, most recently seen first; include=known,ignored adds marked ones (with their mark)',
        querystring: Type.Object(
          {
            include: Type.Optional(Type.String({ pattern: '^(known|ignored)(,(known|ignored))?$' })),
            limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
            offset: Offset,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(UnmanagedDevice), ...authErrors },
      },
    },
    async (request) => {
      const include = (request.query.include?.split(',') ?? []) as MarkState[];
      const page = await discovery.unmanaged({ include, limit: request.query.limit, offset: request.query.offset });
      return {
        total: page.total,
        items: page.items.map(({ mark, ...d }) =>
          mark ? { ...d, mark: { state: mark.state, note: mark.note, markedBy: mark.markedBy, markedAt: mark.markedAt } } : d,
        ),
      };
    },
  );

  app.put(
    '/devices/:mac/mark',
    {
      onRequest: authorize(auth, 'devices:manage'),
      schema: {
        tags: ['devices'],
        summary:
          'Mark a device (by MAC) known (expected, e.g. a printer) or ignored, which takes it off the unmanaged list; null clears the mark',
        params: Type.Object({ mac: Mac }),
        body: Type.Object(
          {
            state: Type.Union([MarkStateSchema, Type.Null()]),
            note: Type.Optional(Type.String({ maxLength: 500, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            mac: Type.String(),
            state: Type.Union([MarkStateSchema, Type.Null()]),
            note: Type.Union([Type.String(), Type.Null()]),
            markedBy: Type.Union([Type.String(), Type.Null()]),
            markedAt: Type.Union([DateTime, Type.Null()]),
          }),
          404: Problem,
          ...authErrors,
        },
      },
    },
    async (request) => {
      const mac = request.params.mac.toLowerCase().replaceAll('-', ':');
      const stored = await discovery.mark(principalOf(request).user.username, mac, request.body.state, request.body.note);
      return stored ?? { mac, state: null, note: null, markedBy: null, markedAt: null };
    },
  );
};
