import type { KeyObject } from 'node:crypto';
import Type from 'typebox';
import { canonicalJson } from './canonical-json.js';
import { compileSchema } from './compile-schema.js';
import { BrierError } from './errors.js';
import { Ecosystem } from './inventory.js';
import { fingerprint, importPublicKey, PURPOSE, publicKeyOf, randomToken, sha256Hex, signFields, verifyFields } from './signing.js';

/**
 * Signed work. The server signs each host's assignment with a work-signing key; the work-signing
 * key is certified by the server identity key that agents pinned at enrolment. The two are separate
 * so the work key can be rotated (or live on different hardware) without re-enrolling a single agent,
 * and neither sits in the database: someone who can write the database cannot make an agent run anything.
 *
 * Chain an agent checks, in order (`verifySignedAssignment`):
 *   pinned identity key --signs--> WorkKeyCertificate {keyId, publicKey, validity}
 *   certificate.publicKey --signs--> canonicalJson(Assignment)   (PURPOSE.assignment)
 *   Assignment.payloadHash == sha256(canonicalJson(payload))
 *
 * The certificate is deliberately outside the signed document (only its keyId is inside), so the
 * server may attach a fresher certificate for the same key when it delivers old work to a laptop that
 * was away while the original certificate lapsed.
 */

const strict = { additionalProperties: false } as const;
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const B64url43 = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
const Signature = Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' });
const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
/** Exactly what `Date.prototype.toISOString` produces, so one instant has one spelling under the signature. */
const IsoTime = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' });

/**
 * Package names: printable ASCII, inner spaces allowed (macOS `softwareupdate` labels have them),
 * none at either end. This is a coarse wire check only: each executor checks its ecosystem's own
 * grammar before building a command, so this is defence in depth, not the gate.
 */
const PackageName = Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e](?:[\\x20-\\x7e]*[\\x21-\\x7e])?$' });
const PackageVersion = Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' });

/** Packages in one assignment: a payload stays far below the channel's 1 MiB frame (about 600 bytes each at worst). */
export const MAX_ASSIGNMENT_PACKAGES = 500;

export const AssignmentPackage = Type.Object(
  {
    ecosystem: Ecosystem,
    name: PackageName,
    /** The version to install, or null for the latest the host's configured sources offer. */
    version: Type.Union([PackageVersion, Type.Null()]),
  },
  strict,
);
export type AssignmentPackage = Type.Static<typeof AssignmentPackage>;

export const RebootPolicy = Type.Union([Type.Literal('never'), Type.Literal('if-required'), Type.Literal('always')]);
export type RebootPolicy = Type.Static<typeof RebootPolicy>;

/** What the host is asked to do. Other kinds (policies, scripts, quarantine) will join as a union on `kind`. */
export const AssignmentPayload = Type.Object(
  {
    kind: Type.Literal('package-upgrade'),
    packages: Type.Array(AssignmentPackage, { minItems: 1, maxItems: MAX_ASSIGNMENT_PACKAGES }),
    rebootPolicy: RebootPolicy,
  },
  strict,
);
export type AssignmentPayload = Type.Static<typeof AssignmentPayload>;

/** The signed header of one host's work. Its canonical JSON is what the work key signs. */
export const Assignment = Type.Object(
  {
    assignmentId: Uuid,
    deploymentId: Uuid,
    hostId: Uuid,
    /** sha256 hex of canonicalJson(payload): ties the payload to the signature. */
    payloadHash: Sha256Hex,
    notBefore: IsoTime,
    expiresAt: IsoTime,
    /** 32 random bytes: no two assignments share a signed document, even with equal fields. */
    nonce: B64url43,
    /** Fingerprint of the work-signing key that signed this (see WorkKeyCertificate.keyId). */
    keyId: B64url43,
    /** Per-host order, from 1: what a reconnecting agent reports as the last it saw, for offline catch-up. */
    sequence: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  },
  strict,
);
export type Assignment = Type.Static<typeof Assignment>;

/** The server identity's statement "this public key may sign work from notBefore until notAfter". */
export const WorkKeyCertificate = Type.Object(
  {
    /** fingerprint(publicKey): sha256 of the raw key, base64url. */
    keyId: B64url43,
    publicKey: B64url43,
    notBefore: IsoTime,
    notAfter: IsoTime,
    /** Server identity signature over [keyId, publicKey, notBefore, notAfter] (PURPOSE.workKey). */
    signature: Signature,
  },
  strict,
);
export type WorkKeyCertificate = Type.Static<typeof WorkKeyCertificate>;

