import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sql } from '../store/db.js';
import { expectProblem } from '../testing/expect-problem.js';
import { createTestServer, type TestServer } from '../testing/test-server.js';

interface Dashboard {
  generatedAt: string;
  hosts: Record<string, number>;
  compliance: Array<Record<string, unknown>>;
  findings: Record<string, number>;
  overdue: Array<{ tier: number; count: number }>;
  remediation: Array<{ day: string; opened: number; closed: number; medianHoursToRemediate: number | null }>;
  deploymentsInFlight: number;
  deployments: Array<{ id: string; name: string; state: string; waves: number; hostCount: number; summary: Record<string, number> }>;
}

const HOUR = 3_600_000;
const NOW = new Date('2026-03-15T12:00:00.000Z');

describe('GET /api/v1/dashboard', () => {
  let s: TestServer;
  let admin: string;
  const hostIds: string[] = [];

  const get = (token = admin) => s.app.inject({ method: 'GET', url: '/api/v1/dashboard', headers: { authorization: `Bearer ${token}` } });
  const post = (url: string, payload: unknown) =>
    s.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${admin}` }, payload: payload as object });

  /** A finding on host `host`: first seen `ageHours` before NOW, due `dueInHours` after NOW, closed `closedAgoHours` before NOW. */
  async function finding(
    host: number,
    advisory: string,
    severity: string,
    tier: number,
    ageHours: number,
    dueInHours: number,
    closed?: { agoHours: number; reason: string },
  ) {
    const first = new Date(NOW.getTime() - ageHours * HOUR);
    const due = new Date(NOW.getTime() + dueInHours * HOUR);
    const closedAt = closed ? new Date(NOW.getTime() - closed.agoHours * HOUR) : null;
    await s.database.db.execute(sql`
      insert into vuln_findings (host_id, source, advisory_id, package_name, installed_version, fixed_version, severity, risk_tier,
        first_seen_at, due_at, last_matched_at, closed_at, closed_reason, explanation)
      values (${hostIds[host]}, 'osv', ${advisory}, 'openssl', '1.0', null, ${severity}, ${tier}, ${first}, ${due}, ${first},
        ${closedAt}, ${closed?.reason ?? null}, '{}'::jsonb)`);
  }

  beforeAll(async () => {
    s = await createTestServer({ now: () => NOW, config: { loginAttemptsPerMinute: 10_000, enrollmentsPerMinute: 10_000 } });
    admin = await s.login();
    for (let i = 0; i < 4; i++) hostIds.push((await s.enrollAgent(undefined, `dash-${i}`)).hostId);
    const pendingToken = await s.createJoinToken({ autoApprove: false });
    await s.enrollAgent(pendingToken, 'dash-pending');
    expect((await post(`/api/v1/hosts/${hostIds[3]}/revoke`, undefined)).statusCode).toBe(200);
    await s.database.db.execute(sql`update hosts set online = true where id = ${hostIds[0]} or id = ${hostIds[1]}`);

    // Open: critical tier 5 overdue, high tier 2 not due, medium tier 2 overdue, an unrated one.
    await finding(0, 'CVE-1', 'critical', 5, 48, -1);
    await finding(0, 'CVE-2', 'high', 2, 10, 100);
    await finding(1, 'CVE-3', 'medium', 2, 400, -24);
    await finding(1, 'CVE-4', 'unknown', 1, 2, 10);
    // Closed: remediated 2 h and 6 h after first sight yesterday (median 4 h), one withdrawn (not remediation).
    await finding(2, 'CVE-5', 'low', 3, 26, 0, { agoHours: 24, reason: 'remediated' });
    await finding(2, 'CVE-6', 'low', 3, 30, 0, { agoHours: 24, reason: 'remediated' });
    await finding(2, 'CVE-7', 'low', 3, 30, 0, { agoHours: 25, reason: 'withdrawn' });

    const policy = await post('/api/v1/policies', {
      name: 'firewall on',
      mode: 'enforce',
      rules: [{ kind: 'firewall-enabled' }],
      targets: { hostIds: [hostIds[0], hostIds[1]] },
    });
    expect(policy.statusCode, policy.body).toBe(201);

    const deploy = async (name: string) => {
      const res = await post('/api/v1/deployments', {
        name,
        packages: [{ name: 'openssl', version: '3.0.13-1~deb12u1' }],
        targets: { hostIds: [hostIds[0], hostIds[1]] },
        waves: [
          { name: 'canary', percent: 50, bakeMinutes: 0 },
          { name: 'rest', percent: 100, bakeMinutes: 0 },
        ],
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string }>().id;
    };
    const running = await deploy('in flight');
    await s.app.services.deployments.tick();
    const aborted = await deploy('given up');
    expect((await post(`/api/v1/deployments/${aborted}/abort`, {})).statusCode).toBe(200);
    expect(running).not.toBe(aborted);
  });
  afterAll(async () => {
    await s.close();
  });

  it('answers every part of the dashboard in one response', async () => {
    const res = await get();
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json<Dashboard>();
    expect(Object.keys(d).sort()).toEqual([
      'compliance',
      'deployments',
      'deploymentsInFlight',
      'findings',
      'generatedAt',
      'hosts',
      'overdue',
      'remediation',
    ]);
    expect(d.generatedAt).toBe(NOW.toISOString());
    expect(d.hosts).toEqual({ total: 5, approved: 3, pending: 1, revoked: 1, online: 2 });
    expect(d.findings).toEqual({ critical: 1, high: 1, medium: 1, low: 0, unknown: 1 });
    expect(d.overdue).toEqual([
      { tier: 1, count: 0 },
      { tier: 2, count: 1 },
      { tier: 3, count: 0 },
      { tier: 4, count: 0 },
      { tier: 5, count: 1 },
    ]);
  });

  it('gives compliance per policy with its counts', async () => {
    const d = (await get()).json<Dashboard>();
    expect(d.compliance).toEqual([
      {
        policyId: expect.any(String),
        name: 'firewall on',
        mode: 'enforce',
        compliant: 0,
        noncompliant: 0,
        remediated: 0,
        error: 0,
        unknown: 2,
        total: 2,
      },
    ]);
  });

  it('gives 30 UTC days of opened and remediated findings, with the median hours to remediate', async () => {
    const { remediation } = (await get()).json<Dashboard>();
    expect(remediation).toHaveLength(30);
    expect(remediation[0]?.day).toBe('2026-02-14');
    expect(remediation[29]?.day).toBe('2026-03-15');
    const days = remediation.map((r) => Date.parse(`${r.day}T00:00:00Z`));
    for (let i = 1; i < days.length; i++) expect((days[i] ?? 0) - (days[i - 1] ?? 0)).toBe(24 * HOUR);
    const byDay = new Map(remediation.map((r) => [r.day, r]));
    // Yesterday (03-14): CVE-5 and CVE-6 first seen, and remediated after 2 h and 6 h (CVE-7,
    // withdrawn, counts as neither); CVE-1 the day before.
    expect(byDay.get('2026-03-14')).toEqual({ day: '2026-03-14', opened: 2, closed: 2, medianHoursToRemediate: 4 });
    expect(byDay.get('2026-03-13')).toEqual({ day: '2026-03-13', opened: 1, closed: 0, medianHoursToRemediate: null });
    // Today: CVE-2 and CVE-4 first seen.
    expect(byDay.get('2026-03-15')).toEqual({ day: '2026-03-15', opened: 2, closed: 0, medianHoursToRemediate: null });
    // CVE-3, first seen 400 h ago (02-26).
    expect(byDay.get('2026-02-26')).toMatchObject({ opened: 1, closed: 0 });
    expect(remediation.reduce((n, r) => n + r.opened, 0)).toBe(6);
  });

  it('lists deployments not finished, with their waves and host summary', async () => {
    const d = (await get()).json<Dashboard>();
    expect(d.deploymentsInFlight).toBe(1);
    expect(d.deployments).toHaveLength(1);
    expect(d.deployments[0]).toMatchObject({ name: 'in flight', state: 'running', waves: 2, hostCount: 2 });
    expect(d.deployments[0]?.summary).toMatchObject({ total: 2 });
    const summary = d.deployments[0]?.summary ?? {};
    expect((summary.inProgress ?? 0) + (summary.unreached ?? 0)).toBe(2);
  });

  it('is open to every role and closed to anonymous callers, and changes nothing', async () => {
    const created = await post('/api/v1/users', { username: 'dash-viewer', password: 'viewer password!', role: 'viewer' });
    expect(created.statusCode).toBe(201);
    const before = await queryRows<{ n: number }>(s.database.db, sql`select count(*)::int as n from audit_log`);
    expect((await get(await s.login('dash-viewer', 'viewer password!'))).statusCode).toBe(200);
    expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/dashboard' }), 401, 'unauthenticated');
    expectProblem(await s.app.inject({ method: 'GET', url: '/api/v1/dashboard?days=9' }), 401, 'unauthenticated');
    const after = await queryRows<{ n: number }>(s.database.db, sql`select count(*)::int as n from audit_log`);
    expect(after[0]?.n).toBe((before[0]?.n ?? 0) + 1); // the viewer's login only
  });
});
