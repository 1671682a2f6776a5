// No test here runs macOS tools: outputs in __fixtures__/xprotect are reconstructed by hand (see
// the README there); file modification times come from a fake.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { out, type ScriptedStep, scriptedRunner } from '../executors/__fixtures__/scripted-runner.js';
import { parseXProtectInfo, XPROTECT_PLISTS, XProtectProvider } from './xprotect.darwin.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/xprotect/${name}`, import.meta.url), 'utf8');
const NOW = new Date('2026-05-01T12:00:00.000Z');
const [SEQUOIA, CATALINA] = XPROTECT_PLISTS;

function provider(steps: ScriptedStep[], mtimes: Record<string, string>) {
  const runner = scriptedRunner(steps);
  const xprotect = new XProtectProvider({
    run: runner.run,
    now: () => NOW,
    mtimeOf: async (file) => (mtimes[file] ? new Date(mtimes[file] as string) : null),
  });
  return { runner, xprotect };
}

describe('parseXProtectInfo', () => {
  it('reads CFBundleShortVersionString, and null for anything else', () => {
    expect(parseXProtectInfo(fixture('info-plist.json'))).toBe('5297');
    expect(parseXProtectInfo('{}')).toBeNull();
    expect(parseXProtectInfo('<plist>')).toBeNull();
  });
});

describe('XProtectProvider.health', () => {
  it('uses the newest bundle, its version and its age', async () => {
    const { runner, xprotect } = provider(
      [{ cmd: 'plutil', args: ['-convert', 'json', '-o', '-', SEQUOIA as string], reply: out(fixture('info-plist.json')) }],
      {
        [SEQUOIA as string]: '2026-05-01T00:00:00Z',
        [CATALINA as string]: '2026-03-01T00:00:00Z',
      },
    );
    expect(await xprotect.health()).toEqual({
      provider: 'xprotect',
      installed: true,
      running: true,
      realTimeProtection: true,
      signatureAgeHours: 12,
      detail: `XProtect 5297 at ${SEQUOIA}, updated 2026-05-01T00:00:00.000Z (12 h ago)`,
    });
    expect(runner.remaining()).toEqual([]);
  });

  it('still reports the age when plutil fails', async () => {
    const { xprotect } = provider(
      [{ cmd: 'plutil', args: () => true, reply: out('', 1, 'plutil: file does not exist or is not readable') }],
      {
        [CATALINA as string]: '2026-04-30T12:00:00Z',
      },
    );
    expect(await xprotect.health()).toMatchObject({
      installed: true,
      signatureAgeHours: 24,
      detail: expect.stringContaining('version unknown'),
    });
  });

  it('reports no bundle as not installed', async () => {
    const { runner, xprotect } = provider([], {});
    expect(await xprotect.health()).toMatchObject({ installed: false, running: false, signatureAgeHours: null });
    expect(runner.calls).toEqual([]);
  });
});

describe('XProtectProvider.ensure', () => {
  const stale = {
    provider: 'xprotect' as const,
    installed: true,
    running: true,
    realTimeProtection: true,
    signatureAgeHours: 500,
    detail: '',
  };

  it('does nothing while signatures are fresh', async () => {
    const { runner, xprotect } = provider([], {});
    expect(await xprotect.ensure({ maxSignatureAgeHours: 720 }, stale)).toEqual([]);
    expect(runner.calls).toEqual([]);
  });

  it('runs xprotect update on macOS 15 and later', async () => {
    const { xprotect } = provider([{ cmd: 'xprotect', args: ['update'], reply: out(fixture('xprotect-update.txt')) }], {});
    expect(await xprotect.ensure({ maxSignatureAgeHours: 24 }, stale)).toEqual([{ ok: true, detail: 'xprotect update: Update succeeded' }]);
  });

  it('falls back to softwareupdate --background-critical where there is no xprotect command', async () => {
    const { runner, xprotect } = provider(
      [
        { cmd: 'xprotect', args: ['update'], reply: { throws: 'ENOENT' } },
        { cmd: 'softwareupdate', args: ['--background-critical'], reply: out(fixture('softwareupdate-background-critical.txt')) },
      ],
      {},
    );
    expect(await xprotect.ensure({ maxSignatureAgeHours: 24 }, stale)).toMatchObject([{ ok: true }]);
    expect(runner.remaining()).toEqual([]);
  });

  it('reports a failed update as command-failed', async () => {
    const { xprotect } = provider([{ cmd: 'xprotect', args: ['update'], reply: out('', 1, 'Update failed: not permitted') }], {});
    expect(await xprotect.ensure({ maxSignatureAgeHours: 24 }, stale)).toMatchObject([
      { ok: false, code: 'command-failed', detail: expect.stringContaining('not permitted') },
    ]);
  });
});
