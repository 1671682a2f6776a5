// No test here runs shutdown: the rebooter gets a scripted CommandRunner. Outputs in __fixtures__/darwin
// are reconstructed by hand in BSD shutdown's format (see its README).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { DarwinRebooter } from './reboot.darwin.js';

const NOW = new Date('2026-05-01T12:00:00.000Z');
const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/darwin/${name}`, import.meta.url), 'utf8');
const REASON = 'Brier: restarting to finish installing updates';

describe('DarwinRebooter', () => {
  it('runs /sbin/shutdown -r +N with the reason and reports the restart time', async () => {
    const runner = scriptedRunner([{ cmd: '/sbin/shutdown', args: ['-r', '+3', REASON], reply: out(fixture('shutdown-scheduled.txt')) }]);
    const result = await new DarwinRebooter({ run: runner.run, now: () => NOW }).schedule({ delaySeconds: 150, reason: REASON });
    expect(result).toMatchObject({ ok: true, delaySeconds: 180, scheduledAt: '2026-05-01T12:03:00.000Z' });
    expect(result.output).toContain('Shutdown at');
  });

  it('reports shutdown run without root as command-failed', async () => {
    const runner = scriptedRunner([
      { cmd: '/sbin/shutdown', args: ['-r', '+1', REASON], reply: out('', 1, fixture('shutdown-not-root.stderr.txt')) },
    ]);
    const result = await new DarwinRebooter({ run: runner.run, now: () => NOW }).schedule({ delaySeconds: 60, reason: REASON });
    expect(result).toMatchObject({ ok: false, code: 'command-failed' });
    expect(result.ok === false && result.reason).toContain('NOT super-user');
  });

  it('says no restart is pending without running anything (macOS keeps no such flag)', async () => {
    const runner = scriptedRunner([]);
    expect(await new DarwinRebooter({ run: runner.run }).pending()).toBe(false);
    expect(runner.calls).toEqual([]);
  });
});
