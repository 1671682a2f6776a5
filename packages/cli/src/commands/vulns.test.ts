import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { problem, rawControls, useFakeApi } from '../__fixtures__/fake-api.js';
import { parseSlaMatrix, progressReporter } from './vulns.js';

const HOST = '0b6f1c2d-3e4a-4b5c-8d6e-7f8091a2b3c4';
const HOST2 = '1c7a2d3e-4f5b-4c6d-9e7f-8091a2b3c4d5';
const DEPLOYMENT = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';
const EVIL = 'evil\u001b[31m\u202e\u0007';
const EVIL_SHOWN = 'evil\\x1b[31m\\u202e\\x07';

const VULNS = [
  {
    id: 'CVE-2024-0727',
    source: 'debian-tracker',
    aliases: ['DSA-5621-1', 'DLA-1', 'GHSA-x', 'OSV-4'],
    summary: `openssl: denial of service via null dereference in PKCS12 parsing ${'x'.repeat(80)}`,
    severity: 'high',
    severitySource: 'cvss',
    hostCount: 12,
    overdueHostCount: 3,
    dueAt: '2024-05-02T00:00:00.000Z',
  },
  {
    id: 'CVE-2024-9999',
    source: 'osv',
    aliases: [],
    summary: `${EVIL} summary`,
    severity: 'low',
    severitySource: 'default',
    hostCount: 1,
    overdueHostCount: 0,
  },
];

const EXPLANATION = {
  record: 'DEBIAN-CVE-2024-0727',
  source: 'debian-tracker',
  ecosystem: 'Debian:12',
  package: 'openssl',
  matchedBy: 'source',
  comparedVersion: '3.0.11-1~deb12u2',
  range: 'introduced 0, fixed 3.0.13-1~deb12u1',
  decision: 'introduced 0; dpkg: 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1 (fixed)',
  fixedVersion: '3.0.13-1~deb12u1',
  endOfLife: false,
};

const FINDING = {
  id: 'DEBIAN-CVE-2024-0727',
  source: 'debian-tracker',
  aliases: ['CVE-2024-0727'],
  package: 'libssl3',
  installedVersion: '3.0.11-1~deb12u2',
  fixedVersion: '3.0.13-1~deb12u1',
  severity: 'high',
  severityDetail: 'CVSS 7.5',
  riskTier: 4,
  firstSeenAt: '2024-04-25T00:00:00.000Z',
  dueAt: '2024-05-02T00:00:00.000Z',
  overdue: true,
  closedAt: null,
  closedReason: null,
  explanation: EXPLANATION,
};

const EVIL_FINDING = {
  ...FINDING,
  id: 'OSV-2024-1',
  aliases: [],
  package: EVIL,
  installedVersion: '1\u009b2',
  fixedVersion: undefined,
  severity: 'medium',
  overdue: false,
  closedAt: '2024-05-01T00:00:00.000Z',
  closedReason: 'fixed',
  explanation: { ...EXPLANATION, record: 'OSV-2024-1', package: EVIL, matchedBy: 'binary', fixedVersion: null, endOfLife: true },
};

const EXPLAIN = {
  host: { id: HOST, ecosystem: 'Debian:12' },
  records: [
    {
      source: 'debian-tracker',
      id: 'DEBIAN-CVE-2024-0727',
      aliases: ['CVE-2024-0727'],
      summary: 'openssl: PKCS12 null dereference',
      severity: 'high',
      severityDetail: 'CVSS 7.5',
      withdrawn: null,
    },
  ],
  findings: [FINDING],
  notAffected: [
    {
      record: 'DEBIAN-CVE-2024-0727',
      source: 'debian-tracker',
      package: 'openssl-dbg',
      installedVersion: '3.0.13-1',
      reason: `fixed in 3.0.13-1~deb12u1 ${EVIL}`,
    },
  ],
};

const RESULT = {
  importId: '7d1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5',
  kind: 'osv',
  read: 10,
  stored: 6,
  unchanged: 1,
  rejected: 2,
  withdrawn: 1,
  rejections: [
    { id: 'GHSA-bad', where: 'records[3]', reason: `affected[0].ranges: unknown type ${EVIL}` },
    { where: 'records[7]', reason: 'missing id' },
  ],
  findings: { open: 40, opened: 5, closed: 2 },
};

const SLA = {
  critical: { '1': 336, '2': 168, '3': 72, '4': 48, '5': 24 },
  high: { '1': 720, '2': 720, '3': 336, '4': 168, '5': 72 },
  medium: { '1': 2160, '2': 2160, '3': 1440, '4': 1080, '5': 720 },
  low: { '1': 4320, '2': 4320, '3': 3600, '4': 2880, '5': 2160 },
};

