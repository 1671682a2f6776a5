import { type TSchema, Type } from '@fastify/type-provider-typebox';

/**
 * Response schemas are allow-lists: fastify serialises only what they name, so an internal field
 * (a public key, a password hash) cannot leak by being added to a domain object.
 */
export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.Optional(Type.String()),
  code: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });
/** Handlers return Date objects; fastify's serializer writes them as ISO 8601 strings. */
export const DateTime = Type.Unsafe<Date>({ type: 'string', format: 'date-time' });
export const NullableDateTime = Type.Union([DateTime, Type.Null()]);
export const Role = Type.Union([Type.Literal('admin'), Type.Literal('approver'), Type.Literal('operator'), Type.Literal('viewer')]);

export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 50 });
export const Offset = Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 });
/** Search text: bounded, no NUL (PostgreSQL rejects it) and no other control characters. */
export const SearchText = Type.String({ maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });

export const User = Type.Object({ id: Uuid, username: Type.String(), role: Role, disabled: Type.Boolean(), createdAt: DateTime });

export const HostOs = Type.Object({
  platform: Type.String(),
  distro: Type.String(),
  release: Type.String(),
  codename: Type.Union([Type.String(), Type.Null()]),
  kernel: Type.Union([Type.String(), Type.Null()]),
  arch: Type.Union([Type.String(), Type.Null()]),
});

export const HostStatus = Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('revoked')]);

export const Host = Type.Object({
  id: Uuid,
  hostname: Type.String(),
  status: HostStatus,
  online: Type.Boolean(),
  lastSeenAt: NullableDateTime,
  enrolledAt: DateTime,
  approvedAt: NullableDateTime,
  revokedAt: NullableDateTime,
  os: HostOs,
  packageCount: Type.Integer(),
  inventoryAt: NullableDateTime,
  site: Type.Union([Type.String(), Type.Null()]),
  groups: Type.Array(Type.String()),
  /** The effective risk tier: the host's own, else its groups' highest, else 3. */
  tier: Type.Integer({ minimum: 1, maximum: 5 }),
  /** Open vulnerability findings. */
  openFindings: Type.Integer({ minimum: 0 }),
});

const Facts = Type.Object({
  hardware: Type.Object({
    vendor: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
    serial: Type.Optional(Type.String()),
    cpu: Type.Optional(Type.String()),
    cores: Type.Optional(Type.Integer()),
    memoryBytes: Type.Optional(Type.Integer()),
  }),
  network: Type.Array(
    Type.Object({
      name: Type.String(),
      mac: Type.Optional(Type.String()),
      ipv4: Type.Array(Type.String()),
      ipv6: Type.Array(Type.String()),
    }),
  ),
  agentVersion: Type.String(),
});

export const HostDetail = Type.Intersect([
  Host,
  Type.Object({
    facts: Type.Union([Facts, Type.Null()]),
    inventoryHash: Type.Union([Type.String(), Type.Null()]),
    /** The host's own risk tier beside the effective `tier`; null when it inherits (groups, else the default). */
    riskTier: Type.Union([Type.Integer({ minimum: 1, maximum: 5 }), Type.Null()]),
  }),
]);

export const Software = Type.Object({
  name: Type.String(),
  version: Type.String(),
  arch: Type.String(),
  ecosystem: Type.String(),
  source: Type.Optional(Type.String()),
  sourceVersion: Type.Optional(Type.String()),
});

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer() });
}

export function List<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item) });
}

/** The error responses every authenticated route can give. */
export const authErrors = { 400: Problem, 401: Problem, 403: Problem, 429: Problem } as const;
