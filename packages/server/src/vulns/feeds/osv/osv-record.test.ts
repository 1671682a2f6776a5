import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Advisory, FeedItem } from '../../model.js';
import { keyedByOf, parseOsvRecord } from './osv-record.js';
import { OSV_SCHEMA } from './osv-schema.js';

const ORACLES = new URL('../../../../../../test/oracles/osv-schema/', import.meta.url);
const LINTER = new URL('osv-linter-testdata/', ORACLES);
const GHSA = new URL('ghsa-testdata/', ORACLES);

function parseFile(dir: URL, name: string): FeedItem {
  return parseOsvRecord(JSON.parse(readFileSync(new URL(name, dir), 'utf8')), name);
}

function advisoryOf(item: FeedItem): Advisory {
  if (item.kind !== 'advisory') throw new Error(`expected an advisory, got rejected: ${item.reason}`);
  return item.advisory;
}

function reasonOf(item: FeedItem): string {
  if (item.kind !== 'rejected') throw new Error(`expected a rejection, got advisory ${item.advisory.id}`);
  return item.reason;
}

/** A minimal valid record, for the synthetic cases. */
function record(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'GHSA-aaaa-bbbb-cccc',
    modified: '2024-01-02T03:04:05Z',
    affected: [
      { package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.1' }] }] },
    ],
    ...extra,
  };
}

describe('the OSV schema copy', () => {
  it('is byte-identical to the oracle, and the embedded module holds the same schema', () => {
    const oracle = readFileSync(new URL('schema.json', ORACLES), 'utf8');
    const copy = readFileSync(new URL('osv-schema.json', import.meta.url), 'utf8');
    expect(copy).toBe(oracle);
    expect(OSV_SCHEMA).toEqual(JSON.parse(copy));
  });
});

/**
 * Every oracle file, with the decision for it. `nopackage-GHSA-…` is "broken" only in that the
 * package (`Gradi0`) does not exist on PyPI, which needs a registry lookup: the record is well formed
 * and is accepted (it can simply never match). The plain GHSA-format `*.json` inputs are not OSV.
 */
const LINTER_DECISIONS: Record<string, 'accept' | 'reject'> = {
  'CVE-2018-5407.json': 'accept',
  'CVE-2023-41045.json': 'accept',
  'GHSA-9v2f-6vcg-3hgv.json': 'accept',
  'GO-2020-0001.json': 'accept',
  'GO-2024-2963.json': 'accept',
  'MAL-2024-10238.json': 'accept',
  'PYSEC-2023-74.json': 'accept',
  'RHSA-2022_0216.json': 'accept',
  'SUSE-FU-2022_0444-1.json': 'accept',
  'nointroduced-CVE-2023-41045.json': 'reject',
  'nondistinct-CVE-2018-5407.json': 'reject',
  'nopackage-GHSA-9v2f-6vcg-3hgv.json': 'accept',
};

