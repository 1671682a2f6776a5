/**
 * Windows and macOS cases replay the hand-reconstructed fixtures in packages/__fixtures__ (real
 * formats, not captured from live machines); the Linux case runs on this machine for real.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { compileSchema, PackageEntry } from '@brier/protocol';
import si from 'systeminformation';
import { describe, expect, it } from 'vitest';
import { CommandError, type CommandRunner, runCommand } from '../run-command.js';
import type { FactsSource } from './facts.js';
import { collectInventory, type InventoryDeps, InventoryError } from './inventory.js';
import { collectDpkg } from './packages/dpkg.js';

const checkEntry = compileSchema(PackageEntry);
const fixture = (name: string) => readFileSync(new URL(`./packages/__fixtures__/${name}`, import.meta.url), 'utf8');

const fakeSi: FactsSource = {
  osInfo: async () => ({ platform: 'linux', distro: 'Test', release: '1', codename: '', kernel: '', arch: 'x64', hostname: 'h1' }),
  system: async () => ({ manufacturer: '', model: '', serial: '' }),
  cpu: async () => ({ manufacturer: '', brand: '', cores: 1 }),
  mem: async () => ({ total: 1024 }),
  networkInterfaces: async () => [],
};
const missing = (cmd: string) => Promise.reject(new CommandError('ENOENT', cmd, `${cmd} is not installed or not on PATH`));
const noFile = (path: string) =>
  Promise.reject(Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' }));

function deps(over: Partial<InventoryDeps>): InventoryDeps {
  return { run: missing, readFile: noFile, si: fakeSi, platform: 'linux', agentVersion: '0.1.0', ...over };
}

/** Answers one command from recorded output and says every other binary is missing. */
function only(command: string, stdout: string, code = 0): CommandRunner {
  return (cmd) => (cmd === command ? Promise.resolve({ stdout, stderr: code ? 'boom' : '', code }) : missing(cmd));
}

describe('collectInventory', () => {
  it('reads this Debian machine: dpkg present, apk absent, every entry schema-valid', async () => {
    const inventory = await collectInventory({
      run: runCommand,
      readFile: (p) => readFile(p, 'utf8'),
      si,
      platform: 'linux',
      agentVersion: '0.1.0',
    });
    // CI installs Debian's rpm tool for the version-ordering tests: present, with an empty database.
    const rpmPresent = await runCommand('rpm', ['--version']).then(
      () => true,
      () => false,
    );
    expect(inventory.sources).toEqual(rpmPresent ? ['dpkg', 'rpm'] : ['dpkg']);
    expect(inventory.packages.filter((p) => p.ecosystem === 'rpm')).toEqual([]);
    expect(inventory.packages.length).toBe((await collectDpkg(runCommand)).length);
    for (const p of inventory.packages) checkEntry(p, 'package');
    expect(inventory.invalid).toBe(0);
    expect(inventory.duplicates).toBe(0);
  });

  it('treats missing binaries and a missing apk database as tools not present', async () => {
    const inventory = await collectInventory(deps({}));
    expect(inventory).toMatchObject({ packages: [], sources: [], invalid: 0, duplicates: 0 });
    expect(inventory.facts.hostname).toBe('h1');
  });

  it('reads rpm and apk where they are present', async () => {
    const inventory = await collectInventory(
      deps({ run: only('rpm', fixture('rpm-qa.txt')), readFile: async () => fixture('apk-installed') }),
    );
    expect(inventory.sources).toEqual(['rpm', 'apk']);
    expect(inventory.packages.filter((p) => p.ecosystem === 'rpm')).toHaveLength(10);
    expect(inventory.packages.filter((p) => p.ecosystem === 'apk')).toHaveLength(6);
    // The second install-only kernel-core has the same (ecosystem, name, arch): the protocol holds one.
    expect(inventory.duplicates).toBe(1);
  });

  it('fails with the cause when a present tool fails', async () => {
    const error = await collectInventory(deps({ run: only('rpm', '', 1) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InventoryError);
    expect((error as InventoryError).ecosystem).toBe('rpm');
    expect(((error as InventoryError).cause as Error).message).toMatch(/rpm exited with code 1: boom/);
  });

  it('fails when the apk database exists but cannot be read', async () => {
    const denied = () => Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' }));
    await expect(collectInventory(deps({ readFile: denied }))).rejects.toMatchObject({ ecosystem: 'apk' });
  });

  it('cleans hostile entries and counts the ones it had to drop', async () => {
    const junk = `${'n'.repeat(300)}\t1\tamd64\tx\t1\tii \nnul\u0000\t1\tamd64\tnul\t1\tii \nnul\t1\tamd64\tnul\t1\tii \n`;
    const inventory = await collectInventory(deps({ run: only('dpkg-query', junk) }));
    expect(inventory.packages.map((p) => p.name)).toEqual(['nul']);
    expect(inventory.invalid).toBe(1);
    expect(inventory.duplicates).toBe(1);
  });

  it('uses the registry collector on Windows', async () => {
    const inventory = await collectInventory(deps({ platform: 'win32', run: only('powershell.exe', fixture('windows-uninstall.json')) }));
    expect(inventory.sources).toEqual(['windows']);
    expect(inventory.packages).toHaveLength(13);
    for (const p of inventory.packages) checkEntry(p, 'package');
  });

  it('uses system_profiler and pkgutil on macOS', async () => {
    const run: CommandRunner = async (cmd, args) => {
      if (cmd.endsWith('system_profiler')) return { stdout: fixture('macos-system-profiler-apps.json'), stderr: '', code: 0 };
      if (args[0] === '--pkgs') return { stdout: 'com.apple.pkg.CLTools_Executables\n', stderr: '', code: 0 };
      return { stdout: fixture('macos-pkgutil-pkg-info/com.apple.pkg.CLTools_Executables.txt'), stderr: '', code: 0 };
    };
    const inventory = await collectInventory(deps({ platform: 'darwin', run }));
    expect(inventory.sources).toEqual(['macos']);
    // Seven distinct apps (the second Google Chrome is a duplicate) plus one receipt.
    expect(inventory.packages).toHaveLength(8);
    expect(inventory.duplicates).toBe(1);
  });

  it('treats a missing OS tool on Windows as an error, not an empty inventory', async () => {
    await expect(collectInventory(deps({ platform: 'win32' }))).rejects.toBeInstanceOf(InventoryError);
  });

  it('reports no packages on a platform without a collector', async () => {
    const inventory = await collectInventory(deps({ platform: 'freebsd' }));
    expect(inventory.packages).toEqual([]);
  });
});
