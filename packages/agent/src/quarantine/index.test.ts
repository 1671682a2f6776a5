import { describe, expect, it } from 'vitest';
import { scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { platformFirewall } from './index.js';

describe('platformFirewall', () => {
  it('picks nftables on Linux, Windows Firewall on Windows and pf on macOS', () => {
    const { run } = scriptedRunner([]);
    expect(platformFirewall('linux', run).kind).toBe('nftables');
    expect(platformFirewall('win32', run).kind).toBe('windows-firewall');
    expect(platformFirewall('darwin', run, { stateDir: '/tmp/x' }).kind).toBe('pf');
  });

  it('answers unsupported elsewhere without running anything', async () => {
    const runner = scriptedRunner([]);
    const firewall = platformFirewall('freebsd', runner.run);
    expect(await firewall.isolate(['10.0.0.1'], [])).toMatchObject({ ok: false, code: 'unsupported' });
    expect(await firewall.release()).toMatchObject({ ok: false, code: 'unsupported' });
    expect(await firewall.isolated()).toBe(false);
    expect(runner.calls).toEqual([]);
  });

  it('asks the given state function whether the firewall is on', async () => {
    const { run } = scriptedRunner([]);
    const firewall = platformFirewall('linux', run, { state: async () => ({ enabled: true, detail: 'ufw active' }) });
    expect(await firewall.state()).toEqual({ enabled: true, detail: 'ufw active' });
  });
});
