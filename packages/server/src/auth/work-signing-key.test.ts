import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  fingerprint,
  generateKeyPair,
  publicKeyOf,
  signAssignment,
  verifySignedAssignment,
  verifyWorkKeyCertificate,
} from '@brier/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identityFromPem, type ServerIdentity } from './server-identity.js';
import {
  certificateForKeyId,
  loadWorkSigningKey,
  rotateWorkSigningKey,
  WORK_KEY_CERTIFICATE_FILE,
  WORK_KEY_CERTIFICATE_VALIDITY_MS,
  WORK_KEY_FILE,
  WORK_KEY_RENEW_BEFORE_MS,
  WORK_KEY_RETIRED_FILE,
  WorkKeyError,
  type WorkSigningKey,
} from './work-signing-key.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const DAY = 24 * 3600_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

let root: string;
let dataDir: string;
let identity: ServerIdentity;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'brier-work-key-'));
  dataDir = path.join(root, 'data');
  identity = identityFromPem(generateKeyPair().privateKeyPem);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const file = (name: string) => path.join(dataDir, name);
const modeOf = (name: string) => statSync(file(name)).mode & 0o777;

/** Signs an assignment for a fresh host with `key` and verifies it as that host's agent would at `now`. */
function signAndVerify(key: WorkSigningKey, now: Date, certificate = key.certificate): string {
  const hostId = randomUUID();
  const signed = signAssignment(
    key.privateKey,
    key.certificate,
    {
      assignmentId: randomUUID(),
      deploymentId: randomUUID(),
      hostId,
      notBefore: now.toISOString(),
      expiresAt: new Date(now.getTime() + DAY).toISOString(),
      sequence: 1,
    },
    { kind: 'package-upgrade', packages: [{ ecosystem: 'dpkg', name: 'openssl', version: null }], rebootPolicy: 'never' },
  );
  const result = verifySignedAssignment(JSON.parse(JSON.stringify({ ...signed, keyCertificate: certificate })), {
    pinnedServerPublicKey: identity.publicKey,
    hostId,
    now,
  });
  return result.ok ? 'ok' : result.reason;
}

