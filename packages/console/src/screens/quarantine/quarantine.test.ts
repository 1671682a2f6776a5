import { describe, expect, it } from 'vitest';
import { approvedHosts, canRelease, checkReason, needsAttention, quarantineState } from './quarantine';

describe('quarantine states', () => {
  it('lists hosts that are isolated, about to be, or whose isolation went wrong', () => {
    expect(needsAttention({ state: 'isolated', action: 'isolate' })).toBe(true);
    expect(needsAttention({ state: 'pending', action: 'isolate' })).toBe(true);
    expect(needsAttention({ state: 'pending', action: 'release' })).toBe(true);
    expect(needsAttention({ state: 'failed', action: 'isolate' })).toBe(true);
    expect(needsAttention({ state: 'refused', action: 'isolate' })).toBe(true);
    expect(needsAttention({ state: 'released', action: 'release' })).toBe(false);
    expect(needsAttention({ state: 'none', action: null })).toBe(false);
    expect(needsAttention({ state: 'failed', action: 'release' })).toBe(false);
  });

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

  it('picks the distinct hosts of approved requests, bounded', () => {
    const r = (hostId: string, state: 'approved' | 'pending' | 'rejected' | 'cancelled') => ({ hostId, hostname: `h-${hostId}`, state });
    expect(approvedHosts([r('a', 'approved'), r('b', 'pending'), r('a', 'approved'), r('c', 'approved'), r('d', 'rejected')])).toEqual([
      { id: 'a', hostname: 'h-a' },
      { id: 'c', hostname: 'h-c' },
    ]);
    expect(
      approvedHosts(
        Array.from({ length: 80 }, (_, i) => r(String(i), 'approved')),
        10,
      ),
    ).toHaveLength(10);
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
