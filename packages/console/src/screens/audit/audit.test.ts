import { describe, expect, it } from 'vitest';
import { toCsv } from '../../ui/csv';
import { AUDIT_CSV_COLUMNS, type AuditEntry, auditCsvFilename, auditCsvRows, auditQuery, detailLines, filterProblem } from './audit';

const none = { actor: '', action: '', target: '', q: '' };

describe('audit query', () => {
  it('sends only the filters that are set, trimmed', () => {
    expect(auditQuery(none, 0, 50)).toEqual({ limit: 50, offset: 0 });
    expect(auditQuery({ actor: ' admin ', action: 'deployment.', target: '', q: '  ' }, 100, 50)).toEqual({
      limit: 50,
      offset: 100,
      actor: 'admin',
      action: 'deployment.',
    });
  });

  it('never sends a negative or broken offset', () => {
    expect(auditQuery(none, -5, 50).offset).toBe(0);
    expect(auditQuery(none, Number.NaN, 50).offset).toBe(0);
  });

  it('flags filter text the server would refuse', () => {
    expect(filterProblem('web-01')).toBeNull();
    expect(filterProblem('a\u0000b')).toBe('no control characters');
    expect(filterProblem('x'.repeat(201))).toBe('at most 200 characters');
  });
});

describe('audit detail', () => {
  it('is one plain-text line per field, strings as they are, the rest as JSON', () => {
    expect(detailLines({ ip: '127.0.0.1', groups: ['a', 'b'], n: 3, nested: { x: null } })).toEqual([
      'ip: 127.0.0.1',
      'groups: ["a","b"]',
      'n: 3',
      'nested: {"x":null}',
    ]);
    expect(detailLines(null)).toEqual([]);
  });

  it('keeps markup as text (SafeText renders it; nothing here parses it)', () => {
    expect(detailLines({ hostname: '<img src=x onerror=alert(1)>' })).toEqual(['hostname: <img src=x onerror=alert(1)>']);
  });

  it('caps a huge detail', () => {
    const big = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    const lines = detailLines(big);
    expect(lines).toHaveLength(41);
    expect(lines.at(-1)).toBe('… 60 more');
  });

  it('copes with detail that is not an object', () => {
    expect(detailLines('text')).toEqual(['"text"']);
    expect(detailLines([1, 2])).toEqual(['[1,2]']);
  });
});

describe('audit CSV', () => {
  it('exports time, actor, action, target and detail as JSON, formula-safe', () => {
    const items: AuditEntry[] = [
      { id: 1, at: '2026-11-27T09:14:00.000Z', actor: 'admin', action: 'user.create', target: 'u1', detail: { username: '=cmd|x' } },
      { id: 2, at: '2026-11-27T09:15:00.000Z', actor: '@evil', action: 'auth.login', target: null, detail: null },
    ];
    const csv = toCsv(AUDIT_CSV_COLUMNS, auditCsvRows(items)).split('\r\n');
    expect(csv[0]).toBe('time,actor,action,target,detail');
    expect(csv[1]).toBe('2026-11-27T09:14:00.000Z,admin,user.create,u1,"{""username"":""=cmd|x""}"');
    expect(csv[2]).toBe(`2026-11-27T09:15:00.000Z,"'@evil",auth.login,,`);
    expect(auditCsvFilename(new Date('2026-11-27T09:14:05.123Z'))).toBe('audit-2026-11-27T09-14-05.csv');
  });
});
