import type { KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  certifyWorkKey,
  generateKeyPair,
  importPrivateKey,
  publicKeyOf,
  randomToken,
  verifyWorkKeyCertificate,
  type WorkKeyCertificate,
} from '@brier/protocol';
import type { ServerIdentity } from './server-identity.js';

/**
 * The key that signs work for agents. Like the server identity it lives in a file in the data
 * directory (mode 0600) and never in the database, so someone who can write the database still
 * cannot make an agent run anything. It is a separate key, certified by the identity key agents
 * pinned at enrolment, so it can be rotated without re-enrolling the fleet.
 *
 * Files in the data directory:
 *   work-signing-key.pem           the current private key (PKCS#8)
 *   work-signing-key.cert.json     its certificate, re-issued by the identity when close to expiry
 *   work-signing-key.retired.json  certificates of keys retired by rotation, oldest first
 *
 * Retired keys are kept as their certificates (public key and validity) only. Verifying history and
 * delivering work signed before a rotation need nothing more, and a retired private key left on disk
 * could go on signing work that agents accept until its certificate lapses.
 */

export const WORK_KEY_FILE = 'work-signing-key.pem';
export const WORK_KEY_CERTIFICATE_FILE = 'work-signing-key.cert.json';
export const WORK_KEY_RETIRED_FILE = 'work-signing-key.retired.json';

const DAY_MS = 24 * 3600_000;
/** How long a certificate is valid. */
export const WORK_KEY_CERTIFICATE_VALIDITY_MS = 365 * DAY_MS;
/** A certificate with less than this left is re-issued on load, long before any agent would refuse it. */
export const WORK_KEY_RENEW_BEFORE_MS = 30 * DAY_MS;
/** Certificates start this far in the past, so agents whose clocks run a little behind still accept them. */
export const WORK_KEY_BACKDATE_MS = 3600_000;

export interface WorkSigningKey {
  privateKey: KeyObject;
  publicKey: string;
  /** fingerprint(publicKey): what assignments name as their `keyId`. */
  keyId: string;
  certificate: WorkKeyCertificate;
  /** Certificates of keys retired by rotation, oldest first; never includes the current key. */
  retired: readonly WorkKeyCertificate[];
}

export class WorkKeyError extends Error {
  override name = 'WorkKeyError';
}

