import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, MAX_CANONICAL_DEPTH } from './canonical-json.js';

/** Rebuilds a value with every object's keys inserted in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a `__proto__` key stays a key instead of setting the prototype.
    return Object.fromEntries(
      Object.keys(value)
        .reverse()
        .map((key) => [key, reverseKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** JSON values canonicalJson accepts: well-formed strings, finite numbers, no -0 (JSON cannot keep its sign). */
const jsonValue = fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 20 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe('canonicalJson', () => {
  it('sorts object keys and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}');
  });

  it('gives the same text whatever order the keys were inserted in', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(canonicalJson(reverseKeys(value))).toBe(canonicalJson(value));
      }),
    );
  });

  it('parses back to an equal value', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(value);
      }),
    );
  });

  it('is stable for a nested structure, byte for byte', () => {
    const doc = {
      payload: { packages: [{ version: null, name: 'openssl', ecosystem: 'dpkg' }], kind: 'package-upgrade' },
      nested: { deeper: { list: [1, 2.5, -3, 1e21, 'é', '\u0000', '"\\'] } },
      empty: { object: {}, array: [] },
    };
    expect(canonicalJson(doc)).toBe(
      '{"empty":{"array":[],"object":{}},' +
        '"nested":{"deeper":{"list":[1,2.5,-3,1e+21,"é","\\u0000","\\"\\\\"]}},' +
        '"payload":{"kind":"package-upgrade","packages":[{"ecosystem":"dpkg","name":"openssl","version":null}]}}',
    );
  });

  it('orders keys by UTF-16 code units, not by locale', () => {
    expect(canonicalJson({ b: 0, B: 0, é: 0, '\u{1F600}': 0, '\uFFFF': 0, a: 0 })).toBe(
      '{"B":0,"a":0,"b":0,"é":0,"\u{1F600}":0,"\uFFFF":0}',
    );
  });

  it('spells minus zero as zero, the way JSON does', () => {
    expect(canonicalJson(-0)).toBe('0');
  });

  it('refuses numbers that are not finite', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, { a: [Number.NaN] }]) {
      expect(() => canonicalJson(bad), String(bad)).toThrow(CanonicalJsonError);
    }
  });

  it('refuses undefined, functions, symbols and bigints, even as object properties', () => {
    for (const bad of [undefined, () => 1, Symbol('x'), 1n, { a: undefined }, [undefined], { f() {} }]) {
      expect(() => canonicalJson(bad)).toThrow(CanonicalJsonError);
    }
  });

  it('refuses holes in arrays instead of writing null', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point of this test.
    expect(() => canonicalJson([1, , 3])).toThrow(CanonicalJsonError);
  });

  it('refuses strings and keys holding a lone surrogate', () => {
    for (const bad of ['\ud800', 'a\udc00b', '\udc00\ud800', { '\ud800': 1 }, ['ok', 'x\udfff']]) {
      expect(() => canonicalJson(bad), JSON.stringify(bad)).toThrow(/lone surrogate/);
    }
    expect(canonicalJson('\ud83d\ude00')).toBe('"\u{1F600}"');
  });

  it('refuses objects that are not plain data', () => {
    for (const bad of [new Date(0), new Map(), Buffer.from('x'), new (class Point {})(), /re/, { [Symbol('k')]: 1 }]) {
      expect(() => canonicalJson(bad)).toThrow(CanonicalJsonError);
    }
    expect(canonicalJson(Object.create(null))).toBe('{}');
  });

  it('refuses a value that contains itself', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow(/refers to itself/);
  });

  it('accepts the same object twice when it is not its own ancestor', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('refuses nesting deeper than the limit with a clear error rather than a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_CANONICAL_DEPTH; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(/nested deeper/);
  });

  it('keeps a hostile key out of the error message raw', () => {
    const key = `\u0000${'k'.repeat(500)}`;
    try {
      canonicalJson({ [key]: undefined });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('\u0000');
      expect((err as Error).message.length).toBeLessThan(200);
    }
  });
});
