import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Services } from '../services.js';
import { authorize } from './authorize.js';
import { authErrors, DateTime, NullableDateTime, Uuid } from './schemas.js';

/** Days of the time-to-remediate trend on the dashboard. */
export const DASHBOARD_TREND_DAYS = 30;
/** In-flight deployments listed (newest first); `deploymentsInFlight` counts them all. */
export const DASHBOARD_DEPLOYMENTS = 20;

const Count = Type.Integer({ minimum: 0 });

const Dashboard = Type.Object({
  generatedAt: DateTime,
  hosts: Type.Object({ total: Count, approved: Count, pending: Count, revoked: Count, online: Count }),
  compliance: Type.Array(
    Type.Object({
      policyId: Uuid,
      name: Type.String(),
      mode: Type.String(),
      compliant: Count,
      noncompliant: Count,
      remediated: Count,
      error: Count,
      unknown: Count,
      total: Count,
    }),
  ),
  /** Open findings by severity (`unknown`: records that rate nothing). */
  findings: Type.Object({ critical: Count, high: Count, medium: Count, low: Count, unknown: Count }),
  /** Open findings past their due date, by the risk tier they were matched under; tiers 1-5 always present. */
  overdue: Type.Array(Type.Object({ tier: Type.Integer({ minimum: 1, maximum: 5 }), count: Count })),
  /** The last 30 UTC days, oldest first, today last. */
  remediation: Type.Array(
    Type.Object({
      day: Type.String({ description: 'YYYY-MM-DD (UTC)' }),
      opened: Count,
      closed: Count,
      medianHoursToRemediate: Type.Union([Type.Number(), Type.Null()]),
    }),
  ),
  deploymentsInFlight: Count,
  deployments: Type.Array(
    Type.Object({
      id: Uuid,
      name: Type.String(),
      state: Type.String(),
      stateReason: Type.String(),
      critical: Type.Boolean(),
      emergency: Type.Boolean(),
      createdAt: DateTime,
      startAt: NullableDateTime,
      startedAt: NullableDateTime,
      waves: Type.Integer(),
      hostCount: Type.Integer(),
      summary: Type.Object({
        total: Count,
        succeeded: Count,
        failed: Count,
        expired: Count,
        unreached: Count,
        inProgress: Count,
        rebootPending: Count,
        verified: Count,
      }),
    }),
  ),
});

/**
 * Everything the console's first screen charts, in one request: each part is an aggregate in SQL
 * (no per-host or per-finding rows are read), so it stays fast on a large fleet.
 */
export const dashboardRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/dashboard',
    {
      onRequest: authorize(services.auth, 'hosts:read'),
      schema: {
        tags: ['dashboard'],
        summary:
          'Fleet size and online hosts, compliance by policy, open findings by severity, overdue findings by risk tier, the 30-day time-to-remediate trend and the deployments in flight',
        response: { 200: Dashboard, ...authErrors },
      },
    },
    async () => {
      // The parts are independent: asked at once, the answer takes as long as the slowest part, not
      // their sum (on 10,000 hosts and 190,000 open findings, the findings' counts by severity and by
      // day are the slowest, tens of milliseconds each). That briefly holds six connections of a real
      // PostgreSQL's pool (ten by default; more requests wait their turn); PGlite queues them.
      const [hosts, compliance, exposure, trend, inFlight] = await Promise.all([
        services.hosts.counts(),
        services.policies.fleetCompliance(),
        services.vulns.exposureSummary(),
        services.vulns.remediationTrend(DASHBOARD_TREND_DAYS),
        services.deployments.inFlight(DASHBOARD_DEPLOYMENTS),
      ]);
      return {
        generatedAt: services.now(),
        hosts,
        compliance: compliance.map((c) => ({ policyId: c.policy.id, name: c.policy.name, mode: c.policy.mode, ...c.hosts })),
        findings: exposure.findings,
        overdue: exposure.overdue,
        remediation: trend.map((d) => ({
          day: d.day,
          opened: d.opened,
          closed: d.remediated,
          medianHoursToRemediate: d.medianHoursToRemediate,
        })),
        deploymentsInFlight: inFlight.total,
        deployments: inFlight.items.map((d) => ({
          id: d.id,
          name: d.name,
          state: d.state,
          stateReason: d.stateReason,
          critical: d.critical,
          emergency: d.emergency,
          createdAt: d.createdAt,
          startAt: d.startAt,
          startedAt: d.startedAt,
          waves: d.waves,
          hostCount: d.hostCount,
          summary: d.summary,
        })),
      };
    },
  );
};
