import { describe, expect, it } from 'vitest';
import { rawControls } from './__fixtures__/fake-api.js';
import { cell, escapeControl, formatFields, formatJson, formatTable, shellWord, timestamp } from './output.js';

describe('escapeControl', () => {
  it('makes C0, DEL, C1 and bidi control characters visible', () => {
    expect(escapeControl('evil\u001b[31m\u202e')).toBe('evil\\x1b[31m\\u202e');
    expect(escapeControl('a\u0000b\u007fc\u009bd')).toBe('a\\x00b\\x7fc\\x9bd');
    expect(escapeControl('\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069')).toBe(
      '\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069',
    );
    expect(escapeControl('line\nnext\ttab\r')).toBe('line\\nnext\\ttab\\r');
  });

  it('leaves ordinary text, including non-Latin scripts and emoji, alone', () => {
    const text = 'web-01 café Ünïcödé 東京 مرحبا 🚀';
    expect(escapeControl(text)).toBe(text);
  });

  it('escapes every character of the unsafe ranges and nothing next to them', () => {
    const unsafe = [...range(0x00, 0x1f), ...range(0x7f, 0x9f), ...range(0x202a, 0x202e), ...range(0x2066, 0x2069)];
    for (const code of unsafe) expect(escapeControl(String.fromCodePoint(code)), code.toString(16)).toMatch(/^\\/);
    for (const code of [0x20, 0x7e, 0xa0, 0x2029, 0x202f, 0x2065, 0x206a]) {
      expect(escapeControl(String.fromCodePoint(code)), code.toString(16)).toBe(String.fromCodePoint(code));
    }
  });
});

describe('formatJson', () => {
  it('writes no raw control or bidi characters yet parses back to the same value', () => {
    const value = { name: 'x\u001b\u009b\u202e\u2066y', list: [1, null, 'ok'] };
    const text = formatJson(value);
    expect(rawControls(text)).toEqual([]);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('formatTable', () => {
  it('aligns columns by code points and leaves no trailing blanks', () => {
    const text = formatTable(
      ['A', 'BB', 'C'],
      [
        ['東京', 'x', ''],
        ['1', 'yyyy', 'z'],
      ],
    );
    expect(text).toBe('A   BB    C\n東京  x\n1   yyyy  z\n');
  });
});

describe('formatFields', () => {
  it('aligns values after their labels', () => {
    expect(
      formatFields([
        ['ID', '1'],
        ['Hostname', 'web'],
      ]),
    ).toBe('ID        1\nHostname  web\n');
  });
});

describe('cell and timestamp', () => {
  it('shows missing values as a dash and objects as JSON', () => {
    expect(cell(null)).toBe('-');
    expect(cell(undefined)).toBe('-');
    expect(cell('')).toBe('-');
    expect(cell(0)).toBe('0');
    expect(cell({ username: 'a\u001b' })).toBe('{"username":"a\\u001b"}');
  });

  it('drops milliseconds from ISO timestamps and passes other text through escaped', () => {
    expect(timestamp('2024-05-01T12:00:00.123Z')).toBe('2024-05-01T12:00:00Z');
    expect(timestamp(null, 'never')).toBe('never');
    expect(timestamp('soon\u001b')).toBe('soon\\x1b');
  });
});

describe('shellWord', () => {
  it('leaves URLs and tokens bare and single-quotes anything else', () => {
    expect(shellWord('https://brier.example.com:8443/x')).toBe('https://brier.example.com:8443/x');
    expect(shellWord('abc_DEF-123.xyz=')).toBe('abc_DEF-123.xyz=');
    expect(shellWord('a b')).toBe("'a b'");
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
    expect(shellWord('$(id)')).toBe("'$(id)'");
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
