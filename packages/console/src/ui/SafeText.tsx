import { Fragment } from 'react';

/**
 * Characters that change how text looks without being seen: controls, zero-width and joiner
 * characters, bidirectional overrides and isolates (the "Trojan Source" family), soft hyphens,
 * the BOM and Unicode tag characters.
 */
const INVISIBLE = new RegExp(
  '[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u00ad\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f' +
    '\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\u3164\\ufe00-\\ufe0f\\ufeff\\ufff9-\\ufffb\\u{e0000}-\\u{e007f}]',
  'gu',
);

/** Names of the common ones, by code point (hex). */
const NAMES: Record<string, string> = {
  '00AD': 'SOFT HYPHEN',
  '061C': 'ARABIC LETTER MARK',
  '200B': 'ZERO WIDTH SPACE',
  '200C': 'ZERO WIDTH NON-JOINER',
  '200D': 'ZERO WIDTH JOINER',
  '200E': 'LEFT-TO-RIGHT MARK',
  '200F': 'RIGHT-TO-LEFT MARK',
  '202A': 'LEFT-TO-RIGHT EMBEDDING',
  '202B': 'RIGHT-TO-LEFT EMBEDDING',
  '202C': 'POP DIRECTIONAL FORMATTING',
  '202D': 'LEFT-TO-RIGHT OVERRIDE',
  '202E': 'RIGHT-TO-LEFT OVERRIDE',
  '2060': 'WORD JOINER',
  '2066': 'LEFT-TO-RIGHT ISOLATE',
  '2067': 'RIGHT-TO-LEFT ISOLATE',
  '2068': 'FIRST STRONG ISOLATE',
  '2069': 'POP DIRECTIONAL ISOLATE',
  FEFF: 'ZERO WIDTH NO-BREAK SPACE (BOM)',
};

function codePointLabel(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The text with every invisible character written as `⟨U+202E⟩`: for titles, tooltips and exports. */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, (ch) => `⟨${codePointLabel(ch)}⟩`);
}

/** Whether the text holds characters that <SafeText> would show as markers. */
export function hasInvisible(text: string): boolean {
  INVISIBLE.lastIndex = 0;
  const found = INVISIBLE.test(text);
  INVISIBLE.lastIndex = 0;
  return found;
}

/**
 * Untrusted text (anything an agent or a feed reported) as plain text: React escapes it, invisible
 * and bidi characters become visible markers, and the result is isolated with <bdi> so right-to-left
 * text cannot reorder what surrounds it. Long text is cut at `max` characters with the whole in the
 * tooltip.
 */
export function SafeText({ text, max }: { text: string | null | undefined; max?: number }) {
  if (text === null || text === undefined) return <span className="muted">—</span>;
  const cut = max !== undefined && text.length > max ? `${text.slice(0, max)}…` : text;
  const parts: Array<string | { marker: string; name: string }> = [];
  let last = 0;
  for (const m of cut.matchAll(INVISIBLE)) {
    const index = m.index ?? 0;
    if (index > last) parts.push(cut.slice(last, index));
    const label = codePointLabel(m[0]);
    parts.push({ marker: label, name: NAMES[label.slice(2)] ?? 'invisible character' });
    last = index + m[0].length;
  }
  if (last < cut.length) parts.push(cut.slice(last));
  const title = cut === text && parts.length <= 1 ? undefined : visibleText(text);
  return (
    <bdi className="safe-text" title={title}>
      {parts.map((p, i) =>
        typeof p === 'string' ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one string never reorder
          <Fragment key={i}>{p}</Fragment>
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: as above
          <span key={i} className="invisible-char" title={`${p.marker} ${p.name}`}>
            ⟨{p.marker}⟩
          </span>
        ),
      )}
    </bdi>
  );
}
