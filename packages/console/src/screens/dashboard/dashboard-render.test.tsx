import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import type { Json } from '../../api/client';
import { DashboardPage } from './DashboardPage';
import { DASHBOARD_KEY } from './dashboard-query';

type Dashboard = Json<'/api/v1/dashboard', 'get'>;

const EMPTY: Dashboard = {
  generatedAt: '2026-11-27T09:00:00.000Z',
  hosts: { total: 0, approved: 0, pending: 0, revoked: 0, online: 0 },
  compliance: [],
  findings: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 },
  overdue: [1, 2, 3, 4, 5].map((tier) => ({ tier, count: 0 })),
  remediation: [],
  deploymentsInFlight: 0,
  deployments: [],
};

function render(data: Dashboard): string {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Number.POSITIVE_INFINITY } } });
  client.setQueryData(DASHBOARD_KEY, data);
  return renderToStaticMarkup(
    <QueryClientProvider client={client}>
      <MemoryRouter>
        <DashboardPage />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe('dashboard', () => {
  it('says what to do when there is nothing yet', () => {
    const html = render(EMPTY);
    expect(html).toContain('<h1>Dashboard</h1>');
    expect(html).toContain('No hosts yet.');
    expect(html).toContain('Settings → Join tokens');
    expect(html).toContain('No policies yet.');
    expect(html).toContain('No open findings.');
    expect(html).toContain('Nothing is overdue.');
    expect(html).toContain('Nothing is rolling out.');
    for (const region of [
      'Fleet',
      'Compliance by policy',
      'Open findings by severity',
      'Overdue by risk tier',
      'Time to remediate',
      'Deployments in flight',
    ])
      expect(html).toContain(`aria-label="${region}"`);
  });

  it('renders deployment names and reasons as text, with a progress bar per deployment', () => {
    const html = render({
      ...EMPTY,
      hosts: { total: 3, approved: 3, pending: 0, revoked: 0, online: 2 },
      deploymentsInFlight: 1,
      deployments: [
        {
          id: '6b0c1c9e-1f7e-4a43-9c1e-0d2f7a1b2c3d',
          name: '<img src=x onerror=alert(1)>',
          state: 'running',
          stateReason: 'wave\u202E 2',
          critical: true,
          emergency: false,
          createdAt: '2026-11-27T09:00:00.000Z',
          startAt: null,
          startedAt: null,
          waves: 2,
          hostCount: 4,
          summary: { total: 4, succeeded: 2, failed: 1, expired: 0, unreached: 0, inProgress: 1, rebootPending: 0, verified: 2 },
        },
      ],
    });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('href="/deployments/6b0c1c9e-1f7e-4a43-9c1e-0d2f7a1b2c3d"');
    expect(html).toContain('role="progressbar"');
    expect(html).toContain('aria-valuetext="3 of 4 done, 1 failed, 1 in progress"');
    expect(html).toContain('⟨U+202E⟩');
    expect(html).not.toContain('\u202E');
    expect(html).toContain('href="/hosts?online=false"');
  });
});
