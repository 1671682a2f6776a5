// No test here runs PowerShell: outputs in __fixtures__/defender are reconstructed by hand (see the
// README there), played back by a scripted runner; the Windows service manager is a fake.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, type ScriptedStep, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import type { ActionResult, AntivirusHealth, ServiceManager, ServiceState } from '../policy/ports.js';
import { powershellArgs } from '../services/windows.windows.js';
import {
  DefenderProvider,
  MP_ENABLE_REALTIME_SCRIPT,
  MP_STATUS_SCRIPT,
  MP_UPDATE_SCRIPT,
  parseMpComputerStatus,
  parsePowerShellDate,
} from './defender.windows.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/defender/${name}`, import.meta.url), 'utf8');
const NOW = new Date('2026-05-01T12:00:00.000Z');
const status = (reply: ScriptedStep['reply']): ScriptedStep => ({ cmd: 'powershell.exe', args: powershellArgs(MP_STATUS_SCRIPT), reply });

function fakeServices(state: Partial<ServiceState> = {}, startResult: ActionResult = { ok: true, detail: 'started WinDefend' }) {
  const calls: string[] = [];
  const services: ServiceManager = {
    kind: 'windows',
    status: async (name) => {
      calls.push(`status ${name}`);
      return { exists: true, running: false, enabled: true, detail: 'windows: STOPPED', ...state };
    },
    start: async (name) => {
      calls.push(`start ${name}`);
      return startResult;
    },
    enable: async (name) => {
      calls.push(`enable ${name}`);
      return { ok: true, detail: 'enabled' };
    },
  };
  return { calls, services };
}

function provider(steps: ScriptedStep[], services = fakeServices()) {
  const runner = scriptedRunner(steps);
  return { runner, services, defender: new DefenderProvider({ run: runner.run, services: services.services, now: () => NOW }) };
}

describe('parseMpComputerStatus and parsePowerShellDate', () => {
  it('read the Windows PowerShell 5.1 /Date(ms)/ form and the PowerShell 7 ISO form', () => {
    expect(parsePowerShellDate('/Date(1777615200000)/')?.toISOString()).toBe('2026-05-01T06:00:00.000Z');
    expect(parsePowerShellDate('2026-05-01T06:00:00+00:00')?.toISOString()).toBe('2026-05-01T06:00:00.000Z');
    expect(parsePowerShellDate(null)).toBeNull();
    expect(parsePowerShellDate('yesterday-ish')).toBeNull();
  });

  it('reads the switches, versions and signature dates', () => {
    expect(parseMpComputerStatus(fixture('mp-status-healthy.json'))).toMatchObject({
      amServiceEnabled: true,
      antivirusEnabled: true,
      realTimeProtectionEnabled: true,
      signatureVersion: '1.411.345.0',
      runningMode: 'Normal',
    });
  });

  it('throws on output that is not one JSON object', () => {
    expect(() => parseMpComputerStatus('WARNING: something')).toThrow(/not JSON/);
    expect(() => parseMpComputerStatus('[1,2]')).toThrow(/one object/);
  });
});

describe('DefenderProvider.health', () => {
  it('reports a healthy Defender with signatures six hours old', async () => {
    const { defender } = provider([status(out(fixture('mp-status-healthy.json')))]);
    expect(await defender.health()).toEqual({
      provider: 'defender',
      installed: true,
      running: true,
      realTimeProtection: true,
      signatureAgeHours: 6,
      detail: 'Defender 4.18.25030.2 (Normal); antivirus on; real-time protection on; signatures 1.411.345.0 6 h old',
    });
  });

  it('reports passive mode behind another product as not running (PowerShell 7 dates)', async () => {
    const { defender } = provider([status(out(fixture('mp-status-passive-ps7.json')))]);
    expect(await defender.health()).toMatchObject({ installed: true, running: false, realTimeProtection: false, signatureAgeHours: 6 });
  });

  it('reports signatures that were never updated as of unknown age', async () => {
    const { defender } = provider([status(out(fixture('mp-status-never-updated.json')))]);
    expect(await defender.health()).toMatchObject({ signatureAgeHours: null, detail: expect.stringContaining('never updated') });
  });

  it('reports Defender as not installed when the cmdlet does not exist, without asking the service manager', async () => {
    const services = fakeServices();
    const { defender } = provider([status(out('', 1, fixture('mp-not-recognized.stderr.txt')))], services);
    expect(await defender.health()).toMatchObject({
      installed: false,
      running: false,
      detail: expect.stringContaining('no Get-MpComputerStatus'),
    });
    expect(services.calls).toEqual([]);
  });

  it('reports an installed Defender whose service is stopped as installed but not running', async () => {
    const services = fakeServices({ exists: true, running: false });
    const { defender } = provider([status(out('', 1, fixture('mp-service-stopped.stderr.txt')))], services);
    expect(await defender.health()).toMatchObject({ installed: true, running: false, signatureAgeHours: null });
    expect(services.calls).toEqual(['status WinDefend']);
  });
});

