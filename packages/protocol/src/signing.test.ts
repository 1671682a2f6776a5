import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fingerprint,
  formatJoinToken,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  PURPOSE,
  parseJoinToken,
  publicKeyOf,
  randomToken,
  sha256Hex,
  signFields,
  verifyFields,
} from './signing.js';

const B64URL_43 = /^[A-Za-z0-9_-]{43}$/;

/** Changes one character of `text` at `index` to a different base64url character. */
function alterChar(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('key generation', () => {
  it('makes an Ed25519 pair whose public key is 32 raw bytes as base64url', () => {
    const keys = generateKeyPair();
    expect(keys.publicKey).toMatch(B64URL_43);
    expect(Buffer.from(keys.publicKey, 'base64url')).toHaveLength(32);
    expect(keys.privateKeyPem).toContain('BEGIN PRIVATE KEY');
    expect(importPrivateKey(keys.privateKeyPem).asymmetricKeyType).toBe('ed25519');
  });

  it('derives the same public key from the private key', () => {
    const keys = generateKeyPair();
    expect(publicKeyOf(importPrivateKey(keys.privateKeyPem))).toBe(keys.publicKey);
  });

  it('makes a different pair every time', () => {
    expect(generateKeyPair().publicKey).not.toBe(generateKeyPair().publicKey);
  });

  it('refuses a private key that is not Ed25519', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => importPrivateKey(pem)).toThrow(/not Ed25519/);
  });

  it('refuses public keys that are not exactly 32 bytes of canonical base64url', () => {
    const { publicKey } = generateKeyPair();
    expect(() => importPublicKey(publicKey)).not.toThrow();
    for (const bad of [
      '',
      publicKey.slice(0, 42),
      `${publicKey}A`,
      `${publicKey.slice(0, 42)}=`,
      `${publicKey.slice(0, 42)}+`,
      ' '.repeat(43),
    ]) {
      expect(() => importPublicKey(bad), JSON.stringify(bad)).toThrow();
    }
  });
});

describe('fingerprint', () => {
  it('is the 43-character base64url sha256 of the raw public key', () => {
    const { publicKey } = generateKeyPair();
    const expected = createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64url');
    expect(fingerprint(publicKey)).toBe(expected);
    expect(fingerprint(publicKey)).toMatch(B64URL_43);
  });

  it('differs between keys', () => {
    expect(fingerprint(generateKeyPair().publicKey)).not.toBe(fingerprint(generateKeyPair().publicKey));
  });
});

