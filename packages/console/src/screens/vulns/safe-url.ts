/**
 * Links to outside sites built from feed data. A feed is untrusted: only absolute http(s) URLs
 * become links (never javascript:, data:, vbscript:, file: or a relative path), and never ones
 * carrying credentials (https://trusted.example@evil.example/) or whitespace and control
 * characters (which browsers strip, so "java\tscript:" would otherwise slip through).
 */

const MAX_URL = 2048;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const UNSAFE_CHARS = /[\u0000-\u0020\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;

/** The URL normalised, or null when it must not become a link. */
export function safeHttpUrl(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  if (raw.length === 0 || raw.length > MAX_URL || UNSAFE_CHARS.test(raw)) return null;
  // Only an explicit scheme: "//evil.example" and "/path" are relative to the console.
  if (!/^https?:\/\//i.test(raw)) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '' || url.hostname === '') return null;
  return url.href;
}

export interface ReferenceLink {
  label: string;
  href: string;
}

/** Where the well-known record ids are published; the id is checked before it goes into a URL. */
const KNOWN: Array<{ pattern: RegExp; label: string; url: (id: string) => string }> = [
  { pattern: /^CVE-\d{4}-\d{4,}$/, label: 'CVE record', url: (id) => `https://www.cve.org/CVERecord?id=${id}` },
  {
    pattern: /^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/,
    label: 'GitHub advisory',
    url: (id) => `https://github.com/advisories/${id}`,
  },
  {
    pattern: /^(CVE-\d{4}-\d{4,}|DSA-\d+(-\d+)?|DLA-\d+(-\d+)?|TEMP-\d+-[0-9A-Fa-f]+)$/,
    label: 'Debian security tracker',
    url: (id) => `https://security-tracker.debian.org/tracker/${id}`,
  },
];

/** Record ids osv.dev serves at /vulnerability/<id>. */
const OSV_ID = /^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._:-]{1,100}$/;

/**
 * The reference links of a record: its id and aliases at the sites that publish them, then the
 * feed's own references that pass `safeHttpUrl`. Duplicates are dropped; at most `max` links.
 */
export function referenceLinks(id: string, aliases: readonly string[], feedReferences: unknown = [], max = 30): ReferenceLink[] {
  const out: ReferenceLink[] = [];
  const seen = new Set<string>();
  const add = (label: string, href: string | null) => {
    if (href === null || seen.has(href) || out.length >= max) return;
    seen.add(href);
    out.push({ label, href });
  };
  for (const recordId of [id, ...aliases]) {
    for (const k of KNOWN) if (k.pattern.test(recordId)) add(`${k.label}: ${recordId}`, safeHttpUrl(k.url(recordId)));
  }
  if (OSV_ID.test(id)) add(`OSV: ${id}`, safeHttpUrl(`https://osv.dev/vulnerability/${encodeURIComponent(id)}`));
  if (Array.isArray(feedReferences)) {
    for (const ref of feedReferences) {
      const url = typeof ref === 'string' ? ref : ref && typeof ref === 'object' ? (ref as { url?: unknown }).url : undefined;
      const href = safeHttpUrl(url);
      if (href !== null) add(href, href);
    }
  }
  return out;
}