function validNow(now: Date): number {
  const ms = now.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('now is not a valid date');
  return ms;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `file` so a crash leaves the old content or the new, never a torn file: a fresh
 * temporary file (mode 0600 from its first byte), fsynced, then renamed over the target, or with
 * `exclusive` hard-linked to it, which fails if the target appeared meanwhile. Returns false only
 * when `exclusive` found the file already there.
 */
function writeAtomic(file: string, data: string, exclusive: boolean): boolean {
  const tmp = `${file}.${process.pid}.${randomToken(6)}.tmp`;
  let placed = true;
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (exclusive) {
      try {
        linkSync(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        placed = false;
      }
    } else {
      renameSync(tmp, file);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  if (placed) fsyncDir(path.dirname(file));
  return placed;
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WorkKeyError(`cannot read ${file}`, { cause: err });
  }
}

function parsePrivateKey(pem: string, file: string): KeyObject {
  try {
    return importPrivateKey(pem);
  } catch (cause) {
    // Never replaced silently: work already signed with it would stop verifying, and a damaged key
    // file is something an operator must look at.
    throw new WorkKeyError(`${file} is not an Ed25519 private key; restore it from a backup or remove it to create a new key`, { cause });
  }
}

/**
 * The current private key, created on first use. Two servers starting at once on a shared data
 * directory agree on one key: the exclusive link lets only the first one's file in.
 */
function loadOrCreatePrivateKey(dataDir: string): KeyObject {
  const file = path.join(dataDir, WORK_KEY_FILE);
  const existing = readOptional(file);
  if (existing !== undefined) return parsePrivateKey(existing, file);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { privateKeyPem } = generateKeyPair();
  if (writeAtomic(file, privateKeyPem, true)) return importPrivateKey(privateKeyPem);
  return parsePrivateKey(readFileSync(file, 'utf8'), file);
}

function readCertificate(dataDir: string): unknown {
  const text = readOptional(path.join(dataDir, WORK_KEY_CERTIFICATE_FILE));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // The certificate is derived data: a damaged one is simply issued again.
    return undefined;
  }
}

function readRetired(dataDir: string, identity: ServerIdentity): WorkKeyCertificate[] {
  const file = path.join(dataDir, WORK_KEY_RETIRED_FILE);
  const text = readOptional(file);
  if (text === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (cause) {
    throw new WorkKeyError(`${file} is damaged; restore it from a backup`, { cause });
  }
  if (!Array.isArray(list)) throw new WorkKeyError(`${file} is damaged; restore it from a backup`);
  // Certificates from an earlier identity mean nothing to agents pinned to this one.
  return list.filter((c): c is WorkKeyCertificate => verifyWorkKeyCertificate(c, identity.publicKey));
}

function issue(identity: ServerIdentity, publicKey: string, now: number): WorkKeyCertificate {
  return certifyWorkKey(
    identity.privateKey,
    publicKey,
    new Date(now - WORK_KEY_BACKDATE_MS),
    new Date(now + WORK_KEY_CERTIFICATE_VALIDITY_MS),
  );
}

function writeJson(dataDir: string, name: string, value: unknown): void {
  writeAtomic(path.join(dataDir, name), `${JSON.stringify(value, null, 2)}\n`, false);
}

/**
 * Loads the work-signing key and a certificate for it that is valid at `now` for at least
 * WORK_KEY_RENEW_BEFORE_MS more; creates the key on first use, and issues a new certificate when
 * the stored one is missing, damaged, close to expiry, for another key, or from another identity.
 * Writes only inside `dataDir`; never touches the database.
 */
export function loadWorkSigningKey(dataDir: string, identity: ServerIdentity, now: Date): WorkSigningKey {
  const at = validNow(now);
  const privateKey = loadOrCreatePrivateKey(dataDir);
  const publicKey = publicKeyOf(privateKey);
  if (publicKey === identity.publicKey) {
    // One key for both roles would make rotation rotate the identity agents pinned.
    throw new WorkKeyError(
      `${path.join(dataDir, WORK_KEY_FILE)} holds the server identity key; the work-signing key must be a different key`,
    );
  }
  const stored = readCertificate(dataDir);
  let certificate: WorkKeyCertificate;
  if (
    verifyWorkKeyCertificate(stored, identity.publicKey) &&
    stored.publicKey === publicKey &&
    Date.parse(stored.notBefore) <= at &&
    at < Date.parse(stored.notAfter) - WORK_KEY_RENEW_BEFORE_MS
  ) {
    certificate = stored;
  } else {
    certificate = issue(identity, publicKey, at);
    writeJson(dataDir, WORK_KEY_CERTIFICATE_FILE, certificate);
  }
  // A crash during rotation may have retired the key that is still current: it is current, not retired.
  const retired = readRetired(dataDir, identity).filter((c) => c.keyId !== certificate.keyId);
  return { privateKey, publicKey, keyId: certificate.keyId, certificate, retired };
}

/**
 * Replaces the work-signing key with a new one and returns it. The previous key's certificate is
 * kept in the retired list, so work signed before the rotation can still be verified and delivered
 * until that certificate lapses; its private key is deleted (overwritten by the rename).
 *
 * Crash-safe in any order of events: the retired list is written first (a retired-but-current key
 * is ignored on load), then the key, then its certificate (a key without a matching certificate is
 * re-certified on load).
 */
export function rotateWorkSigningKey(dataDir: string, identity: ServerIdentity, now: Date): WorkSigningKey {
  const at = validNow(now);
  const current = loadWorkSigningKey(dataDir, identity, now);
  const retired = [...current.retired, current.certificate];
  writeJson(dataDir, WORK_KEY_RETIRED_FILE, retired);
  const { privateKeyPem } = generateKeyPair();
  writeAtomic(path.join(dataDir, WORK_KEY_FILE), privateKeyPem, false);
  const privateKey = importPrivateKey(privateKeyPem);
  const publicKey = publicKeyOf(privateKey);
  const certificate = issue(identity, publicKey, at);
  writeJson(dataDir, WORK_KEY_CERTIFICATE_FILE, certificate);
  return { privateKey, publicKey, keyId: certificate.keyId, certificate, retired };
}

/** The certificate to attach when delivering work signed by `keyId`: the current key's or a retired one's. */
export function certificateForKeyId(key: WorkSigningKey, keyId: string): WorkKeyCertificate | undefined {
  if (key.keyId === keyId) return key.certificate;
  return key.retired.findLast((c) => c.keyId === keyId);
}