describe('DefenderProvider.ensure', () => {
  const want = { maxSignatureAgeHours: 48 };

  it('turns real-time protection back on and reads it back; fresh signatures in the read-back need no update', async () => {
    const { runner, defender } = provider([
      { cmd: 'powershell.exe', args: powershellArgs(MP_ENABLE_REALTIME_SCRIPT), reply: out('') },
      status(out(fixture('mp-status-healthy.json'))),
    ]);
    const current: AntivirusHealth = {
      provider: 'defender',
      installed: true,
      running: true,
      realTimeProtection: false,
      signatureAgeHours: 276,
      detail: '',
    };
    expect(await defender.ensure(want, current)).toEqual([{ ok: true, detail: 'turned real-time protection on' }]);
    expect(runner.remaining()).toEqual([]);
  });

  it('runs Update-MpSignature when signatures are older than allowed', async () => {
    const { runner, defender } = provider([{ cmd: 'powershell.exe', args: powershellArgs(MP_UPDATE_SCRIPT), reply: out('') }]);
    const current: AntivirusHealth = {
      provider: 'defender',
      installed: true,
      running: true,
      realTimeProtection: true,
      signatureAgeHours: 49,
      detail: '',
    };
    expect(await defender.ensure(want, current)).toEqual([{ ok: true, detail: 'updated the signatures' }]);
    expect(runner.remaining()).toEqual([]);
  });

  it('reports real-time protection that stays off after Set-MpPreference as not-effective, then updates signatures', async () => {
    const { runner, defender } = provider([
      { cmd: 'powershell.exe', args: powershellArgs(MP_ENABLE_REALTIME_SCRIPT), reply: out('') },
      status(out(fixture('mp-status-realtime-off-stale.json'))),
      {
        cmd: 'powershell.exe',
        args: powershellArgs(MP_UPDATE_SCRIPT),
        reply: out('', 1, fixture('update-mpsignature-offline.stderr.txt')),
      },
    ]);
    const current = await new DefenderProvider({
      run: scriptedRunner([status(out(fixture('mp-status-realtime-off-stale.json')))]).run,
      services: fakeServices().services,
      now: () => NOW,
    }).health();
    expect(current).toMatchObject({ realTimeProtection: false, signatureAgeHours: 264 });
    const actions = await defender.ensure(want, current);
    expect(actions.map((a) => a.code ?? 'ok')).toEqual(['not-effective', 'command-failed']);
    expect(actions[1]?.detail).toContain('completed with errors');
    expect(runner.remaining()).toEqual([]);
  });

  it('starts WinDefend when the engine is off, then reads the health again', async () => {
    const services = fakeServices();
    const { runner, defender } = provider([status(out(fixture('mp-status-healthy.json')))], services);
    const current: AntivirusHealth = {
      provider: 'defender',
      installed: true,
      running: false,
      realTimeProtection: false,
      signatureAgeHours: null,
      detail: '',
    };
    expect(await defender.ensure(want, current)).toEqual([{ ok: true, detail: 'started WinDefend' }]);
    expect(services.calls).toEqual(['start WinDefend']);
    expect(runner.remaining()).toEqual([]);
  });

  it('stops after a failed start of WinDefend', async () => {
    const services = fakeServices({}, { ok: false, code: 'command-failed', detail: 'Access is denied' });
    const { runner, defender } = provider([], services);
    const current: AntivirusHealth = {
      provider: 'defender',
      installed: true,
      running: false,
      realTimeProtection: false,
      signatureAgeHours: null,
      detail: '',
    };
    expect(await defender.ensure(want, current)).toEqual([{ ok: false, code: 'command-failed', detail: 'Access is denied' }]);
    expect(runner.calls).toEqual([]);
  });

  it('reports a missing Defender as not-installed and runs nothing', async () => {
    const { runner, defender } = provider([]);
    const current: AntivirusHealth = {
      provider: 'defender',
      installed: false,
      running: false,
      realTimeProtection: false,
      signatureAgeHours: null,
      detail: '',
    };
    const actions = await defender.ensure(want, current);
    expect(actions).toMatchObject([{ ok: false, code: 'not-installed' }]);
    expect(runner.calls).toEqual([]);
  });
});
