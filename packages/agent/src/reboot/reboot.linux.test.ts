// No test here runs a real shutdown: the rebooter gets a scripted CommandRunner and the tests assert
// the argv it would run. Outputs in __fixtures__/linux are reconstructed by hand (see its README).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture as executorFixture, out, type ScriptedStep, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { LinuxRebooter, parseNeedsRestarting, REBOOT_FLAG_FILES } from './reboot.linux.js';

const NOW = new Date('2026-05-01T12:00:00.000Z');
const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/linux/${name}`, import.meta.url), 'utf8');

function rebooter(steps: ScriptedStep[], files: string[] = []) {
  const runner = scriptedRunner(steps);
  const seen: string[] = [];
  const linux = new LinuxRebooter({
    run: runner.run,
    root: '/host',
    now: () => NOW,
    fileExists: async (file) => {
      seen.push(file);
      return files.includes(file);
    },
  });
  return { runner, linux, seen };
}

const REASON = 'Brier: restarting to finish installing updates';

describe('LinuxRebooter.schedule', () => {
  it('runs shutdown -r +N with the reason as one argument and reports when the host restarts', async () => {
    const { runner, linux } = rebooter([
      { cmd: 'shutdown', args: ['-r', '+5', REASON], reply: out('', 0, fixture('shutdown-scheduled.stderr.txt')) },
    ]);
    const result = await linux.schedule({ delaySeconds: 300, reason: REASON });
    expect(result).toMatchObject({ ok: true, scheduledAt: '2026-05-01T12:05:00.000Z', delaySeconds: 300 });
    expect(result.output).toContain("use 'shutdown -c' to cancel");
    expect(runner.calls[0]?.opts?.env?.LC_ALL).toBe('C');
    expect(runner.remaining()).toEqual([]);
  });

  it('rounds the delay up to whole minutes and reports the delay really used', async () => {
    const { linux } = rebooter([{ cmd: 'shutdown', args: ['-r', '+2', REASON], reply: out('') }]);
    expect(await linux.schedule({ delaySeconds: 61, reason: REASON })).toMatchObject({
      ok: true,
      delaySeconds: 120,
      scheduledAt: '2026-05-01T12:02:00.000Z',
    });
  });

  it('passes a hostile reason only in sanitised form, still as a single argument', async () => {
    const { runner, linux } = rebooter([{ cmd: 'shutdown', args: (a) => a.length === 3, reply: out('') }]);
    await linux.schedule({ delaySeconds: 60, reason: '-h now"; $(halt)\n' });
    expect(runner.calls[0]?.args).toEqual(['-r', '+1', 'h now (halt)']);
  });

  it('reports a refusal by logind as command-failed, quoting the first line, without throwing', async () => {
    const { linux } = rebooter([
      { cmd: 'shutdown', args: ['-r', '+5', REASON], reply: out('', 1, fixture('shutdown-not-permitted.stderr.txt')) },
    ]);
    const result = await linux.schedule({ delaySeconds: 300, reason: REASON });
    expect(result).toMatchObject({ ok: false, code: 'command-failed' });
    expect(result.ok === false && result.reason).toMatch(/exited with code 1: .*Interactive authentication required/);
    expect(result.output).toContain('$ shutdown -r +5');
  });

  it('reports tool-missing when there is no shutdown command', async () => {
    const { linux } = rebooter([{ cmd: 'shutdown', args: ['-r', '+1', REASON], reply: { throws: 'ENOENT' } }]);
    expect(await linux.schedule({ delaySeconds: 60, reason: REASON })).toMatchObject({ ok: false, code: 'tool-missing' });
  });

  it('refuses a bad delay before running anything', async () => {
    const { runner, linux } = rebooter([]);
    expect(await linux.schedule({ delaySeconds: -5, reason: REASON })).toMatchObject({ ok: false, code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });
});

describe('LinuxRebooter.pending', () => {
  it("is true when Debian's /run/reboot-required exists, without running anything", async () => {
    const { runner, linux, seen } = rebooter([], [path.join('/host', 'run/reboot-required')]);
    expect(await linux.pending()).toBe(true);
    expect(seen).toEqual([path.join('/host', 'run/reboot-required')]);
    expect(runner.calls).toEqual([]);
  });

  it('looks at every flag file, including the .pkgs list and the old /var/run location', async () => {
    const { linux, seen } = rebooter([], [path.join('/host', 'var/run/reboot-required.pkgs')]);
    expect(await linux.pending()).toBe(true);
    expect(seen).toEqual(REBOOT_FLAG_FILES.map((f) => path.join('/host', f)));
  });

  it('asks needs-restarting -r without flag files, and believes its exit 1 with "Reboot is required"', async () => {
    const { linux } = rebooter([
      { cmd: 'needs-restarting', args: ['-r'], reply: out(executorFixture('dnf', 'needs-restarting-reboot.txt'), 1) },
    ]);
    expect(await linux.pending()).toBe(true);
  });

  it('is false when needs-restarting exits 0', async () => {
    const { runner, linux } = rebooter([
      { cmd: 'needs-restarting', args: ['-r'], reply: out(executorFixture('dnf', 'needs-restarting-none.txt'), 0) },
    ]);
    expect(await linux.pending()).toBe(false);
    expect(runner.calls.map((c) => [c.cmd, ...c.args])).toEqual([['needs-restarting', '-r']]);
  });

  it('is false when there is neither a flag nor needs-restarting (cannot tell)', async () => {
    const { runner, linux } = rebooter([{ cmd: 'needs-restarting', args: ['-r'], reply: { throws: 'ENOENT' } }]);
    expect(await linux.pending()).toBe(false);
    expect(runner.calls.map((c) => [c.cmd, ...c.args])).toEqual([['needs-restarting', '-r']]);
  });

  it('does not take a crash of needs-restarting (exit 1 without the sentence) for a pending restart', () => {
    expect(parseNeedsRestarting(1, 'Traceback (most recent call last):\n')).toBe(false);
    expect(parseNeedsRestarting(null, '')).toBe(false);
    expect(parseNeedsRestarting(1, executorFixture('dnf', 'needs-restarting-reboot.txt'))).toBe(true);
  });
});