describe('parseOsvRecord on the osv-linter test data', () => {
  it('has a decision for every file in the folder', () => {
    expect(readdirSync(LINTER).sort()).toEqual(Object.keys(LINTER_DECISIONS).sort());
  });

  it.each(Object.entries(LINTER_DECISIONS))('decides %s: %s', (name, decision) => {
    expect(parseFile(LINTER, name).kind).toBe(decision === 'accept' ? 'advisory' : 'rejected');
  });

  it('maps CVE-2018-5407: Alpine source packages, a package-less GIT range, CVSS v3, summary from details', () => {
    const a = advisoryOf(parseFile(LINTER, 'CVE-2018-5407.json'));
    expect(a).toMatchObject({
      source: 'osv',
      id: 'CVE-2018-5407',
      aliases: [],
      modified: '2024-05-29T23:34:56Z',
      published: '2018-11-15T21:29:00Z',
    });
    expect(a.severity).toEqual([{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N' }]);
    expect(a.summary).toMatch(/^Simultaneous Multi-threading \(SMT\)/);
    expect(a.affected).toHaveLength(7);
    expect(a.affected[0]).toEqual({
      ecosystem: 'Alpine:v3.3',
      name: 'openssl',
      keyedBy: 'source', // purl `?arch=source`
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0.2q-r0' }] }],
      versions: [],
    });
    expect(a.affected.map((p) => p.ecosystem).slice(0, 6)).toEqual([
      'Alpine:v3.3',
      'Alpine:v3.4',
      'Alpine:v3.5',
      'Alpine:v3.6',
      'Alpine:v3.7',
      'Alpine:v3.8',
    ]);
    expect(a.affected[6]).toEqual({
      ecosystem: 'GIT',
      name: 'https://github.com/nodejs/node',
      keyedBy: 'binary',
      ranges: [
        {
          type: 'GIT',
          events: [{ introduced: 'cf41627411886000429bde058a6594fb7f6d6d47' }, { fixed: '03b825811ed4af0addcdf6e75bacb3dc1c4c5940' }],
        },
      ],
      versions: [],
    });
  });

  it('maps CVE-2023-41045: a GIT-only record keeps both fixed commits and its alias', () => {
    const a = advisoryOf(parseFile(LINTER, 'CVE-2023-41045.json'));
    expect(a.aliases).toEqual(['GHSA-g96c-x7rh-99r3']);
    expect(a.affected).toEqual([
      {
        ecosystem: 'GIT',
        name: 'https://github.com/graylog2/graylog2-server',
        keyedBy: 'binary',
        ranges: [
          {
            type: 'GIT',
            events: [
              { introduced: '0' },
              { fixed: '466af814523cffae9fbc7e77bab7472988f03c3e' },
              { fixed: 'a101f4f12180fd3dfa7d3345188a099877a3c327' },
            ],
          },
        ],
        versions: [],
      },
    ]);
  });

  it('maps GHSA-9v2f-6vcg-3hgv: explicit versions only, CVSS plus the database severity', () => {
    const a = advisoryOf(parseFile(LINTER, 'GHSA-9v2f-6vcg-3hgv.json'));
    expect(a.severity).toEqual([
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
      { type: 'DATABASE', score: 'CRITICAL' },
    ]);
    expect(a.affected).toEqual([{ ecosystem: 'PyPI', name: 'Gradio', keyedBy: 'binary', ranges: [], versions: ['4.36.1', '4.36.-1'] }]);
    expect(a.summary).toMatch(/^Gradio was discovered/);
  });

  it('accepts nopackage-GHSA-9v2f-6vcg-3hgv as written (package existence is a registry question)', () => {
    const a = advisoryOf(parseFile(LINTER, 'nopackage-GHSA-9v2f-6vcg-3hgv.json'));
    expect(a.affected[0]).toMatchObject({ ecosystem: 'PyPI', name: 'Gradi0', versions: ['4.36.1'] });
  });

  it('maps the Go records: SEMVER ranges with every event in order', () => {
    expect(advisoryOf(parseFile(LINTER, 'GO-2020-0001.json')).affected[0]).toEqual({
      ecosystem: 'Go',
      name: 'github.com/gin-gonic/gin',
      keyedBy: 'binary',
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.6.0' }] }],
      versions: [],
    });
    const stdlib = advisoryOf(parseFile(LINTER, 'GO-2024-2963.json'));
    expect(stdlib.aliases).toEqual(['CVE-2024-24791']);
    expect(stdlib.severity).toEqual([]);
    expect(stdlib.affected[0]?.ranges).toEqual([
      { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.21.12' }, { introduced: '1.22.0-0' }, { fixed: '1.22.5' }] },
    ]);
  });

  it('maps MAL-2024-10238 and PYSEC-2023-74: versions lists, a GIT range inside a package, fractional timestamps', () => {
    expect(advisoryOf(parseFile(LINTER, 'MAL-2024-10238.json')).affected).toEqual([
      { ecosystem: 'PyPI', name: '123bla', keyedBy: 'binary', ranges: [], versions: ['0.0.1'] },
    ]);
    const py = advisoryOf(parseFile(LINTER, 'PYSEC-2023-74.json'));
    expect(py.modified).toBe('2023-06-05T01:13:00.534973Z');
    expect(py.aliases).toEqual(['CVE-2023-32681', 'GHSA-j8r2-6x86-q33q']);
    expect(py.affected).toHaveLength(1);
    expect(py.affected[0]?.ranges.map((r) => r.type)).toEqual(['GIT', 'ECOSYSTEM']);
    expect(py.affected[0]?.ranges[1]?.events).toEqual([{ introduced: '2.3.0' }, { fixed: '2.31.0' }]);
    expect(py.affected[0]?.versions).toHaveLength(66);
  });

  it('accepts records with nothing affected (RHSA, SUSE-FU) as advisories with no packages', () => {
    const rh = advisoryOf(parseFile(LINTER, 'RHSA-2022_0216.json'));
    expect(rh).toMatchObject({ id: 'RHSA-2022:0216', affected: [], aliases: [] });
    expect(rh.severity).toEqual([{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H' }]);
    expect(advisoryOf(parseFile(LINTER, 'SUSE-FU-2022_0444-1.json'))).toMatchObject({
      id: 'SUSE-FU-2022:0444-1',
      affected: [],
      aliases: [],
    });
  });

  it('rejects nointroduced-CVE-2023-41045 by the schema, keeping the id and naming the missing event', () => {
    const item = parseFile(LINTER, 'nointroduced-CVE-2023-41045.json');
    expect(item).toMatchObject({ kind: 'rejected', id: 'CVE-2023-41045', where: 'nointroduced-CVE-2023-41045.json' });
    expect(reasonOf(item)).toMatch(/OSV schema.*introduced/);
  });

  it('rejects nondistinct-CVE-2018-5407: one commit both introduces and fixes', () => {
    const item = parseFile(LINTER, 'nondistinct-CVE-2018-5407.json');
    expect(item).toMatchObject({ kind: 'rejected', id: 'CVE-2018-5407' });
    expect(reasonOf(item)).toContain('affected[6].ranges[1] events are not distinct: "e818b74be2170fbe957a07b0da4401c2b694b3b8"');
  });
});

describe('parseOsvRecord on the GHSA converter test data', () => {
  const files = readdirSync(GHSA).sort();
  const osv = files.filter((f) => f.endsWith('.osv.json'));
  const ghsa = files.filter((f) => !f.endsWith('.osv.json'));

  it('has the eleven GHSA inputs and their eleven OSV outputs', () => {
    expect(osv).toHaveLength(11);
    expect(ghsa.map((f) => f.replace(/\.json$/, '.osv.json'))).toEqual(osv);
  });

  it.each(ghsa)('rejects the GHSA-format input %s: it is not OSV', (name) => {
    const item = parseFile(GHSA, name);
    expect(item).toEqual({ kind: 'rejected', where: name, reason: expect.stringContaining('does not match the OSV schema') });
    expect(reasonOf(item)).toContain("must have required property 'id'");
  });

  it.each(osv)('accepts the OSV output %s with its id, timestamps and packages', (name) => {
    const raw = JSON.parse(readFileSync(new URL(name, GHSA), 'utf8')) as {
      id: string;
      modified: string;
      affected: { package: { name: string } }[];
    };
    const a = advisoryOf(parseOsvRecord(raw, name));
    expect(a.id).toBe(raw.id);
    expect(a.modified).toBe(raw.modified);
    expect(a.affected.map((p) => p.name)).toEqual(raw.affected.map((p) => p.package.name));
    expect(a.affected.every((p) => p.keyedBy === 'binary')).toBe(true);
  });

  it('maps the ranges exactly as the converter wrote them', () => {
    const events = (name: string) => advisoryOf(parseFile(GHSA, name)).affected.map((p) => p.ranges.map((r) => [r.type, r.events]));
    expect(events('equals_with_patch.osv.json')).toEqual([
      [['SEMVER', [{ introduced: '0' }, { introduced: '2.0.0' }, { fixed: '2.0.1' }, { fixed: '1.3.2' }]]],
    ]);
    expect(events('greater_than_equals_no_patch.osv.json')).toEqual([[['SEMVER', [{ introduced: '0.0.0' }]]]]);
    expect(events('less_than_equals_no_patch.osv.json')).toEqual([[['SEMVER', [{ introduced: '0' }]]]]);
    expect(events('npm_greater_than.osv.json')).toEqual([[['SEMVER', [{ introduced: '2.1.1-0' }, { fixed: '3.0.0' }]]]]);
    expect(events('maven_greater_than.osv.json')).toEqual([
      [
        [
          'ECOSYSTEM',
          [
            { introduced: '12.10.0' },
            { fixed: '12.10.2' },
            { introduced: '12.0' },
            { fixed: '12.6.7' },
            { introduced: '11.6.1' },
            { fixed: '11.10.13' },
          ],
        ],
      ],
    ]);
    expect(events('full_ranges.osv.json')).toEqual([
      [['ECOSYSTEM', [{ introduced: '2.5.0' }, { fixed: '2.5.16' }]]],
      [['ECOSYSTEM', [{ introduced: '2.5.0' }, { fixed: '2.5.16' }]]],
    ]);
  });

  it('keeps explicit versions, withdrawn dates and normalised names', () => {
    expect(advisoryOf(parseFile(GHSA, 'equals_no_patch.osv.json')).affected[0]).toMatchObject({
      ecosystem: 'RubyGems',
      name: 'paranoid2',
      ranges: [],
      versions: ['1.1.6'],
    });
    const withdrawn = advisoryOf(parseFile(GHSA, 'withdrawn.osv.json'));
    expect(withdrawn.withdrawn).toBe('2018-10-11T17:29:49Z');
    expect(withdrawn.aliases).toEqual(['CVE-2015-3227']);
    expect(advisoryOf(parseFile(GHSA, 'pypi_normalize.osv.json')).affected[0]?.name).toBe('products-pluggableauthservice');
    expect(advisoryOf(parseFile(GHSA, 'equals_with_patch.osv.json')).withdrawn).toBeUndefined();
  });
});

describe('parseOsvRecord on records the schema allows but matching cannot use', () => {
  it('rejects an affected entry with neither a package nor ranges', () => {
    const item = parseOsvRecord(record({ affected: [{ versions: ['1.0.0'] }] }), 'x.json');
    expect(reasonOf(item)).toBe('affected[0] has neither a package nor ranges: nothing to match');
    expect(item).toMatchObject({ id: 'GHSA-aaaa-bbbb-cccc', where: 'x.json' });
  });

  it('rejects a package with neither ranges nor versions', () => {
    const item = parseOsvRecord(record({ affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [] }] }), 'x.json');
    expect(reasonOf(item)).toBe('affected[0] (npm x) lists neither ranges nor versions: nothing to match');
  });

  it('rejects an ECOSYSTEM range with no package to order it by', () => {
    const item = parseOsvRecord(record({ affected: [{ ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] }), 'x.json');
    expect(reasonOf(item)).toBe('affected[0] has a ECOSYSTEM range but no package to order its versions by');
  });

  it('rejects an event carrying an unknown key besides its version', () => {
    const affected = [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0', note: 'x' }] }] }];
    expect(reasonOf(parseOsvRecord(record({ affected }), 'x.json'))).toBe(
      'affected[0].ranges[0].events[0] must have exactly one of introduced, fixed, last_affected, limit (has introduced, note)',
    );
  });

  it('rejects an event with two version keys (the schema oneOf)', () => {
    const affected = [
      { package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1.0.0' }] }] },
    ];
    expect(reasonOf(parseOsvRecord(record({ affected }), 'x.json'))).toMatch(
      /^does not match the OSV schema: .*must match exactly one schema in oneOf/,
    );
  });

  it('rejects an empty version in an event', () => {
    const affected = [
      { package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '' }] }] },
    ];
    expect(reasonOf(parseOsvRecord(record({ affected }), 'x.json'))).toBe('affected[0].ranges[0].events[1].fixed is empty');
  });

  it('rejects last_affected together with fixed (the schema)', () => {
    const affected = [
      {
        package: { ecosystem: 'npm', name: 'x' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2' }, { last_affected: '1' }] }],
      },
    ];
    expect(parseOsvRecord(record({ affected }), 'x.json').kind).toBe('rejected');
  });

  it('rejects values that are not records at all, without an id', () => {
    for (const value of [null, [], 'CVE-2024-1', 42, { id: 'x'.repeat(500) }]) {
      const item = parseOsvRecord(value, 'weird.json');
      expect(item.kind).toBe('rejected');
      expect(item).not.toHaveProperty('id');
    }
  });

  it('rejects an unknown id prefix and a timestamp without a zone', () => {
    expect(reasonOf(parseOsvRecord(record({ id: 'NOPE-1' }), 'x.json'))).toContain('"/id" must match pattern');
    expect(reasonOf(parseOsvRecord(record({ modified: '2024-01-02T03:04:05' }), 'x.json'))).toContain('"/modified"');
  });
});

describe('parseOsvRecord mapping details', () => {
  it('passes last_affected and limit events through and turns null aliases into an empty list', () => {
    const affected = [
      {
        package: { ecosystem: 'npm', name: 'x' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.2.0' }, { limit: '2.0.0' }] }],
      },
    ];
    const a = advisoryOf(parseOsvRecord(record({ affected, aliases: null }), 'x.json'));
    expect(a.aliases).toEqual([]);
    expect(a.affected[0]?.ranges[0]?.events).toEqual([{ introduced: '1.0.0' }, { last_affected: '1.2.0' }, { limit: '2.0.0' }]);
  });

  it('keys Debian records by source package and reads their per-release urgency', () => {
    const affected = [
      {
        package: { ecosystem: 'Debian:12', name: 'openssl', purl: 'pkg:deb/debian/openssl?arch=source&distro=bookworm' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' }] }],
        ecosystem_specific: { urgency: 'not yet assigned' },
      },
      {
        package: { ecosystem: 'Debian:11', name: 'openssl' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
        database_specific: { urgency: 'low**' },
      },
    ];
    const a = advisoryOf(parseOsvRecord(record({ id: 'DEBIAN-CVE-2023-5678', affected }), 'x.json'));
    expect(a.affected.map((p) => [p.ecosystem, p.keyedBy, p.severity])).toEqual([
      ['Debian:12', 'source', [{ type: 'DEBIAN_URGENCY', score: 'not yet assigned' }]],
      ['Debian:11', 'source', [{ type: 'DEBIAN_URGENCY', score: 'low**' }]],
    ]);
    expect(a.severity).toEqual([
      { type: 'DEBIAN_URGENCY', score: 'not yet assigned' },
      { type: 'DEBIAN_URGENCY', score: 'low**' },
    ]);
  });

  it('keys Ubuntu records by source package and reads the Ubuntu priority as a database rating', () => {
    const a = advisoryOf(
      parseOsvRecord(
        record({
          id: 'UBUNTU-CVE-2025-1',
          severity: [
            { type: 'Ubuntu', score: 'medium' },
            { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
          ],
          affected: [
            {
              package: { ecosystem: 'Ubuntu:22.04:LTS', name: 'openssl' },
              ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.2-0ubuntu1.15' }] }],
            },
          ],
        }),
        'x.json',
      ),
    );
    expect(a.affected[0]?.keyedBy).toBe('source');
    expect(a.severity).toEqual([
      { type: 'DATABASE', score: 'medium' },
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    ]);
  });

  it('reads per-package severities (affected[].severity, ecosystem_specific.severity) into the package and the advisory', () => {
    const affected = [
      {
        package: { ecosystem: 'OSS-Fuzz', name: 'libfoo' },
        ranges: [{ type: 'GIT', repo: 'https://example.org/libfoo.git', events: [{ introduced: 'a'.repeat(40) }] }],
        ecosystem_specific: { severity: 'HIGH' },
        severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }],
      },
    ];
    const a = advisoryOf(parseOsvRecord(record({ id: 'OSV-2024-1', affected }), 'x.json'));
    const expected = [
      { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' },
      { type: 'DATABASE', score: 'HIGH' },
    ];
    expect(a.affected[0]?.severity).toEqual(expected);
    expect(a.severity).toEqual(expected);
  });

  it('decides source or binary keying from the ecosystem and the purl', () => {
    expect(keyedByOf('Debian:12')).toBe('source');
    expect(keyedByOf('Debian')).toBe('source');
    expect(keyedByOf('Ubuntu:Pro:18.04:LTS')).toBe('source');
    expect(keyedByOf('Alpine:v3.19', 'pkg:apk/alpine/openssl?arch=source')).toBe('source');
    expect(keyedByOf('Alpine:v3.19', 'pkg:apk/alpine/openssl?arch=x86_64')).toBe('binary');
    expect(keyedByOf('Red Hat')).toBe('binary');
    expect(keyedByOf('npm')).toBe('binary');
  });
});
