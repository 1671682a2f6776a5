import { describe, expect, it } from 'vitest';
import { canRelease, checkReason, isOrderState, quarantineState } from './quarantine';

describe('quarantine states', () => {
  it('offers Release only after an isolate order', () => {
    expect(canRelease({ state: 'isolated', action: 'isolate' })).toBe(true);
    expect(canRelease({ state: 'pending', action: 'isolate' })).toBe(true);
    expect(canRelease({ state: 'released', action: 'release' })).toBe(false);
    expect(canRelease({ state: 'pending', action: 'release' })).toBe(false);
    expect(canRelease({ state: 'none', action: null })).toBe(false);
  });

  it('names each state', () => {
    expect(quarantineState('pending', 'release').text).toBe('release pending');
    expect(quarantineState('pending', 'isolate').text).toBe('isolation pending');
    expect(quarantineState('none', null).text).toBe('not quarantined');
  });

  it('knows the order states the list filters by', () => {
    expect(isOrderState('isolated')).toBe(true);
    expect(isOrderState('released')).toBe(true);
    expect(isOrderState('none')).toBe(false);
    expect(isOrderState('')).toBe(false);
    expect(isOrderState('__proto__')).toBe(false);
  });
});

describe('checkReason', () => {
  it('takes a trimmed reason and refuses what the server would', () => {
    expect(checkReason('  malware found  ', true)).toEqual({ ok: true, value: 'malware found' });
    expect(checkReason('', false)).toEqual({ ok: true, value: undefined });
    expect(checkReason('  ', true).ok).toBe(false);
    expect(checkReason('line\nbreak', true).ok).toBe(false);
    expect(checkReason('nul\u0000', true).ok).toBe(false);
    expect(checkReason('x'.repeat(501), true).ok).toBe(false);
    expect(checkReason('😀'.repeat(500), true).ok).toBe(true);
  });
});
