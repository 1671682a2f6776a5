// No test here runs sc.exe or PowerShell: outputs in __fixtures__/windows are reconstructed by hand
// in those tools' formats (see the README there), played back by a scripted runner.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, type ScriptedStep, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { INJECTION_NAMES } from './__fixtures__/injection-names.js';
import { ERROR_SERVICE_DOES_NOT_EXIST, parseScQc, parseScQuery, powershellArgs, WindowsServiceManager } from './windows.windows.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/windows/${name}`, import.meta.url), 'utf8');

function manager(steps: ScriptedStep[]) {
  const runner = scriptedRunner(steps);
  return { runner, windows: new WindowsServiceManager({ run: runner.run }) };
}

describe('sc.exe parsers', () => {
  it('read the numeric STATE and START_TYPE from CRLF output', () => {
    expect(parseScQuery(fixture('sc-query-running.txt'))).toEqual({ state: 4, words: 'RUNNING' });
    expect(parseScQuery(fixture('sc-query-stopped.txt'))).toEqual({ state: 1, words: 'STOPPED' });
    expect(parseScQc(fixture('sc-qc-auto.txt'))).toEqual({ startType: 2, words: 'AUTO_START' });
    expect(parseScQc(fixture('sc-qc-disabled.txt'))).toEqual({ startType: 4, words: 'DISABLED' });
    expect(parseScQuery('garbage')).toBeNull();
  });
});

describe('WindowsServiceManager.status', () => {
  it('reports a running automatic service as running and enabled', async () => {
    const { runner, windows } = manager([
      { cmd: 'sc.exe', args: ['query', 'WinDefend'], reply: out(fixture('sc-query-running.txt')) },
      { cmd: 'sc.exe', args: ['qc', 'WinDefend'], reply: out(fixture('sc-qc-auto.txt')) },
    ]);
    expect(await windows.status('WinDefend')).toEqual({
      exists: true,
      running: true,
      enabled: true,
      detail: 'windows: RUNNING, AUTO_START',
    });
    expect(runner.remaining()).toEqual([]);
  });

  it('reports a stopped, disabled service as not running and not enabled', async () => {
    const { windows } = manager([
      { cmd: 'sc.exe', args: ['query', 'Spooler'], reply: out(fixture('sc-query-stopped.txt')) },
      { cmd: 'sc.exe', args: ['qc', 'Spooler'], reply: out(fixture('sc-qc-disabled.txt')) },
    ]);
    expect(await windows.status('Spooler')).toMatchObject({ exists: true, running: false, enabled: false });
  });

  it('reports error 1060 as a service that does not exist', async () => {
    const { runner, windows } = manager([
      { cmd: 'sc.exe', args: ['query', 'Nope'], reply: out(fixture('sc-query-missing.txt'), ERROR_SERVICE_DOES_NOT_EXIST) },
    ]);
    expect(await windows.status('Nope')).toMatchObject({ exists: false, running: false, enabled: null });
    expect(runner.remaining()).toEqual([]);
  });
});

describe('WindowsServiceManager.start and enable', () => {
  it('runs Start-Service with the name in single quotes and reads the service back', async () => {
    const { runner, windows } = manager([
      { cmd: 'powershell.exe', args: powershellArgs("Start-Service -Name 'WinDefend'"), reply: out('') },
      { cmd: 'sc.exe', args: ['query', 'WinDefend'], reply: out(fixture('sc-query-running.txt')) },
      { cmd: 'sc.exe', args: ['qc', 'WinDefend'], reply: out(fixture('sc-qc-auto.txt')) },
    ]);
    expect(await windows.start('WinDefend')).toMatchObject({ ok: true });
    expect(runner.remaining()).toEqual([]);
  });

  it('reports a service that cannot start as command-failed, quoting PowerShell', async () => {
    const { windows } = manager([
      {
        cmd: 'powershell.exe',
        args: powershellArgs("Start-Service -Name 'Spooler'"),
        reply: out('', 1, fixture('start-service-disabled.stderr.txt')),
      },
    ]);
    const result = await windows.start('Spooler');
    expect(result).toMatchObject({ ok: false, code: 'command-failed' });
    expect(result.detail).toContain("Service 'Print Spooler (Spooler)' cannot be started");
  });

  it('sets the startup type to Automatic', async () => {
    const { runner, windows } = manager([
      { cmd: 'powershell.exe', args: powershellArgs("Set-Service -Name 'WinDefend' -StartupType Automatic"), reply: out('') },
    ]);
    expect(await windows.enable('WinDefend')).toMatchObject({ ok: true });
    expect(runner.remaining()).toEqual([]);
  });

  it('reports a missing powershell.exe as tool-missing', async () => {
    const { windows } = manager([{ cmd: 'powershell.exe', args: () => true, reply: { throws: 'ENOENT' } }]);
    expect(await windows.enable('WinDefend')).toMatchObject({ ok: false, code: 'tool-missing' });
  });

  it('refuses every injection attempt, including a quote that would end the PowerShell string, before any command', async () => {
    const { runner, windows } = manager([]);
    for (const name of INJECTION_NAMES) {
      await expect(windows.status(name as string)).rejects.toMatchObject({ code: 'invalid-request' });
      expect(await windows.start(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
      expect(await windows.enable(name as string)).toMatchObject({ ok: false, code: 'invalid-request' });
    }
    expect(runner.calls).toEqual([]);
  });
});
