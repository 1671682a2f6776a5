import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Assignment,
  type AssignmentDraft,
  type AssignmentPayload,
  certifyWorkKey,
  hashPayload,
  MAX_ASSIGNMENT_PACKAGES,
  type SignedAssignment,
  signAssignment,
  type VerifyAssignmentOptions,
  verifySignedAssignment,
  verifyWorkKeyCertificate,
} from './assignment.js';
import { canonicalJson } from './canonical-json.js';
import { BrierError } from './errors.js';
import { fingerprint, generateKeyPair, importPrivateKey, PURPOSE, randomToken, sha256Hex, signFields } from './signing.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const HOUR = 3600_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

const identity = generateKeyPair();
const identityKey = importPrivateKey(identity.privateKeyPem);
const work = generateKeyPair();
const workKey = importPrivateKey(work.privateKeyPem);
const certificate = certifyWorkKey(identityKey, work.publicKey, at(-24 * HOUR), at(365 * 24 * HOUR));

const HOST = randomUUID();
const OTHER_HOST = randomUUID();

const payload: AssignmentPayload = {
  kind: 'package-upgrade',
  packages: [
    { ecosystem: 'dpkg', name: 'openssl', version: '3.0.11-1~deb12u2' },
    { ecosystem: 'dpkg', name: 'libssl3', version: null },
  ],
  rebootPolicy: 'if-required',
};

function draft(overrides: Partial<AssignmentDraft> = {}): AssignmentDraft {
  return {
    assignmentId: randomUUID(),
    deploymentId: randomUUID(),
    hostId: HOST,
    notBefore: at(-HOUR).toISOString(),
    expiresAt: at(24 * HOUR).toISOString(),
    sequence: 7,
    ...overrides,
  };
}

function issue(overrides: Partial<AssignmentDraft> = {}, body: AssignmentPayload = payload): SignedAssignment {
  return signAssignment(workKey, certificate, draft(overrides), body);
}

const options: VerifyAssignmentOptions = { pinnedServerPublicKey: identity.publicKey, hostId: HOST, now: NOW };

/** What an agent receives: the document after a trip through JSON on the wire. */
function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function reasonOf(value: unknown, opts: VerifyAssignmentOptions = options): string {
  const result = verifySignedAssignment(value, opts);
  return result.ok ? 'ok' : result.reason;
}

/** Re-signs an assignment as the genuine work key would, bypassing signAssignment's own checks. */
function resign(assignment: Assignment): string {
  return signFields(workKey, PURPOSE.assignment, [canonicalJson(assignment)]);
}

