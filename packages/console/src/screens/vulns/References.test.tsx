import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { References } from './References';

describe('References', () => {
  it('renders only http(s) links, opened without opener or referrer, their text escaped', () => {
    const html = renderToStaticMarkup(
      <References
        id="CVE-2024-1234"
        aliases={[]}
        feedReferences={[
          { url: 'javascript:alert(1)' },
          { url: 'https://example.org/?q="><img/src=x/onerror=alert(1)>' },
          'data:text/html,<script>alert(1)</script>',
          'https://evil.example/\u202Eexe',
        ]}
      />,
    );
    expect(html).not.toMatch(/href="(javascript|data):/i);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('href="https://www.cve.org/CVERecord?id=CVE-2024-1234"');
    expect(html).toContain('href="https://example.org/?q=%22%3E%3Cimg/src=x/onerror=alert(1)%3E"');
    expect(html).not.toContain('evil.example');
    const anchors = html.match(/<a [^>]*>/g) ?? [];
    expect(anchors.length).toBeGreaterThan(1);
    for (const a of anchors) {
      expect(a).toContain('rel="noopener noreferrer"');
      expect(a).toContain('target="_blank"');
    }
  });

  it('shows a dash when there is nothing to link', () => {
    expect(renderToStaticMarkup(<References id="weird id" aliases={[]} />)).toContain('—');
  });
});
