import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { ME_KEY } from '../../auth';
import { StateBadge } from '../../ui/badges';
import { ApprovalsPage } from './ApprovalsPage';
import { DEPLOYMENT_LISTS_KEY } from './DeploymentsPage';
import type { DeploymentListItem } from './model';
import { type Preview, PreviewResult } from './PreviewResult';
import { WaveBar } from './parts';

const XSS = '<img src=x onerror=alert(1)>';
const BIDI = 'invoice\u202Egpj.exe';

function preview(): Preview {
  return {
    previewId: '00000000-0000-4000-8000-000000000001',
    approval: { required: true, why: [`targets ${XSS}`] },
    waves: [
      {
        index: 0,
        name: BIDI,
        hosts: [
          {
            hostId: '00000000-0000-4000-8000-0000000000a1',
            hostname: XSS,
            packages: [{ name: 'openssl', from: '3.0.1', to: `3.0.2${XSS}` }],
          },
          { hostId: '00000000-0000-4000-8000-0000000000a2', hostname: BIDI, packages: [], skipped: `not installed: ${XSS}` },
        ],
      },
    ],
    totals: { targeted: 2, hosts: 1, skipped: 1, packages: 1 },
    warnings: [`1 host(s) lack a requested package ${BIDI}`],
  };
}

describe('what agents reported, rendered', () => {
  it('shows a preview with hostile hostnames, versions and reasons as text', () => {
    const html = renderToStaticMarkup(
      <MemoryRouter>
        <PreviewResult preview={preview()} stale={false} />
      </MemoryRouter>,
    );
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('\u202E');
    expect(html).toContain('⟨U+202E⟩');
    expect(html).toContain('aria-label="Preview of wave 1"');
    expect(html).not.toContain('The form changed');
  });

  it('says when the form changed since the preview', () => {
    const html = renderToStaticMarkup(
      <MemoryRouter>
        <PreviewResult preview={preview()} stale={true} />
      </MemoryRouter>,
    );
    expect(html).toContain('The form changed since this preview');
  });

  it('draws states and progress without markup from the data', () => {
    expect(renderToStaticMarkup(<StateBadge state="awaiting_approval" testId="s" />)).toContain('awaiting approval');
    const bar = renderToStaticMarkup(<WaveBar label="Wave 1 progress" counts={{ succeeded: 1, failed: 1, [XSS]: 2 }} hostCount={4} />);
    expect(bar).toContain('aria-valuenow="2"');
    expect(bar).not.toContain('<img');
  });
});

describe('approvals', () => {
  it('lists what each deployment would install from the list item, as text', () => {
    const item: DeploymentListItem = {
      id: '00000000-0000-4000-8000-0000000000d1',
      name: `fix ${XSS}`,
      state: 'awaiting_approval',
      stateReason: 'critical',
      critical: true,
      emergency: false,
      createdBy: { id: '00000000-0000-4000-8000-0000000000u1', username: 'olivia' },
      approvedBy: null,
      createdAt: '2026-11-01T00:00:00.000Z',
      startAt: '2026-11-02T00:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      hostCount: 12,
      packages: [
        { name: 'openssl', version: null, minVersion: '3.0.11-1' },
        { name: BIDI, version: `1${XSS}` },
      ],
    };
    const client = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Number.POSITIVE_INFINITY } } });
    client.setQueryData(ME_KEY, {
      id: 'u',
      username: 'abe',
      role: 'approver',
      disabled: false,
      createdAt: '',
      permissions: ['deployments:approve'],
    });
    client.setQueryData([...DEPLOYMENT_LISTS_KEY, 'list', { state: 'awaiting_approval', offset: 0, limit: 20 }], {
      total: 1,
      items: [item],
    });
    const html = renderToStaticMarkup(
      <QueryClientProvider client={client}>
        <MemoryRouter initialEntries={['/approvals']}>
          <ApprovalsPage />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain('\u202E');
    expect(html).toContain('openssl&gt;=3.0.11-1');
    expect(html).toContain('aria-label="Deployments awaiting approval"');
    expect(html).toMatch(/<button[^>]*>Approve<\/button>/);
    expect(html).toContain('12');
  });
});
