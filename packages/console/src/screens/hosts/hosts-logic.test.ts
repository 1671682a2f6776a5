import { describe, expect, it } from 'vitest';
import { toCsv } from '../../ui/csv';
import { deployUpdatesHref, hardwareLines, isIsolated, parseGroups, parseReason, parseTab, riskBody } from './host-logic';
import { cleanText, HOSTS_CSV_COLUMNS, hasFilters, hostsCsvRows, hostsQuery, osLabel, parseOffset, parseTier } from './hosts-query';

describe('hostsQuery', () => {
  it('maps URL state to the server query', () => {
    expect(
      hostsQuery({
        q: 'web',
        site: 'Zürich',
        group: 'canary',
        os: 'debian 12',
        tier: '5',
        status: 'approved',
        online: 'false',
        sort: 'lastSeenAt',
        order: 'desc',
        offset: '100',
      }),
    ).toEqual({
      limit: 50,
      offset: 100,
      q: 'web',
      site: 'Zürich',
      group: 'canary',
      os: 'debian 12',
      tier: 5,
      status: 'approved',
      online: false,
      sort: 'lastSeenAt',
      order: 'desc',
    });
  });

  it('leaves out what a hand-edited URL gets wrong instead of sending it for a 400', () => {
    expect(
      hostsQuery({
        q: '   ',
        site: '\u0000\u0001',
        tier: '9',
        status: 'deleted',
        online: 'maybe',
        sort: 'password',
        order: 'sideways',
        offset: '-5',
      }),
    ).toEqual({ limit: 50, offset: 0 });
    expect(hostsQuery({ offset: '99999999999' }).offset).toBe(0);
    expect(hostsQuery({ offset: '1e3' }).offset).toBe(0);
    expect(hostsQuery({ online: 'true' }).online).toBe(true);
  });

  it('strips control characters and cuts text to the server bounds', () => {
    expect(cleanText('we\u0000b\u001f-01\u007f', 200)).toBe('web-01');
    expect(cleanText('x'.repeat(300), 200)).toHaveLength(200);
    expect(hostsQuery({ group: 'g'.repeat(150) }).group).toHaveLength(100);
    // Bidi and zero-width characters are not controls: the server matches them as typed.
    expect(cleanText('a\u202Eb', 10)).toBe('a\u202Eb');
  });

  it('parses offsets and tiers strictly', () => {
    expect(parseOffset('0')).toBe(0);
    expect(parseOffset('250')).toBe(250);
    expect(parseOffset('10000000')).toBe(10_000_000);
    expect(parseOffset('10000001')).toBe(0);
    expect(parseOffset('12abc')).toBe(0);
    expect(parseOffset(null)).toBe(0);
    expect(parseTier('1')).toBe(1);
    expect(parseTier('0')).toBeUndefined();
    expect(parseTier('3.5')).toBeUndefined();
  });

  it('tells whether any filter is set', () => {
    expect(hasFilters({ sort: 'tier', offset: '50' })).toBe(false);
    expect(hasFilters({ online: 'false' })).toBe(true);
  });
});

describe('hosts CSV', () => {
  const host = {
    id: '6b0c1c9e-1f7e-4a43-9c1e-0d2f7a1b2c3d',
    hostname: '=HYPERLINK("http://evil/")\u202E',
    status: 'approved',
    online: true,
    lastSeenAt: '2026-11-27T09:14:00.000Z',
    os: { distro: 'debian', release: '12' },
    site: null,
    groups: ['web', 'can\u200Bary'],
    tier: 4,
    openFindings: 3,
    packageCount: 812,
  };

  it('writes one row per host with invisible characters made visible', () => {
    const [row] = hostsCsvRows([host]);
    expect(row).toHaveLength(HOSTS_CSV_COLUMNS.length);
    expect(row?.[1]).toBe('=HYPERLINK("http://evil/")⟨U+202E⟩');
    expect(row?.[4]).toBe('debian 12');
    expect(row?.[5]).toBe('');
    expect(row?.[6]).toBe('web; can⟨U+200B⟩ary');
  });

  it('is formula-safe once written out', () => {
    const csv = toCsv(HOSTS_CSV_COLUMNS, hostsCsvRows([host]));
    expect(csv).toContain(`"'=HYPERLINK(""http://evil/"")⟨U+202E⟩"`);
  });

  it('labels the OS as the OS filter takes it', () => {
    expect(osLabel({ distro: 'ubuntu', release: '24.04' })).toBe('ubuntu 24.04');
    expect(osLabel({ distro: 'windows', release: '' })).toBe('windows');
  });
});

