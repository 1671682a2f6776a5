import { describe, expect, it } from 'vitest';
import { joinTokenFromForm, joinTokenState } from './join-tokens';

describe('join token form', () => {
  it('sends hours, auto-approve, and max uses only when set', () => {
    expect(joinTokenFromForm({ autoApprove: true, expiresInHours: '24', maxUses: '' })).toEqual({
      ok: true,
      body: { autoApprove: true, expiresInHours: 24 },
    });
    expect(joinTokenFromForm({ autoApprove: false, expiresInHours: ' 48 ', maxUses: '10' })).toEqual({
      ok: true,
      body: { autoApprove: false, expiresInHours: 48, maxUses: 10 },
    });
  });

  it('refuses values out of the server range', () => {
    for (const [h, u] of [
      ['0', ''],
      ['', ''],
      ['8761', ''],
      ['1.5', ''],
      ['24', '0'],
      ['24', '1000001'],
      ['24', '-1'],
      ['24', 'many'],
    ] as const) {
      expect(joinTokenFromForm({ autoApprove: false, expiresInHours: h, maxUses: u }).ok).toBe(false);
    }
    expect(joinTokenFromForm({ autoApprove: false, expiresInHours: '8760', maxUses: '1000000' }).ok).toBe(true);
  });
});

describe('join token state', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  const base = { revokedAt: null, expiresAt: '2026-01-03T00:00:00Z', maxUses: null, uses: 5 };
  it('is active, revoked, expired or used up', () => {
    expect(joinTokenState(base, now)).toBe('active');
    expect(joinTokenState({ ...base, revokedAt: '2026-01-01T00:00:00Z' }, now)).toBe('revoked');
    expect(joinTokenState({ ...base, expiresAt: '2026-01-01T00:00:00Z' }, now)).toBe('expired');
    expect(joinTokenState({ ...base, maxUses: 5 }, now)).toBe('used up');
    expect(joinTokenState({ ...base, maxUses: 6 }, now)).toBe('active');
  });
});
