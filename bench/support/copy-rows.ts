import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../../packages/server/src/store/db.js';

/**
 * `COPY … FROM STDIN` (text format) from an iterable of lines, for loading benchmark data that is too
 * large to hold as one string: the lines are generated while they are sent. PostgreSQL streams them
 * through `pg-copy-streams`; PGlite has no client/server stream, so its lines are gathered into a
 * Blob (outside the JS heap) and read with `COPY … FROM '/dev/blob'`.
 */
export type CopyTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; database: Database };

/** Joins lines into chunks of about this many characters: one write per chunk, not per row. */
const CHUNK_CHARS = 1 << 18;

function* chunked(lines: Iterable<string>): Generator<string> {
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/** Runs `statement` (`copy t (cols) from stdin`) with `lines`, each ending in a newline. */
export async function copyRows(target: CopyTarget, statement: string, lines: Iterable<string>): Promise<void> {
  if (target.kind === 'postgres') {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      await pipeline(Readable.from(chunked(lines)), client.query(copyFrom(statement)));
    } finally {
      await client.end();
    }
    return;
  }
  const client = (target.database.db as unknown as { $client: PGlite }).$client;
  const blob = new Blob([...chunked(lines)]);
  await client.query(statement.replace(/from stdin$/i, "from '/dev/blob'"), [], { blob });
}
