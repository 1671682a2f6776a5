/**
 * Replays the fixtures beside this file: apt's are real apt 2.6.1 output, the others are
 * reconstructed by hand in each tool's format (see each parser's test). The first case runs this
 * machine's own apt in read-only simulation against its own lists.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { compileSchema, PendingUpdate, PendingUpdates } from '@brier/protocol';
import { describe, expect, it } from 'vitest';
import { CommandError, type CommandResult, type CommandRunner, type RunOptions, runCommand } from '../../run-command.js';
import { collectPendingUpdates, type PendingUpdatesDeps, PendingUpdatesError } from './index.js';

const checkUpdate = compileSchema(PendingUpdate);
const checkBody = compileSchema(PendingUpdates);
const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const missing = (cmd: string) => Promise.reject(new CommandError('ENOENT', cmd, `${cmd} is not installed or not on PATH`));

const hasAptGet = (() => {
  if (process.env.CI === 'true') return true;
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Answers the listed commands from recorded output (keyed by binary and a distinguishing argument); every other binary is missing. */
function tools(answers: Record<string, CommandResult | ((args: readonly string[], opts?: RunOptions) => CommandResult)>): CommandRunner {
  return async (cmd, args, opts) => {
    const answer = answers[cmd];
    if (answer === undefined) return missing(cmd);
    return typeof answer === 'function' ? answer(args, opts) : answer;
  };
}

const ok = (stdout: string, code = 0): CommandResult => ({ stdout, stderr: '', code });

function deps(over: Partial<PendingUpdatesDeps>): PendingUpdatesDeps {
  return { run: missing, platform: 'linux', ...over };
}