describe('the work-signing key', () => {
  it('is created on first load as a 0600 PEM file with a certificate from the server identity', () => {
    const key = loadWorkSigningKey(dataDir, identity, NOW);
    expect(modeOf(WORK_KEY_FILE)).toBe(0o600);
    expect(modeOf(WORK_KEY_CERTIFICATE_FILE)).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(file(WORK_KEY_FILE), 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(key.publicKey).toBe(publicKeyOf(key.privateKey));
    expect(key.keyId).toBe(fingerprint(key.publicKey));
    expect(key.publicKey).not.toBe(identity.publicKey);
    expect(verifyWorkKeyCertificate(key.certificate, identity.publicKey)).toBe(true);
    expect(key.certificate).toMatchObject({ keyId: key.keyId, publicKey: key.publicKey });
    expect(Date.parse(key.certificate.notBefore)).toBeLessThanOrEqual(NOW.getTime());
    expect(Date.parse(key.certificate.notAfter)).toBe(NOW.getTime() + WORK_KEY_CERTIFICATE_VALIDITY_MS);
    expect(key.retired).toEqual([]);
    expect(signAndVerify(key, NOW)).toBe('ok');
  });

  it('reloads identical, certificate included', () => {
    const first = loadWorkSigningKey(dataDir, identity, NOW);
    const before = readFileSync(file(WORK_KEY_CERTIFICATE_FILE), 'utf8');
    const again = loadWorkSigningKey(dataDir, identity, at(DAY));
    expect(again.keyId).toBe(first.keyId);
    expect(again.certificate).toEqual(first.certificate);
    expect(readFileSync(file(WORK_KEY_CERTIFICATE_FILE), 'utf8')).toBe(before);
  });

  it('writes nothing outside the data directory and leaves no temporary files behind', () => {
    loadWorkSigningKey(dataDir, identity, NOW);
    rotateWorkSigningKey(dataDir, identity, at(DAY));
    loadWorkSigningKey(dataDir, identity, at(400 * DAY));
    expect(readdirSync(root)).toEqual(['data']);
    expect(readdirSync(dataDir).sort()).toEqual([WORK_KEY_CERTIFICATE_FILE, WORK_KEY_FILE, WORK_KEY_RETIRED_FILE].sort());
  });

  it('is re-certified, under the same key id, when its certificate comes close to expiry', () => {
    const first = loadWorkSigningKey(dataDir, identity, NOW);
    const renewAt = Date.parse(first.certificate.notAfter) - WORK_KEY_RENEW_BEFORE_MS;
    expect(loadWorkSigningKey(dataDir, identity, new Date(renewAt - 1)).certificate).toEqual(first.certificate);
    const renewed = loadWorkSigningKey(dataDir, identity, new Date(renewAt));
    expect(renewed.keyId).toBe(first.keyId);
    expect(renewed.certificate).not.toEqual(first.certificate);
    expect(Date.parse(renewed.certificate.notAfter)).toBe(renewAt + WORK_KEY_CERTIFICATE_VALIDITY_MS);
    expect(loadWorkSigningKey(dataDir, identity, new Date(renewAt + DAY)).certificate).toEqual(renewed.certificate);
  });

  it('is re-certified when the certificate file is missing, damaged, edited or from another identity', () => {
    const first = loadWorkSigningKey(dataDir, identity, NOW);
    const damage = [
      () => rmSync(file(WORK_KEY_CERTIFICATE_FILE)),
      () => writeFileSync(file(WORK_KEY_CERTIFICATE_FILE), '{"keyId": '),
      () => writeFileSync(file(WORK_KEY_CERTIFICATE_FILE), JSON.stringify({ ...first.certificate, notAfter: '2099-01-01T00:00:00.000Z' })),
      () => writeFileSync(file(WORK_KEY_CERTIFICATE_FILE), JSON.stringify([first.certificate])),
    ];
    for (const act of damage) {
      act();
      const key = loadWorkSigningKey(dataDir, identity, NOW);
      expect(key.keyId).toBe(first.keyId);
      expect(verifyWorkKeyCertificate(key.certificate, identity.publicKey)).toBe(true);
      expect(JSON.parse(readFileSync(file(WORK_KEY_CERTIFICATE_FILE), 'utf8'))).toEqual(key.certificate);
    }
    const newIdentity = identityFromPem(generateKeyPair().privateKeyPem);
    const key = loadWorkSigningKey(dataDir, newIdentity, NOW);
    expect(key.keyId).toBe(first.keyId);
    expect(verifyWorkKeyCertificate(key.certificate, newIdentity.publicKey)).toBe(true);
    expect(verifyWorkKeyCertificate(key.certificate, identity.publicKey)).toBe(false);
  });

  it('is never replaced silently when its file is damaged', () => {
    loadWorkSigningKey(dataDir, identity, NOW);
    writeFileSync(file(WORK_KEY_FILE), '-----BEGIN PRIVATE KEY-----\ngarbage\n');
    expect(() => loadWorkSigningKey(dataDir, identity, NOW)).toThrow(WorkKeyError);
    expect(readFileSync(file(WORK_KEY_FILE), 'utf8')).toBe('-----BEGIN PRIVATE KEY-----\ngarbage\n');
  });

  it('refuses to be the server identity key itself', () => {
    loadWorkSigningKey(dataDir, identity, NOW);
    writeFileSync(file(WORK_KEY_FILE), identity.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => loadWorkSigningKey(dataDir, identity, NOW)).toThrow(/server identity key/);
  });

  it('refuses an invalid clock', () => {
    expect(() => loadWorkSigningKey(dataDir, identity, new Date(Number.NaN))).toThrow(RangeError);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('rotation', () => {
  it('produces a new key id whose certificate verifies against the identity key', () => {
    const before = loadWorkSigningKey(dataDir, identity, NOW);
    const after = rotateWorkSigningKey(dataDir, identity, at(DAY));
    expect(after.keyId).not.toBe(before.keyId);
    expect(after.keyId).toBe(fingerprint(after.publicKey));
    expect(verifyWorkKeyCertificate(after.certificate, identity.publicKey)).toBe(true);
    expect(modeOf(WORK_KEY_FILE)).toBe(0o600);
    expect(signAndVerify(after, at(DAY))).toBe('ok');
  });

  it('keeps the previous key as a retired certificate, and its private key no longer', () => {
    const before = loadWorkSigningKey(dataDir, identity, NOW);
    const oldPem = readFileSync(file(WORK_KEY_FILE), 'utf8');
    const after = rotateWorkSigningKey(dataDir, identity, at(DAY));
    expect(after.retired).toEqual([before.certificate]);
    expect(certificateForKeyId(after, before.keyId)).toEqual(before.certificate);
    expect(certificateForKeyId(after, after.keyId)).toEqual(after.certificate);
    expect(certificateForKeyId(after, 'x'.repeat(43))).toBeUndefined();
    for (const name of readdirSync(dataDir)) expect(readFileSync(file(name), 'utf8')).not.toContain(oldPem.trim());
    expect(loadWorkSigningKey(dataDir, identity, at(2 * DAY))).toMatchObject({ keyId: after.keyId, retired: [before.certificate] });
  });

  it('leaves work signed before the rotation verifiable with the retired certificate', () => {
    const before = loadWorkSigningKey(dataDir, identity, NOW);
    const after = rotateWorkSigningKey(dataDir, identity, at(DAY));
    const retired = certificateForKeyId(after, before.keyId);
    expect(signAndVerify(before, at(DAY), retired)).toBe('ok');
    // The new key's certificate does not vouch for the old key's signatures.
    expect(signAndVerify(before, at(DAY), after.certificate)).toBe('bad_certificate');
  });

  it('keeps every retired key, oldest first, across several rotations', () => {
    const keys = [loadWorkSigningKey(dataDir, identity, NOW)];
    for (let i = 1; i <= 3; i++) keys.push(rotateWorkSigningKey(dataDir, identity, at(i * DAY)));
    const last = loadWorkSigningKey(dataDir, identity, at(4 * DAY));
    expect(last.keyId).toBe(keys[3]?.keyId);
    expect(last.retired.map((c) => c.keyId)).toEqual(keys.slice(0, 3).map((k) => k.keyId));
  });

  it('creates a key when there was none to rotate', () => {
    const key = rotateWorkSigningKey(dataDir, identity, NOW);
    expect(verifyWorkKeyCertificate(key.certificate, identity.publicKey)).toBe(true);
    expect(key.retired).toHaveLength(1);
  });

  it('recovers from a crash after the retired list was written but before the key was replaced', () => {
    const current = loadWorkSigningKey(dataDir, identity, NOW);
    writeFileSync(file(WORK_KEY_RETIRED_FILE), JSON.stringify([current.certificate]));
    const key = loadWorkSigningKey(dataDir, identity, NOW);
    expect(key.keyId).toBe(current.keyId);
    expect(key.retired).toEqual([]);
  });

  it('recovers from a crash after the key was replaced but before its certificate was written', () => {
    loadWorkSigningKey(dataDir, identity, NOW);
    writeFileSync(file(WORK_KEY_FILE), generateKeyPair().privateKeyPem);
    const key = loadWorkSigningKey(dataDir, identity, NOW);
    expect(key.certificate.publicKey).toBe(key.publicKey);
    expect(signAndVerify(key, NOW)).toBe('ok');
  });

  it('refuses to start on a damaged retired list rather than forget history', () => {
    loadWorkSigningKey(dataDir, identity, NOW);
    writeFileSync(file(WORK_KEY_RETIRED_FILE), '[{"keyId"');
    expect(() => loadWorkSigningKey(dataDir, identity, NOW)).toThrow(WorkKeyError);
    expect(() => rotateWorkSigningKey(dataDir, identity, NOW)).toThrow(WorkKeyError);
  });
});
