// No test here runs shutdown.exe or reg.exe: the rebooter gets a scripted CommandRunner. Outputs in
// __fixtures__/windows are reconstructed by hand in those tools' formats (see its README).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, type ScriptedStep, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { PENDING_REBOOT_KEYS, parseRegQuery, WindowsRebooter } from './reboot.windows.js';

const NOW = new Date('2026-05-01T12:00:00.000Z');
const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/windows/${name}`, import.meta.url), 'utf8');
const REASON = 'Brier: restarting to finish installing updates';
const [WU_KEY, CBS_KEY] = PENDING_REBOOT_KEYS;
const NOT_FOUND = out('', 1, fixture('reg-query-not-found.stderr.txt'));

function rebooter(steps: ScriptedStep[]) {
  const runner = scriptedRunner(steps);
  return { runner, windows: new WindowsRebooter({ run: runner.run, now: () => NOW }) };
}

describe('WindowsRebooter.schedule', () => {
  it('runs shutdown.exe /r /t <seconds> with a planned hot-fix reason code and the comment as one argument', async () => {
    const { runner, windows } = rebooter([{ cmd: 'shutdown.exe', args: ['/r', '/t', '90', '/d', 'p:2:17', '/c', REASON], reply: out('') }]);
    expect(await windows.schedule({ delaySeconds: 90, reason: REASON })).toMatchObject({
      ok: true,
      delaySeconds: 90,
      scheduledAt: '2026-05-01T12:01:30.000Z',
    });
    expect(runner.remaining()).toEqual([]);
  });

  it('reports an already scheduled shutdown (1190) as already-pending', async () => {
    const { windows } = rebooter([
      { cmd: 'shutdown.exe', args: (a) => a[0] === '/r', reply: out('', 1190, fixture('shutdown-already-scheduled.stderr.txt')) },
    ]);
    expect(await windows.schedule({ delaySeconds: 300, reason: REASON })).toMatchObject({ ok: false, code: 'already-pending' });
  });

  it('reports access denied as command-failed, quoting the message', async () => {
    const { windows } = rebooter([
      { cmd: 'shutdown.exe', args: (a) => a[0] === '/r', reply: out('', 5, fixture('shutdown-access-denied.stderr.txt')) },
    ]);
    const result = await windows.schedule({ delaySeconds: 300, reason: REASON });
    expect(result).toMatchObject({ ok: false, code: 'command-failed' });
    expect(result.ok === false && result.reason).toContain('Access is denied.(5)');
  });

  it('refuses a bad delay before running anything', async () => {
    const { runner, windows } = rebooter([]);
    expect(await windows.schedule({ delaySeconds: 1e9, reason: REASON })).toMatchObject({ ok: false, code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });
});

describe('WindowsRebooter.pending (recorded reg query output)', () => {
  it("is true when Windows Update's RebootRequired key exists", async () => {
    const { runner, windows } = rebooter([
      { cmd: 'reg.exe', args: ['query', WU_KEY], reply: out(fixture('reg-query-rebootrequired.txt')) },
    ]);
    expect(await windows.pending()).toBe(true);
    expect(runner.remaining()).toEqual([]);
  });

  it("is true when only Component Based Servicing's RebootPending key exists", async () => {
    const { windows } = rebooter([
      { cmd: 'reg.exe', args: ['query', WU_KEY], reply: NOT_FOUND },
      { cmd: 'reg.exe', args: ['query', CBS_KEY], reply: out(fixture('reg-query-rebootpending.txt')) },
    ]);
    expect(await windows.pending()).toBe(true);
  });

  it('is false when neither key exists', async () => {
    const { runner, windows } = rebooter([
      { cmd: 'reg.exe', args: ['query', WU_KEY], reply: NOT_FOUND },
      { cmd: 'reg.exe', args: ['query', CBS_KEY], reply: NOT_FOUND },
    ]);
    expect(await windows.pending()).toBe(false);
    expect(runner.calls.map((c) => [c.cmd, ...c.args])).toEqual([
      ['reg.exe', 'query', WU_KEY],
      ['reg.exe', 'query', CBS_KEY],
    ]);
  });

  it('is false when reg.exe cannot be run', async () => {
    const { windows } = rebooter([{ cmd: 'reg.exe', args: ['query', WU_KEY], reply: { throws: 'ENOENT' } }]);
    expect(await windows.pending()).toBe(false);
  });

  it('decides on the exit code, not the (localised) text', () => {
    expect(parseRegQuery(out(fixture('reg-query-rebootrequired.txt')))).toBe('present');
    expect(parseRegQuery(out('', 1, 'FEHLER: Der angegebene Registrierungsschlüssel bzw. Wert wurde nicht gefunden.'))).toBe('absent');
    expect(parseRegQuery({ stdout: '', stderr: '', code: null })).toBe('unknown');
  });
});
