import type { KeyObject } from 'node:crypto';
import Type from 'typebox';
import { type WorkKeyCertificate as Certificate, verifyWorkKeyCertificate, WorkKeyCertificate } from './assignment.js';
import { canonicalJson } from './canonical-json.js';
import { compileSchema } from './compile-schema.js';
import { SafeText } from './inventory.js';
import { PURPOSE, publicKeyOf, randomToken, signFields, verifyFields } from './signing.js';

/**
 * Desired state on the wire: policy bundles (what a host must keep true, enforced online or not),
 * quarantine orders (isolate / release), and what agents report back (compliance, remediation
 * events, neighbour tables). Bundles and orders are signed like assignments: by the work-signing key,
 * whose certificate chains to the server identity the agent pinned at enrolment, so nobody who can
 * only write the database can change a host's policy or cut it off the network.
 */

const strict = { additionalProperties: false } as const;
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const Signature = Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' });
const IsoTime = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' });
/** Package and service names: a coarse wire check; each executor applies its own grammar before any command. */
const Name = Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9][A-Za-z0-9._+@:~-]*$' });
const Version = Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' });
/** An absolute path without `..` segments, NUL or control characters (Windows drive paths allowed). */
const AbsolutePath = Type.String({
  minLength: 2,
  maxLength: 1024,
  pattern: '^(/|[A-Za-z]:\\\\)(?!.*(^|[\\\\/])\\.\\.([\\\\/]|$))[^\\u0000-\\u001f\\u007f]*$',
});

// ------------------------------------------------------------------ rules

export const RULE_KINDS = [
  'package-installed',
  'package-absent',
  'service-running',
  'antivirus',
  'firewall-enabled',
  'file-present',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const AV_PROVIDERS = ['clamav', 'defender', 'xprotect', 'auto'] as const;

export const PolicyRule = Type.Union([
  Type.Object({ kind: Type.Literal('package-installed'), name: Name, minVersion: Type.Optional(Version) }, strict),
  Type.Object({ kind: Type.Literal('package-absent'), name: Name }, strict),
  /** `enable`: also start it at boot (default true). */
  Type.Object({ kind: Type.Literal('service-running'), name: Name, enable: Type.Optional(Type.Boolean()) }, strict),
  Type.Object(
    {
      kind: Type.Literal('antivirus'),
      provider: Type.Union([Type.Literal('clamav'), Type.Literal('defender'), Type.Literal('xprotect'), Type.Literal('auto')]),
      /** Signatures older than this are unhealthy (default 48). */
      maxSignatureAgeHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 8760 })),
    },
    strict,
  ),
  Type.Object({ kind: Type.Literal('firewall-enabled') }, strict),
  Type.Object({ kind: Type.Literal('file-present'), path: AbsolutePath, sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, strict),
]);
export type PolicyRule = Type.Static<typeof PolicyRule>;

export const PolicyMode = Type.Union([Type.Literal('audit'), Type.Literal('enforce')]);
export type PolicyMode = Type.Static<typeof PolicyMode>;

/** One policy as a host receives it: the server resolves targets; the agent sees only what applies to it. */
export const HostPolicy = Type.Object(
  {
    id: Uuid,
    name: SafeText(200, 1),
    version: Type.Integer({ minimum: 1 }),
    mode: PolicyMode,
    rules: Type.Array(PolicyRule, { minItems: 1, maxItems: 100 }),
    /** Minutes between evaluations (default 15); also after reconnect and after any action. */
    intervalMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  },
  strict,
);
export type HostPolicy = Type.Static<typeof HostPolicy>;

/**
 * Everything one host must enforce, replacing any earlier bundle. `sequence` only grows (the server
 * issues it from its clock): an agent refuses a bundle older than the one it holds, so an old bundle
 * replayed cannot switch enforcement off.
 */
export const PolicyBundle = Type.Object(
  {
    kind: Type.Literal('policy-bundle'),
    hostId: Uuid,
    sequence: Type.Integer({ minimum: 1 }),
    issuedAt: IsoTime,
    nonce: Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$' }),
    keyId: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    policies: Type.Array(HostPolicy, { maxItems: 50 }),
  },
  strict,
);
export type PolicyBundle = Type.Static<typeof PolicyBundle>;

