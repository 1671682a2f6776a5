import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../packages/server/src/testing/test-server.js';
import { apiClient, databases, eventually, exec, startRealAgent, tempDir } from './support/system.js';

/**
 * Vulnerability matching end to end: the real agent reports this machine's packages, OSV records
 * written for the source packages actually installed are uploaded through the API, and the
 * findings must be exactly what the real `dpkg --compare-versions` says about each installed
 * source version against each record's fixed version. Nothing is mocked between the two.
 */
const hasDpkg =
  process.env.CI === 'true' ||
  (await exec('dpkg-query', ['--version']).then(
    () => true,
    () => false,
  ));

interface Installed {
  name: string;
  source: string;
  sourceVersion: string;
}

async function installed(): Promise<Installed[]> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${Field} is dpkg-query's format syntax.
  const format = '-f=${db:Status-Abbrev}\t${Package}\t${source:Package}\t${source:Version}\n';
  const { stdout } = await exec('dpkg-query', ['-W', format], { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((l) => /^.[itW]/.test(l))
    .map((l) => {
      const [, name = '', source = '', sourceVersion = ''] = l.split('\t');
      return { name, source, sourceVersion };
    });
}

/** Deterministic choice from a string, so a failure reproduces on the same machine. */
function pick<T>(key: string, choices: readonly T[]): T {
  const n = createHash('sha256').update(key).digest().readUInt32BE(0);
  return choices[n % choices.length]!;
}

/** Versions around `v`: equal, just below (~), just above (+, .1), an epoch above, digits changed. */
function fixedNear(v: string): string {
  const bumped = v.replace(/(\d+)(?!.*\d)/, (d) => String(Number(d) + 1));
  const lowered = v.replace(/(\d+)(?!.*\d)/, (d) => String(Math.max(0, Number(d) - 1)));
  const hasEpoch = /^\d+:/.test(v);
  return pick(v, [v, `${v}~1`, `${v}+b1`, `${v}.1`, bumped, lowered, hasEpoch ? v : `1:${v}`]);
}

async function dpkgLessThan(a: string, b: string): Promise<boolean> {
  try {
    await exec('dpkg', ['--compare-versions', a, 'lt', b]);
    return true;
  } catch {
    return false;
  }
}

describe.each(databases())('vulnerability matching on $name', (db) => {
  let server: TestServer;
  let baseUrl: string;
  let token: string;
  let api: ReturnType<typeof apiClient>;
  let url: string | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    url = await db.open();
    server = await createTestServer({ databaseUrl: url });
    baseUrl = await server.listen();
    token = await server.login();
    api = apiClient(baseUrl, token);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await server?.close();
    await db.drop(url);
  });

  it.runIf(hasDpkg)('finds exactly what dpkg --compare-versions says about every installed source package', async () => {
    const state = await tempDir('brier-agent-');
    const joinToken = await server.createJoinToken({ autoApprove: true });
    const { agent, identity } = await startRealAgent({ baseUrl, stateDir: state.dir, joinToken });
    cleanups.push(() => agent.stop(), state.cleanup);
    await eventually(
      async () =>
        (await api<{ inventoryAt: string | null }>('GET', `/api/v1/hosts/${identity.hostId}`)).body.inventoryAt ? true : undefined,
      30_000,
      'first inventory',
    );
    const host = (await api<{ os: { distro: string; release: string } }>('GET', `/api/v1/hosts/${identity.hostId}`)).body;
    const release = /^\d+/.exec(host.os.release)?.[0];
    expect(host.os.distro).toMatch(/debian/i);
    const ecosystem = `Debian:${release}`;

    const packages = await installed();
    const sources = new Map<string, string>();
    for (const p of packages) sources.set(p.source, p.sourceVersion);
    const records = [...sources.entries()].map(([source, version], i) => ({
      schema_version: '1.6.0',
      id: `DEBIAN-CVE-2099-${10_000 + i}`,
      modified: '2026-11-01T00:00:00Z',
      aliases: [`CVE-2099-${10_000 + i}`],
      affected: [
        {
          package: { ecosystem, name: source },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: fixedNear(version) }] }],
        },
      ],
    }));
    // Records for another release never match this host, whatever the versions.
    const otherRelease = records.slice(0, 20).map((r) => ({
      ...r,
      id: `${r.id}-OTHER`,
      affected: r.affected.map((a) => ({ ...a, package: { ...a.package, ecosystem: 'Debian:9' } })),
    }));

    const upload = await fetch(`${baseUrl}/api/v1/vulnerabilities/imports?kind=osv&name=machine.json`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: JSON.stringify([...records, ...otherRelease]),
    });
    const result = (await upload.json()) as { read: number; stored: number; rejected: number };
    expect(upload.status, JSON.stringify(result)).toBe(200);
    expect(result).toMatchObject({ read: records.length + otherRelease.length, stored: records.length + otherRelease.length, rejected: 0 });

    // The oracle: dpkg itself, once per record.
    const expected = new Set<string>();
    const affectedRecord = new Map<string, boolean>();
    for (let i = 0; i < records.length; i += 16) {
      await Promise.all(
        records.slice(i, i + 16).map(async (r) => {
          const a = r.affected[0]!;
          const fixed = (a.ranges[0]!.events[1] as { fixed: string }).fixed;
          affectedRecord.set(r.id, await dpkgLessThan(sources.get(a.package.name)!, fixed));
        }),
      );
    }
    for (const p of packages) {
      const record = records.find((r) => r.affected[0]!.package.name === p.source)!;
      if (affectedRecord.get(record.id)) expected.add(`${record.id} ${p.name}`);
    }
    const findings = await api<{
      items: { id: string; package: string; installedVersion: string; fixedVersion?: string; explanation: { decision: string } }[];
    }>('GET', `/api/v1/hosts/${identity.hostId}/vulnerabilities`);
    const actual = new Set(findings.body.items.map((f) => `${f.id} ${f.package}`));
    expect(
      [...actual].filter((k) => !expected.has(k)),
      'findings dpkg does not confirm',
    ).toEqual([]);
    expect(
      [...expected].filter((k) => !actual.has(k)),
      'affected versions Brier missed',
    ).toEqual([]);
    // Both outcomes occur, so the comparison was not vacuous.
    expect(expected.size).toBeGreaterThan(0);
    expect([...affectedRecord.values()].filter((a) => !a).length).toBeGreaterThan(0);
    for (const f of findings.body.items) expect(f.explanation.decision).toContain('(fixed)');

    const listed = await api<{ items: { id: string; hostCount: number }[]; total: number }>('GET', '/api/v1/vulnerabilities?limit=1000');
    expect(listed.body.total).toBe([...affectedRecord.values()].filter(Boolean).length);
  });
});
