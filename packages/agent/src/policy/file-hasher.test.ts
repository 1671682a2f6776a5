import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashFile } from './file-hasher.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'brier-hash-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('hashFile', () => {
  it("returns the sha256 of a file's content in lower-case hex", async () => {
    const file = path.join(dir, 'banner');
    writeFileSync(file, 'hello\n');
    expect(await hashFile(file)).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  });

  it('returns null when nothing exists at the path, or a parent is a file', async () => {
    expect(await hashFile(path.join(dir, 'missing'))).toBeNull();
    writeFileSync(path.join(dir, 'file'), '');
    expect(await hashFile(path.join(dir, 'file', 'below'))).toBeNull();
  });

  it('fails for a directory rather than calling it missing', async () => {
    mkdirSync(path.join(dir, 'sub'));
    await expect(hashFile(path.join(dir, 'sub'))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
