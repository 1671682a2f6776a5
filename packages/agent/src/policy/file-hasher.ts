import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { FileHasher } from './ports.js';

/**
 * The sha256 (lower-case hex) of a file's content, streamed so a large file costs no memory; null
 * when nothing exists at the path. A directory or an unreadable file is an error (the rule then
 * reports 'error', not a missing file). Symbolic links are followed, as a program reading the
 * path would.
 */
export const hashFile: FileHasher = async (file) => {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(file), hash);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  return hash.digest('hex');
};
