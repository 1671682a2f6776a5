// \p{Cc} covers C0 (NUL included: PostgreSQL cannot store it), DEL and C1. Lone surrogates cannot
// be encoded as UTF-8, so they would be mangled on the way to the database.
const CONTROL_OR_LONE_SURROGATE = /[\p{Cc}\p{Cs}]/gu;

/** Removes control characters and lone surrogates, then trims. Never shortens; see `clipText`. */
export function cleanText(value: string): string {
  return value.replace(CONTROL_OR_LONE_SURROGATE, '').trim();
}

/**
 * `cleanText`, then cut to `maxLength` UTF-16 units without splitting a surrogate pair. For
 * descriptive text only (facts): an identifier that is too long must be refused, not cut.
 */
export function clipText(value: string, maxLength: number): string {
  const clean = cleanText(value);
  if (clean.length <= maxLength) return clean;
  let end = maxLength;
  const last = clean.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return clean.slice(0, end).trimEnd();
}

/** `clipText` for optional fields: a missing or empty value becomes undefined. */
export function optionalText(value: string | null | undefined, maxLength: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const clipped = clipText(value, maxLength);
  return clipped === '' ? undefined : clipped;
}
