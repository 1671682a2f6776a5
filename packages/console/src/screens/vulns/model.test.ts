import { describe, expect, it } from 'vitest';
import { feedProblems } from './FeedsTab';
import { findingsQuery } from './FindingsTab';
import { type AffectedPackage, affectedRows, countsText, isRecordId, rangeText } from './model';

const pkg = (ranges: AffectedPackage['ranges'], versions: string[] = []): AffectedPackage => ({
  ecosystem: 'Debian:12',
  name: 'openssl',
  keyedBy: 'source',
  endOfLife: false,
  ranges,
  versions,
});

describe('record details', () => {
  it('counts import runs by key', () => {
    expect(countsText({ read: 1200, stored: 3 })).toBe(`read ${(1200).toLocaleString()}, stored 3`);
    expect(countsText({})).toBe('—');
  });

  it("writes an affected range as one line, in the feed's order", () => {
    expect(rangeText({ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.11-1' }] })).toBe(
      'ECOSYSTEM: from the first version, fixed 3.0.11-1',
    );
    expect(rangeText({ type: 'SEMVER', events: [{ introduced: '1.2.0' }, { last_affected: '1.4.1' }, { limit: '2.0.0' }] })).toBe(
      'SEMVER: introduced 1.2.0, last affected 1.4.1, limit 2.0.0',
    );
    expect(rangeText({ type: 'GIT', events: [] })).toBe('GIT: no events');
  });

  it('lists the affected packages of a record and of its related records, each naming its record', () => {
    const related = { source: 'osv', id: 'DEBIAN-CVE-2024-1', affected: [pkg([]), pkg([], ['1.0'])] };
    const rows = affectedRows({
      source: 'debian-tracker',
      id: 'CVE-2024-1',
      affected: [pkg([{ type: 'ECOSYSTEM', events: [{ fixed: '2' }] }])],
      related: [related],
    });
    expect(rows.map((r) => [r.key, r.record])).toEqual([
      ['debian-tracker:CVE-2024-1:0', 'debian-tracker: CVE-2024-1'],
      ['osv:DEBIAN-CVE-2024-1:0', 'osv: DEBIAN-CVE-2024-1'],
      ['osv:DEBIAN-CVE-2024-1:1', 'osv: DEBIAN-CVE-2024-1'],
    ]);
    expect(rows[2]?.versions).toEqual(['1.0']);
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

describe('findingsQuery', () => {
  const none = { severity: '', overdue: '', id: '', tier: '', q: '', offset: '0', by: 'severity' };

  it('maps the URL state to the server query', () => {
    expect(findingsQuery({ ...none, severity: 'high', overdue: 'true', id: 'CVE-2024-1', tier: '5', q: ' openssl ' }, 50, 100)).toEqual({
      limit: 50,
      offset: 100,
      severity: 'high',
      overdue: true,
      id: 'CVE-2024-1',
      tier: 5,
      q: 'openssl',
    });
    expect(findingsQuery(none, 50, 0)).toEqual({ limit: 50, offset: 0 });
  });

  it('leaves out what the server would refuse', () => {
    expect(findingsQuery({ ...none, severity: 'urgent', tier: '6', id: '../x', q: '   ' }, 50, 0)).toEqual({ limit: 50, offset: 0 });
    expect(findingsQuery({ ...none, tier: '0' }, 50, 0)).toEqual({ limit: 50, offset: 0 });
    expect(findingsQuery({ ...none, q: 'web\u0000-01\n' }, 50, 0).q).toBe('web-01');
    expect(findingsQuery({ ...none, q: 'x'.repeat(500) }, 50, 0).q).toHaveLength(200);
  });
});
