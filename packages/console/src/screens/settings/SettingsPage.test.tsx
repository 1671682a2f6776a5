import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter, Route, Routes } from 'react-router';
import { describe, expect, it } from 'vitest';
import { ME_KEY, type Me } from '../../auth';
import { TEST_PERMISSIONS } from './role-fixture';
import type { Role } from './roles';
import { SettingsPage } from './SettingsPage';

function render(role: Role, path: string) {
  const client = new QueryClient();
  client.setQueryData(ME_KEY, {
    id: 'u',
    username: 'x',
    role,
    disabled: false,
    createdAt: '',
    permissions: [...TEST_PERMISSIONS[role]],
  } satisfies Me);
  return renderToStaticMarkup(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>
        {/* As App.tsx mounts it: the tabs are routes nested under settings/*. */}
        <Routes>
          <Route path="settings/*" element={<SettingsPage />} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const tabNames = (html: string) => [...html.matchAll(/<a [^>]*href="\/settings\/[^"]+"[^>]*>([^<]+)<\/a>/g)].map((m) => m[1]);

describe('SettingsPage', () => {
  it('gives an admin every tab and marks the open one', () => {
    const html = render('admin', '/settings/sla');
    expect(html).toContain('<h1>Settings</h1>');
    expect(tabNames(html)).toEqual([
      'Users and roles',
      'API tokens',
      'Join tokens',
      'Groups and sites',
      'Maintenance windows',
      'SLA matrix',
      'Work key',
    ]);
    expect(html).toMatch(/<a aria-current="page" class="active" href="\/settings\/sla"/);
    expect(html).toContain('<h2 id="settings-sla">SLA matrix</h2>');
  });

  it('hides what a viewer may not use, and refuses it when opened by URL', () => {
    const html = render('viewer', '/settings/users');
    expect(tabNames(html)).toEqual(['API tokens', 'Groups and sites', 'Maintenance windows', 'SLA matrix']);
    expect(html).toContain('Your role cannot use users and roles.');
    expect(html).not.toContain('Create user');
  });

  it('shows the forms of each section to a role that may use them', () => {
    expect(render('admin', '/settings/users')).toContain('Create user');
    expect(render('viewer', '/settings/api-tokens')).toContain('Create token');
    expect(render('admin', '/settings/join-tokens')).toContain('Create join token');
    expect(render('operator', '/settings/windows')).toContain('Add window');
    expect(render('viewer', '/settings/windows')).not.toContain('Add window');
  });
});
