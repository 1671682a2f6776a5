import { describe, expect, it } from 'vitest';
import { formatBytes, formatRelative } from './format';

describe('format', () => {
  const now = Date.parse('2026-11-27T10:00:00Z');
  it('writes times relative to now, a few seconds either way being now', () => {
    expect(formatRelative('2026-11-27T10:00:02Z', now)).toBe('just now');
    expect(formatRelative('2026-11-27T09:59:57Z', now)).toBe('just now');
    expect(formatRelative('2026-11-27T09:57:00Z', now)).toBe('3 min ago');
    expect(formatRelative('2026-11-27T12:00:00Z', now)).toBe('in 2 h');
    expect(formatRelative('2026-11-20T10:00:00Z', now)).toBe('7 d ago');
    expect(formatRelative('not a date', now)).toBe('—');
    expect(formatRelative(null, now)).toBe('—');
  });
  it('writes sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(24 * 1024 ** 3)).toBe('24.0 GiB');
  });
});