describe('a signed assignment', () => {
  it('verifies after a round trip through JSON and yields the signed assignment and payload', () => {
    const signed = issue();
    const result = verifySignedAssignment(wire(signed), options);
    expect(result).toEqual({ ok: true, assignment: signed.assignment, payload });
    expect(signed.assignment.keyId).toBe(fingerprint(work.publicKey));
    expect(signed.assignment.payloadHash).toBe(sha256Hex(canonicalJson(payload)));
    expect(signed.assignment.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('draws a fresh nonce for every assignment unless the draft brings one', () => {
    expect(issue().assignment.nonce).not.toBe(issue().assignment.nonce);
    const nonce = randomToken();
    expect(issue({ nonce }).assignment.nonce).toBe(nonce);
  });

  it('still verifies when the server attaches a re-issued certificate for the same key', () => {
    // A laptop away for over a year: the original certificate lapsed, the assignment did not.
    const later = at(400 * 24 * HOUR);
    const renewed = certifyWorkKey(identityKey, work.publicKey, at(300 * 24 * HOUR), at(700 * 24 * HOUR));
    const longLived = issue({ expiresAt: at(500 * 24 * HOUR).toISOString() });
    expect(reasonOf(wire(longLived), { ...options, now: later })).toBe('certificate_expired');
    expect(reasonOf(wire({ ...longLived, keyCertificate: renewed }), { ...options, now: later })).toBe('ok');
  });

  it('is valid from the instant of notBefore and no longer at the instant of expiresAt', () => {
    const signed = issue({ notBefore: at(0).toISOString(), expiresAt: at(HOUR).toISOString() });
    expect(reasonOf(signed, { ...options, now: at(0) })).toBe('ok');
    expect(reasonOf(signed, { ...options, now: at(HOUR - 1) })).toBe('ok');
    expect(reasonOf(signed, { ...options, now: at(HOUR) })).toBe('expired');
  });
});

describe('verification refuses a forgery', () => {
  it('signed by a key other than the certified one as bad_signature', () => {
    const signed = issue();
    const rogue = importPrivateKey(generateKeyPair().privateKeyPem);
    const signature = signFields(rogue, PURPOSE.assignment, [canonicalJson(signed.assignment)]);
    expect(reasonOf(wire({ ...signed, signature }))).toBe('bad_signature');
  });

  it('whose payload was changed after signing as payload_altered', () => {
    const signed = issue();
    const altered = { ...payload, packages: [{ ecosystem: 'dpkg', name: 'openssl', version: '9.9.9' }] };
    expect(reasonOf(wire({ ...signed, payload: altered }))).toBe('payload_altered');
    expect(reasonOf(wire({ ...signed, payload: { ...payload, rebootPolicy: 'always' } }))).toBe('payload_altered');
  });

  it('whose payload and payloadHash were both changed as bad_signature', () => {
    const signed = issue();
    const altered: AssignmentPayload = { ...payload, rebootPolicy: 'always' };
    const assignment = { ...signed.assignment, payloadHash: hashPayload(altered) };
    expect(reasonOf(wire({ ...signed, assignment, payload: altered }))).toBe('bad_signature');
  });

  it.each([
    ['deploymentId', randomUUID()],
    ['assignmentId', randomUUID()],
    ['hostId', OTHER_HOST],
    ['expiresAt', at(1000 * 24 * HOUR).toISOString()],
    ['notBefore', at(-2 * HOUR).toISOString()],
    ['nonce', randomToken()],
    ['sequence', 8],
    ['payloadHash', 'a'.repeat(64)],
  ] as const)('whose %s was altered after signing as bad_signature', (field, value) => {
    const signed = issue();
    // Aimed at this host, so an altered hostId is caught by the signature, not by the host check.
    const assignment = { ...signed.assignment, [field]: value };
    expect(reasonOf(wire({ ...signed, assignment }), { ...options, hostId: assignment.hostId })).toBe('bad_signature');
  });

  it('that names a key other than its certificate as bad_certificate', () => {
    const signed = issue();
    const assignment = { ...signed.assignment, keyId: fingerprint(generateKeyPair().publicKey) };
    expect(reasonOf(wire({ ...signed, assignment, signature: resign(assignment) }))).toBe('bad_certificate');
  });

  it('whose work key was certified by a key other than the pinned identity as bad_certificate', () => {
    const impostor = importPrivateKey(generateKeyPair().privateKeyPem);
    const rogueWork = generateKeyPair();
    const rogueCertificate = certifyWorkKey(impostor, rogueWork.publicKey, at(-HOUR), at(HOUR));
    const signed = signAssignment(importPrivateKey(rogueWork.privateKeyPem), rogueCertificate, draft(), payload);
    expect(reasonOf(wire(signed))).toBe('bad_certificate');
    // The genuine key re-certified by the impostor is no better.
    expect(reasonOf(wire({ ...issue(), keyCertificate: certifyWorkKey(impostor, work.publicKey, at(-HOUR), at(HOUR)) }))).toBe(
      'bad_certificate',
    );
  });

  it('whose certificate was altered as bad_certificate', () => {
    const signed = issue();
    const rogue = generateKeyPair().publicKey;
    for (const keyCertificate of [
      { ...certificate, notAfter: at(9000 * 24 * HOUR).toISOString() },
      { ...certificate, notBefore: at(-48 * HOUR).toISOString() },
      { ...certificate, publicKey: rogue, keyId: fingerprint(rogue) },
      { ...certificate, signature: signFields(identityKey, PURPOSE.authAck, [certificate.keyId, certificate.publicKey]) },
    ]) {
      expect(reasonOf(wire({ ...signed, keyCertificate }))).toBe('bad_certificate');
    }
  });

  it('signed with a certificate signature made for another purpose as bad_certificate', () => {
    // The identity key signs other things (enrolment, auth); none of those may pass as a certificate.
    const c = certificate;
    const signature = signFields(identityKey, PURPOSE.enrollAck, [c.keyId, c.publicKey, c.notBefore, c.notAfter]);
    expect(reasonOf(wire({ ...issue(), keyCertificate: { ...c, signature } }))).toBe('bad_certificate');
  });

  it('whose certificate has expired or is not yet valid as certificate_expired', () => {
    const signed = issue({ expiresAt: at(1000 * 24 * HOUR).toISOString() });
    expect(reasonOf(signed, { ...options, now: new Date(certificate.notAfter) })).toBe('certificate_expired');
    const early = certifyWorkKey(identityKey, work.publicKey, at(HOUR), at(2 * HOUR));
    expect(reasonOf(wire({ ...signed, keyCertificate: early }))).toBe('certificate_expired');
  });

  it('that has expired as expired', () => {
    const signed = issue({ notBefore: at(-2 * HOUR).toISOString(), expiresAt: at(-HOUR).toISOString() });
    expect(reasonOf(wire(signed))).toBe('expired');
  });

  it('whose notBefore lies in the future as not_yet_valid', () => {
    const signed = issue({ notBefore: at(HOUR).toISOString(), expiresAt: at(2 * HOUR).toISOString() });
    expect(reasonOf(wire(signed))).toBe('not_yet_valid');
  });

  it('meant for another host as wrong_host, even though it is genuine', () => {
    const signed = issue({ hostId: OTHER_HOST });
    expect(reasonOf(wire(signed))).toBe('wrong_host');
    expect(reasonOf(wire(signed), { ...options, hostId: OTHER_HOST })).toBe('ok');
  });

  it('that is a forgery and expired and for another host as the forgery first', () => {
    const signed = issue({ hostId: OTHER_HOST, notBefore: at(-2 * HOUR).toISOString(), expiresAt: at(-HOUR).toISOString() });
    expect(reasonOf(wire({ ...signed, signature: issue().signature }))).toBe('bad_signature');
  });
});

describe('verification refuses malformed input', () => {
  const good = wire(issue()) as SignedAssignment;

  it.each([
    ['null', null],
    ['a string', 'signed'],
    ['a number', 1],
    ['an array', [good]],
    ['undefined', undefined],
    ['an empty object', {}],
  ])('such as %s', (_name, value) => {
    expect(reasonOf(value)).toBe('malformed');
  });

  it.each(['assignment', 'payload', 'signature', 'keyCertificate'] as const)('missing %s', (field) => {
    const { [field]: _dropped, ...rest } = good;
    expect(reasonOf(rest)).toBe('malformed');
  });

  it('with an extra property at any level', () => {
    expect(reasonOf({ ...good, extra: 1 })).toBe('malformed');
    expect(reasonOf({ ...good, assignment: { ...good.assignment, command: 'rm -rf /' } })).toBe('malformed');
    expect(reasonOf({ ...good, payload: { ...good.payload, script: 'x' } })).toBe('malformed');
    expect(reasonOf({ ...good, payload: { ...good.payload, packages: [{ ...payload.packages[0], arch: 'amd64' }] } })).toBe('malformed');
    expect(reasonOf({ ...good, keyCertificate: { ...good.keyCertificate, trusted: true } })).toBe('malformed');
  });

  it('with a __proto__ key from the wire', () => {
    const text = JSON.stringify(good).replace('{"assignment"', '{"__proto__":{"ok":true},"assignment"');
    expect(reasonOf(JSON.parse(text))).toBe('malformed');
  });

  it('with NUL bytes anywhere', () => {
    const pkg = (name: string) => ({ ...good, payload: { ...good.payload, packages: [{ ecosystem: 'dpkg', name, version: null }] } });
    expect(reasonOf(pkg('openssl\u0000'))).toBe('malformed');
    expect(reasonOf({ ...good, signature: `${good.signature.slice(0, 85)}\u0000` })).toBe('malformed');
    expect(reasonOf({ ...good, assignment: { ...good.assignment, hostId: `${HOST.slice(0, 35)}\u0000` } })).toBe('malformed');
    expect(reasonOf({ ...good, keyCertificate: { ...good.keyCertificate, notAfter: `${certificate.notAfter}\u0000` } })).toBe('malformed');
  });

  it('with package names or versions that are not printable ASCII', () => {
    const pkg = (name: string, version: string | null = null) => ({
      ...good,
      payload: { ...good.payload, packages: [{ ecosystem: 'dpkg', name, version }] },
    });
    for (const bad of ['', ' openssl', 'openssl ', 'open\tssl', 'openssl\n', 'оpenssl' /* Cyrillic о */, 'x'.repeat(257), '\ud800']) {
      expect(reasonOf(pkg(bad)), JSON.stringify(bad)).toBe('malformed');
    }
    for (const bad of ['', '1.0 ', '1.0\n', '１.0']) expect(reasonOf(pkg('openssl', bad)), JSON.stringify(bad)).toBe('malformed');
  });

  it('with identifiers, hashes and times in the wrong spelling', () => {
    const a = good.assignment;
    for (const assignment of [
      { ...a, hostId: HOST.toUpperCase() },
      { ...a, payloadHash: a.payloadHash.toUpperCase() },
      { ...a, nonce: `${a.nonce}=` },
      { ...a, notBefore: '2025-03-01T11:00:00Z' },
      { ...a, expiresAt: '2025-02-30T12:00:00.000Z' },
      { ...a, expiresAt: 1740830400000 },
      { ...a, sequence: 0 },
      { ...a, sequence: 1.5 },
      { ...a, sequence: '7' },
      { ...a, sequence: 2 ** 53 },
    ]) {
      expect(reasonOf({ ...good, assignment }), JSON.stringify(assignment)).toBe('malformed');
    }
  });

  it('with unknown payload kinds, ecosystems or reboot policies', () => {
    expect(reasonOf({ ...good, payload: { ...good.payload, kind: 'script' } })).toBe('malformed');
    expect(reasonOf({ ...good, payload: { ...good.payload, rebootPolicy: 'sometimes' } })).toBe('malformed');
    expect(reasonOf({ ...good, payload: { ...good.payload, packages: [{ ecosystem: 'npm', name: 'x', version: null }] } })).toBe(
      'malformed',
    );
  });

  it('with no packages, too many packages, or one package twice', () => {
    const many = Array.from({ length: MAX_ASSIGNMENT_PACKAGES + 1 }, (_, i) => ({ ecosystem: 'dpkg', name: `p${i}`, version: null }));
    expect(reasonOf({ ...good, payload: { ...good.payload, packages: [] } })).toBe('malformed');
    expect(reasonOf({ ...good, payload: { ...good.payload, packages: many } })).toBe('malformed');
    const twice: AssignmentPayload = {
      ...payload,
      packages: [
        { ecosystem: 'dpkg', name: 'openssl', version: '1' },
        { ecosystem: 'dpkg', name: 'openssl', version: '2' },
      ],
    };
    // Even genuinely signed, an ambiguous payload is refused.
    const assignment = { ...good.assignment, payloadHash: hashPayload(twice) };
    expect(reasonOf({ ...good, assignment, payload: twice, signature: resign(assignment) })).toBe('malformed');
  });

  it('whose validity ends before it begins, even when genuinely signed', () => {
    const assignment = { ...good.assignment, notBefore: at(HOUR).toISOString(), expiresAt: at(-HOUR).toISOString() };
    expect(reasonOf({ ...good, assignment, signature: resign(assignment) })).toBe('malformed');
  });

  it('that throws when read, without throwing itself', () => {
    const hostile = {
      ...good,
      get assignment(): never {
        throw new Error('boom');
      },
    };
    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('boom');
        },
        get() {
          throw new Error('boom');
        },
      },
    );
    expect(reasonOf(hostile)).toBe('malformed');
    expect(reasonOf(trap)).toBe('malformed');
  });

  it('whatever the value, by returning a refusal and never throwing', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), (value) => {
        expect(verifySignedAssignment(value, options).ok).toBe(false);
      }),
    );
  });

  it('when any single character of the canonical signed document is replaced or deleted', () => {
    const text = canonicalJson(issue());
    const char = fc.oneof(
      fc.constantFrom(...'{}[]:,"\\ 0123456789abcdefAZaz-_.eE+ntrulfs\u0000'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(fc.nat({ max: text.length - 1 }), fc.option(char, { nil: undefined }), (index, replacement) => {
        fc.pre(replacement !== text[index]);
        const mutated = text.slice(0, index) + (replacement ?? '') + text.slice(index + 1);
        let parsed: unknown;
        try {
          parsed = JSON.parse(mutated);
        } catch {
          return; // Not even JSON: refused before it reaches verification.
        }
        expect(verifySignedAssignment(parsed, options).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('when any one character of the signed document is changed, at every position', () => {
    const text = canonicalJson(issue());
    for (let i = 0; i < text.length; i++) {
      for (const replacement of ['0', 'A']) {
        if (text[i] === replacement) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text.slice(0, i) + replacement + text.slice(i + 1));
        } catch {
          continue;
        }
        expect(verifySignedAssignment(parsed, options).ok, `position ${i}`).toBe(false);
      }
    }
  });
});

describe('signing', () => {
  it('refuses a work key that does not match its certificate', () => {
    const other = importPrivateKey(generateKeyPair().privateKeyPem);
    expect(() => signAssignment(other, certificate, draft(), payload)).toThrow(/does not match its certificate/);
  });

  it('refuses drafts and payloads an agent would refuse', () => {
    const cases: [Partial<AssignmentDraft>, AssignmentPayload][] = [
      [{ hostId: 'not-a-uuid' }, payload],
      [{ sequence: 0 }, payload],
      [{ expiresAt: at(-2 * HOUR).toISOString() }, payload],
      [{ expiresAt: '2025-02-30T00:00:00.000Z' }, payload],
      [{}, { ...payload, packages: [...payload.packages, payload.packages[0]!] }],
      [{}, { ...payload, packages: [{ ecosystem: 'dpkg', name: 'bad\u0000name', version: null }] }],
    ];
    for (const [overrides, body] of cases) {
      expect(() => issue(overrides, body), JSON.stringify(overrides)).toThrow(BrierError);
    }
  });

  it('copies the payload, so later changes to the caller’s object do not change what was signed', () => {
    const body = structuredClone(payload);
    const signed = issue({}, body);
    body.rebootPolicy = 'always';
    expect(reasonOf(wire(signed))).toBe('ok');
  });

  it('ignores keyId, payloadHash and other extras smuggled into the draft', () => {
    const smuggled = { ...draft(), keyId: 'x'.repeat(43), payloadHash: '0'.repeat(64), command: 'id' } as AssignmentDraft;
    const signed = signAssignment(workKey, certificate, smuggled, payload);
    expect(signed.assignment).not.toHaveProperty('command');
    expect(reasonOf(wire(signed))).toBe('ok');
  });

  it('refuses an invalid clock instead of treating work as valid forever', () => {
    expect(() => verifySignedAssignment(issue(), { ...options, now: new Date(Number.NaN) })).toThrow(RangeError);
  });
});

describe('work key certificates', () => {
  it('verify against the identity that issued them and no other', () => {
    expect(verifyWorkKeyCertificate(certificate, identity.publicKey)).toBe(true);
    expect(verifyWorkKeyCertificate(certificate, generateKeyPair().publicKey)).toBe(false);
    expect(verifyWorkKeyCertificate({ ...certificate, extra: 1 }, identity.publicKey)).toBe(false);
    expect(verifyWorkKeyCertificate(null, identity.publicKey)).toBe(false);
    expect(verifyWorkKeyCertificate(certificate, 'not a key')).toBe(false);
  });

  it('name their key by its fingerprint', () => {
    expect(certificate.keyId).toBe(fingerprint(work.publicKey));
    expect(certificate.publicKey).toBe(work.publicKey);
  });

  it('are refused for an empty or inverted validity period or a malformed key', () => {
    expect(() => certifyWorkKey(identityKey, work.publicKey, at(0), at(0))).toThrow(RangeError);
    expect(() => certifyWorkKey(identityKey, work.publicKey, at(HOUR), at(0))).toThrow(RangeError);
    expect(() => certifyWorkKey(identityKey, work.publicKey, new Date(Number.NaN), at(0))).toThrow(RangeError);
    expect(() => certifyWorkKey(identityKey, `${work.publicKey.slice(0, 42)}=`, at(0), at(HOUR))).toThrow();
  });
});
