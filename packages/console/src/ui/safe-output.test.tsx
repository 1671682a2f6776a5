import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { toCsv } from './csv';
import { hasInvisible, SafeText, visibleText } from './SafeText';

describe('SafeText', () => {
  it('renders markup an agent reported as text, never as elements', () => {
    const html = renderToStaticMarkup(<SafeText text={'<img src=x onerror=alert(1)>'} />);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('shows bidi overrides, zero-width characters, controls and tag characters as visible markers', () => {
    const trojan = 'invoice\u202Efdp.exe\u200B\u0000x\u{E0041}';
    const html = renderToStaticMarkup(<SafeText text={trojan} />);
    for (const cp of ['U+202E', 'U+200B', 'U+0000', 'U+E0041']) expect(html).toContain(`⟨${cp}⟩`);
    expect(html).not.toContain('\u202E');
    expect(html).toContain('RIGHT-TO-LEFT OVERRIDE');
    expect(visibleText(trojan)).toBe('invoice⟨U+202E⟩fdp.exe⟨U+200B⟩⟨U+0000⟩x⟨U+E0041⟩');
  });

  it('leaves ordinary text, including right-to-left scripts and emoji, alone', () => {
    for (const s of ['web-01.example.org', 'שרת-ראשי', 'Zürich 東京 🚀']) {
      expect(hasInvisible(s)).toBe(false);
      expect(visibleText(s)).toBe(s);
    }
    expect(hasInvisible('a\u2066b')).toBe(true);
    expect(hasInvisible('a\u2066b')).toBe(true);
  });

  it('cuts long text and keeps the whole in the tooltip', () => {
    const html = renderToStaticMarkup(<SafeText text={'x'.repeat(50)} max={10} />);
    expect(html).toContain(`>${'x'.repeat(10)}…<`);
    expect(html).toContain(`title="${'x'.repeat(50)}"`);
  });

  it('shows a dash for missing text', () => {
    expect(renderToStaticMarkup(<SafeText text={null} />)).toContain('—');
  });
});

describe('CSV export', () => {
  it('neutralises cells that a spreadsheet would run as formulas', () => {
    const csv = toCsv(
      ['hostname', 'package'],
      [
        ['=HYPERLINK("http://evil/","x")', '+cmd|calc'],
        ['-2+3', '@SUM(A1)'],
        ['\tleading-tab', '\rleading-cr'],
        ['web-01', 'openssl'],
      ],
    );
    const rows = csv.split('\r\n');
    expect(rows[0]).toBe('hostname,package');
    expect(rows[1]).toBe(`"'=HYPERLINK(""http://evil/"",""x"")","'+cmd|calc"`);
    expect(rows[2]).toBe(`"'-2+3","'@SUM(A1)"`);
    expect(rows[3]).toBe(`"'\tleading-tab","'\rleading-cr"`);
    expect(rows[4]).toBe('web-01,openssl');
  });

  it('quotes separators, quotes and newlines, and writes objects as JSON', () => {
    const csv = toCsv(
      ['a', 'b'],
      [
        ['x,y', 'say "hi"\nbye'],
        [null, { k: 1 }],
      ],
    );
    expect(csv).toBe('a,b\r\n"x,y","say ""hi""\nbye"\r\n,"{""k"":1}"');
  });
});
