import Type, { type TSchema } from 'typebox';
import { SignedAssignment } from './assignment.js';
import { MAX_NEIGHBORS, Neighbor, RemediationEvent, RuleResult, SignedPolicyBundle, SignedQuarantineOrder } from './desired-state.js';
import { HostFacts, MAX_DELTA_ENTRIES, PACKAGES_PER_PART, PackageEntry, PackageKey, SafeText } from './inventory.js';
import { PendingUpdate, UPDATE_MANAGERS, UpdateManager } from './updates.js';

/**
 * Every message on the agent channel, defined once: the schema is the runtime check and the type
 * is derived from it. Bodies never carry the sender's identity: the server takes it from the
 * authenticated connection, and `additionalProperties: false` refuses a body that tries.
 */
const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
const B64url = (len: number) => Type.String({ pattern: `^[A-Za-z0-9_-]{${len}}$` });
const Nonce = B64url(43);
const Signature = B64url(86);
const Hash = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const strict = { additionalProperties: false } as const;

export const PROTOCOL_VERSION = 1;
/**
 * What an agent reports about an assignment: `received` once it is in the ledger, `running` when the
 * executor starts, then one final state. `busy` means the package manager's lock was held and the
 * agent will retry; `refused` means the document failed verification (a security event).
 */
export const ASSIGNMENT_REPORT_STATES = ['received', 'running', 'busy', 'succeeded', 'failed', 'refused', 'expired'] as const;
export type AssignmentReportState = (typeof ASSIGNMENT_REPORT_STATES)[number];
/**
 * Pending updates per `updates.report` frame: about 250 bytes each, so a frame stays well under the
 * 1 MiB limit. A host with more reports the first ones (security first) and says `truncated`.
 */
export const UPDATES_PER_REPORT = 3_000;
/** Where agents open their WebSocket and where they enrol (HTTP POST), relative to the server URL. */
export const AGENT_WS_PATH = '/api/v1/agent/ws';
export const AGENT_ENROLL_PATH = '/api/v1/agent/enroll';
/** Frames larger than this are refused by both ends (ws `maxPayload`). */
export const MAX_FRAME_BYTES = 1024 * 1024;

export const ServerMessages = {
  /** First frame on every connection: answer it within the auth timeout. */
  challenge: Type.Object({ nonce: Nonce, heartbeatIntervalMs: Type.Integer({ minimum: 1000 }) }, strict),
  'auth.ok': Type.Object(
    {
      hostId: Uuid,
      /** Server's signature over [agentNonce, hostId] (PURPOSE.authAck): the agent checks it against its pinned key. */
      signature: Signature,
      /** The hash of the inventory the server holds for this host, or null when it holds none. */
      inventoryHash: Type.Union([Hash, Type.Null()]),
    },
    strict,
  ),
  'inventory.ack': Type.Object(
    {
      hash: Hash,
      mode: Type.Union([Type.Literal('full'), Type.Literal('delta')]),
      added: Type.Integer({ minimum: 0 }),
      removed: Type.Integer({ minimum: 0 }),
      changed: Type.Integer({ minimum: 0 }),
    },
    strict,
  ),
  'updates.ack': Type.Object({ count: Type.Integer({ minimum: 0 }) }, strict),
  /** Signed work for this host. The agent verifies it against its pinned key before anything else. */
  'assignment.offer': Type.Object({ signed: SignedAssignment }, strict),
  /** The server asks for a fresh inventory (for example an operator pressed "rescan"). */
  'inventory.request': Type.Object({ full: Type.Boolean() }, strict),
  /** The host's whole desired state, signed; replaces the bundle the agent holds if it is newer. */
  'policy.bundle': Type.Object({ signed: SignedPolicyBundle }, strict),
  /** Isolate the host (all but the Brier server) or release it; signed, expiring. */
  'quarantine.order': Type.Object({ signed: SignedQuarantineOrder }, strict),
  error: Type.Object(
    {
      code: SafeText(64, 1),
      message: SafeText(1024),
      /** The `id` of the envelope that caused it, when there was one. */
      ref: Type.Optional(Id),
    },
    strict,
  ),
} as const;