describe('collectPendingUpdates', () => {
  it.runIf(hasAptGet)('reads this machine with apt-get -s: apt present, the others absent, every entry schema-valid', async () => {
    const result = await collectPendingUpdates({ run: runCommand, platform: 'linux' });
    expect(result.sources).toEqual(['apt']);
    // Computed independently: the upgrade lines of the same simulation, split on spaces.
    const listing = execFileSync('apt-get', ['-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const expected = listing
      .split('\n')
      .filter((line) => line.startsWith('Inst ') && line.split(' ')[2]?.startsWith('['))
      .map((line) => `${line.split(' ')[1]?.split(':')[0]} ${line.split(' ')[2]?.slice(1, -1)} ${line.split(' ')[3]?.slice(1)}`);
    expect(result.updates.map((u) => `${u.name} ${u.installedVersion} ${u.candidateVersion}`)).toEqual(expected);
    expect(result.invalid).toBe(0);
    expect(result.duplicates).toBe(0);
    for (const u of result.updates) {
      checkUpdate(u, 'update');
      expect(u).toMatchObject({ ecosystem: 'dpkg', manager: 'apt', kind: 'package' });
      expect(u.installedVersion).toBeDefined();
      expect(u.candidateVersion).not.toBe(u.installedVersion);
      expect(u.arch).not.toBe('');
    }
    checkBody({ updates: result.updates, sources: result.sources, collectedAt: new Date().toISOString() }, 'updates');
  });

  it('treats missing tools on Linux as not present', async () => {
    expect(await collectPendingUpdates(deps({}))).toEqual({
      updates: [],
      sources: [],
      keptBack: [],
      invalid: 0,
      duplicates: 0,
      dropped: 0,
    });
  });

  it('reads every Linux manager that is present and keeps apt kept-back names', async () => {
    const run = tools({
      'apt-get': ok(fixture('apt-get-s-dist-upgrade.txt')),
      dnf: (args) => (args.includes('check-update') ? ok(fixture('dnf-check-update.txt'), 100) : ok(fixture('dnf-updateinfo-list.txt'))),
      rpm: ok(fixture('rpm-qa.txt')),
      zypper: (args) => ok(fixture(args.includes('patch') ? 'zypper-list-updates-patch.xml' : 'zypper-list-updates-package.xml')),
      apk: ok(fixture('apk-version.txt')),
    });
    const result = await collectPendingUpdates(deps({ run }));
    expect(result.sources).toEqual(['apt', 'dnf', 'zypper', 'apk']);
    const count = (manager: string) => result.updates.filter((u) => u.manager === manager).length;
    expect([count('apt'), count('dnf'), count('zypper'), count('apk')]).toEqual([9, 7, 7, 8]);
    expect(result.keptBack).toEqual([{ manager: 'apt', name: 'pinned-pkg' }]);
    for (const u of result.updates) checkUpdate(u, 'update');
    expect(result.updates.find((u) => u.manager === 'zypper' && u.kind === 'patch' && u.security)?.ecosystem).toBe('rpm');
  });

  it('passes apt options and environment through to apt-get', async () => {
    const seen: { args: readonly string[]; env: NodeJS.ProcessEnv | undefined }[] = [];
    const run = tools({
      'apt-get': (args, opts) => {
        seen.push({ args, env: opts?.env });
        return ok('');
      },
    });
    await collectPendingUpdates(deps({ run, aptOptions: ['-o', 'Dir=/sandbox/'], aptEnv: { APT_CONFIG: '/sandbox/apt.conf' } }));
    expect(seen[0]?.args).toContain('Dir=/sandbox/');
    expect(seen[0]?.env?.APT_CONFIG).toBe('/sandbox/apt.conf');
  });

  it('fails with the manager and cause when a present tool fails, rather than report a partial list', async () => {
    const run = tools({
      'apt-get': { stdout: '', stderr: 'E: The package lists or status file could not be parsed or opened.', code: 100 },
      apk: ok(''),
    });
    const error = await collectPendingUpdates(deps({ run })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PendingUpdatesError);
    expect((error as PendingUpdatesError).manager).toBe('apt');
    expect(((error as PendingUpdatesError).cause as Error).message).toMatch(/could not be parsed/);
  });

  it('reads Windows Update and winget on Windows, and tolerates winget being absent', async () => {
    const both = await collectPendingUpdates({
      platform: 'win32',
      run: tools({ 'powershell.exe': ok(fixture('windows-update.json')), winget: ok(fixture('winget-upgrade.txt')) }),
    });
    expect(both.sources).toEqual(['windows-update', 'winget']);
    expect(both.updates).toHaveLength(13);
    const noWinget = await collectPendingUpdates({
      platform: 'win32',
      run: tools({ 'powershell.exe': ok(fixture('windows-update.json')) }),
    });
    expect(noWinget.sources).toEqual(['windows-update']);
  });

  it('fails on Windows and macOS when the OS update tool itself is missing', async () => {
    await expect(collectPendingUpdates({ platform: 'win32', run: missing })).rejects.toMatchObject({ manager: 'windows-update' });
    await expect(collectPendingUpdates({ platform: 'darwin', run: missing })).rejects.toMatchObject({ manager: 'softwareupdate' });
  });

  it('reads softwareupdate on macOS', async () => {
    const result = await collectPendingUpdates({
      platform: 'darwin',
      run: tools({ '/usr/sbin/softwareupdate': ok(fixture('softwareupdate-list-13.txt')) }),
    });
    expect(result.sources).toEqual(['softwareupdate']);
    expect(result.updates.map((u) => [u.ecosystem, u.kind, u.security])).toEqual([
      ['macos', 'patch', true],
      ['macos', 'patch', false],
      ['macos', 'patch', false],
    ]);
  });

  it('reports nothing on a platform it has no tools for', async () => {
    expect((await collectPendingUpdates({ platform: 'freebsd', run: missing })).sources).toEqual([]);
  });

  it('cleans kept-back names from the tool output', async () => {
    const text = 'The following packages have been kept back:\n  ok-pkg bad\u001bpkg\n';
    const result = await collectPendingUpdates(deps({ run: tools({ 'apt-get': ok(text) }) }));
    expect(result.keptBack).toEqual([
      { manager: 'apt', name: 'ok-pkg' },
      { manager: 'apt', name: 'badpkg' },
    ]);
  });
});
