import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canonicalJson, compileSchema, type PolicyBundle, PolicyRule, PURPOSE, type SignedPolicyBundle, signFields } from '@brier/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { at, HOUR, NOW, policy, type ServerKeys, serverKeys, signBundle } from './__fixtures__/signed-bundles.js';
import { BUNDLE_FILE, BundleStore } from './bundle-store.js';

const logger = pino({ level: 'silent' });
const hostId = randomUUID();
let dir: string;
let keys: ServerKeys;

function store(now = NOW, identity = { hostId, serverPublicKey: keys.serverPublicKey }) {
  return new BundleStore({ dir, identity, logger, now: () => now });
}

function onDisk(): string | undefined {
  try {
    return readFileSync(path.join(dir, BUNDLE_FILE), 'utf8');
  } catch {
    return undefined;
  }
}

/** A store holding a genuine bundle of sequence 5, and what it held, to show a refusal changes nothing. */
function holding() {
  const s = store();
  const held = signBundle(keys.signer, hostId, 5, [policy()]);
  expect(s.accept(held).outcome).toBe('accepted');
  return { s, held, file: onDisk() };
}

function expectUnchanged(s: BundleStore, held: SignedPolicyBundle, file: string | undefined) {
  expect(s.sequence).toBe(5);
  expect(s.bundle).toEqual(held.document);
  expect(onDisk()).toBe(file);
}

/** Signs a document exactly as the server would, without the schema check signPolicyBundle does first. */
function signRaw(document: unknown): SignedPolicyBundle {
  return {
    document,
    signature: signFields(keys.signer.privateKey, `${PURPOSE.desiredState}/policy-bundle`, [canonicalJson(document)]),
    keyCertificate: keys.signer.certificate,
  } as SignedPolicyBundle;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'brier-bundle-'));
  keys = serverKeys();
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('BundleStore accepting bundles', () => {
  it('accepts a genuine bundle, stores it and enforces it again after a restart', () => {
    const s = store();
    expect(s.sequence).toBe(0);
    const signed = signBundle(keys.signer, hostId, 7, [policy()]);
    expect(s.accept(signed)).toEqual({ outcome: 'accepted', bundle: signed.document });
    expect(s.sequence).toBe(7);
    expect(JSON.parse(onDisk() ?? '')).toEqual(signed);

    const restarted = store();
    expect(restarted.load()).toEqual(signed.document);
    expect(restarted.sequence).toBe(7);
  });

  it('replaces the held bundle with a newer one', () => {
    const { s } = holding();
    const newer = signBundle(keys.signer, hostId, 6, [policy({ mode: 'audit' })]);
    expect(s.accept(newer).outcome).toBe('accepted');
    expect(s.bundle).toEqual(newer.document);
    expect(JSON.parse(onDisk() ?? '')).toEqual(newer);
  });

  it('treats the held bundle sent again as a no-op', () => {
    const { s, held, file } = holding();
    expect(s.accept(structuredClone(held))).toEqual({ outcome: 'unchanged', bundle: held.document });
    expectUnchanged(s, held, file);
  });
});

describe('BundleStore refusing bundles, changing nothing', () => {
  it('refuses an unsigned bundle', () => {
    const { s, held, file } = holding();
    const newer = signBundle(keys.signer, hostId, 9, [policy({ mode: 'audit' })]);
    expect(s.accept({ document: newer.document, keyCertificate: newer.keyCertificate })).toEqual({
      outcome: 'refused',
      reason: 'malformed',
    });
    expect(s.accept(newer.document)).toEqual({ outcome: 'refused', reason: 'malformed' });
    expectUnchanged(s, held, file);
  });

  it.each([
    ['the mode', (b: PolicyBundle) => Object.assign(b.policies[0] ?? {}, { mode: 'audit' })],
    ['the sequence', (b: PolicyBundle) => Object.assign(b, { sequence: 99 })],
    ['a rule', (b: PolicyBundle) => Object.assign(b.policies[0] ?? {}, { rules: [{ kind: 'package-absent', name: 'clamav' }] })],
  ])('refuses a bundle with %s changed after signing', (_what, alter) => {
    const { s, held, file } = holding();
    const altered = structuredClone(signBundle(keys.signer, hostId, 8, [policy()]));
    alter(altered.document);
    expect(s.accept(altered)).toEqual({ outcome: 'refused', reason: 'bad_signature' });
    expectUnchanged(s, held, file);
  });

  it('refuses a bundle for another host', () => {
    const { s, held, file } = holding();
    expect(s.accept(signBundle(keys.signer, randomUUID(), 8, [policy()]))).toEqual({ outcome: 'refused', reason: 'wrong_host' });
    expectUnchanged(s, held, file);
  });

  it('refuses an older bundle (a replay cannot switch enforcement off)', () => {
    const { s, held, file } = holding();
    expect(s.accept(signBundle(keys.signer, hostId, 4, []))).toEqual({ outcome: 'refused', reason: 'older_sequence' });
    expectUnchanged(s, held, file);
  });

  it('refuses a different bundle with the held sequence', () => {
    const { s, held, file } = holding();
    expect(s.accept(signBundle(keys.signer, hostId, 5, []))).toEqual({ outcome: 'refused', reason: 'conflicting_sequence' });
    expectUnchanged(s, held, file);
  });

  it('refuses a bundle whose certificate comes from another identity', () => {
    const { s, held, file } = holding();
    const impostor = serverKeys();
    expect(s.accept(signBundle(impostor.signer, hostId, 8, [policy()]))).toEqual({ outcome: 'refused', reason: 'bad_certificate' });
    // The impostor's work key with the genuine certificate attached does not verify either.
    const mixed = { ...signBundle(impostor.signer, hostId, 8, [policy()]), keyCertificate: keys.signer.certificate };
    expect(s.accept(mixed).outcome).toBe('refused');
    expectUnchanged(s, held, file);
  });

  it('refuses a bundle signed with a work key whose certificate has expired', () => {
    const { s, held, file } = holding();
    const expired = keys.certify(at(-48 * HOUR), at(-HOUR));
    expect(s.accept(signBundle(expired, hostId, 8, [policy()]))).toEqual({ outcome: 'refused', reason: 'certificate_expired' });
    expectUnchanged(s, held, file);
  });

  it('refuses garbage of every shape without throwing', () => {
    const { s, held, file } = holding();
    for (const junk of [null, undefined, 42, 'policy', [], {}, { document: null, signature: 'x', keyCertificate: null }]) {
      expect(s.accept(junk)).toEqual({ outcome: 'refused', reason: 'malformed' });
    }
    expectUnchanged(s, held, file);
  });

  it('refuses when the bundle cannot be stored, keeping the held one', () => {
    const file = path.join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const s = new BundleStore({ dir: file, identity: { hostId, serverPublicKey: keys.serverPublicKey }, logger, now: () => NOW });
    expect(s.accept(signBundle(keys.signer, hostId, 3, [policy()]))).toEqual({ outcome: 'refused', reason: 'not_stored' });
    expect(s.sequence).toBe(0);
    expect(s.bundle).toBeUndefined();
  });
});

