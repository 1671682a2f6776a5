import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSchema } from './envelope.js';
import { BrierError } from './errors.js';
import { applyDelta, diffInventory, ECOSYSTEMS, indexPackages, inventoryHash, PackageEntry, packageKey } from './inventory.js';

/** Small alphabets, so random lists share keys and versions often enough to exercise changes. */
const packageArb: fc.Arbitrary<PackageEntry> = fc.record(
  {
    ecosystem: fc.constantFrom(...ECOSYSTEMS),
    name: fc.constantFrom('bash', 'libc6', 'openssl', 'zlib1g', 'curl', 'Microsoft Word'),
    version: fc.constantFrom('1.0', '1.0-1', '2:1.2.3-4+deb12u1', '3.0.0'),
    arch: fc.constantFrom('', 'amd64', 'arm64', 'all'),
    source: fc.constantFrom('openssl', 'glibc', 'curl'),
    sourceVersion: fc.constantFrom('1.0', '3.0.0-1'),
  },
  { requiredKeys: ['ecosystem', 'name', 'version', 'arch'] },
);
const listArb = fc.array(packageArb, { maxLength: 40 });
const uniqueListArb = fc.uniqueArray(packageArb, { maxLength: 40, selector: packageKey });

const base: PackageEntry[] = [
  { ecosystem: 'dpkg', name: 'openssl', version: '3.0.11-1~deb12u2', arch: 'amd64', source: 'openssl', sourceVersion: '3.0.11-1~deb12u2' },
  { ecosystem: 'dpkg', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64' },
  { ecosystem: 'rpm', name: 'kernel', version: '5.14.0-362.el9', arch: 'x86_64', source: 'kernel' },
];

function uniqueByKey(list: readonly PackageEntry[]): PackageEntry[] {
  return [...indexPackages(list).values()];
}

describe('inventoryHash', () => {
  it('is 64 lowercase hex digits', () => {
    expect(inventoryHash(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(inventoryHash([])).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on the order of the packages', () => {
    fc.assert(
      fc.property(
        listArb.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }))),
        ([list, shuffled]) => {
          expect(inventoryHash(shuffled)).toBe(inventoryHash(list));
        },
      ),
    );
  });

  it('changes when any field of any package changes', () => {
    const before = inventoryHash(base);
    const changes: Array<(p: PackageEntry) => PackageEntry> = [
      (p) => ({ ...p, ecosystem: p.ecosystem === 'dpkg' ? 'apk' : 'dpkg' }),
      (p) => ({ ...p, name: `${p.name}2` }),
      (p) => ({ ...p, version: `${p.version}.1` }),
      (p) => ({ ...p, arch: p.arch === 'amd64' ? 'arm64' : 'amd64' }),
      (p) => ({ ...p, source: `${p.source ?? 'src'}-x` }),
      (p) => ({ ...p, sourceVersion: `${p.sourceVersion ?? '1'}.1` }),
    ];
    for (let i = 0; i < base.length; i++) {
      for (const change of changes) {
        const altered = base.map((p, j) => (j === i ? change(p) : p));
        expect(inventoryHash(altered), JSON.stringify(altered[i])).not.toBe(before);
      }
    }
  });

  it('changes when a package is added or removed', () => {
    const before = inventoryHash(base);
    expect(inventoryHash(base.slice(1))).not.toBe(before);
    expect(inventoryHash([...base, { ecosystem: 'apk', name: 'musl', version: '1.2.4-r2', arch: 'x86_64' }])).not.toBe(before);
  });

  it('treats a missing source like an empty one, as the server stores it', () => {
    const [withoutSource] = base.slice(1);
    expect(inventoryHash([{ ...withoutSource!, source: '', sourceVersion: '' }])).toBe(inventoryHash([withoutSource!]));
  });

  it('does not let a version move into the source field unnoticed', () => {
    const a: PackageEntry = { ecosystem: 'dpkg', name: 'x', version: '1', arch: '', source: '2' };
    const b: PackageEntry = { ecosystem: 'dpkg', name: 'x', version: '1', arch: '', sourceVersion: '2' };
    expect(inventoryHash([a])).not.toBe(inventoryHash([b]));
  });
});

