import { describe, expect, it } from 'vitest';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';

describe('passwords', () => {
  it('verifies a password against its own hash', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
  });

  it('salts every hash, so the same password never hashes the same twice', async () => {
    expect(await hashPassword('same password twice')).not.toBe(await hashPassword('same password twice'));
  });

  it('refuses a wrong password, including one differing only in case or by a trailing space', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(await verifyPassword('Correct horse battery staple', hash)).toBe(false);
    expect(await verifyPassword('correct horse battery staple ', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('treats canonically equivalent Unicode spellings as the same password', async () => {
    // "é" precomposed (U+00E9) and decomposed (e + U+0301) are typed differently on different systems.
    const hash = await hashPassword('caf\u00e9 au lait, s\u2019il vous pla\u00eet');
    expect(await verifyPassword('cafe\u0301 au lait, s\u2019il vous pla\u00eet', hash)).toBe(true);
  });

  it.each([
    ['an empty string', ''],
    ['another scheme', 'bcrypt$2b$10$abcdefghijklmnopqrstuv'],
    ['too few fields', 'scrypt$32768$8$1$c2FsdA'],
    ['too many fields', 'scrypt$32768$8$1$c2FsdA$aGFzaA$extra'],
    ['non-numeric parameters', 'scrypt$lots$8$1$c2FsdA$aGFzaA'],
    ['zero parameters', 'scrypt$0$8$1$c2FsdA$aGFzaA'],
    ['a cost that is not a power of two', 'scrypt$1000$8$1$c2FsdA$aGFzaA'],
    ['a cost beyond the memory limit', 'scrypt$1073741824$8$1$c2FsdA$aGFzaA'],
    ['a cost and block size that together exceed the memory limit', 'scrypt$1048576$32$1$c2FsdA$aGFzaA'],
    ['a parallelism that would cost minutes of CPU', 'scrypt$32768$8$100000$c2FsdA$aGFzaA'],
    ['an empty salt', 'scrypt$32768$8$1$$aGFzaA'],
    ['negative parameters', 'scrypt$-32768$8$1$c2FsdA$aGFzaA'],
    ['a truncated key', 'scrypt$16384$8$1$c2FsdA$aGFzaA'],
  ])('answers false, never throws, for a malformed stored hash: %s', async (_name, stored) => {
    await expect(verifyPassword('any password at all', stored)).resolves.toBe(false);
  });

  it('keeps one dummy hash that no guessable password matches', async () => {
    const dummy = await dummyPasswordHash();
    expect(await dummyPasswordHash()).toBe(dummy);
    expect(await verifyPassword('', dummy)).toBe(false);
    expect(await verifyPassword('admin', dummy)).toBe(false);
  });
});
