/**
 * Canonical JSON: one spelling per value, so that a hash or a signature over it means the value and
 * not an accident of key order or whitespace. Object keys are sorted by UTF-16 code units and there
 * is no whitespace; strings and numbers are spelled as `JSON.stringify` spells them, which for the
 * values accepted here is the same as RFC 8785 (JCS).
 *
 * Anything JSON cannot carry faithfully is refused instead of being dropped or coerced the way
 * `JSON.stringify` does (it turns `NaN` into `null`, drops `undefined` properties and calls
 * `toJSON`): two different values must never share a canonical form.
 */

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

/** Deeper than this is no document we sign; the limit turns a stack overflow into a clear error. */
export const MAX_CANONICAL_DEPTH = 64;

/** A lone (unpaired) UTF-16 surrogate: not a Unicode scalar value, so UTF-8 cannot carry it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function str(value: string, where: string): string {
  if (LONE_SURROGATE.test(value)) throw new CanonicalJsonError(`${where}: string holds a lone surrogate`);
  return JSON.stringify(value);
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function write(value: unknown, where: string, depth: number, open: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return str(value, where);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${where}: ${value} is not a finite number`);
      // JSON.stringify spells -0 as "0": the one number whose sign JSON cannot keep, and it compares equal.
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      // undefined, function, symbol, bigint.
      throw new CanonicalJsonError(`${where}: ${typeof value} is not a JSON value`);
  }
  if (value === null) return 'null';
  if (depth >= MAX_CANONICAL_DEPTH) throw new CanonicalJsonError(`${where}: nested deeper than ${MAX_CANONICAL_DEPTH}`);
  if (open.has(value)) throw new CanonicalJsonError(`${where}: value refers to itself`);
  open.add(value);
  try {
    if (Array.isArray(value)) {
      const items: string[] = [];
      for (let i = 0; i < value.length; i++) {
        // A hole reads as undefined and is refused like one, instead of becoming null.
        items.push(write(value[i], `${where}[${i}]`, depth + 1, open));
      }
      return `[${items.join(',')}]`;
    }
    const proto = Object.getPrototypeOf(value);
    // Dates, Maps, Buffers and class instances have no single JSON spelling (or one that `toJSON`
    // picks behind our back): only plain objects are data.
    if (proto !== Object.prototype && proto !== null) throw new CanonicalJsonError(`${where}: only plain objects and arrays are JSON`);
    if (Object.getOwnPropertySymbols(value).length > 0) throw new CanonicalJsonError(`${where}: symbol keys are not JSON`);
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort(byCodeUnits)) {
      // Keys may come from a peer: quoted and bounded, so an error message never carries raw bytes.
      const at = `${where}[${JSON.stringify(key.slice(0, 64))}]`;
      members.push(`${str(key, at)}:${write(record[key], at, depth + 1, open)}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    open.delete(value);
  }
}

/** The canonical JSON text of `value`. Throws CanonicalJsonError on anything that is not plain JSON data. */
export function canonicalJson(value: unknown): string {
  return write(value, '$', 0, new Set());
}