/**
 * Cut a host off the network except for the Brier server (`isolate`), or let it back (`release`).
 * Orders expire (`notAfter`) so one captured in transit cannot be replayed later; the agent also
 * refuses a sequence at or below the last order it applied.
 */
export const QuarantineOrder = Type.Object(
  {
    kind: Type.Literal('quarantine-order'),
    hostId: Uuid,
    action: Type.Union([Type.Literal('isolate'), Type.Literal('release')]),
    sequence: Type.Integer({ minimum: 1 }),
    issuedAt: IsoTime,
    notAfter: IsoTime,
    nonce: Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$' }),
    keyId: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    /** Addresses (IPv4/IPv6, no names) the host may still reach: the Brier server's. */
    allow: Type.Array(Type.String({ minLength: 2, maxLength: 64, pattern: '^[0-9A-Fa-f:.]+$' }), { maxItems: 16 }),
    /** Ports on those addresses (TCP); empty: any. */
    ports: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { maxItems: 8 }),
    reason: SafeText(500),
  },
  strict,
);
export type QuarantineOrder = Type.Static<typeof QuarantineOrder>;

export type DesiredStateDocument = PolicyBundle | QuarantineOrder;

export const SignedPolicyBundle = Type.Object({ document: PolicyBundle, signature: Signature, keyCertificate: WorkKeyCertificate }, strict);
export type SignedPolicyBundle = Type.Static<typeof SignedPolicyBundle>;

export const SignedQuarantineOrder = Type.Object(
  { document: QuarantineOrder, signature: Signature, keyCertificate: WorkKeyCertificate },
  strict,
);
export type SignedQuarantineOrder = Type.Static<typeof SignedQuarantineOrder>;

// ------------------------------------------------------------------ reports

export const COMPLIANCE_STATUSES = ['compliant', 'noncompliant', 'remediated', 'error'] as const;
export const ComplianceStatus = Type.Union([
  Type.Literal('compliant'),
  Type.Literal('noncompliant'),
  Type.Literal('remediated'),
  Type.Literal('error'),
]);
export type ComplianceStatus = Type.Static<typeof ComplianceStatus>;

export const RuleResult = Type.Object(
  {
    policyId: Uuid,
    policyVersion: Type.Integer({ minimum: 1 }),
    /** Index of the rule in the policy's `rules`. */
    rule: Type.Integer({ minimum: 0, maximum: 99 }),
    kind: Type.Union([
      Type.Literal('package-installed'),
      Type.Literal('package-absent'),
      Type.Literal('service-running'),
      Type.Literal('antivirus'),
      Type.Literal('firewall-enabled'),
      Type.Literal('file-present'),
    ]),
    status: ComplianceStatus,
    detail: SafeText(1000),
    checkedAt: IsoTime,
  },
  strict,
);
export type RuleResult = Type.Static<typeof RuleResult>;

/** One remediation the agent attempted, with the state before and after it. */
export const RemediationEvent = Type.Object(
  {
    policyId: Uuid,
    policyVersion: Type.Integer({ minimum: 1 }),
    rule: Type.Integer({ minimum: 0, maximum: 99 }),
    action: SafeText(200, 1),
    ok: Type.Boolean(),
    before: SafeText(1000),
    after: SafeText(1000),
    at: IsoTime,
  },
  strict,
);
export type RemediationEvent = Type.Static<typeof RemediationEvent>;

export const Neighbor = Type.Object(
  {
    ip: Type.String({ minLength: 2, maxLength: 64, pattern: '^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]{1,32})?$' }),
    /** Lower-case, colon-separated, six octets. */
    mac: Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' }),
    interface: SafeText(64),
    state: Type.Optional(SafeText(32)),
  },
  strict,
);
export type Neighbor = Type.Static<typeof Neighbor>;

/** Neighbour entries per report: a busy /16 fits; a flood is refused whole, not truncated silently. */
export const MAX_NEIGHBORS = 8_192;

// ------------------------------------------------------------------ signing