export const SignedAssignment = Type.Object(
  {
    assignment: Assignment,
    payload: AssignmentPayload,
    /** Work key signature over [canonicalJson(assignment)] (PURPOSE.assignment). */
    signature: Signature,
    keyCertificate: WorkKeyCertificate,
  },
  strict,
);
export type SignedAssignment = Type.Static<typeof SignedAssignment>;

export type AssignmentRefusal =
  | 'malformed'
  | 'bad_certificate'
  | 'certificate_expired'
  | 'bad_signature'
  | 'payload_altered'
  | 'wrong_host'
  | 'not_yet_valid'
  | 'expired';

export type VerifiedAssignment =
  | { ok: true; assignment: Assignment; payload: AssignmentPayload }
  | { ok: false; reason: AssignmentRefusal };

export interface VerifyAssignmentOptions {
  /** The server identity public key the agent pinned at enrolment. */
  pinnedServerPublicKey: string;
  /** This agent's own host id. */
  hostId: string;
  now: Date;
}

const checkPayload = compileSchema(AssignmentPayload);
const checkAssignment = compileSchema(Assignment);
const checkCertificate = compileSchema(WorkKeyCertificate);
const checkSigned = compileSchema(SignedAssignment);

/** Milliseconds since the epoch of a well-formed IsoTime, or NaN when it names no real instant (2024-02-30). */
function instant(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms : Number.NaN;
}

function validInstant(date: Date, what: string): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`${what} is not a valid date`);
  return ms;
}

/** The payload's hash as the assignment carries it. */
export function hashPayload(payload: AssignmentPayload): string {
  return sha256Hex(canonicalJson(payload));
}

/** Why a schema-valid payload still makes no sense, or undefined when it does. */
function payloadProblem(payload: AssignmentPayload): string | undefined {
  const seen = new Set<string>();
  for (const p of payload.packages) {
    // Two entries for one package would leave the executor to pick a version: refuse the ambiguity.
    const key = `${p.ecosystem}\t${p.name}`;
    if (seen.has(key)) return `package ${JSON.stringify(p.name)} is listed twice`;
    seen.add(key);
  }
  return undefined;
}

function certificateFields(c: Omit<WorkKeyCertificate, 'signature'>): string[] {
  return [c.keyId, c.publicKey, c.notBefore, c.notAfter];
}

/** Issues the certificate that lets `workPublicKey` sign work between notBefore and notAfter. */
export function certifyWorkKey(identityPrivateKey: KeyObject, workPublicKey: string, notBefore: Date, notAfter: Date): WorkKeyCertificate {
  const from = validInstant(notBefore, 'notBefore');
  const until = validInstant(notAfter, 'notAfter');
  if (until <= from) throw new RangeError('notAfter must be after notBefore');
  // Throws unless the key is exactly 32 bytes of canonical base64url: one key, one certified spelling.
  importPublicKey(workPublicKey);
  const body = {
    keyId: fingerprint(workPublicKey),
    publicKey: workPublicKey,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
  };
  return checkCertificate({ ...body, signature: signFields(identityPrivateKey, PURPOSE.workKey, certificateFields(body)) }, 'certificate');
}

/**
 * True when `certificate` is well formed, was issued by `identityPublicKey` and names its own key.
 * Says nothing about its validity period. Never throws.
 */
export function verifyWorkKeyCertificate(certificate: unknown, identityPublicKey: string): certificate is WorkKeyCertificate {
  try {
    const c = checkCertificate(certificate, 'certificate');
    if (Number.isNaN(instant(c.notBefore)) || !(instant(c.notAfter) > instant(c.notBefore))) return false;
    importPublicKey(c.publicKey);
    if (fingerprint(c.publicKey) !== c.keyId) return false;
    return verifyFields(identityPublicKey, PURPOSE.workKey, certificateFields(c), c.signature);
  } catch {
    return false;
  }
}

/** An assignment before signing: keyId and payloadHash are derived, the nonce is drawn when absent. */
export type AssignmentDraft = Omit<Assignment, 'payloadHash' | 'keyId' | 'nonce'> & { nonce?: string };

