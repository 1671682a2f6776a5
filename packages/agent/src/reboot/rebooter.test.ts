import { describe, expect, it } from 'vitest';
import { DarwinRebooter } from './reboot.darwin.js';
import { LinuxRebooter } from './reboot.linux.js';
import { WindowsRebooter } from './reboot.windows.js';
import {
  DEFAULT_REBOOT_REASON,
  DisabledRebooter,
  MAX_REBOOT_REASON_LENGTH,
  RecordingRebooter,
  refuseRebootRequest,
  sanitizeRebootReason,
  wholeMinutes,
} from './rebooter.js';

describe('sanitizeRebootReason', () => {
  it('keeps an ordinary reason as it is', () => {
    expect(sanitizeRebootReason('Brier: restarting to finish installing updates (2 assignments)')).toBe(
      'Brier: restarting to finish installing updates (2 assignments)',
    );
  });

  it('removes quotes, shell syntax, backslashes and control characters, and collapses spaces', () => {
    const cleaned = sanitizeRebootReason('bye "now"; $(rm -rf /) `id` & echo \\x\n\t\u0000 done');
    expect(cleaned).toMatch(/^[A-Za-z0-9 .,:()/_+#=@-]+$/);
    expect(cleaned).toBe('bye now (rm -rf /) id echo x done');
  });

  it('never starts with a dash or slash that a shutdown command could read as an option', () => {
    expect(sanitizeRebootReason('-h now')).toBe('h now');
    expect(sanitizeRebootReason(' --poweroff')).toBe('poweroff');
    expect(sanitizeRebootReason('/s /t 0')).toBe('s /t 0');
  });

  it('falls back to the default reason when nothing printable is left, and bounds the length', () => {
    expect(sanitizeRebootReason('\u0001\u0002"""')).toBe(DEFAULT_REBOOT_REASON);
    expect(sanitizeRebootReason(undefined)).toBe(DEFAULT_REBOOT_REASON);
    expect(sanitizeRebootReason('x'.repeat(1000))).toHaveLength(MAX_REBOOT_REASON_LENGTH);
  });

  it('is what every platform puts into its argv', () => {
    const reason = '-r now"; reboot';
    const safe = sanitizeRebootReason(reason);
    expect(LinuxRebooter.args({ delaySeconds: 60, reason }).at(-1)).toBe(safe);
    expect(DarwinRebooter.args({ delaySeconds: 60, reason }).at(-1)).toBe(safe);
    expect(WindowsRebooter.args({ delaySeconds: 60, reason }).at(-1)).toBe(safe);
  });
});

describe('refuseRebootRequest and wholeMinutes', () => {
  it('refuses a delay that is negative, fractional, too long or not a number', () => {
    for (const delaySeconds of [-1, 1.5, 86_401, Number.NaN, '60' as unknown as number]) {
      expect(refuseRebootRequest({ delaySeconds, reason: 'x' })).toMatch(/delaySeconds/);
    }
    expect(refuseRebootRequest({ delaySeconds: 0, reason: 'x' })).toBeNull();
    expect(refuseRebootRequest({ delaySeconds: 86_400, reason: 'x' })).toBeNull();
  });

  it('rounds a delay up to whole minutes, at least one', () => {
    expect([0, 1, 60, 61, 300].map(wholeMinutes)).toEqual([1, 1, 1, 2, 5]);
  });
});

describe('RecordingRebooter', () => {
  it('records each request and answers scheduled at now plus the delay, restarting nothing', async () => {
    const rebooter = new RecordingRebooter({ now: () => new Date('2026-05-01T12:00:00.000Z') });
    const result = await rebooter.schedule({ delaySeconds: 300, reason: 'why' });
    expect(result).toMatchObject({ ok: true, scheduledAt: '2026-05-01T12:05:00.000Z', delaySeconds: 300 });
    expect(rebooter.calls).toEqual([{ delaySeconds: 300, reason: 'why' }]);
    expect(await rebooter.pending()).toBe(false);
  });

  it('answers a scripted failure and a scripted pending state', async () => {
    const rebooter = new RecordingRebooter({
      result: { ok: false, code: 'command-failed', reason: 'no', output: '' },
      pending: true,
    });
    expect(await rebooter.schedule({ delaySeconds: 1, reason: 'x' })).toMatchObject({ ok: false, code: 'command-failed' });
    expect(await rebooter.pending()).toBe(true);
  });
});

describe('DisabledRebooter', () => {
  it('never schedules, answering disabled, but still reports what the real detector says', async () => {
    const detector = new RecordingRebooter({ pending: true });
    const disabled = new DisabledRebooter(detector);
    expect(await disabled.schedule({ delaySeconds: 60, reason: 'x' })).toMatchObject({ ok: false, code: 'disabled' });
    expect(await disabled.pending()).toBe(true);
    expect(detector.calls).toEqual([]);
    expect(await new DisabledRebooter().pending()).toBe(false);
  });
});