const FEED = {
  id: '2a1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5',
  kind: 'osv',
  location: 'https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip',
  cron: '0 3 * * *',
  lastRunAt: null,
  createdAt: '2024-05-01T00:00:00.000Z',
};

const ndjson = (...values: unknown[]) => ({
  contentType: 'application/x-ndjson',
  body: values.map((v) => `${JSON.stringify(v)}\n`).join(''),
});

const IMPORT_OK = ndjson(
  { progress: { read: 5, stored: 4, rejected: 1 } },
  { progress: { read: 10, stored: 6, rejected: 2 } },
  { result: RESULT },
);

const { api, cli } = useFakeApi({
  'GET /api/v1/vulnerabilities': { body: { items: VULNS, total: 42 } },
  'GET /api/v1/vulnerabilities/overdue': { body: { items: [{ ...FINDING, hostId: HOST, hostname: EVIL }], total: 1 } },
  [`GET /api/v1/hosts/${HOST}/vulnerabilities`]: { body: { items: [FINDING, EVIL_FINDING] } },
  [`GET /api/v1/hosts/${HOST}/vulnerabilities/CVE-2024-0727`]: { body: EXPLAIN },
  'POST /api/v1/vulnerabilities/imports': IMPORT_OK,
  'POST /api/v1/vulnerabilities/CVE-2024-0727/remediate': {
    status: 201,
    body: {
      deployment: { id: DEPLOYMENT, state: 'awaiting_approval', name: `Remediate CVE-2024-0727 ${EVIL}` },
      plan: {
        records: ['DEBIAN-CVE-2024-0727'],
        hostIds: [HOST, HOST2],
        packages: [
          { name: 'openssl', fixedVersion: '3.0.13-1~deb12u1' },
          { name: 'libssl3', fixedVersion: null },
        ],
        unfixed: [{ hostId: HOST2, package: 'libssl1.1' }],
      },
    },
  },
  'GET /api/v1/vulnerabilities/sla': { body: SLA },
  'PUT /api/v1/vulnerabilities/sla': (req) => ({ body: req.body }),
  [`PUT /api/v1/hosts/${HOST}/risk`]: (req) => {
    const b = req.body as { riskTier: number | null; site?: string | null };
    return { body: { riskTier: b.riskTier, site: b.site ?? null, effectiveTier: b.riskTier ?? 4 } };
  },
  'PUT /api/v1/groups/web%20servers/tier': {
    body: {
      items: [
        { group: 'db', riskTier: 5 },
        { group: `web servers${EVIL}`, riskTier: 4 },
      ],
    },
  },
  'GET /api/v1/vulnerabilities/feeds': {
    body: { items: [FEED, { ...FEED, location: `/srv/${EVIL}`, lastRunAt: '2024-05-02T03:00:00.000Z' }] },
  },
  'POST /api/v1/vulnerabilities/feeds': (req) => ({ status: 201, body: { ...FEED, ...(req.body as object) } }),
  [`DELETE /api/v1/vulnerabilities/feeds/${FEED.id}`]: { status: 204 },
  'GET /api/v1/vulnerabilities/imports': {
    body: {
      items: [
        {
          id: RESULT.importId,
          kind: 'osv',
          location: 'upload:feed.zip',
          actor: 'admin',
          startedAt: '2024-05-01T00:00:00.000Z',
          finishedAt: null,
          counts: { read: 10, stored: 6 },
          error: `boom ${EVIL}`,
        },
      ],
    },
  },
});