const checkBundle = compileSchema(PolicyBundle);
const checkOrder = compileSchema(QuarantineOrder);
const checkSignedBundle = compileSchema(SignedPolicyBundle);
const checkSignedOrder = compileSchema(SignedQuarantineOrder);

function purposeOf(doc: DesiredStateDocument): string {
  return `${PURPOSE.desiredState}/${doc.kind}`;
}

export interface DesiredStateSigner {
  privateKey: KeyObject;
  certificate: Certificate;
}

/** Signs a bundle or order with the work key; `nonce` and `keyId` are filled in here. */
export function signPolicyBundle(signer: DesiredStateSigner, draft: Omit<PolicyBundle, 'nonce' | 'keyId'>): SignedPolicyBundle {
  const document = checkBundle({ ...draft, nonce: randomToken(16), keyId: signer.certificate.keyId }, 'policy bundle');
  return sign(signer, document) as SignedPolicyBundle;
}

export function signQuarantineOrder(signer: DesiredStateSigner, draft: Omit<QuarantineOrder, 'nonce' | 'keyId'>): SignedQuarantineOrder {
  const document = checkOrder({ ...draft, nonce: randomToken(16), keyId: signer.certificate.keyId }, 'quarantine order');
  return sign(signer, document) as SignedQuarantineOrder;
}

function sign(signer: DesiredStateSigner, document: DesiredStateDocument) {
  if (publicKeyOf(signer.privateKey) !== signer.certificate.publicKey)
    throw new RangeError('the signing key does not match its certificate');
  return {
    document,
    signature: signFields(signer.privateKey, purposeOf(document), [canonicalJson(document)]),
    keyCertificate: signer.certificate,
  };
}

export type DesiredStateRefusal =
  | 'malformed'
  | 'bad_certificate'
  | 'certificate_expired'
  | 'bad_signature'
  | 'wrong_host'
  | 'expired'
  | 'not_yet_valid';

export interface VerifyDesiredStateOptions {
  pinnedServerPublicKey: string;
  hostId: string;
  now: Date;
}

type Verified<T> = { ok: true; document: T } | { ok: false; reason: DesiredStateRefusal };

function verify<T extends DesiredStateDocument>(
  input: unknown,
  check: (v: unknown, what: string) => { document: T; signature: string; keyCertificate: Certificate },
  options: VerifyDesiredStateOptions,
): Verified<T> {
  let signed: { document: T; signature: string; keyCertificate: Certificate };
  try {
    signed = check(input, 'signed document');
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const { document, keyCertificate } = signed;
  const now = options.now.getTime();
  if (!verifyWorkKeyCertificate(keyCertificate, options.pinnedServerPublicKey) || keyCertificate.keyId !== document.keyId)
    return { ok: false, reason: 'bad_certificate' };
  if (!(Date.parse(keyCertificate.notBefore) <= now && now < Date.parse(keyCertificate.notAfter)))
    return { ok: false, reason: 'certificate_expired' };
  if (!verifyFields(keyCertificate.publicKey, purposeOf(document), [canonicalJson(document)], signed.signature))
    return { ok: false, reason: 'bad_signature' };
  if (document.hostId !== options.hostId) return { ok: false, reason: 'wrong_host' };
  if (document.kind === 'quarantine-order') {
    if (Date.parse(document.notAfter) <= now) return { ok: false, reason: 'expired' };
    // A few minutes of clock skew are tolerated; an order from the future is not.
    if (Date.parse(document.issuedAt) > now + 5 * 60_000) return { ok: false, reason: 'not_yet_valid' };
  }
  return { ok: true, document };
}

/**
 * Checks a policy bundle: well formed, signed by a work key the pinned identity certified (valid
 * now), for this host. Whether its sequence is newer than the held one is the agent's to check.
 * Never throws.
 */
export function verifyPolicyBundle(input: unknown, options: VerifyDesiredStateOptions): Verified<PolicyBundle> {
  return verify(input, checkSignedBundle, options);
}

/** As verifyPolicyBundle, and the order must not have expired. Never throws. */
export function verifyQuarantineOrder(input: unknown, options: VerifyDesiredStateOptions): Verified<QuarantineOrder> {
  return verify(input, checkSignedOrder, options);
}
