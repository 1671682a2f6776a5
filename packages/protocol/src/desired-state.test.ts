import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certifyWorkKey } from './assignment.js';
import { compileSchema } from './compile-schema.js';
import {
  type DesiredStateSigner,
  PolicyRule,
  signPolicyBundle,
  signQuarantineOrder,
  verifyPolicyBundle,
  verifyQuarantineOrder,
} from './desired-state.js';
import { generateKeyPair, importPrivateKey } from './signing.js';

const NOW = new Date('2026-11-27T10:00:00.000Z');
const DAY = 86_400_000;

function keys() {
  const identity = generateKeyPair();
  const work = generateKeyPair();
  const signer: DesiredStateSigner = {
    privateKey: importPrivateKey(work.privateKeyPem),
    certificate: certifyWorkKey(
      importPrivateKey(identity.privateKeyPem),
      work.publicKey,
      new Date(NOW.getTime() - DAY),
      new Date(NOW.getTime() + DAY),
    ),
  };
  return { identity, signer };
}

const hostId = randomUUID();
const policy = {
  id: randomUUID(),
  name: 'antivirus everywhere',
  version: 3,
  mode: 'enforce' as const,
  intervalMinutes: 15,
  rules: [{ kind: 'antivirus' as const, provider: 'clamav' as const, maxSignatureAgeHours: 48 }],
};

describe('policy bundles', () => {
  const { identity, signer } = keys();
  const options = { pinnedServerPublicKey: identity.publicKey, hostId, now: NOW };
  const signed = signPolicyBundle(signer, { kind: 'policy-bundle', hostId, sequence: 7, issuedAt: NOW.toISOString(), policies: [policy] });

  it('verifies a bundle signed by a work key the pinned identity certified', () => {
    expect(verifyPolicyBundle(signed, options)).toEqual({ ok: true, document: signed.document });
  });

  it('refuses altered, unsigned, foreign and misaddressed bundles', () => {
    const altered = structuredClone(signed);
    altered.document.policies[0]!.mode = 'audit';
    expect(verifyPolicyBundle(altered, options)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyPolicyBundle({ document: signed.document }, options)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyPolicyBundle({ ...signed, signature: 'A'.repeat(86) }, options)).toEqual({ ok: false, reason: 'bad_signature' });
    const other = keys();
    const foreign = signPolicyBundle(other.signer, {
      kind: 'policy-bundle',
      hostId,
      sequence: 8,
      issuedAt: NOW.toISOString(),
      policies: [],
    });
    expect(verifyPolicyBundle(foreign, options)).toEqual({ ok: false, reason: 'bad_certificate' });
    expect(verifyPolicyBundle(signed, { ...options, hostId: randomUUID() })).toEqual({ ok: false, reason: 'wrong_host' });
    expect(verifyPolicyBundle(signed, { ...options, now: new Date(NOW.getTime() + 2 * DAY) })).toEqual({
      ok: false,
      reason: 'certificate_expired',
    });
    expect(verifyPolicyBundle('{"document": 1}', options)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses rules whose names could become options, paths or shell', () => {
    const check = compileSchema(PolicyRule);
    for (const rule of [
      { kind: 'package-installed', name: 'clamav; rm -rf /' },
      { kind: 'package-installed', name: '-oAPT::Update::Pre-Invoke::=sh' },
      { kind: 'package-absent', name: '../../etc/passwd' },
      { kind: 'service-running', name: 'clamd$(reboot)' },
      { kind: 'service-running', name: 'a\u0000b' },
      { kind: 'file-present', path: '/etc/../root/.ssh/authorized_keys', sha256: '0'.repeat(64) },
      { kind: 'file-present', path: 'relative/path', sha256: '0'.repeat(64) },
      { kind: 'antivirus', provider: 'norton' },
      { kind: 'antivirus', provider: 'clamav', maxSignatureAgeHours: 0 },
      { kind: 'shell', command: 'id' },
    ]) {
      expect(() => check(rule, 'rule'), JSON.stringify(rule)).toThrow();
    }
    expect(
      check({ kind: 'file-present', path: 'C:\\Windows\\System32\\drivers\\etc\\hosts', sha256: 'a'.repeat(64) }, 'rule'),
    ).toBeTruthy();
  });
});

describe('quarantine orders', () => {
  const { identity, signer } = keys();
  const options = { pinnedServerPublicKey: identity.publicKey, hostId, now: NOW };
  const draft = {
    kind: 'quarantine-order' as const,
    hostId,
    action: 'isolate' as const,
    sequence: 1,
    issuedAt: NOW.toISOString(),
    notAfter: new Date(NOW.getTime() + 3_600_000).toISOString(),
    allow: ['10.0.0.1', 'fd00::1'],
    ports: [8080],
    reason: 'worm outbreak',
  };

  it('verifies a fresh order and refuses an expired, future-dated or altered one', () => {
    const signed = signQuarantineOrder(signer, draft);
    expect(verifyQuarantineOrder(signed, options).ok).toBe(true);
    expect(verifyQuarantineOrder(signed, { ...options, now: new Date(NOW.getTime() + 2 * 3_600_000) })).toEqual({
      ok: false,
      reason: 'expired',
    });
    const future = signQuarantineOrder(signer, { ...draft, issuedAt: new Date(NOW.getTime() + 3_000_000).toISOString() });
    expect(verifyQuarantineOrder(future, options)).toEqual({ ok: false, reason: 'not_yet_valid' });
    const release = structuredClone(signed);
    release.document.action = 'release';
    expect(verifyQuarantineOrder(release, options)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses allow-list entries that are not addresses', () => {
    expect(() => signQuarantineOrder(signer, { ...draft, allow: ['example.com'] })).toThrow();
    expect(() => signQuarantineOrder(signer, { ...draft, allow: ['10.0.0.1; flush ruleset'] })).toThrow();
  });

  it('keeps a bundle signature from passing as an order signature', () => {
    const bundle = signPolicyBundle(signer, { kind: 'policy-bundle', hostId, sequence: 1, issuedAt: NOW.toISOString(), policies: [] });
    const order = signQuarantineOrder(signer, draft);
    expect(verifyQuarantineOrder({ ...order, signature: bundle.signature }, options)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
