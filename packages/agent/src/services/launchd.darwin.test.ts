// No test here runs launchctl: outputs in __fixtures__/launchd are reconstructed by hand in its
// format (see the README there), played back by a scripted runner.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, type ScriptedStep, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { INJECTION_NAMES } from './__fixtures__/injection-names.js';
import { LAUNCHCTL_NOT_FOUND, LaunchdServiceManager, parseLaunchctlPrint, parsePrintDisabled } from './launchd.darwin.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/launchd/${name}`, import.meta.url), 'utf8');
const LABEL = 'com.example.agentd';
const PLIST = `/Library/LaunchDaemons/${LABEL}.plist`;
const printDisabled: ScriptedStep = { cmd: 'launchctl', args: ['print-disabled', 'system'], reply: out(fixture('print-disabled.txt')) };
const notFound: ScriptedStep = {
  cmd: 'launchctl',
  args: ['print', `system/${LABEL}`],
  reply: out('', LAUNCHCTL_NOT_FOUND, fixture('print-not-found.stderr.txt')),
};

function manager(steps: ScriptedStep[], plists: string[] = []) {
  const runner = scriptedRunner(steps);
  return { runner, launchd: new LaunchdServiceManager({ run: runner.run, fileExists: async (f) => plists.includes(f) }) };
}

describe('launchctl parsers', () => {
  it("read the job's own state and pid, not those of nested blocks", () => {
    expect(parseLaunchctlPrint(fixture('print-running.txt'))).toEqual({ state: 'running', pid: 412, path: PLIST });
    expect(parseLaunchctlPrint(fixture('print-not-running.txt'))).toEqual({ state: 'not running', pid: null, path: PLIST });
  });

  it('read print-disabled in both the current (disabled/enabled) and the old (true/false) form', () => {
    expect(parsePrintDisabled(fixture('print-disabled.txt')).get(LABEL)).toBe(false);
    expect(parsePrintDisabled(fixture('print-disabled.txt')).get('com.example.stopped')).toBe(true);
    expect(parsePrintDisabled(fixture('print-disabled-legacy.txt')).get(LABEL)).toBe(false);
    expect(parsePrintDisabled(fixture('print-disabled-legacy.txt')).get('com.apple.ftpd')).toBe(true);
  });
});

describe('LaunchdServiceManager.status', () => {
  it('reports a running job with its pid, enabled', async () => {
    const { launchd } = manager([
      { cmd: 'launchctl', args: ['print', `system/${LABEL}`], reply: out(fixture('print-running.txt')) },
      printDisabled,
    ]);
    expect(await launchd.status(LABEL)).toEqual({ exists: true, running: true, enabled: true, detail: 'launchd: running, pid 412' });
  });

  it('reports a loaded job that is not running', async () => {
    const { launchd } = manager([
      { cmd: 'launchctl', args: ['print', `system/${LABEL}`], reply: out(fixture('print-not-running.txt')) },
      printDisabled,
    ]);
    expect(await launchd.status(LABEL)).toMatchObject({ exists: true, running: false });
  });

  it('reports an unknown label with no plist as missing', async () => {
    const { runner, launchd } = manager([notFound]);
    expect(await launchd.status(LABEL)).toMatchObject({ exists: false, running: false, enabled: null });
    expect(runner.remaining()).toEqual([]);
  });

  it('reports a job that is defined in /Library/LaunchDaemons but not loaded as existing', async () => {
    const { launchd } = manager([notFound, printDisabled], [PLIST]);
    expect(await launchd.status(LABEL)).toMatchObject({
      exists: true,
      running: false,
      enabled: true,
      detail: expect.stringContaining('not loaded'),
    });
  });
});

describe('LaunchdServiceManager.start and enable', () => {
  it('kickstarts a loaded job and reads it back', async () => {
    const { runner, launchd } = manager([
      { cmd: 'launchctl', args: ['print', `system/${LABEL}`], reply: out(fixture('print-not-running.txt')) },
      printDisabled,
      { cmd: 'launchctl', args: ['kickstart', `system/${LABEL}`], reply: out('') },
      { cmd: 'launchctl', args: ['print', `system/${LABEL}`], reply: out(fixture('print-running.txt')) },
      printDisabled,
    ]);
    expect(await launchd.start(LABEL)).toMatchObject({ ok: true, detail: expect.stringContaining('pid 412') });
    expect(runner.remaining()).toEqual([]);
  });

  it('bootstraps a job that is not loaded from its plist before kickstarting it', async () => {
    const { runner, launchd } = manager(
      [
        notFound,
        printDisabled,
        { cmd: 'launchctl', args: ['bootstrap', 'system', PLIST], reply: out('') },
        { cmd: 'launchctl', args: ['kickstart', `system/${LABEL}`], reply: out('') },
        { cmd: 'launchctl', args: ['print', `system/${LABEL}`], reply: out(fixture('print-running.txt')) },
        printDisabled,
      ],
      [PLIST],
    );
    expect(await launchd.start(LABEL)).toMatchObject({ ok: true });
    expect(runner.remaining()).toEqual([]);
  });

  it('reports a failed bootstrap as command-failed', async () => {
    const { launchd } = manager(
      [
        notFound,
        printDisabled,
        { cmd: 'launchctl', args: ['bootstrap', 'system', PLIST], reply: out('', 5, fixture('bootstrap-failed.stderr.txt')) },
      ],
      [PLIST],
    );
    expect(await launchd.start(LABEL)).toMatchObject({
      ok: false,
      code: 'command-failed',
      detail: expect.stringContaining('Bootstrap failed: 5'),
    });
  });

  it('reports a label with no job and no plist as not-found without trying to start it', async () => {
    const { runner, launchd } = manager([notFound]);
    expect(await launchd.start(LABEL)).toMatchObject({ ok: false, code: 'not-found' });
    expect(runner.remaining()).toEqual([]);
  });

  it('runs launchctl enable system/LABEL', async () => {
    const { runner, launchd } = manager([{ cmd: 'launchctl', args: ['enable', `system/${LABEL}`], reply: out('') }]);
    expect(await launchd.enable(LABEL)).toMatchObject({ ok: true });
    expect(runner.remaining()).toEqual([]);
  });

  it('refuses every injection attempt before any command', async () => {
    const { runner, launchd } = manager([]);
    for (const name of INJECTION_NAMES) {
      await expect(launchd.status(name as string)).rejects.toMatchObject({ code: 'invalid-request' });
      expect(await launchd.start(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
      expect(await launchd.enable(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
    }
    expect(runner.calls).toEqual([]);
  });
});
