import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter, Route, Routes } from 'react-router';
import { describe, expect, it } from 'vitest';
import { ME_KEY } from '../../auth';
import { DataTable } from '../../ui/DataTable';
import { HostPage, hostKey } from './HostPage';
import { hostColumns } from './HostsPage';

const EVIL = '<img src=x onerror=alert(1)>';
const ID = '6b0c1c9e-1f7e-4a43-9c1e-0d2f7a1b2c3d';

const host = {
  id: ID,
  hostname: EVIL,
  status: 'pending' as const,
  online: false,
  lastSeenAt: null,
  enrolledAt: '2026-11-01T00:00:00.000Z',
  approvedAt: null,
  revokedAt: null,
  os: { platform: 'linux', distro: 'debian', release: '12', codename: 'bookworm', kernel: '6.1.0', arch: 'amd64' },
  packageCount: 1,
  inventoryAt: null,
  site: 'dc\u202E1',
  groups: ['web', '<b>bold</b>'],
  tier: 3,
  openFindings: 0,
};

function render(node: ReactNode, url: string, seed: (client: QueryClient) => void = () => {}) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Number.POSITIVE_INFINITY } } });
  seed(client);
  return renderToStaticMarkup(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]}>{node}</MemoryRouter>
    </QueryClientProvider>,
  );
}

describe('hosts table', () => {
  it('renders an agent-reported hostname, site and groups as text, with bidi characters visible', () => {
    const html = render(<DataTable label="Hosts" columns={hostColumns} data={[host]} />, '/hosts');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('⟨U+202E⟩');
    expect(html).not.toContain('\u202E');
    expect(html).toContain(`href="/hosts/${ID}"`);
    expect(html).toContain('aria-label="Hosts"');
  });
});

describe('host page', () => {
  const seed =
    (permissions: string[], riskTier: number | null = null) =>
    (client: QueryClient): void => {
      client.setQueryData(ME_KEY, { id: 'u', username: 'olga', role: 'admin', disabled: false, createdAt: '', permissions });
      client.setQueryData(hostKey(ID), { ...host, riskTier, facts: null, inventoryHash: null });
      client.setQueryData([...hostKey(ID), 'quarantine'], {
        hostId: ID,
        action: null,
        state: 'none',
        sequence: null,
        reason: null,
        detail: null,
        requestedBy: null,
        requestedAt: null,
        updatedAt: null,
        notAfter: null,
        allow: [],
        ports: [],
      });
      client.setQueryData(['host', ID, 'software', { limit: 100, offset: 0 }], {
        total: 1,
        items: [{ name: 'lib\u202Essl', version: '=1+1', arch: 'amd64', ecosystem: 'dpkg' }],
      });
    };

  const page = (permissions: string[], url = `/hosts/${ID}`, riskTier: number | null = null) =>
    render(
      <Routes>
        <Route path="/hosts/:id" element={<HostPage />} />
      </Routes>,
      url,
      seed(permissions, riskTier),
    );

  it('shows the hostname as a text heading and the packages tab first', () => {
    const html = page(['hosts:read']);
    expect(html).toMatch(/<h1><bdi[^>]*>&lt;img src=x onerror=alert\(1\)&gt;<\/bdi><\/h1>/);
    expect(html).not.toContain('<img');
    expect(html).toContain('aria-label="Packages"');
    expect(html).toContain('lib<span class="invisible-char"');
    expect(html).toMatch(/role="tab"[^>]*aria-selected="true"[^>]*>Packages</);
  });

  it('shows actions by role', () => {
    const buttons = (html: string) => [...html.matchAll(/<button[^>]*>([^<]*)<\/button>/g)].map((m) => m[1]);
    const actions = ['Approve', 'Revoke', 'Quarantine', 'Save risk', 'Save groups'];
    const viewer = buttons(page(['hosts:read']));
    for (const name of actions) expect(viewer).not.toContain(name);
    const admin = buttons(page(['hosts:read', 'hosts:manage', 'quarantine:manage', 'vulns:manage', 'groups:manage']));
    for (const name of actions) expect(admin).toContain(name);
    expect(admin).not.toContain('Release');
  });

  it("edits the host's own risk tier: inherited (null) or set", () => {
    const inherited = page(['hosts:read', 'vulns:manage']);
    expect(inherited).toMatch(/<option value="inherit" selected="">Inherit from groups \(now 3\)<\/option>/);
    expect(inherited).toContain('(from its groups)');
    const own = page(['hosts:read', 'vulns:manage'], `/hosts/${ID}`, 4);
    expect(own).toMatch(/<option value="4" selected="">4<\/option>/);
    expect(own).toMatch(/<option value="inherit">Inherit from groups<\/option>/);
    expect(own).toContain('(set on the host)');
    expect(own).not.toContain('Keep (now');
  });

  it('opens the tab the URL names', () => {
    const html = page(['hosts:read'], `/hosts/${ID}?tab=history`);
    expect(html).toMatch(/role="tab"[^>]*aria-selected="true"[^>]*>History</);
    expect(html).toContain('aria-label="History"');
  });
});