describe('host page logic', () => {
  it('falls back to the first tab for an unknown one', () => {
    expect(parseTab('findings')).toBe('findings');
    expect(parseTab('<script>')).toBe('packages');
    expect(parseTab(null)).toBe('packages');
  });

  it('links pending updates to the new-deployment form', () => {
    const href = deployUpdatesHref('host-1', [
      { name: 'openssl', candidateVersion: '3.0.15-1~deb12u1' },
      { name: 'libc6', candidateVersion: '2.36-9+deb12u9', security: true },
    ]);
    expect(href).not.toBeNull();
    const url = new URL(href ?? '', 'http://console');
    expect(url.pathname).toBe('/deployments/new');
    expect(url.searchParams.get('hosts')).toBe('host-1');
    expect(url.searchParams.get('packages')).toBe('openssl=3.0.15-1~deb12u1,libc6=2.36-9+deb12u9');
  });

  it('leaves out updates the deployment API would refuse or the list cannot carry, and duplicates', () => {
    const href = deployUpdatesHref('h', [
      { name: 'ok', candidateVersion: '1.0' },
      { name: 'has space', candidateVersion: '1.0' },
      { name: 'comma,pkg', candidateVersion: '1.0' },
      { name: 'eq=pkg', candidateVersion: '1.0' },
      { name: 'ver', candidateVersion: '1,0' },
      { name: 'bidi\u202E', candidateVersion: '1.0' },
      { name: 'ok', candidateVersion: '2.0' },
      { name: 'long', candidateVersion: 'v'.repeat(129) },
    ]);
    expect(new URL(href ?? '', 'http://c').searchParams.get('packages')).toBe('ok=1.0');
    expect(deployUpdatesHref('h', [{ name: 'bad name', candidateVersion: '1' }])).toBeNull();
    expect(deployUpdatesHref('h', [])).toBeNull();
  });

  it('caps a deployment at 500 packages', () => {
    const many = Array.from({ length: 600 }, (_, i) => ({ name: `p${i}`, candidateVersion: '1' }));
    const packages = new URL(deployUpdatesHref('h', many) ?? '', 'http://c').searchParams.get('packages') ?? '';
    expect(packages.split(',')).toHaveLength(500);
  });

  it('parses groups as typed, refusing control characters and over-long names', () => {
    expect(parseGroups(' web, canary\nweb ,, ')).toEqual({ ok: true, value: ['web', 'canary'] });
    expect(parseGroups('')).toEqual({ ok: true, value: [] });
    expect(parseGroups('ok, bad\u0007bell').ok).toBe(false);
    expect(parseGroups('g'.repeat(101)).ok).toBe(false);
    expect(parseGroups(Array.from({ length: 101 }, (_, i) => `g${i}`).join(',')).ok).toBe(false);
  });

  it('builds the risk body: inherit or set the own tier; set or clear the site', () => {
    expect(riskBody('3', 'Zürich')).toEqual({ ok: true, value: { riskTier: 3, site: 'Zürich' } });
    expect(riskBody('inherit', '')).toEqual({ ok: true, value: { riskTier: null, site: null } });
    expect(riskBody('5', ' dc-1 ')).toEqual({ ok: true, value: { riskTier: 5, site: 'dc-1' } });
    expect(riskBody('6', '').ok).toBe(false);
    expect(riskBody('', '').ok).toBe(false);
    expect(riskBody('inherit', 'a\u0000b').ok).toBe(false);
    expect(riskBody('inherit', 's'.repeat(101)).ok).toBe(false);
  });

  it('requires a quarantine reason the server takes', () => {
    expect(parseReason('  malware alert  ')).toEqual({ ok: true, value: 'malware alert' });
    expect(parseReason('   ').ok).toBe(false);
    expect(parseReason('a\nb').ok).toBe(false);
    expect(parseReason('r'.repeat(501)).ok).toBe(false);
  });

  it('offers Release once the last order isolates the host', () => {
    expect(isIsolated({ action: 'isolate' })).toBe(true);
    expect(isIsolated({ action: 'release' })).toBe(false);
    expect(isIsolated({ action: null })).toBe(false);
    expect(isIsolated(undefined)).toBe(false);
  });

  it('summarises hardware facts', () => {
    expect(hardwareLines({ vendor: 'Dell Inc.', model: 'PowerEdge R640', cpu: 'Xeon', cores: 16, memoryBytes: 64 * 1024 ** 3 })).toEqual([
      'Dell Inc. PowerEdge R640',
      'Xeon × 16 cores',
      '64.0 GiB memory',
    ]);
    expect(hardwareLines(null)).toEqual([]);
    expect(hardwareLines({ cores: 1 })).toEqual(['1 core']);
  });
});
