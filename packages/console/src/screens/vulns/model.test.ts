import { describe, expect, it } from 'vitest';
import { feedProblems } from './FeedsTab';
import { affectedPage, countsText, importRuns, isRecordId } from './model';

const finding = {
  hostId: '11111111-1111-4111-8111-111111111111',
  hostname: 'web-01',
  id: 'CVE-2024-1',
  source: 'osv',
  aliases: [],
  package: 'openssl',
  installedVersion: '1',
  fixedVersion: '2',
  severity: 'high',
  severityDetail: '',
  riskTier: 3,
  firstSeenAt: '2026-11-01T00:00:00.000Z',
  dueAt: '2026-11-02T00:00:00.000Z',
  overdue: true,
  closedAt: null,
  closedReason: null,
  explanation: {},
};

describe('answers the console has no type for', () => {
  it('keeps only well-formed affected findings', () => {
    const page = affectedPage({
      total: 3,
      items: [finding, { ...finding, hostname: 5 }, null, 'x', { ...finding, fixedVersion: undefined }],
    });
    expect(page.total).toBe(3);
    expect(page.items).toHaveLength(2);
    expect(affectedPage(null)).toEqual({ total: 0, items: [] });
    expect(affectedPage({ total: -1, items: [finding] }).total).toBe(1);
    expect(affectedPage({ total: 'many', items: 'x' })).toEqual({ total: 0, items: [] });
  });

  it('reads import runs and their counts defensively', () => {
    expect(importRuns({ items: [{ id: 'a', startedAt: 'x', counts: {} }, { id: 1 }, null] })).toHaveLength(1);
    expect(importRuns([])).toEqual([]);
    expect(countsText({ read: 1200, stored: 3, note: 'x' })).toBe(`read ${(1200).toLocaleString()}, stored 3`);
    expect(countsText(null)).toBe('—');
  });

  it('checks record ids as the server does before they go into a URL', () => {
    for (const ok of ['CVE-2024-1234', 'GHSA-jfh8-c2jp-5v3q', 'DSA-5555-1', 'DEBIAN-CVE-2024-1', 'PYSEC-2021.1:x'])
      expect(isRecordId(ok), ok).toBe(true);
    for (const bad of ['', '-x', 'a/b', 'a b', '../x', 'x'.repeat(129), 'a\u0000', 'CVE?id=1']) expect(isRecordId(bad), bad).toBe(false);
  });
});

describe('feedProblems', () => {
  it('takes http(s) URLs and absolute paths on a cron schedule', () => {
    expect(feedProblems('https://example.org/all.zip', '0 3 * * *')).toEqual([]);
    expect(feedProblems('/srv/feeds/debian.json', '*/30 * * * *')).toEqual([]);
    expect(feedProblems('ftp://x', '0 3 * * *')).toHaveLength(1);
    expect(feedProblems('relative/path', '0 3 * * *')).toHaveLength(1);
    expect(feedProblems('https://x\n', '0 3 * * *')).toHaveLength(1);
    expect(feedProblems('', '')).toHaveLength(2);
  });
});