describe('signFields and verifyFields', () => {
  const keys = generateKeyPair();
  const privateKey = importPrivateKey(keys.privateKeyPem);
  const fields = ['host-1', randomToken(), keys.publicKey];
  const signature = signFields(privateKey, PURPOSE.enroll, fields);

  it('produce a 64-byte signature that verifies with the public key, as text or as KeyObject', () => {
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(verifyFields(keys.publicKey, PURPOSE.enroll, fields, signature)).toBe(true);
    expect(verifyFields(importPublicKey(keys.publicKey), PURPOSE.enroll, fields, signature)).toBe(true);
  });

  it('round-trip for any fields without NUL', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
          { maxLength: 6 },
        ),
        (anyFields) => {
          const sig = signFields(privateKey, PURPOSE.authAnswer, anyFields);
          expect(verifyFields(keys.publicKey, PURPOSE.authAnswer, anyFields, sig)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('do not accept a signature made for one purpose as one for another', () => {
    const purposes = Object.values(PURPOSE);
    for (const made of purposes) {
      const sig = signFields(privateKey, made, fields);
      for (const checked of purposes) {
        expect(verifyFields(keys.publicKey, checked, fields, sig), `${made} as ${checked}`).toBe(made === checked);
      }
    }
  });

  it('do not verify when any field is altered, added, removed or reordered', () => {
    const variants: string[][] = [
      [`${fields[0]}x`, fields[1]!, fields[2]!],
      [fields[0]!, alterChar(fields[1]!, 0), fields[2]!],
      [...fields, ''],
      fields.slice(0, 2),
      [fields[1]!, fields[0]!, fields[2]!],
      // Field boundaries are part of what is signed: moving text across them breaks the signature.
      [`${fields[0]}${fields[1]}`, '', fields[2]!],
    ];
    for (const v of variants) expect(verifyFields(keys.publicKey, PURPOSE.enroll, v, signature), JSON.stringify(v)).toBe(false);
  });

  it('do not verify with another key', () => {
    expect(verifyFields(generateKeyPair().publicKey, PURPOSE.enroll, fields, signature)).toBe(false);
  });

  it('return false, never throw, for truncated, padded, altered or non-canonical signatures', () => {
    const alternativeLast = signature[85] === 'A' ? 'B' : 'A';
    const bad = [
      '',
      signature.slice(0, 85),
      signature.slice(0, 43),
      `${signature}A`,
      `${signature}=`,
      `${signature}!!`,
      `${signature.slice(0, 40)}*${signature.slice(41)}`,
      alterChar(signature, 10),
      // The last character has 4 unused bits; a second spelling of the same bytes is refused too.
      `${signature.slice(0, 85)}${alternativeLast}`,
    ];
    for (const sig of bad) expect(verifyFields(keys.publicKey, PURPOSE.enroll, fields, sig), JSON.stringify(sig)).toBe(false);
  });

  it('return false, never throw, for malformed public keys', () => {
    for (const key of ['', 'not a key', keys.publicKey.slice(0, 42), `${keys.publicKey}AA`, '\0'.repeat(43)]) {
      expect(verifyFields(key, PURPOSE.enroll, fields, signature), JSON.stringify(key)).toBe(false);
    }
  });

  it('return false, never throw, when a field to verify contains NUL', () => {
    expect(verifyFields(keys.publicKey, PURPOSE.enroll, ['a\0b'], signature)).toBe(false);
  });

  it('refuse to sign fields containing NUL, the separator of the signed message', () => {
    expect(() => signFields(privateKey, PURPOSE.enroll, ['a\0b', 'c'])).toThrow(/NUL/);
    expect(() => signFields(privateKey, PURPOSE.enroll, ['ok', '\0'])).toThrow(/NUL/);
  });
});

describe('randomToken and sha256Hex', () => {
  it('make 32 random bytes as 43 base64url characters by default', () => {
    expect(randomToken()).toMatch(B64URL_43);
    expect(randomToken()).not.toBe(randomToken());
    expect(Buffer.from(randomToken(16), 'base64url')).toHaveLength(16);
  });

  it('hash to 64 lowercase hex digits', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('join tokens', () => {
  const token = { fingerprint: fingerprint(generateKeyPair().publicKey), secret: randomToken() };

  it('format as brier1.<fingerprint>.<secret> and parse back', () => {
    const text = formatJoinToken(token);
    expect(text).toBe(`brier1.${token.fingerprint}.${token.secret}`);
    expect(parseJoinToken(text)).toEqual(token);
  });

  it('round-trip for any 43-character base64url parts', () => {
    const part = fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
      minLength: 43,
      maxLength: 43,
    });
    fc.assert(
      fc.property(part, part, (fp, secret) => {
        expect(parseJoinToken(formatJoinToken({ fingerprint: fp, secret }))).toEqual({ fingerprint: fp, secret });
      }),
    );
  });

  it('parse with surrounding whitespace, as pasted from a terminal', () => {
    expect(parseJoinToken(`  ${formatJoinToken(token)}\n`)).toEqual(token);
  });

  it('are refused when malformed', () => {
    const { fingerprint: fp, secret } = token;
    const malformed = [
      '',
      'brier1',
      `brier2.${fp}.${secret}`,
      `Brier1.${fp}.${secret}`,
      `brier.${fp}.${secret}`,
      `${fp}.${secret}`,
      `brier1.${fp.slice(1)}.${secret}`,
      `brier1.${fp}.${secret.slice(1)}`,
      `brier1.${fp}A.${secret}`,
      `brier1.${fp}.${secret}.extra`,
      `brier1..${fp}.${secret}`,
      `brier1.${fp}..${secret}`,
      `brier1.${fp}${secret}`,
      `brier1.${fp.slice(0, 20)} ${fp.slice(21)}.${secret}`,
      `brier1.${fp}.${secret.slice(0, 20)}\t${secret.slice(21)}`,
      `brier1 .${fp}.${secret}`,
      `brier1.${fp}.${secret.slice(0, 42)}=`,
      `brier1.${fp}.${secret.slice(0, 42)}+`,
    ];
    for (const text of malformed) expect(parseJoinToken(text), JSON.stringify(text)).toBeUndefined();
  });
});
