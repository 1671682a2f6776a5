import { describe, expect, it } from 'vitest';
import { type Clock, LOCK_RETRY_INTERVAL_MS, OUTPUT_TAIL_CHARS, OutputTail, refuseRequest, retryWhileBusy } from './package-executor.js';

describe('refuseRequest', () => {
  it('accepts a well-formed request', () => {
    expect(
      refuseRequest(
        'dpkg',
        [
          { name: 'openssl', version: '3.0.11-1~deb12u2' },
          { name: 'curl', version: null },
        ],
        { lockTimeoutSeconds: 60 },
      ),
    ).toBeNull();
  });

  it('names every bad entry, by position', () => {
    const reason = refuseRequest(
      'dpkg',
      [
        { name: '-oDir=/', version: null },
        { name: 'curl', version: '1.0 2' },
      ],
      { lockTimeoutSeconds: 60 },
    );
    expect(reason).toContain('package 1');
    expect(reason).toContain('package 2 (curl)');
  });

  it.each([
    ['no packages', [], 60],
    [
      'a duplicate',
      [
        { name: 'curl', version: null },
        { name: 'curl', version: '1.0' },
      ],
      60,
    ],
    ['a negative lock timeout', [{ name: 'curl', version: null }], -1],
    ['a fractional lock timeout', [{ name: 'curl', version: null }], 0.5],
    ['a huge lock timeout', [{ name: 'curl', version: null }], 86_400],
    ['too many packages', Array.from({ length: 501 }, (_, i) => ({ name: `p${i}x`, version: null })), 60],
  ] as const)('refuses %s', (_what, packages, lockTimeoutSeconds) => {
    expect(refuseRequest('dpkg', packages, { lockTimeoutSeconds })).toBeTruthy();
  });

  it('refuses malformed entries that arrive from JSON', () => {
    expect(refuseRequest('dpkg', [null as never], { lockTimeoutSeconds: 1 })).toBeTruthy();
    expect(refuseRequest('dpkg', [{ name: 'curl', version: 3 as never }], { lockTimeoutSeconds: 1 })).toBeTruthy();
  });
});

describe('OutputTail', () => {
  it('keeps the end of long output and turns progress CRs into lines', () => {
    const tail = new OutputTail();
    tail.command('apt-get', ['install'], { stdout: `${'x'.repeat(OUTPUT_TAIL_CHARS)}\n50%\r100%\r\nDone`, stderr: '', code: 0 });
    const text = tail.toString();
    expect(text.length).toBeLessThanOrEqual(OUTPUT_TAIL_CHARS);
    expect(text.endsWith('50%\n100%\nDone\n')).toBe(true);
  });
});

describe('retryWhileBusy', () => {
  it('tries until the tool is free or the lock timeout is used up', async () => {
    let t = 0;
    const clock: Clock = {
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    };
    let attempts = 0;
    const free = await retryWhileBusy(
      async () => ++attempts,
      (n) => n < 3,
      60,
      clock,
    );
    expect(free).toBe(3);
    attempts = 0;
    t = 0;
    const stillBusy = await retryWhileBusy(
      async () => ++attempts,
      () => true,
      5,
      clock,
    );
    expect(stillBusy).toBe(Math.ceil(5000 / LOCK_RETRY_INTERVAL_MS) + 1);
    expect(t).toBe(5000);
  });

  it('stops retrying when the signal fires', async () => {
    const controller = new AbortController();
    const clock: Clock = { now: () => 0, sleep: async () => controller.abort() };
    let attempts = 0;
    await retryWhileBusy(
      async () => ++attempts,
      () => true,
      60,
      clock,
      controller.signal,
    );
    expect(attempts).toBe(2);
  });
});
