// No test here runs pfctl: the firewall gets a scripted runner playing back outputs RECONSTRUCTED in
// macOS pfctl's format (see __fixtures__/pf/README.md).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { out, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import type { RunOptions } from '../run-command.js';
import { parseAllowList } from './allow-list.js';
import { PF_ANCHOR, PfFirewall, parsePfToken, pfEnabled, pfQuarantineRules } from './pf.darwin.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/pf/${name}`, import.meta.url), 'utf8');
const PFCTL = '/sbin/pfctl';
const TOKEN = '14582061419325431335';
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tokenFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'brier-pf-'));
  dirs.push(dir);
  return path.join(dir, 'pf-quarantine-token');
}

describe('pfQuarantineRules', () => {
  it('passes the server statelessly, loopback, ND and DHCP, and ends with a quick block of everything', () => {
    const rules = pfQuarantineRules(parseAllowList(['10.20.0.5', '2001:db8::10'], [8443]));
    const lines = rules.trim().split('\n');
    expect(lines.at(-1)).toBe('block drop quick all');
    expect(lines).toContain('pass out quick proto tcp from any to { 10.20.0.5, 2001:db8::10 } port { 8443 } flags any no state');
    expect(lines).toContain('pass in quick proto tcp from { 10.20.0.5, 2001:db8::10 } port { 8443 } to any flags any no state');
    expect(lines).toContain('pass quick on lo0 all no state');
    expect(lines.filter((l) => l.startsWith('pass') || l.startsWith('block')).every((l) => l.includes(' quick '))).toBe(true);
    expect(rules).not.toMatch(/port (=\s*)?53\b|domain/);
  });

  it('omits the port when the order allows any', () => {
    expect(pfQuarantineRules(parseAllowList(['10.20.0.5'], []))).toContain(
      'pass out quick proto tcp from any to { 10.20.0.5 } flags any no state',
    );
  });

  it('reads the reference token and the enabled status from recorded pfctl output', () => {
    expect(parsePfToken(fixture('enable.stderr.txt'))).toBe(TOKEN);
    expect(parsePfToken(fixture('altq.stderr.txt'))).toBeUndefined();
    expect(pfEnabled(fixture('info-enabled.txt'))).toBe(true);
    expect(pfEnabled(fixture('info-disabled.txt'))).toBe(false);
  });
});

describe('PfFirewall', () => {
  it('loads the anchor on stdin, takes a pf reference, keeps its token and flushes states', async () => {
    const file = tokenFile();
    const runner = scriptedRunner([
      { cmd: PFCTL, args: ['-a', PF_ANCHOR, '-f', '-'], reply: out('', 0, fixture('altq.stderr.txt')) },
      { cmd: PFCTL, args: ['-s', 'info'], reply: out(fixture('info-disabled.txt'), 0, fixture('altq.stderr.txt')) },
      { cmd: PFCTL, args: ['-E'], reply: out('', 0, fixture('enable.stderr.txt')) },
      { cmd: PFCTL, args: ['-F', 'states'], reply: out('', 0, '0 states cleared\n') },
    ]);
    const result = await new PfFirewall({ run: runner.run, tokenFile: file }).isolate(['10.20.0.5'], [8443]);
    expect(result).toMatchObject({ ok: true });
    expect((runner.calls[0]?.opts as RunOptions | undefined)?.input).toBe(pfQuarantineRules(parseAllowList(['10.20.0.5'], [8443])));
    expect(readFileSync(file, 'utf8').trim()).toBe(TOKEN);
    expect(runner.remaining()).toEqual([]);
  });

  it('does not take a second reference when it holds one and pf is on (a re-isolation)', async () => {
    const file = tokenFile();
    writeFileSync(file, `${TOKEN}\n`);
    const runner = scriptedRunner([
      { cmd: PFCTL, args: ['-a', PF_ANCHOR, '-f', '-'], reply: out('') },
      { cmd: PFCTL, args: ['-s', 'info'], reply: out(fixture('info-enabled.txt')) },
      { cmd: PFCTL, args: ['-F', 'states'], reply: out('') },
    ]);
    expect(await new PfFirewall({ run: runner.run, tokenFile: file }).isolate(['10.20.0.5'], [])).toMatchObject({ ok: true });
    expect(runner.remaining()).toEqual([]);
  });

  it('refuses an injection attempt without running pfctl', async () => {
    const runner = scriptedRunner([]);
    const result = await new PfFirewall({ run: runner.run }).isolate(['10.20.0.5 } pass all {'], []);
    expect(result).toMatchObject({ ok: false, code: 'invalid-request' });
    expect(runner.calls).toEqual([]);
  });

  it('reports pfctl run without root as command-failed', async () => {
    const runner = scriptedRunner([{ cmd: PFCTL, args: ['-a', PF_ANCHOR, '-f', '-'], reply: out('', 1, fixture('not-root.stderr.txt')) }]);
    const result = await new PfFirewall({ run: runner.run }).isolate(['10.20.0.5'], []);
    expect(result).toMatchObject({ ok: false, code: 'command-failed' });
    expect(result.detail).toContain('Permission denied');
  });

  it('releases by emptying the anchor and giving back its reference, even one pf no longer knows', async () => {
    const file = tokenFile();
    writeFileSync(file, `${TOKEN}\n`);
    const runner = scriptedRunner([
      { cmd: PFCTL, args: ['-a', PF_ANCHOR, '-F', 'rules'], reply: out('', 0, 'rules cleared\n') },
      { cmd: PFCTL, args: ['-X', TOKEN], reply: out('', 1, fixture('release-unknown-token.stderr.txt')) },
    ]);
    const result = await new PfFirewall({ run: runner.run, tokenFile: file }).release();
    expect(result).toMatchObject({ ok: true });
    expect(result.detail).toContain('not released');
    expect(() => readFileSync(file)).toThrow();
  });

  it('says isolated only when the anchor holds the final block and pf is enabled', async () => {
    const rules = ['-a', PF_ANCHOR, '-s', 'rules'];
    const runner = scriptedRunner([
      { cmd: PFCTL, args: rules, reply: out(fixture('rules-isolated.txt'), 0, fixture('altq.stderr.txt')) },
      { cmd: PFCTL, args: ['-s', 'info'], reply: out(fixture('info-enabled.txt')) },
      { cmd: PFCTL, args: rules, reply: out(fixture('rules-isolated.txt')) },
      { cmd: PFCTL, args: ['-s', 'info'], reply: out(fixture('info-disabled.txt')) },
      { cmd: PFCTL, args: rules, reply: out('') },
    ]);
    const firewall = new PfFirewall({ run: runner.run });
    expect(await firewall.isolated()).toBe(true);
    expect(await firewall.isolated()).toBe(false);
    expect(await firewall.isolated()).toBe(false);
  });
});
