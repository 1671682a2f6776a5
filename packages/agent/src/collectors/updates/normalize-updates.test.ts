import { compileSchema, MAX_ADVISORIES_PER_UPDATE, MAX_PENDING_UPDATES, PendingUpdate } from '@brier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeUpdate, normalizeUpdates, type RawUpdate } from './normalize-updates.js';

const checkUpdate = compileSchema(PendingUpdate);

const curl: RawUpdate = {
  manager: 'apt',
  kind: 'package',
  name: 'curl',
  arch: 'amd64',
  installedVersion: '7.88.1-10+deb12u5',
  candidateVersion: '7.88.1-10+deb12u12',
  origin: 'Debian-Security',
  suite: 'bookworm-security',
  security: true,
};

describe('normalizeUpdate', () => {
  it('adds the ecosystem of the manager and keeps a clean entry as it is', () => {
    expect(normalizeUpdate(curl)).toEqual({ ...curl, ecosystem: 'dpkg' });
    expect(normalizeUpdate({ ...curl, manager: 'winget', kind: 'package', arch: '' })?.ecosystem).toBe('windows');
  });

  it('strips control characters and lone surrogates from every field', () => {
    const dirty: RawUpdate = {
      ...curl,
      name: 'cu\u0000rl\t',
      arch: 'amd\u001b64',
      installedVersion: '7.88\n',
      candidateVersion: '\u00077.89',
      origin: 'Deb\u0085ian',
      suite: 'book\uD800worm',
      title: 'T\u007fitle',
      advisories: ['CVE-2024-\u00001', ' DSA-1 '],
    };
    expect(normalizeUpdate(dirty)).toMatchObject({
      name: 'curl',
      arch: 'amd64',
      installedVersion: '7.88',
      candidateVersion: '7.89',
      origin: 'Debian',
      suite: 'bookworm',
      title: 'Title',
      advisories: ['CVE-2024-1', 'DSA-1'],
    });
  });

  it('refuses an entry whose name, arch or candidate is empty or too long, rather than cutting it', () => {
    expect(normalizeUpdate({ ...curl, name: '\u0000' })).toBeUndefined();
    expect(normalizeUpdate({ ...curl, name: 'x'.repeat(257) })).toBeUndefined();
    expect(normalizeUpdate({ ...curl, arch: 'x'.repeat(65) })).toBeUndefined();
    expect(normalizeUpdate({ ...curl, candidateVersion: ' ' })).toBeUndefined();
  });

  it('omits an unusable installed version and clips descriptive text', () => {
    const entry = normalizeUpdate({ ...curl, installedVersion: 'x'.repeat(300), title: 't'.repeat(600), origin: 'o'.repeat(300) });
    expect(entry?.installedVersion).toBeUndefined();
    expect(entry?.title).toHaveLength(512);
    expect(entry?.origin).toHaveLength(256);
  });

  it('drops a title equal to the name, and empty optional text', () => {
    const entry = normalizeUpdate({ ...curl, title: 'curl', origin: '  ', suite: '' });
    expect(entry).not.toHaveProperty('title');
    expect(entry).not.toHaveProperty('origin');
    expect(entry).not.toHaveProperty('suite');
  });

  it('deduplicates advisories, skips unusable ones and cuts the list at the limit', () => {
    const many = Array.from({ length: MAX_ADVISORIES_PER_UPDATE + 10 }, (_, i) => `CVE-2024-${i}`);
    expect(normalizeUpdate({ ...curl, advisories: ['A', 'A', '', 'x'.repeat(129), 'B'] })?.advisories).toEqual(['A', 'B']);
    expect(normalizeUpdate({ ...curl, advisories: many })?.advisories).toHaveLength(MAX_ADVISORIES_PER_UPDATE);
    expect(normalizeUpdate({ ...curl, advisories: [] })).not.toHaveProperty('advisories');
  });

  it('always yields a schema-valid entry or nothing, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.record({
          name: fc.string({ maxLength: 300 }),
          arch: fc.string({ maxLength: 70 }),
          version: fc.string({ maxLength: 300 }),
          text: fc.string({ maxLength: 600 }),
        }),
        ({ name, arch, version, text }) => {
          const entry = normalizeUpdate({
            ...curl,
            name,
            arch,
            installedVersion: version,
            candidateVersion: version,
            origin: text,
            suite: text,
            title: text,
            advisories: [text, name],
          });
          if (entry) expect(() => checkUpdate(entry, 'update')).not.toThrow();
        },
      ),
    );
  });
});

describe('normalizeUpdates', () => {
  it('keeps the first of each (manager, name, arch) and counts the rest', () => {
    const result = normalizeUpdates([
      curl,
      { ...curl, candidateVersion: '9' },
      { ...curl, arch: 'i386' },
      { ...curl, manager: 'dnf' },
      { ...curl, name: '' },
    ]);
    expect(result.updates.map((u) => `${u.manager}/${u.name}/${u.arch}/${u.candidateVersion}`)).toEqual([
      'apt/curl/amd64/7.88.1-10+deb12u12',
      'apt/curl/i386/7.88.1-10+deb12u12',
      'dnf/curl/amd64/7.88.1-10+deb12u12',
    ]);
    expect(result).toMatchObject({ invalid: 1, duplicates: 1, dropped: 0 });
  });

  it('cuts a list past MAX_PENDING_UPDATES, keeping security updates first', () => {
    const raw: RawUpdate[] = Array.from({ length: MAX_PENDING_UPDATES + 5 }, (_, i) => ({
      ...curl,
      name: `p${i}`,
      security: i >= MAX_PENDING_UPDATES,
    }));
    const result = normalizeUpdates(raw);
    expect(result.updates).toHaveLength(MAX_PENDING_UPDATES);
    expect(result.dropped).toBe(5);
    expect(result.updates.slice(0, 5).map((u) => u.name)).toEqual(Array.from({ length: 5 }, (_, i) => `p${MAX_PENDING_UPDATES + i}`));
    expect(result.updates.filter((u) => u.security)).toHaveLength(5);
  });
});
