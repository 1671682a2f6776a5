import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { ME_KEY, type Me } from '../../auth';
import { AuditPage, Detail } from './AuditPage';

function asRole(permissions: Me['permissions']) {
  const client = new QueryClient();
  client.setQueryData(ME_KEY, { id: 'u', username: 'x', role: 'admin', disabled: false, createdAt: '', permissions } satisfies Me);
  return client;
}

describe('audit detail cell', () => {
  it('shows markup and bidi tricks an agent put in a detail as text, never as elements', () => {
    const html = renderToStaticMarkup(<Detail detail={{ hostname: '<img src=x onerror=alert(1)>', name: 'invoice\u202Efdp.exe' }} />);
    expect(html).not.toContain('<img');
    expect(html).toContain('hostname: &lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('⟨U+202E⟩');
    expect(html).not.toContain('\u202E');
  });
});

describe('AuditPage', () => {
  it('names the screen, the table, the filters and the exports', () => {
    const html = renderToStaticMarkup(
      <QueryClientProvider client={asRole(['audit:read'])}>
        <MemoryRouter initialEntries={['/audit?actor=%3Cb%3Eadmin']}>
          <AuditPage />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    expect(html).toContain('<h1>Audit log</h1>');
    expect(html).toContain('aria-label="Audit log"');
    for (const label of ['Actor', 'Action', 'Target', 'Search']) expect(html).toMatch(new RegExp(`<label for="[^"]+">${label}</label>`));
    // The filter from the URL is a value, escaped, not markup.
    expect(html).toContain('value="&lt;b&gt;admin"');
    expect(html).toContain('Export page (CSV)');
    expect(html).not.toContain('Your role cannot read the audit log.');
  });

  it('tells a role without audit:read that it cannot read the log', () => {
    const html = renderToStaticMarkup(
      <QueryClientProvider client={asRole(['hosts:read'])}>
        <MemoryRouter initialEntries={['/audit']}>
          <AuditPage />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    expect(html).toContain('Your role cannot read the audit log.');
  });
});
