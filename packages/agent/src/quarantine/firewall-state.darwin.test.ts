// Reconstructed socketfilterfw output (see __fixtures__/firewall-state/README.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { darwinFirewallState, parseSocketFilterState, SOCKETFILTERFW } from './firewall-state.darwin.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/firewall-state/${name}`, import.meta.url), 'utf8');

describe('parseSocketFilterState', () => {
  it('reads the State number: 1 and 2 on, 0 off', () => {
    expect(parseSocketFilterState(fixture('socketfilterfw-enabled.txt'))).toBe(true);
    expect(parseSocketFilterState(fixture('socketfilterfw-block-all.txt'))).toBe(true);
    expect(parseSocketFilterState(fixture('socketfilterfw-disabled.txt'))).toBe(false);
    expect(parseSocketFilterState('Firewall is disabled.')).toBe(false);
    expect(parseSocketFilterState('something else')).toBeNull();
  });
});

describe('darwinFirewallState', () => {
  it('runs socketfilterfw --getglobalstate and quotes it', async () => {
    const runner = scriptedRunner([{ cmd: SOCKETFILTERFW, args: ['--getglobalstate'], reply: out(fixture('socketfilterfw-enabled.txt')) }]);
    expect(await darwinFirewallState(runner.run)).toEqual({
      enabled: true,
      detail: 'Application Firewall: Firewall is enabled. (State = 1)',
    });
  });

  it('is off when the output cannot be read or the tool is missing', async () => {
    const odd = scriptedRunner([{ cmd: SOCKETFILTERFW, args: ['--getglobalstate'], reply: out('???') }]);
    expect(await darwinFirewallState(odd.run)).toMatchObject({ enabled: false, detail: expect.stringContaining('cannot tell') });
    const gone = scriptedRunner([{ cmd: SOCKETFILTERFW, args: ['--getglobalstate'], reply: { throws: 'ENOENT' } }]);
    expect(await darwinFirewallState(gone.run)).toMatchObject({ enabled: false });
  });
});
