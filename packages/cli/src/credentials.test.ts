import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempConfigDir } from './__fixtures__/fake-api.js';
import { credentialsTooOpen, defaultConfigDir, deleteCredentials, readCredentials, writeCredentials } from './credentials.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempConfigDir());
});

afterEach(async () => {
  await cleanup();
});

describe('defaultConfigDir', () => {
  it('prefers BRIER_CONFIG_DIR, then XDG_CONFIG_HOME/brier, then ~/.config/brier', () => {
    expect(defaultConfigDir({ BRIER_CONFIG_DIR: '/c', XDG_CONFIG_HOME: '/x' }, '/home/a')).toBe('/c');
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '/x' }, '/home/a')).toBe(join('/x', 'brier'));
    expect(defaultConfigDir({}, '/home/a')).toBe(join('/home/a', '.config', 'brier'));
    expect(defaultConfigDir({ BRIER_CONFIG_DIR: '', XDG_CONFIG_HOME: '' }, '/home/a')).toBe(join('/home/a', '.config', 'brier'));
  });
});

describe('credentials file', () => {
  it('is written with mode 0600 in a directory created with mode 0700 and reads back the same', async () => {
    const configDir = join(dir, 'nested', 'brier');
    const saved = { server: 'https://brier.example.com', token: 't0k', username: 'alice' };
    const path = await writeCredentials(configDir, saved);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(configDir)).mode & 0o777).toBe(0o700);
    expect(await readCredentials(configDir)).toEqual(saved);
    expect(await readdir(configDir)).toEqual(['credentials.json']);
  });

  it('replaces an earlier file that was readable by others with a 0600 one', async () => {
    await writeFile(join(dir, 'credentials.json'), '{}', { mode: 0o644 });
    expect(await credentialsTooOpen(dir)).toBe(true);
    await writeCredentials(dir, { server: 'https://a', token: 'new', username: 'u' });
    expect((await stat(join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, 'credentials.json'), 'utf8')).token).toBe('new');
  });

  it('reads as absent when there is no file, and deleting it twice is harmless', async () => {
    expect(await readCredentials(dir)).toBeUndefined();
    await writeCredentials(dir, { server: 'https://a', token: 't', username: 'u' });
    expect(await deleteCredentials(dir)).toBe(true);
    expect(await deleteCredentials(dir)).toBe(false);
  });

  it('is an error, not silently ignored, when damaged', async () => {
    await writeFile(join(dir, 'credentials.json'), '{"server":"https://a"}');
    await expect(readCredentials(dir)).rejects.toThrow(/lacks server or token/);
  });
});
