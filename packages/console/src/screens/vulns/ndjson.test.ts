import { describe, expect, it } from 'vitest';
import { feedContentType, INITIAL_IMPORT, importName, MAX_NDJSON_LINE, NdjsonSplitter, parseImportLine, reduceImport } from './ndjson';

const summary = {
  importId: '11111111-1111-4111-8111-111111111111',
  kind: 'osv',
  read: 3,
  stored: 2,
  unchanged: 0,
  rejected: 1,
  withdrawn: 0,
  rejections: [{ id: 'X-1', where: 'X-1.json', reason: 'bad' }],
  findings: { open: 5, opened: 2, closed: 0 },
};

describe('NdjsonSplitter', () => {
  it('splits lines across chunk boundaries and keeps the unfinished tail', () => {
    const s = new NdjsonSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\r\n\n  \n{"c":')).toEqual(['{"b":2}']);
    expect(s.push('3}')).toEqual([]);
    expect(s.end()).toEqual(['{"c":3}']);
    expect(s.end()).toEqual([]);
  });

  it('refuses a line without end rather than buffering it forever', () => {
    const s = new NdjsonSplitter();
    expect(() => s.push('x'.repeat(MAX_NDJSON_LINE + 1))).toThrow(/longer than/);
  });
});

describe('parseImportLine', () => {
  it('reads progress, result and error lines', () => {
    expect(parseImportLine('{"progress":{"read":10,"stored":7,"rejected":1}}')).toEqual({
      type: 'progress',
      read: 10,
      stored: 7,
      rejected: 1,
    });
    expect(parseImportLine(JSON.stringify({ result: summary }))).toEqual({ type: 'result', result: summary });
    expect(parseImportLine('{"error":{"code":"bad_request","detail":"not a feed"}}')).toEqual({
      type: 'error',
      code: 'bad_request',
      detail: 'not a feed',
    });
  });

  it('takes a whole summary (a server that did not stream) as the result', () => {
    expect(parseImportLine(JSON.stringify(summary))).toEqual({ type: 'result', result: summary });
  });

  it('turns malformed lines into unknown events, never exceptions', () => {
    for (const line of ['not json', '[1,2]', 'null', '"x"', '{"result":{"importId":1}}', '{"other":true}'])
      expect(parseImportLine(line).type, line).toBe('unknown');
    expect(parseImportLine('{"progress":{"read":-5,"stored":"x","rejected":1e400}}')).toEqual({
      type: 'progress',
      read: 0,
      stored: 0,
      rejected: 0,
    });
    expect(parseImportLine('{"error":{"code":5}}')).toEqual({ type: 'error', code: 'internal', detail: 'the import failed' });
  });
});

describe('reduceImport', () => {
  it('follows progress to the result', () => {
    let s = reduceImport({ ...INITIAL_IMPORT, phase: 'uploading' }, { type: 'progress', read: 1, stored: 1, rejected: 0 });
    expect(s.phase).toBe('importing');
    s = reduceImport(s, { type: 'result', result: summary });
    expect(s).toMatchObject({ phase: 'done', result: summary, progress: { read: 1 } });
    // A late progress line does not reopen a finished import.
    expect(reduceImport(s, { type: 'progress', read: 9, stored: 9, rejected: 0 })).toBe(s);
  });

  it('records a failure and keeps a bounded list of unknown lines', () => {
    const failed = reduceImport(INITIAL_IMPORT, { type: 'error', code: 'internal', detail: 'boom' });
    expect(failed).toMatchObject({ phase: 'failed', error: { code: 'internal', detail: 'boom' } });
    let s = INITIAL_IMPORT;
    for (let i = 0; i < 50; i++) s = reduceImport(s, { type: 'unknown', line: 'y'.repeat(1000) });
    expect(s.unknown).toHaveLength(20);
    expect(s.unknown[0]).toHaveLength(500);
  });
});

describe('feed uploads', () => {
  it('sends a zip as application/zip by its magic bytes, anything else as raw bytes', () => {
    expect(feedContentType(new Uint8Array([0x50, 0x4b, 3, 4]))).toBe('application/zip');
    expect(feedContentType(new Uint8Array([0x50, 0x4b, 5, 6]))).toBe('application/zip');
    expect(feedContentType(new Uint8Array([0x7b, 0x22, 0x69, 0x64]))).toBe('application/octet-stream');
    expect(feedContentType(new Uint8Array([0x50, 0x4b]))).toBe('application/octet-stream');
  });

  it('names the import after the file, without control characters, at most 200 code points', () => {
    expect(importName('all.zip')).toBe('all.zip');
    expect(importName('evil\u0000\n\u001b[31m.json')).toBe('evil[31m.json');
    expect(importName('\u0007')).toBe('upload');
    const long = importName('😀'.repeat(300));
    expect(Array.from(long)).toHaveLength(200);
    expect(() => encodeURIComponent(long)).not.toThrow();
  });
});