describe('indexPackages', () => {
  it('keeps one entry per (ecosystem, name, arch), the last one', () => {
    const list: PackageEntry[] = [
      { ecosystem: 'dpkg', name: 'libc6', version: '1', arch: 'amd64' },
      { ecosystem: 'dpkg', name: 'libc6', version: '2', arch: 'amd64' },
      { ecosystem: 'dpkg', name: 'libc6', version: '1', arch: 'i386' },
      { ecosystem: 'rpm', name: 'libc6', version: '1', arch: 'amd64' },
    ];
    const index = indexPackages(list);
    expect(index.size).toBe(3);
    expect(index.get(packageKey({ ecosystem: 'dpkg', name: 'libc6', arch: 'amd64' }))?.version).toBe('2');
  });

  it('never holds two entries with the same key, and keeps every key', () => {
    fc.assert(
      fc.property(listArb, (list) => {
        const values = [...indexPackages(list).values()];
        const keys = values.map(packageKey);
        expect(new Set(keys).size).toBe(keys.length);
        expect(new Set(keys)).toEqual(new Set(list.map(packageKey)));
      }),
    );
  });
});

describe('diffInventory and applyDelta', () => {
  it('rebuild the new inventory from the old one for any two lists', () => {
    fc.assert(
      fc.property(listArb, uniqueListArb, (a, b) => {
        expect(inventoryHash(applyDelta(a, diffInventory(a, b)))).toBe(inventoryHash(b));
      }),
    );
  });

  it('rebuild the deduplicated new inventory when it has repeated keys', () => {
    fc.assert(
      fc.property(listArb, listArb, (a, b) => {
        expect(inventoryHash(applyDelta(a, diffInventory(a, b)))).toBe(inventoryHash(uniqueByKey(b)));
      }),
    );
  });

  it('find nothing to send between an inventory and a reordering of itself', () => {
    fc.assert(
      fc.property(
        uniqueListArb.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length }))),
        ([a, b]) => {
          expect(diffInventory(a, b)).toEqual({ upsert: [], remove: [] });
        },
      ),
    );
  });

  it('send only what changed: upserts for added or changed packages, keys for removed ones', () => {
    const next: PackageEntry[] = [
      { ...base[0]!, version: '3.0.13-1~deb12u1', sourceVersion: '3.0.13-1~deb12u1' },
      base[1]!,
      { ecosystem: 'dpkg', name: 'curl', version: '7.88.1-10', arch: 'amd64' },
    ];
    const delta = diffInventory(base, next);
    expect(delta.upsert).toEqual([next[0], next[2]]);
    expect(delta.remove).toEqual([{ ecosystem: 'rpm', name: 'kernel', arch: 'x86_64' }]);
    expect(inventoryHash(applyDelta(base, delta))).toBe(inventoryHash(next));
  });

  it('never lists a key both to upsert and to remove', () => {
    fc.assert(
      fc.property(listArb, listArb, (a, b) => {
        const delta = diffInventory(a, b);
        const removed = new Set(delta.remove.map(packageKey));
        for (const p of delta.upsert) expect(removed.has(packageKey(p))).toBe(false);
      }),
    );
  });
});

describe('PackageEntry schema', () => {
  const check = compileSchema(PackageEntry);
  const ok: PackageEntry = { ecosystem: 'dpkg', name: 'bash', version: '5.2', arch: 'amd64' };

  function refusal(value: unknown): string | undefined {
    try {
      check(value, 'package');
      return undefined;
    } catch (err) {
      expect(err).toBeInstanceOf(BrierError);
      return (err as BrierError).code;
    }
  }

  it('accepts a plain entry', () => {
    expect(refusal(ok)).toBeUndefined();
    expect(refusal({ ...ok, arch: '', source: 'bash', sourceVersion: '5.2' })).toBeUndefined();
  });

  it('refuses NUL and other control characters in every text field', () => {
    for (const field of ['name', 'version', 'arch', 'source', 'sourceVersion'] as const) {
      for (const bad of ['a\u0000b', 'a\u0001', '\u007f', 'a\tb', 'a\nb', 'a\rb']) {
        expect(refusal({ ...ok, [field]: bad }), `${field}=${JSON.stringify(bad)}`).toBe('invalid_message');
      }
    }
  });

  it('refuses an unknown ecosystem, an empty name or version, extra properties and over-long text', () => {
    expect(refusal({ ...ok, ecosystem: 'pip' })).toBe('invalid_message');
    expect(refusal({ ...ok, name: '' })).toBe('invalid_message');
    expect(refusal({ ...ok, version: '' })).toBe('invalid_message');
    expect(refusal({ ...ok, hostId: 'x' })).toBe('invalid_message');
    expect(refusal({ ...ok, name: 'n'.repeat(257) })).toBe('invalid_message');
    expect(refusal({ ...ok, arch: 'a'.repeat(65) })).toBe('invalid_message');
  });
});
