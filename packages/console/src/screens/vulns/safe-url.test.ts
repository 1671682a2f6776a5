import { describe, expect, it } from 'vitest';
import { referenceLinks, safeHttpUrl } from './safe-url';

describe('safeHttpUrl', () => {
  it('keeps absolute http and https URLs, normalised', () => {
    expect(safeHttpUrl('https://osv.dev/vulnerability/GHSA-1')).toBe('https://osv.dev/vulnerability/GHSA-1');
    expect(safeHttpUrl('HTTP://Example.ORG')).toBe('http://example.org/');
    expect(safeHttpUrl('https://example.org/a?b=<c>')).toBe('https://example.org/a?b=%3Cc%3E');
  });

  it('refuses script and other schemes however they are spelt', () => {
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      '\u0000javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'ftp://example.org/',
      'blob:https://example.org/x',
    ])
      expect(safeHttpUrl(bad), JSON.stringify(bad)).toBeNull();
  });

  it('refuses relative, protocol-relative, credentialled and malformed URLs', () => {
    for (const bad of [
      '/api/v1/users',
      '//evil.example/',
      'evil.example',
      'https://trusted.example@evil.example/',
      'https://user:pass@example.org/',
      'https://',
      'https://exa mple.org/',
      'https://example.org/\u202Egnp.exe',
      'https:\\\\evil.example',
      '',
    ])
      expect(safeHttpUrl(bad), JSON.stringify(bad)).toBeNull();
  });

  it('refuses what is not a string and what is too long', () => {
    expect(safeHttpUrl(undefined)).toBeNull();
    expect(safeHttpUrl({ url: 'https://example.org' })).toBeNull();
    expect(safeHttpUrl(`https://example.org/${'a'.repeat(3000)}`)).toBeNull();
  });
});

describe('referenceLinks', () => {
  it('links a CVE and its aliases where they are published', () => {
    const links = referenceLinks('CVE-2024-1234', ['GHSA-jfh8-c2jp-5v3q', 'DSA-5555-1']);
    expect(links.map((l) => l.href)).toEqual([
      'https://www.cve.org/CVERecord?id=CVE-2024-1234',
      'https://security-tracker.debian.org/tracker/CVE-2024-1234',
      'https://github.com/advisories/GHSA-jfh8-c2jp-5v3q',
      'https://security-tracker.debian.org/tracker/DSA-5555-1',
      'https://osv.dev/vulnerability/CVE-2024-1234',
    ]);
  });

  it('keeps only safe feed references, once each, bounded', () => {
    const links = referenceLinks(
      'X',
      [],
      [
        'https://example.org/a',
        { type: 'WEB', url: 'https://example.org/b' },
        'javascript:alert(1)',
        { url: 'data:,x' },
        'https://example.org/a',
        42,
      ],
    );
    expect(links.map((l) => l.href)).toEqual(['https://example.org/a', 'https://example.org/b']);
    expect(
      referenceLinks(
        'X',
        [],
        Array.from({ length: 100 }, (_, i) => `https://e.org/${i}`),
        5,
      ),
    ).toHaveLength(5);
    expect(referenceLinks('X', [], 'https://example.org/')).toEqual([]);
  });

  it('does not build links from ids that only look like known ones', () => {
    expect(referenceLinks('CVE-2024-1234/../../x', ['GHSA-zzzz'])).toEqual([]);
  });
});