let tmp = '';
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'brier-vulns-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('brier vulns list', () => {
  it('sends the filters and prints a table with the total, escaping server text and truncating summaries', async () => {
    const { code, stdout, stderr } = await cli([
      'vulns',
      'list',
      '--severity',
      'high',
      '--overdue',
      '--id',
      'CVE-2024-0727',
      '--limit',
      '5',
      '--offset',
      '10',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/vulnerabilities?severity=high&overdue=true&id=CVE-2024-0727&limit=5&offset=10');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +SEVERITY +HOSTS +OVERDUE +DUE +ALIASES +SUMMARY$/);
    expect(lines[1]).toMatch(/^CVE-2024-0727 +high +12 +3 +2024-05-02T00:00:00Z +DSA-5621-1,DLA-1,GHSA-x,… +openssl: denial of service/);
    expect(lines[1]).toMatch(/in PKCS12 p…$/);
    expect(lines[1]).not.toContain('x'.repeat(80));
    expect(lines[2]).toMatch(/^CVE-2024-9999 +low +1 +0 +- +- +evil\\x1b\[31m\\u202e\\x07 summary$/);
    expect(lines[3]).toBe('2 of 42');
    expect(rawControls(stdout)).toEqual([]);
  });

  it("prints the server's items as JSON with --json", async () => {
    const { stdout } = await cli(['vulns', 'list', '--json']);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/vulnerabilities');
    expect(rawControls(stdout)).toEqual([]);
    expect(JSON.parse(stdout)).toEqual(VULNS);
  });

  it('refuses bad filters with exit 2 and the usage, before contacting the server', async () => {
    for (const args of [
      ['--severity', 'urgent'],
      ['--id', ''],
      ['--id', '../etc'],
      ['--id', 'CVE 1'],
      ['--id', `C${'1'.repeat(128)}`],
      ['--limit', '0'],
      ['--offset', 'x'],
      ['extra'],
    ]) {
      const { code, stderr } = await cli(['vulns', 'list', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier vulns list');
    }
    expect(api.requests).toHaveLength(0);
  });
});

describe('brier vulns host and overdue', () => {
  it("lists a host's findings, closed ones too with --closed", async () => {
    const { code, stdout } = await cli(['vulns', 'host', HOST, '--closed']);
    expect(code).toBe(0);
    expect(api.requests[0]?.rawUrl).toBe(`/api/v1/hosts/${HOST}/vulnerabilities?closed=true`);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +PACKAGE +INSTALLED +FIXED +SEVERITY +DUE +OVERDUE$/);
    expect(lines[1]).toMatch(/^DEBIAN-CVE-2024-0727 +libssl3 +3\.0\.11-1~deb12u2 +3\.0\.13-1~deb12u1 +high +2024-05-02T00:00:00Z +yes$/);
    expect(lines[2]).toMatch(/^OSV-2024-1 +evil\\x1b\[31m\\u202e\\x07 +1\\x9b2 +- +medium +2024-05-02T00:00:00Z +closed$/);
    expect(rawControls(stdout)).toEqual([]);
  });

  it('asks for open findings only by default, and encodes the host id as one segment', async () => {
    await cli(['vulns', 'host', HOST]);
    await cli(['vulns', 'host', 'a/b?c']);
    expect(api.requests.map((r) => r.rawUrl)).toEqual([`/api/v1/hosts/${HOST}/vulnerabilities`, '/api/v1/hosts/a%2Fb%3Fc/vulnerabilities']);
    for (const id of ['', '.', '..']) expect((await cli(['vulns', 'host', id])).code, id).toBe(2);
    expect(api.requests).toHaveLength(2);
  });

  it('lists overdue findings with host, tier and due date', async () => {
    const { code, stdout } = await cli(['vulns', 'overdue', '--limit', '20', '--offset', '40']);
    expect(code).toBe(0);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/vulnerabilities/overdue?limit=20&offset=40');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^HOST +ID +PACKAGE +SEVERITY +TIER +DUE$/);
    expect(lines[1]).toMatch(/^evil\\x1b\[31m\\u202e\\x07 +DEBIAN-CVE-2024-0727 +libssl3 +high +4 +2024-05-02T00:00:00Z$/);
    expect(lines[2]).toBe('1 of 1');
    expect(rawControls(stdout)).toEqual([]);
  });
});

describe('brier vulns explain', () => {
  it('explains each finding with its range, decision, match, fix, severity and due date', async () => {
    const { code, stdout } = await cli(['vulns', 'explain', HOST, 'CVE-2024-0727']);
    expect(code).toBe(0);
    expect(api.requests[0]?.rawUrl).toBe(`/api/v1/hosts/${HOST}/vulnerabilities/CVE-2024-0727`);
    expect(stdout).toContain('libssl3 3.0.11-1~deb12u2 is affected by DEBIAN-CVE-2024-0727 (CVE-2024-0727):\n');
    expect(stdout).toContain('  range introduced 0, fixed 3.0.13-1~deb12u1\n');
    expect(stdout).toContain('  decision: introduced 0; dpkg: 3.0.11-1~deb12u2 < 3.0.13-1~deb12u1 (fixed)\n');
    expect(stdout).toContain('  matched by source package openssl 3.0.11-1~deb12u2 on Debian:12 (debian-tracker)\n');
    expect(stdout).toContain('  fix: upgrade to 3.0.13-1~deb12u1 or later\n');
    expect(stdout).toContain('  severity high (CVSS 7.5); risk tier 4\n');
    expect(stdout).toContain('  first seen 2024-04-25T00:00:00Z; due 2024-05-02T00:00:00Z (overdue)\n');
    expect(stdout).toContain(`not affected: openssl-dbg 3.0.13-1: fixed in 3.0.13-1~deb12u1 ${EVIL_SHOWN} (DEBIAN-CVE-2024-0727)\n`);
    expect(stdout).toMatch(/^DEBIAN-CVE-2024-0727 \(debian-tracker\), also CVE-2024-0727; severity high \(CVSS 7\.5\)$/m);
    expect(rawControls(stdout)).toEqual([]);
  });

  it('says when the fix will never come and when the finding is closed, escaping agent text', async () => {
    api.routes.set(`GET /api/v1/hosts/${HOST}/vulnerabilities/OSV-2024-1`, {
      body: { ...EXPLAIN, records: [], findings: [EVIL_FINDING], notAffected: [] },
    });
    const { code, stdout } = await cli(['vulns', 'explain', HOST, 'OSV-2024-1']);
    expect(code).toBe(0);
    expect(stdout).toContain(`${EVIL_SHOWN} 1\\x9b2 is affected by OSV-2024-1:`);
    expect(stdout).toContain(`  matched by binary package ${EVIL_SHOWN} 3.0.11-1~deb12u2 on Debian:12`);
    expect(stdout).toContain('  fix: none, this release is end-of-life for the package\n');
    expect(stdout).toContain('  closed 2024-05-01T00:00:00Z (fixed)\n');
    expect(rawControls(stdout)).toEqual([]);
  });

  it('exits 0 and says so when nothing on the host is named by the record', async () => {
    api.routes.set(`GET /api/v1/hosts/${HOST}/vulnerabilities/CVE-2000-1`, { body: { ...EXPLAIN, findings: [], notAffected: [] } });
    const { code, stdout } = await cli(['vulns', 'explain', HOST, 'CVE-2000-1']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Host ${HOST} has no installed package that CVE-2000-1 names.`);
  });

  it('prints the explanation as JSON with --json', async () => {
    const { stdout } = await cli(['vulns', 'explain', HOST, 'CVE-2024-0727', '--json']);
    expect(rawControls(stdout)).toEqual([]);
    expect(JSON.parse(stdout)).toEqual(EXPLAIN);
  });

  it('refuses a bad record id or host id before contacting the server, and reports an unknown host with exit 1', async () => {
    for (const args of [[HOST, ''], [HOST, '../x'], [HOST, '-x'], ['..', 'CVE-1'], [HOST], [HOST, 'CVE-1', 'x']]) {
      expect((await cli(['vulns', 'explain', ...args])).code, args.join(' ')).toBe(2);
    }
    expect(api.requests).toHaveLength(0);
    const { code, stderr } = await cli(['vulns', 'explain', HOST2, 'CVE-1']);
    expect(code).toBe(1);
    expect(stderr).toContain('(code not_found, HTTP 404)');
  });
});

describe('brier vulns remediate', () => {
  it('sends the hosts, name and flags, and prints the deployment, its plan and where to follow it', async () => {
    const { code, stdout } = await cli([
      'vulns',
      'remediate',
      'CVE-2024-0727',
      '--hosts',
      ` ${HOST}, ${HOST2},`,
      '--name',
      'openssl now',
      '--critical',
      '--emergency',
    ]);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({
      method: 'POST',
      rawUrl: '/api/v1/vulnerabilities/CVE-2024-0727/remediate',
      body: { hostIds: [HOST, HOST2], name: 'openssl now', critical: true, emergency: true },
    });
    expect(stdout).toMatch(new RegExp(`^Deployment +${DEPLOYMENT}$`, 'm'));
    expect(stdout).toMatch(/^State +awaiting_approval$/m);
    expect(stdout).toMatch(/^Hosts +2$/m);
    expect(stdout).toMatch(/^Packages +openssl \(fixed in 3\.0\.13-1~deb12u1\), libssl3 \(no fixed version known\)$/m);
    expect(stdout).toMatch(new RegExp(`^Unfixed +libssl1\\.1 on ${HOST2}$`, 'm'));
    expect(stdout).toContain(`Name        Remediate CVE-2024-0727 ${EVIL_SHOWN}`);
    expect(stdout).toContain(`brier deploy show ${DEPLOYMENT}\n`);
    expect(rawControls(stdout)).toEqual([]);
  });

  it('sends an empty body when given nothing but the record, and JSON with --json', async () => {
    const { stdout } = await cli(['vulns', 'remediate', 'CVE-2024-0727', '--json']);
    expect(api.requests[0]?.body).toEqual({});
    expect(JSON.parse(stdout).deployment.id).toBe(DEPLOYMENT);
  });

  it('refuses bad operands before contacting the server', async () => {
    for (const args of [[], [''], ['CVE/1'], ['CVE-1', '--hosts', ' , '], ['CVE-1', '--name', ' '], ['CVE-1', '--name', 'a\u001bb']]) {
      const { code, stderr } = await cli(['vulns', 'remediate', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier vulns remediate');
    }
    expect(api.requests).toHaveLength(0);
  });
});

describe('brier vulns sla', () => {
  it('prints the matrix with the most important tier first', async () => {
    const { code, stdout } = await cli(['vulns', 'sla']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'GET', rawUrl: '/api/v1/vulnerabilities/sla' });
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SEVERITY +T5 +T4 +T3 +T2 +T1$/);
    expect(lines[1]).toMatch(/^critical +24 +48 +72 +168 +336$/);
    expect(lines[4]).toMatch(/^low +2160 +2880 +3600 +4320 +4320$/);
  });

  it('PUTs the matrix from a file, or from stdin with -', async () => {
    const file = join(tmp, 'sla.json');
    await writeFile(file, JSON.stringify(SLA));
    expect((await cli(['vulns', 'sla', '--set', file])).code).toBe(0);
    const piped = await cli(['vulns', 'sla', '--set', '-', '--json'], { stdin: JSON.stringify(SLA) });
    expect(piped.code).toBe(0);
    expect(api.requests.map((r) => [r.method, r.rawUrl, r.body])).toEqual([
      ['PUT', '/api/v1/vulnerabilities/sla', SLA],
      ['PUT', '/api/v1/vulnerabilities/sla', SLA],
    ]);
    expect(JSON.parse(piped.stdout)).toEqual(SLA);
  });

  it('refuses a matrix of the wrong shape before contacting the server', async () => {
    const bad = [
      'not json',
      '[]',
      JSON.stringify({ ...SLA, urgent: SLA.low }),
      JSON.stringify({ critical: SLA.critical, high: SLA.high, medium: SLA.medium }),
      JSON.stringify({ ...SLA, low: { ...SLA.low, '6': 1 } }),
      JSON.stringify({ ...SLA, low: { ...SLA.low, '1': 1.5 } }),
      JSON.stringify({ ...SLA, low: { ...SLA.low, '1': 0 } }),
      JSON.stringify({ ...SLA, low: { ...SLA.low, '1': '24' } }),
      JSON.stringify({ ...SLA, high: { '1': 1, '2': 1, '3': 1, '4': 1 } }),
    ];
    for (const text of bad) {
      const { code, stderr } = await cli(['vulns', 'sla', '--set', '-'], { stdin: text });
      expect(code, text).toBe(2);
      expect(stderr, text).toContain('Usage: brier vulns sla');
    }
    expect((await cli(['vulns', 'sla', '--set', join(tmp, 'missing.json')])).code).toBe(2);
    expect(api.requests).toHaveLength(0);
  });

  it('keeps exactly the five tiers of the four severities', () => {
    expect(parseSlaMatrix(JSON.stringify(SLA), 'u')).toEqual(SLA);
    expect(() => parseSlaMatrix(JSON.stringify({ ...SLA, low: { ...SLA.low, '5': 87_601 } }), 'u')).toThrow(
      /low tier 5 must be whole hours/,
    );
  });
});

describe('brier vulns tier', () => {
  it("sets a host's tier and site, and clears them with none and ''", async () => {
    const set = await cli(['vulns', 'tier', 'host', HOST, '5', '--site', 'Paris DC']);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`Host ${HOST}: tier 5 (effective 5), site Paris DC\n`);
    const cleared = await cli(['vulns', 'tier', 'host', HOST, 'none', '--site', '']);
    expect(cleared.stdout).toBe(`Host ${HOST}: tier inherited (effective 4), site none\n`);
    expect(api.requests.map((r) => [r.method, r.rawUrl, r.body])).toEqual([
      ['PUT', `/api/v1/hosts/${HOST}/risk`, { riskTier: 5, site: 'Paris DC' }],
      ['PUT', `/api/v1/hosts/${HOST}/risk`, { riskTier: null, site: null }],
    ]);
  });

  it("sets a group's tier and prints every group's tier, escaped", async () => {
    const { code, stdout } = await cli(['vulns', 'tier', 'group', 'web servers', '4']);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'PUT', rawUrl: '/api/v1/groups/web%20servers/tier', body: { riskTier: 4 } });
    expect(stdout).toMatch(/^GROUP +TIER$/m);
    expect(stdout).toMatch(/^db +5$/m);
    expect(stdout).toContain(`web servers${EVIL_SHOWN}  4`);
    expect(rawControls(stdout)).toEqual([]);
    const json = await cli(['vulns', 'tier', 'group', 'web servers', 'none', '--json']);
    expect(api.requests[1]?.body).toEqual({ riskTier: null });
    expect(JSON.parse(json.stdout)).toHaveLength(2);
  });

  it('refuses a tier outside 1-5, odd names and missing operands before contacting the server', async () => {
    for (const args of [
      ['host', HOST, '7'],
      ['host', HOST, '0'],
      ['host', HOST, '3.0'],
      ['host', HOST, 'high'],
      ['host', HOST],
      ['host', '..', '3'],
      ['host', HOST, '3', '--site', 'a\u001b[2Jb'],
      ['group', '', '3'],
      ['group', 'a\u202eb', '3'],
      ['group', 'web', '6'],
      ['group', '..', '3'],
    ]) {
      const { code, stderr } = await cli(['vulns', 'tier', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toMatch(/Usage: brier vulns tier (host|group)/);
    }
    for (const args of [[], ['site']]) expect((await cli(['vulns', 'tier', ...args])).code, args.join(' ')).toBe(2);
    expect(api.requests).toHaveLength(0);
  });
});

describe('brier vulns feeds and imports', () => {
  it('lists feeds, escaping locations', async () => {
    const { code, stdout } = await cli(['vulns', 'feeds', 'list']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +KIND +CRON +LAST RUN +LOCATION$/);
    expect(lines[1]).toMatch(new RegExp(`^${FEED.id} +osv +0 3 \\* \\* \\* +never +https://osv-vulnerabilities`));
    expect(lines[2]).toMatch(/2024-05-02T03:00:00Z +\/srv\/evil\\x1b\[31m\\u202e\\x07$/);
    expect(rawControls(stdout)).toEqual([]);
  });

  it('adds a feed with its kind, cron and location', async () => {
    const { code, stdout } = await cli([
      'vulns',
      'feeds',
      'add',
      '--kind',
      'debian-tracker',
      '--cron',
      '0 4 * * *',
      '/srv/feeds/debian.json',
    ]);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({
      method: 'POST',
      rawUrl: '/api/v1/vulnerabilities/feeds',
      body: { kind: 'debian-tracker', cron: '0 4 * * *', location: '/srv/feeds/debian.json' },
    });
    expect(stdout).toMatch(/^Kind +debian-tracker$/m);
  });

  it('refuses a feed without kind or cron, or with a relative location', async () => {
    const ok = ['--kind', 'osv', '--cron', '0 3 * * *', 'https://example.com/all.zip'];
    for (const args of [
      ok.slice(2),
      [ok[0]!, ok[1]!, ok[4]!],
      ['--kind', 'nvd', ...ok.slice(2)],
      [...ok.slice(0, 4), 'feeds/all.zip'],
      [...ok.slice(0, 4), 'ftp://example.com/all.zip'],
      ok.slice(0, 4),
    ]) {
      const { code, stderr } = await cli(['vulns', 'feeds', 'add', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier vulns feeds add');
    }
    expect((await cli(['vulns', 'feeds', 'rename'])).code).toBe(2);
    expect(api.requests).toHaveLength(0);
  });

  it('removes a feed by id', async () => {
    const { code, stdout } = await cli(['vulns', 'feeds', 'remove', FEED.id]);
    expect(code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'DELETE', rawUrl: `/api/v1/vulnerabilities/feeds/${FEED.id}` });
    expect(stdout).toBe(`Feed ${FEED.id} removed.\n`);
  });

  it('lists recent imports with their counts and errors', async () => {
    const { code, stdout } = await cli(['vulns', 'imports', '--limit', '3']);
    expect(code).toBe(0);
    expect(api.requests[0]?.rawUrl).toBe('/api/v1/vulnerabilities/imports?limit=3');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +KIND +STARTED +FINISHED +BY +COUNTS +ERROR +LOCATION$/);
    expect(lines[1]).toMatch(
      / osv +2024-05-01T00:00:00Z +running +admin +read 10, stored 6 +boom evil\\x1b\[31m\\u202e\\x07 +upload:feed\.zip$/,
    );
    expect(rawControls(stdout)).toEqual([]);
    expect((await cli(['vulns', 'imports', '--limit', '0'])).code).toBe(2);
    expect(api.requests).toHaveLength(1);
  });
});

describe('brier vulns import', () => {
  it('sends a directory of OSV files as one JSON array of the good records and reports the bad files', async () => {
    await mkdir(join(tmp, 'Debian', 'nested'), { recursive: true });
    await writeFile(join(tmp, 'Debian', 'DSA-1.json'), JSON.stringify({ id: 'DSA-1', modified: '2024-01-01T00:00:00Z' }));
    await writeFile(join(tmp, 'Debian', 'nested', 'many.json'), JSON.stringify([{ id: 'GHSA-2' }, { id: 'GHSA-3' }]));
    await writeFile(join(tmp, 'Debian', 'broken.json'), '{"id": "DSA-4",');
    await writeFile(join(tmp, 'scalar.json'), '42');
    await writeFile(join(tmp, 'README.txt'), 'not a feed');
    const { code, stdout, stderr } = await cli(['vulns', 'import', tmp]);
    expect(code).toBe(0);
    const req = api.requests[0]!;
    expect(req).toMatchObject({ method: 'POST', pathname: '/api/v1/vulnerabilities/imports' });
    expect(req.headers['content-type']).toBe('application/octet-stream');
    expect(req.headers.accept).toMatch(/^application\/x-ndjson/);
    expect(req.query.get('name')).toBe(tmp);
    expect(req.query.has('kind')).toBe(false);
    expect(JSON.parse(req.rawBody.toString('utf8'))).toEqual([
      { id: 'DSA-1', modified: '2024-01-01T00:00:00Z' },
      { id: 'GHSA-2' },
      { id: 'GHSA-3' },
    ]);
    expect(stderr).toMatch(/^brier: skipped Debian\/broken\.json: .*JSON/m);
    expect(stderr).toMatch(/^brier: skipped scalar\.json: not an OSV record/m);
    expect(stderr).not.toContain('DSA-1.json');
    expect(stdout).toMatch(/^Skipped +2 files that did not hold OSV records/m);
  });

  it('sends a .zip as application/zip byte for byte, with the kind', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
    const file = join(tmp, 'all.zip');
    await writeFile(file, bytes);
    const { code } = await cli(['vulns', 'import', file, '--kind', 'osv']);
    expect(code).toBe(0);
    const req = api.requests[0]!;
    expect(req.headers['content-type']).toBe('application/zip');
    expect(req.query.get('kind')).toBe('osv');
    expect(req.rawBody.equals(bytes)).toBe(true);
  });

  it('sends a .json file as application/octet-stream, unchanged', async () => {
    const text = '{"CVE-2024-1": {"openssl": {}}}\n';
    const file = join(tmp, 'debian.json');
    await writeFile(file, text);
    expect((await cli(['vulns', 'import', file, '--kind', 'debian-tracker'])).code).toBe(0);
    expect(api.requests[0]?.headers['content-type']).toBe('application/octet-stream');
    expect(api.requests[0]?.rawBody.toString('utf8')).toBe(text);
  });

  it('shows upload and import progress on stderr, then the summary with the first rejections, escaped', async () => {
    const file = join(tmp, 'one.json');
    await writeFile(file, '{"id":"A"}');
    const { code, stdout, stderr } = await cli(['vulns', 'import', file]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^uploading: 0\.0 MiB sent$/m);
    expect(stderr).toMatch(/^importing: read 5, stored 4, rejected 1$/m);
    expect(stdout).toMatch(new RegExp(`^Import +${RESULT.importId} \\(osv\\)$`, 'm'));
    expect(stdout).toMatch(/^Records +read 10, stored 6, unchanged 1, rejected 2, withdrawn 1$/m);
    expect(stdout).toMatch(/^Findings +opened 5, closed 2, open now 40$/m);
    expect(stdout).toContain('2 records rejected:\n');
    expect(stdout).toMatch(/^GHSA-bad +records\[3\] +affected\[0\]\.ranges: unknown type evil\\x1b\[31m\\u202e\\x07$/m);
    expect(stdout).toMatch(/^- +records\[7\] +missing id$/m);
    expect(rawControls(stdout)).toEqual([]);
    expect(rawControls(stderr)).toEqual([]);
  });

  it('shows only the first ten rejections and says so, also when the server answers without streaming', async () => {
    const rejections = Array.from({ length: 12 }, (_, i) => ({ id: `R-${i}`, where: `records[${i}]`, reason: 'bad range' }));
    api.routes.set('POST /api/v1/vulnerabilities/imports', { body: { ...RESULT, rejected: 25, rejections } });
    const file = join(tmp, 'one.json');
    await writeFile(file, '{"id":"A"}');
    const { code, stdout } = await cli(['vulns', 'import', file]);
    expect(code).toBe(0);
    expect(stdout).toContain('25 records rejected; the first 10:\n');
    expect(stdout).toMatch(/^R-9 +records\[9\] +bad range$/m);
    expect(stdout).not.toContain('R-10');
  });

  it('prints the result as JSON with --json', async () => {
    const file = join(tmp, 'one.json');
    await writeFile(file, '{"id":"A"}');
    const { code, stdout } = await cli(['vulns', 'import', file, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(RESULT);
  });

  it('exits 1 with the reason when the server reports an error line', async () => {
    api.routes.set(
      'POST /api/v1/vulnerabilities/imports',
      ndjson({ progress: { read: 1, stored: 0, rejected: 0 } }, { error: { code: 'feed_invalid', detail: `not a zip ${EVIL}` } }),
    );
    const file = join(tmp, 'x.zip');
    await writeFile(file, 'PK');
    const { code, stdout, stderr } = await cli(['vulns', 'import', file]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`brier: the import failed: not a zip ${EVIL_SHOWN} (code feed_invalid)\n`);
    expect(rawControls(stderr)).toEqual([]);
  });

  it('exits 1 when the stream ends without a result, and on a problem before streaming', async () => {
    const file = join(tmp, 'x.json');
    await writeFile(file, '{}');
    api.routes.set('POST /api/v1/vulnerabilities/imports', ndjson({ progress: { read: 1, stored: 0, rejected: 0 } }));
    const cut = await cli(['vulns', 'import', file]);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain('the import ended without a result');
    api.routes.set('POST /api/v1/vulnerabilities/imports', problem(403, 'Forbidden', 'forbidden', 'needs vulns:manage'));
    const refused = await cli(['vulns', 'import', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Forbidden: needs vulns:manage (code forbidden, HTTP 403)');
  });

  it('downloads a URL and streams it into the upload, recording the address without its query', async () => {
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 1, 2, 0xfe, 0xff]);
    api.routes.set('GET /feeds/Debian/all.zip', { contentType: 'application/octet-stream', body: zip });
    api.routes.set('GET /tracker/data/json', { contentType: 'application/json', body: '{"openssl": {}}' });
    expect((await cli(['vulns', 'import', `${api.url}/feeds/Debian/all.zip?sig=secret`])).code).toBe(0);
    expect((await cli(['vulns', 'import', `${api.url}/tracker/data/json`, '--kind', 'debian-tracker'])).code).toBe(0);
    const uploads = api.requests.filter((r) => r.method === 'POST');
    expect(api.requests.map((r) => `${r.method} ${r.pathname}`)).toEqual([
      'GET /feeds/Debian/all.zip',
      'POST /api/v1/vulnerabilities/imports',
      'GET /tracker/data/json',
      'POST /api/v1/vulnerabilities/imports',
    ]);
    expect(uploads[0]?.headers['content-type']).toBe('application/zip');
    expect(uploads[0]?.rawBody.equals(zip)).toBe(true);
    expect(uploads[0]?.query.get('name')).toBe(`${api.url}/feeds/Debian/all.zip`);
    expect(uploads[1]?.headers['content-type']).toBe('application/octet-stream');
    expect(uploads[1]?.rawBody.toString('utf8')).toBe('{"openssl": {}}');
    // The downloading request carries no Brier token: the feed's host is not the Brier server.
    expect(api.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('exits 1 without uploading when the download fails', async () => {
    const { code, stderr } = await cli(['vulns', 'import', `${api.url}/feeds/missing.zip`]);
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot download ${api.url}/feeds/missing.zip: HTTP 404`);
    expect(api.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('refuses bad operands before contacting the server', async () => {
    await mkdir(join(tmp, 'empty'));
    for (const args of [[], [''], ['http://'], [join(tmp, 'missing.zip')], [join(tmp, 'empty')], [tmp, '--kind', 'nvd'], [tmp, tmp]]) {
      const { code, stderr } = await cli(['vulns', 'import', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain('Usage: brier vulns import');
    }
    expect(api.requests).toHaveLength(0);
  });
});

describe('brier vulns', () => {
  it('prints its usage for --help and refuses an unknown sub-command', async () => {
    const help = await cli(['vulns', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: brier vulns <command>');
    for (const sub of ['import', 'list', 'host', 'explain', 'overdue', 'remediate', 'sla', 'imports']) {
      const { code, stdout } = await cli(['vulns', sub, '--help']);
      expect(code, sub).toBe(0);
      expect(stdout, sub).toContain(`Usage: brier vulns ${sub}`);
    }
    expect((await cli(['vulns', 'patch'])).code).toBe(2);
    expect((await cli(['--help'])).stdout).toMatch(/^ {2}vulns +Import vulnerability feeds/m);
  });
});

describe('progressReporter', () => {
  it('rewrites one line in place on a terminal, keeping notes above it', () => {
    let out = '';
    const p = progressReporter((s) => {
      out += s;
    }, true);
    p.update('uploading: 1.0 MiB sent');
    p.update('uploading: 1.0 MiB sent');
    p.update('importing: read 1, stored 1, rejected 0');
    p.note('brier: skipped a.json: bad\n');
    p.done();
    expect(out).toBe(
      '\r\u001b[2Kuploading: 1.0 MiB sent' +
        '\r\u001b[2Kimporting: read 1, stored 1, rejected 0' +
        '\r\u001b[2Kbrier: skipped a.json: bad\nimporting: read 1, stored 1, rejected 0' +
        '\r\u001b[2K',
    );
  });

  it('prints a line at most every 2 s per phase elsewhere, the first of each phase at once', () => {
    let out = '';
    let now = 0;
    const p = progressReporter(
      (s) => {
        out += s;
      },
      false,
      () => now,
    );
    p.update('uploading: 0.1 MiB sent');
    now = 1_999;
    p.update('uploading: 0.2 MiB sent');
    p.update('importing: read 1, stored 0, rejected 0');
    now = 3_000;
    p.update('importing: read 2, stored 0, rejected 0');
    now = 4_000;
    p.update('importing: read 3, stored 0, rejected 0');
    p.note('note\n');
    p.done();
    expect(out).toBe('uploading: 0.1 MiB sent\nimporting: read 1, stored 0, rejected 0\nimporting: read 3, stored 0, rejected 0\nnote\n');
  });
});
