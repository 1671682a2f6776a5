import { describe, expect, it } from 'vitest';
import { INJECTION_NAMES } from './__fixtures__/injection-names.js';
import { assertServiceName, InvalidServiceNameError, isValidServiceName, refusedName } from './service-name.js';

describe('the service name grammar', () => {
  it('accepts systemd units, init scripts, Windows service names and launchd labels', () => {
    for (const name of [
      'clamav-daemon',
      'getty@tty1',
      'ssh',
      'WinDefend',
      'com.apple.xprotect',
      'postgresql@15-main',
      'a',
      'x+y_z',
      'a'.repeat(128),
    ]) {
      expect(isValidServiceName(name), name).toBe(true);
    }
  });

  it('refuses options, paths, shell syntax, quotes, whitespace, control characters and non-strings', () => {
    for (const name of INJECTION_NAMES) expect(isValidServiceName(name), JSON.stringify(name)).toBe(false);
  });

  it('throws an error with the stable code invalid-request from assertServiceName', () => {
    expect(() => assertServiceName('$(id)')).toThrow(InvalidServiceNameError);
    try {
      assertServiceName('-x');
    } catch (err) {
      expect((err as InvalidServiceNameError).code).toBe('invalid-request');
      expect((err as Error).message).toContain('"-x"');
    }
  });

  it('returns a failed result with code invalid-request from refusedName, showing control characters escaped', () => {
    const result = refusedName('a\nb');
    expect(result).toMatchObject({ ok: false, code: 'invalid-request' });
    expect(result.detail).toContain('"a\\nb"');
  });
});