describe('BundleStore loading at start', () => {
  it('keeps enforcing a stored bundle whose certificate expired while the host was offline', () => {
    const { held } = holding();
    const monthsLater = at(400 * 24 * HOUR);
    const s = store(monthsLater);
    expect(s.load()).toEqual(held.document);
    // A new bundle still has to be valid now.
    expect(s.accept(signBundle(keys.signer, hostId, 6, [])).outcome).toBe('refused');
  });

  it('ignores garbage JSON on disk, leaving the file for inspection', () => {
    writeFileSync(path.join(dir, BUNDLE_FILE), '{"document": [1, 2');
    const s = store();
    expect(s.load()).toBeUndefined();
    expect(s.sequence).toBe(0);
    expect(onDisk()).toBe('{"document": [1, 2');
  });

  it('ignores a stored bundle altered on disk', () => {
    const { held } = holding();
    const altered = structuredClone(held);
    Object.assign(altered.document.policies[0] ?? {}, { mode: 'audit' });
    writeFileSync(path.join(dir, BUNDLE_FILE), JSON.stringify(altered));
    const s = store();
    expect(s.load()).toBeUndefined();
    expect(s.bundle).toBeUndefined();
  });

  it('ignores a stored bundle of another host or another server (a copied state directory)', () => {
    holding();
    expect(store(NOW, { hostId: randomUUID(), serverPublicKey: keys.serverPublicKey }).load()).toBeUndefined();
    expect(store(NOW, { hostId, serverPublicKey: serverKeys().serverPublicKey }).load()).toBeUndefined();
  });

  it('starts without a bundle when none is stored', () => {
    const s = store();
    expect(s.load()).toBeUndefined();
    expect(s.sequence).toBe(0);
  });
});

describe('injection attempts in policy rules', () => {
  const HOSTILE = ['clamav; rm -rf /', '-oAPT::X=1', '../../etc', 'clamav\nrm', '$(reboot)', 'a b', '', '--purge'];
  const checkRule = compileSchema(PolicyRule);

  it.each(HOSTILE)('the wire schema refuses the package and service name %j', (name) => {
    for (const kind of ['package-installed', 'package-absent', 'service-running'] as const) {
      expect(() => checkRule({ kind, name }, 'rule')).toThrow();
    }
  });

  it.each(['../../etc/shadow', 'relative/path', '/etc/../etc/shadow', '/etc/x\u0000y'])('the wire schema refuses the file path %j', (p) => {
    expect(() => checkRule({ kind: 'file-present', path: p, sha256: 'a'.repeat(64) }, 'rule')).toThrow();
  });

  it('refuses a correctly signed bundle carrying a hostile name (the schema is checked after the signature)', () => {
    const { s, held, file } = holding();
    const document = {
      ...signBundle(keys.signer, hostId, 9, [policy()]).document,
      policies: [policy({ rules: [{ kind: 'package-installed', name: 'clamav; rm -rf /' }] })],
    };
    expect(s.accept(signRaw(document))).toEqual({ outcome: 'refused', reason: 'malformed' });
    expectUnchanged(s, held, file);
  });
});