export const AgentMessages = {
  auth: Type.Object(
    {
      hostId: Uuid,
      /** Agent's fresh nonce: the server signs it back to prove its identity. */
      nonce: Nonce,
      /** Signature over [serverNonce, hostId, serverFingerprint] (PURPOSE.authAnswer). */
      signature: Signature,
    },
    strict,
  ),
  /** A full snapshot, sent in `parts` frames that share a `snapshotId`; facts come with part 0. */
  'inventory.full': Type.Object(
    {
      snapshotId: Id,
      part: Type.Integer({ minimum: 0, maximum: 63 }),
      parts: Type.Integer({ minimum: 1, maximum: 64 }),
      hash: Hash,
      facts: Type.Optional(HostFacts),
      packages: Type.Array(PackageEntry, { maxItems: PACKAGES_PER_PART }),
    },
    strict,
  ),
  /** The host's complete list of pending updates (replaces the previous one for `sources`). */
  'updates.report': Type.Object(
    {
      updates: Type.Array(PendingUpdate, { maxItems: UPDATES_PER_REPORT }),
      sources: Type.Array(UpdateManager, { maxItems: UPDATE_MANAGERS.length, uniqueItems: true }),
      collectedAt: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$', maxLength: 40 }),
      truncated: Type.Boolean(),
    },
    strict,
  ),
  /**
   * Sent after every authentication: the highest assignment sequence the agent's ledger holds, so
   * the server can send what the host missed while it was away, in order.
   */
  'assignment.sync': Type.Object({ highestSequence: Type.Integer({ minimum: 0 }) }, strict),
  /** Progress of one assignment, from the agent's ledger. `installed` is read back after the change. */
  'assignment.status': Type.Object(
    {
      assignmentId: Uuid,
      state: Type.Union([
        Type.Literal('received'),
        Type.Literal('running'),
        Type.Literal('busy'),
        Type.Literal('succeeded'),
        Type.Literal('failed'),
        Type.Literal('refused'),
        Type.Literal('expired'),
      ]),
      /** A stable reason code: a refusal reason (bad_signature, expired, …) or an executor failure code. */
      code: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,63}$' })),
      detail: Type.Optional(SafeText(2048)),
      installed: Type.Optional(Type.Array(Type.Object({ name: SafeText(256, 1), version: SafeText(256, 1) }, strict), { maxItems: 500 })),
      rebootRequired: Type.Optional(Type.Boolean()),
      /** The last part of the package tool's output, for the deployment report. */
      output: Type.Optional(Type.String({ maxLength: 16_384 })),
      /**
       * What the agent did about the assignment's rebootPolicy. Sent in a second 'succeeded' status,
       * after the first one went out and the ledger recorded the end: `scheduled` (the host restarts at
       * `scheduledAt`, agent clock, `delaySeconds` after scheduling), `failed` (the restart command
       * failed: `code`, `detail`) or `disabled` (restarts are turned off on this agent).
       */
      reboot: Type.Optional(
        Type.Object(
          {
            state: Type.Union([Type.Literal('scheduled'), Type.Literal('failed'), Type.Literal('disabled')]),
            scheduledAt: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$' })),
            delaySeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
            code: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,63}$' })),
            detail: Type.Optional(SafeText(512)),
          },
          strict,
        ),
      ),
    },
    strict,
  ),
  'inventory.delta': Type.Object(
    {
      baseHash: Hash,
      hash: Hash,
      facts: Type.Optional(HostFacts),
      upsert: Type.Array(PackageEntry, { maxItems: MAX_DELTA_ENTRIES }),
      remove: Type.Array(PackageKey, { maxItems: MAX_DELTA_ENTRIES }),
    },
    strict,
  ),
  /**
   * Sent after every authentication: the bundle sequence the agent enforces (0: none), and whether
   * it holds the host isolated, so the server can resend what changed while it was away.
   */
  'desired-state.sync': Type.Object(
    { bundleSequence: Type.Integer({ minimum: 0 }), quarantineSequence: Type.Integer({ minimum: 0 }), isolated: Type.Boolean() },
    strict,
  ),
  /** The latest evaluation of every rule of the bundle `bundleSequence`. */
  'compliance.report': Type.Object(
    { bundleSequence: Type.Integer({ minimum: 1 }), results: Type.Array(RuleResult, { maxItems: 5_000 }) },
    strict,
  ),
  /** Remediations attempted since the last report, oldest first. */
  'remediation.events': Type.Object({ events: Type.Array(RemediationEvent, { minItems: 1, maxItems: 500 }) }, strict),
  /** What the agent did with a quarantine order (or why it refused it). */
  'quarantine.status': Type.Object(
    {
      sequence: Type.Integer({ minimum: 0 }),
      state: Type.Union([Type.Literal('isolated'), Type.Literal('released'), Type.Literal('failed'), Type.Literal('refused')]),
      code: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,63}$' })),
      detail: Type.Optional(SafeText(1000)),
    },
    strict,
  ),
  /** The host's neighbour tables (ARP, NDP): the server finds unmanaged devices in them. */
  'neighbors.report': Type.Object({ neighbors: Type.Array(Neighbor, { maxItems: MAX_NEIGHBORS }) }, strict),
} as const;

type Bodies<M extends Record<string, TSchema>> = { [K in keyof M]: Type.Static<M[K]> };
export type ServerMessageBodies = Bodies<typeof ServerMessages>;
export type AgentMessageBodies = Bodies<typeof AgentMessages>;
export type ServerMessageType = keyof ServerMessageBodies;
export type AgentMessageType = keyof AgentMessageBodies;

export const Envelope = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    // Any printable ASCII name is well-formed; whether it is known is the codec's type map's call, so
    // `__proto__` or `toString` is refused as `unknown_message_type`, not as a malformed envelope.
    type: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$' }),
    id: Id,
    body: Type.Object({}),
  },
  strict,
);
export type Envelope = Type.Static<typeof Envelope>;
