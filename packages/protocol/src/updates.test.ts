import { describe, expect, it } from 'vitest';
import { compileSchema } from './envelope.js';
import { BrierError } from './errors.js';
import {
  MANAGER_ECOSYSTEM,
  MAX_ADVISORIES_PER_UPDATE,
  MAX_PENDING_UPDATES,
  PendingUpdate,
  PendingUpdates,
  pendingUpdateKey,
  UPDATE_MANAGERS,
} from './updates.js';

const checkUpdate = compileSchema(PendingUpdate);
const checkBody = compileSchema(PendingUpdates);

const openssl: PendingUpdate = {
  ecosystem: 'dpkg',
  manager: 'apt',
  kind: 'package',
  name: 'openssl',
  arch: 'amd64',
  installedVersion: '3.0.11-1~deb12u2',
  candidateVersion: '3.0.16-1~deb12u1',
  origin: 'Debian-Security',
  suite: 'bookworm-security',
  security: true,
};

describe('PendingUpdate', () => {
  it('accepts a full apt entry and a minimal Windows Update one', () => {
    expect(checkUpdate(openssl, 'update')).toEqual(openssl);
    const kb: PendingUpdate = {
      ecosystem: 'windows',
      manager: 'windows-update',
      kind: 'patch',
      name: 'KB5039212',
      arch: '',
      candidateVersion: '1',
      title: '2024-06 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems (KB5039212)',
      security: true,
      advisories: ['KB5039212', 'CVE-2024-30080'],
      rebootLikely: true,
    };
    expect(checkUpdate(kb, 'update')).toEqual(kb);
  });

  it('refuses control characters in identifying fields, TAB and newline included', () => {
    for (const field of ['name', 'arch', 'installedVersion', 'candidateVersion'] as const) {
      for (const bad of ['a\tb', 'a\nb', 'a\u0000b', 'a\u007fb']) {
        expect(() => checkUpdate({ ...openssl, [field]: bad }, 'update'), `${field} ${JSON.stringify(bad)}`).toThrow(BrierError);
      }
    }
  });

  it('refuses NUL in descriptive text but allows a tab there, like HostFacts', () => {
    expect(() => checkUpdate({ ...openssl, origin: 'Debian\u0000' }, 'update')).toThrow(/origin/);
    expect(() => checkUpdate({ ...openssl, title: 'x\u001b[31m' }, 'update')).toThrow(/title/);
    expect(checkUpdate({ ...openssl, title: 'a\tb' }, 'update').title).toBe('a\tb');
  });

  it('bounds every string and the advisory list', () => {
    expect(() => checkUpdate({ ...openssl, name: 'x'.repeat(257) }, 'update')).toThrow(/name/);
    expect(() => checkUpdate({ ...openssl, arch: 'x'.repeat(65) }, 'update')).toThrow(/arch/);
    expect(() => checkUpdate({ ...openssl, candidateVersion: '' }, 'update')).toThrow(/candidateVersion/);
    expect(() => checkUpdate({ ...openssl, installedVersion: '' }, 'update')).toThrow(/installedVersion/);
    expect(() => checkUpdate({ ...openssl, suite: 'x'.repeat(129) }, 'update')).toThrow(/suite/);
    expect(() => checkUpdate({ ...openssl, title: 'x'.repeat(513) }, 'update')).toThrow(/title/);
    expect(() => checkUpdate({ ...openssl, advisories: ['x'.repeat(129)] }, 'update')).toThrow(/advisories/);
    expect(() => checkUpdate({ ...openssl, advisories: [''] }, 'update')).toThrow(/advisories/);
    const many = Array.from({ length: MAX_ADVISORIES_PER_UPDATE + 1 }, (_, i) => `CVE-2024-${i}`);
    expect(() => checkUpdate({ ...openssl, advisories: many }, 'update')).toThrow(/advisories/);
    expect(checkUpdate({ ...openssl, advisories: many.slice(1) }, 'update').advisories).toHaveLength(MAX_ADVISORIES_PER_UPDATE);
  });

  it('refuses unknown managers, kinds, ecosystems and extra properties', () => {
    expect(() => checkUpdate({ ...openssl, manager: 'yum' }, 'update')).toThrow(/manager/);
    expect(() => checkUpdate({ ...openssl, kind: 'driver' }, 'update')).toThrow(/kind/);
    expect(() => checkUpdate({ ...openssl, ecosystem: 'npm' }, 'update')).toThrow(/ecosystem/);
    expect(() => checkUpdate({ ...openssl, hostId: 'x' }, 'update')).toThrow(BrierError);
    expect(() => checkUpdate({ ...openssl, security: 'yes' }, 'update')).toThrow(/security/);
  });
});

describe('PendingUpdates', () => {
  const body: PendingUpdates = { updates: [openssl], sources: ['apt'], collectedAt: '2024-06-25T14:30:13.123Z' };

  it('accepts a list with its sources and a UTC timestamp', () => {
    expect(checkBody(body, 'updates')).toEqual(body);
    expect(checkBody({ updates: [], sources: [], collectedAt: '2024-06-25T14:30:13Z' }, 'updates').updates).toEqual([]);
  });

  it('refuses a timestamp that is not ISO 8601 UTC', () => {
    for (const collectedAt of ['2024-06-25 14:30:13', '2024-06-25T14:30:13+02:00', 'yesterday', '']) {
      expect(() => checkBody({ ...body, collectedAt }, 'updates'), collectedAt).toThrow(/collectedAt/);
    }
  });

  it('refuses repeated or unknown sources', () => {
    expect(() => checkBody({ ...body, sources: ['apt', 'apt'] }, 'updates')).toThrow(/sources/);
    expect(() => checkBody({ ...body, sources: ['pip'] }, 'updates')).toThrow(/sources/);
  });

  it('refuses more than MAX_PENDING_UPDATES updates', () => {
    const updates = Array.from({ length: MAX_PENDING_UPDATES + 1 }, () => openssl);
    expect(() => checkBody({ ...body, updates }, 'updates')).toThrow(/updates/);
  });
});

describe('pendingUpdateKey and MANAGER_ECOSYSTEM', () => {
  it('tells apart the same name from different managers and arches', () => {
    const keys = new Set([
      pendingUpdateKey(openssl),
      pendingUpdateKey({ ...openssl, arch: 'i386' }),
      pendingUpdateKey({ ...openssl, manager: 'dnf' }),
      pendingUpdateKey({ ...openssl, name: 'openssl-libs' }),
    ]);
    expect(keys.size).toBe(4);
  });

  it('maps every manager to the ecosystem whose version rules apply', () => {
    expect(Object.keys(MANAGER_ECOSYSTEM).sort()).toEqual([...UPDATE_MANAGERS].sort());
    expect(MANAGER_ECOSYSTEM.apt).toBe('dpkg');
    expect(MANAGER_ECOSYSTEM.zypper).toBe('rpm');
    expect(MANAGER_ECOSYSTEM.winget).toBe('windows');
  });
});