/**
 * Signs one host's assignment. Throws BrierError `invalid_message` when the draft or the payload is
 * not something an agent would accept, and `internal` when the key and its certificate do not match:
 * both are server bugs, and signing them would only produce work every agent refuses.
 */
export function signAssignment(
  workPrivateKey: KeyObject,
  keyCertificate: WorkKeyCertificate,
  draft: AssignmentDraft,
  payload: AssignmentPayload,
): SignedAssignment {
  const certificate = checkCertificate(keyCertificate, 'certificate');
  if (publicKeyOf(workPrivateKey) !== certificate.publicKey || fingerprint(certificate.publicKey) !== certificate.keyId) {
    throw new BrierError('internal', 'work-signing key does not match its certificate');
  }
  // A deep copy through the canonical form: the caller mutating its objects later cannot change what was signed.
  const body = checkPayload(JSON.parse(canonicalJson(payload)), 'payload');
  const problem = payloadProblem(body);
  if (problem) throw new BrierError('invalid_message', `payload ${problem}`);
  const assignment = checkAssignment(
    {
      assignmentId: draft.assignmentId,
      deploymentId: draft.deploymentId,
      hostId: draft.hostId,
      payloadHash: hashPayload(body),
      notBefore: draft.notBefore,
      expiresAt: draft.expiresAt,
      nonce: draft.nonce ?? randomToken(32),
      keyId: certificate.keyId,
      sequence: draft.sequence,
    },
    'assignment',
  );
  const from = instant(assignment.notBefore);
  const until = instant(assignment.expiresAt);
  if (Number.isNaN(from) || Number.isNaN(until)) throw new BrierError('invalid_message', 'assignment times must be real instants');
  if (until <= from) throw new BrierError('invalid_message', 'assignment expiresAt must be after notBefore');
  const signature = signFields(workPrivateKey, PURPOSE.assignment, [canonicalJson(assignment)]);
  return { assignment, payload: body, signature, keyCertificate: { ...certificate } };
}

function refuse(reason: AssignmentRefusal): VerifiedAssignment {
  return { ok: false, reason };
}

function verify(input: unknown, options: VerifyAssignmentOptions, now: number): VerifiedAssignment {
  let signed: SignedAssignment;
  try {
    signed = checkSigned(input, 'signed assignment');
  } catch {
    return refuse('malformed');
  }
  const { assignment, payload, keyCertificate: cert } = signed;
  const notBefore = instant(assignment.notBefore);
  const expiresAt = instant(assignment.expiresAt);
  const certFrom = instant(cert.notBefore);
  const certUntil = instant(cert.notAfter);
  if ([notBefore, expiresAt, certFrom, certUntil].some(Number.isNaN)) return refuse('malformed');
  if (expiresAt <= notBefore || certUntil <= certFrom || payloadProblem(payload)) return refuse('malformed');

  // Authenticity first: what an unauthenticated document claims (its host, its times) is not worth
  // reporting, and a forgery must be reported as one rather than as, say, "expired".
  if (!verifyWorkKeyCertificate(cert, options.pinnedServerPublicKey) || cert.keyId !== assignment.keyId) return refuse('bad_certificate');
  if (now < certFrom || now >= certUntil) return refuse('certificate_expired');
  if (!verifyFields(cert.publicKey, PURPOSE.assignment, [canonicalJson(assignment)], signed.signature)) return refuse('bad_signature');
  if (hashPayload(payload) !== assignment.payloadHash) return refuse('payload_altered');

  if (assignment.hostId !== options.hostId) return refuse('wrong_host');
  if (now < notBefore) return refuse('not_yet_valid');
  if (now >= expiresAt) return refuse('expired');
  return { ok: true, assignment, payload };
}

/**
 * Checks a signed assignment as received from the wire (already JSON-parsed). Never throws on the
 * document, whatever it holds: anything that is not exactly a SignedAssignment is `malformed`.
 * Throws RangeError only for an invalid `now`, a caller bug that must not pass as "valid forever".
 *
 * Whether the assignment was already seen is the ledger's question, not this function's.
 */
export function verifySignedAssignment(signed: unknown, options: VerifyAssignmentOptions): VerifiedAssignment {
  const now = validInstant(options.now, 'now');
  try {
    return verify(signed, options, now);
  } catch {
    // A hostile object (a throwing getter, a proxy) or a bug in a check: refuse, never run.
    return refuse('malformed');
  }
}
