import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BrierError } from '@brier/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Services } from '../services.js';
import type { FeedKind, ImportResult } from '../vulns/vulns-service.js';
import { authorize, principalOf } from './authorize.js';
import { authErrors, DateTime, IdParams, Limit, List, NullableDateTime, Offset, Page, Problem, SearchText, Uuid } from './schemas.js';

/** Largest feed upload: osv.dev's biggest per-ecosystem all.zip files are a few hundred MiB. */
export const MAX_FEED_UPLOAD_BYTES = 1024 * 1024 * 1024;

const Severity = Type.Union([Type.Literal('critical'), Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')]);
/** A record id or alias: CVE-2024-1234, GHSA-xxxx-xxxx-xxxx, DSA-5555-1, DEBIAN-CVE-… */
const RecordId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' });
const Tier = Type.Integer({ minimum: 1, maximum: 5 });

const Explanation = Type.Object({
  record: Type.String(),
  source: Type.String(),
  ecosystem: Type.String(),
  package: Type.String(),
  matchedBy: Type.String(),
  comparedVersion: Type.String(),
  range: Type.String(),
  decision: Type.String(),
  fixedVersion: Type.Union([Type.String(), Type.Null()]),
  endOfLife: Type.Boolean(),
});

const Finding = Type.Object({
  id: Type.String(),
  source: Type.String(),
  aliases: Type.Array(Type.String()),
  package: Type.String(),
  installedVersion: Type.String(),
  fixedVersion: Type.Optional(Type.String()),
  severity: Type.String(),
  severityDetail: Type.String(),
  riskTier: Type.Integer(),
  firstSeenAt: DateTime,
  dueAt: DateTime,
  overdue: Type.Boolean(),
  closedAt: NullableDateTime,
  closedReason: Type.Union([Type.String(), Type.Null()]),
  explanation: Explanation,
});

const OverdueFinding = Type.Intersect([Finding, Type.Object({ hostId: Uuid, hostname: Type.String() })]);

const Vulnerability = Type.Object({
  id: Type.String(),
  source: Type.String(),
  aliases: Type.Array(Type.String()),
  summary: Type.Union([Type.String(), Type.Null()]),
  severity: Type.String(),
  severitySource: Type.String(),
  hostCount: Type.Integer(),
  overdueHostCount: Type.Integer(),
  dueAt: Type.Optional(DateTime),
});

/** One OSV range event: exactly one of its keys is set. */
const RangeEvent = Type.Object({
  introduced: Type.Optional(Type.String()),
  fixed: Type.Optional(Type.String()),
  last_affected: Type.Optional(Type.String()),
  limit: Type.Optional(Type.String()),
});

const AffectedPackageSchema = Type.Object({
  /** OSV ecosystem: Debian:12, Ubuntu:22.04, Alpine:v3.19, … */
  ecosystem: Type.String(),
  /** The package as the feed names it (a source package when keyedBy is 'source'). */
  name: Type.String(),
  keyedBy: Type.Union([Type.Literal('source'), Type.Literal('binary')]),
  ranges: Type.Array(Type.Object({ type: Type.String(), events: Type.Array(RangeEvent) })),
  /** Versions the record lists as affected one by one. */
  versions: Type.Array(Type.String()),
  /** No fix will come for this release (Debian end-of-life). */
  endOfLife: Type.Boolean(),
});

const RecordView = Type.Object({
  source: Type.String(),
  id: Type.String(),
  aliases: Type.Array(Type.String()),
  summary: Type.Union([Type.String(), Type.Null()]),
  severity: Type.String(),
  /** CVSS base score, when the severity came from a vector. */
  severityScore: Type.Union([Type.Number(), Type.Null()]),
  /** Where the severity came from (CVSS_V3, DEBIAN_URGENCY, …) and how it was read. */
  severitySource: Type.String(),
  severityDetail: Type.String(),
  published: NullableDateTime,
  modified: DateTime,
  withdrawn: NullableDateTime,
  importedAt: DateTime,
  affected: Type.Array(AffectedPackageSchema),
});

const VulnerabilityDetail = Type.Intersect([
  RecordView,
  Type.Object({
    /** Other records the same id or alias names (e.g. the tracker's CVE and an OSV record aliasing it). */
    related: Type.Array(RecordView),
    /** Findings of all these records: open, closed, and open past their due date. */
    findings: Type.Object({ open: Type.Integer(), closed: Type.Integer(), overdue: Type.Integer() }),
    /** Hosts with an open finding, and with one past its due date. */
    hosts: Type.Object({ open: Type.Integer(), overdue: Type.Integer() }),
  }),
]);

const MetricsBy = Type.Union([Type.Literal('severity'), Type.Literal('site'), Type.Literal('tier')]);

const Metrics = Type.Object({
  by: MetricsBy,
  from: DateTime,
  to: DateTime,
  series: Type.Array(
    Type.Object({
      /** The severity, the site ('(none)' for hosts without one) or the tier ('1'-'5'). */
      key: Type.String(),
      meanTimeToRemediateHours: Type.Union([Type.Number(), Type.Null()]),
      days: Type.Array(
        Type.Object({
          /** The UTC day, YYYY-MM-DD. */
          day: Type.String(),
          /** The part of the day inside the range: [start, end). */
          start: DateTime,
          end: DateTime,
          /** Findings open at `end`. */
          exposure: Type.Integer(),
          opened: Type.Integer(),
          remediated: Type.Integer(),
          /** Mean hours to remediate of the findings remediated that day; absent when none were. */
          mttrHours: Type.Optional(Type.Number()),
        }),
      ),
    }),
  ),
});

const ImportRun = Type.Object({
  id: Uuid,
  kind: Type.String(),
  /** The URL, server path or upload name imported. */
  location: Type.String(),
  actor: Type.String(),
  startedAt: DateTime,
  /** null while the import runs (or when the server stopped during it). */
  finishedAt: NullableDateTime,
  /** read, stored, unchanged, rejected, withdrawn and, once matched, open, opened, closed; empty while it runs. */
  counts: Type.Record(Type.String(), Type.Number()),
  error: Type.Union([Type.String(), Type.Null()]),
});

const ImportSummary = Type.Object({
  importId: Uuid,
  kind: Type.String(),
  read: Type.Integer(),
  stored: Type.Integer(),
  unchanged: Type.Integer(),
  rejected: Type.Integer(),
  withdrawn: Type.Integer(),
  rejections: Type.Array(Type.Object({ id: Type.Optional(Type.String()), where: Type.String(), reason: Type.String() })),
  findings: Type.Object({ open: Type.Integer(), opened: Type.Integer(), closed: Type.Integer() }),
});

const ExplainResult = Type.Object({
  host: Type.Object({ id: Uuid, ecosystem: Type.Union([Type.String(), Type.Null()]) }),
  records: Type.Array(
    Type.Object({
      source: Type.String(),
      id: Type.String(),
      aliases: Type.Array(Type.String()),
      summary: Type.Union([Type.String(), Type.Null()]),
      severity: Type.String(),
      severityDetail: Type.String(),
      withdrawn: NullableDateTime,
    }),
  ),
  findings: Type.Array(Finding),
  notAffected: Type.Array(
    Type.Object({
      record: Type.String(),
      source: Type.String(),
      package: Type.String(),
      installedVersion: Type.String(),
      reason: Type.String(),
    }),
  ),
});

const RemediateResult = Type.Object({
  deployment: Type.Object({ id: Uuid, state: Type.String(), name: Type.String() }),
  plan: Type.Object({
    records: Type.Array(Type.String()),
    hostIds: Type.Array(Uuid),
    packages: Type.Array(Type.Object({ name: Type.String(), fixedVersion: Type.Union([Type.String(), Type.Null()]) })),
    unfixed: Type.Array(Type.Object({ hostId: Uuid, package: Type.String() })),
  }),
});

const SlaRow = Type.Record(Type.String(), Type.Integer());
const SlaMatrix = Type.Object({ critical: SlaRow, high: SlaRow, medium: SlaRow, low: SlaRow }, { additionalProperties: false });

const FeedSchedule = Type.Object({
  id: Uuid,
  kind: Type.String(),
  location: Type.String(),
  cron: Type.String(),
  lastRunAt: NullableDateTime,
  createdAt: DateTime,
});

const FeedKindSchema = Type.Union([Type.Literal('osv'), Type.Literal('debian-tracker')]);

function findingView(f: Awaited<ReturnType<Services['vulns']['hostFindings']>>[number], now: Date) {
  return {
    id: f.advisoryId,
    source: f.source,
    aliases: f.aliases,
    package: f.packageName,
    installedVersion: f.installedVersion,
    ...(f.fixedVersion === null ? {} : { fixedVersion: f.fixedVersion }),
    severity: f.severity,
    severityDetail: f.severityDetail,
    riskTier: f.riskTier,
    firstSeenAt: f.firstSeenAt,
    dueAt: f.dueAt,
    overdue: f.closedAt === null && f.dueAt.getTime() < now.getTime(),
    closedAt: f.closedAt,
    closedReason: f.closedReason,
    explanation: f.explanation,
  };
}

function recordView(r: Awaited<ReturnType<Services['vulns']['record']>>['primary']) {
  return {
    source: r.source,
    id: r.id,
    aliases: r.aliases,
    summary: r.summary,
    severity: r.severity,
    severityScore: r.severityScore,
    severitySource: r.severitySource,
    severityDetail: r.severityDetail,
    published: r.published,
    modified: r.modified,
    withdrawn: r.withdrawn,
    importedAt: r.importedAt,
    affected: r.affected.map((a) => ({
      ecosystem: a.ecosystem,
      name: a.name,
      keyedBy: a.keyedBy,
      ranges: a.ranges,
      versions: a.versions,
      endOfLife: a.endOfLife === true,
    })),
  };
}

async function startsWithZipMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    // Local file header, or the end-of-central-directory record of an empty archive.
    return bytesRead === 4 && (head.readUInt32LE(0) === 0x04034b50 || head.readUInt32LE(0) === 0x06054b50);
  } finally {
    await handle.close();
  }
}

/** Counts bytes through a stream and fails it past `max`, so an upload cannot fill the disk. */
function capped(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new BrierError('payload_too_large', `the feed is larger than ${max} bytes`));
      else done(null, chunk);
    },
  });
}

export const vulnsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth, vulns } = services;
  const read = authorize(auth, 'vulns:read');
  const manage = authorize(auth, 'vulns:manage');
  const admin = authorize(auth, 'settings:manage');
  const username = (request: Parameters<typeof principalOf>[0]) => principalOf(request).user.username;

  // Feed uploads are raw bytes (a zip or a JSON file), streamed to disk, never parsed in memory.
  for (const type of ['application/zip', 'application/octet-stream']) {
    app.addContentTypeParser(type, { bodyLimit: MAX_FEED_UPLOAD_BYTES }, (_request, payload, done) => done(null, payload));
  }

  app.get(
    '/vulnerabilities',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary:
          'Vulnerabilities with open findings, worst first, with the number of hosts and the earliest due date; tier keeps findings of hosts at that effective risk tier; q matches (case-insensitive substring) the record id, an alias, or an open finding’s package or hostname',
        querystring: Type.Object(
          {
            severity: Type.Optional(Severity),
            overdue: Type.Optional(Type.Boolean()),
            id: Type.Optional(RecordId),
            tier: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 5, description: 'Only findings of hosts at this effective risk tier (counts too)' }),
            ),
            q: Type.Optional(SearchText),
            limit: Limit,
            offset: Offset,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page(Vulnerability), ...authErrors },
      },
    },
    async (request) => {
      const page = await vulns.list(request.query);
      return {
        total: page.total,
        items: page.items.map((v) => ({ ...v, ...(v.dueAt === null ? { dueAt: undefined } : { dueAt: v.dueAt }) })),
      };
    },
  );

  app.get(
    '/vulnerabilities/overdue',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Open findings past their due date, most overdue first',
        querystring: Type.Object({ limit: Limit, offset: Offset }, { additionalProperties: false }),
        response: { 200: Page(OverdueFinding), ...authErrors },
      },
    },
    async (request) => {
      const page = await vulns.overdue(request.query.limit, request.query.offset);
      const at = services.now();
      return { total: page.total, items: page.items.map((f) => ({ ...findingView(f, at), hostId: f.hostId, hostname: f.hostname })) };
    },
  );

  app.get(
    '/vulnerabilities/:record',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary:
          'A vulnerability record by id or alias: summary, severity, dates, affected packages and ranges, with the counts of its findings and hosts',
        params: Type.Object({ record: RecordId }),
        response: { 200: VulnerabilityDetail, 404: Problem, ...authErrors },
      },
    },
    async (request) => {
      const { primary, related, counts } = await vulns.record(request.params.record);
      return {
        ...recordView(primary),
        related: related.map(recordView),
        findings: { open: counts.open, closed: counts.closed, overdue: counts.overdue },
        hosts: { open: counts.openHosts, overdue: counts.overdueHosts },
      };
    },
  );

  app.get(
    '/vulnerabilities/:record/hosts',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary:
          'The findings of a record (by id or alias) with their hosts, one per host and package, most urgent first: open before closed, then by due date',
        params: Type.Object({ record: RecordId }),
        querystring: Type.Object(
          { status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])), limit: Limit, offset: Offset },
          { additionalProperties: false },
        ),
        response: { 200: Page(OverdueFinding), 404: Problem, ...authErrors },
      },
    },
    async (request) => {
      const page = await vulns.recordFindings(request.params.record, request.query);
      const at = services.now();
      return { total: page.total, items: page.items.map((f) => ({ ...findingView(f, at), hostId: f.hostId, hostname: f.hostname })) };
    },
  );

  app.get(
    '/vulnerabilities/metrics',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Exposure (open findings) and mean time to remediate per day, split by severity, site or risk tier',
        querystring: Type.Object(
          {
            by: Type.Optional(MetricsBy),
            days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Metrics, ...authErrors },
      },
    },
    async (request) => {
      const to = services.now();
      const days = request.query.days ?? 30;
      return vulns.metrics({ by: request.query.by ?? 'severity', from: new Date(to.getTime() - days * 86_400_000), to });
    },
  );

  app.get(
    '/hosts/:id/vulnerabilities',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary: "A host's findings, each with its explanation (record, range, installed version, the deciding comparison, the fix)",
        params: IdParams,
        querystring: Type.Object({ closed: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Finding) }), 404: Problem, ...authErrors },
      },
    },
    async (request) => {
      const at = services.now();
      const items = await vulns.hostFindings(request.params.id, { includeClosed: request.query.closed === true });
      return { items: items.map((f) => findingView(f, at)) };
    },
  );

  app.get(
    '/hosts/:id/vulnerabilities/:record',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Why a host is or is not affected by one record (by id or alias)',
        params: Type.Object({ id: Uuid, record: RecordId }),
        response: { 200: ExplainResult, 404: Problem, ...authErrors },
      },
    },
    async (request) => {
      const at = services.now();
      const result = await vulns.explain(request.params.id, request.params.record);
      return { ...result, findings: result.findings.map((f) => findingView(f, at)) };
    },
  );

  app.put(
    '/hosts/:id/risk',
    {
      onRequest: manage,
      schema: {
        tags: ['vulnerabilities'],
        summary: "Sets a host's risk tier (1-5, 5 most important; null: inherit) and site",
        params: IdParams,
        body: Type.Object(
          {
            riskTier: Type.Optional(Type.Union([Tier, Type.Null()])),
            site: Type.Optional(
              Type.Union([Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }), Type.Null()]),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            riskTier: Type.Union([Tier, Type.Null()]),
            site: Type.Union([Type.String(), Type.Null()]),
            effectiveTier: Tier,
          }),
          404: Problem,
          ...authErrors,
        },
      },
    },
    async (request) => vulns.setHostTier(username(request), request.params.id, request.body),
  );

  app.get(
    '/groups/tiers',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Risk tiers of host groups (a host without its own tier takes the highest of its groups)',
        response: { 200: Type.Object({ items: Type.Array(Type.Object({ group: Type.String(), riskTier: Tier })) }), ...authErrors },
      },
    },
    async () => ({ items: await vulns.groupTiers() }),
  );

  app.put(
    '/groups/:group/tier',
    {
      onRequest: manage,
      schema: {
        tags: ['vulnerabilities'],
        summary: "Sets a group's risk tier (null removes it)",
        params: Type.Object({ group: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f/]*$' }) }),
        body: Type.Object({ riskTier: Type.Union([Tier, Type.Null()]) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ items: Type.Array(Type.Object({ group: Type.String(), riskTier: Tier })) }),
          ...authErrors,
        },
      },
    },
    async (request) => ({ items: await vulns.setGroupTier(username(request), request.params.group, request.body.riskTier) }),
  );

  app.get(
    '/vulnerabilities/sla',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'The SLA matrix: hours from first sight to due, per severity and risk tier',
        response: { 200: SlaMatrix, ...authErrors },
      },
    },
    async () => vulns.getSla(),
  );

  app.put(
    '/vulnerabilities/sla',
    {
      onRequest: admin,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Replaces the SLA matrix (every severity × tier 1-5 cell, whole hours); open findings get new due dates',
        body: SlaMatrix,
        response: { 200: SlaMatrix, ...authErrors },
      },
    },
    async (request) => vulns.setSla(username(request), request.body),
  );

  app.post(
    '/vulnerabilities/imports',
    {
      onRequest: manage,
      bodyLimit: MAX_FEED_UPLOAD_BYTES,
      schema: {
        tags: ['vulnerabilities'],
        summary:
          'Imports a feed uploaded as the body (application/zip: an OSV zip as osv.dev publishes; application/octet-stream: an OSV JSON record or array, or the Debian Security Tracker JSON). With Accept: application/x-ndjson, progress lines stream before the result.',
        querystring: Type.Object(
          {
            kind: Type.Optional(Type.Union([FeedKindSchema, Type.Literal('auto')])),
            name: Type.Optional(Type.String({ maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ImportSummary, 413: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim();
      if (type !== 'application/zip' && type !== 'application/octet-stream')
        throw new BrierError('bad_request', 'send the feed as application/zip or application/octet-stream');
      const body = request.body as Readable;
      const dir = await mkdtemp(path.join(tmpdir(), 'brier-feed-'));
      const file = path.join(dir, type === 'application/zip' ? 'feed.zip' : 'feed.json');
      try {
        await pipeline(body, capped(MAX_FEED_UPLOAD_BYTES), createWriteStream(file, { mode: 0o600 }));
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error instanceof BrierError ? error : new BrierError('bad_request', 'the upload did not complete', { cause: error });
      }
      if (type === 'application/zip' && !(await startsWithZipMagic(file))) {
        await rm(dir, { recursive: true, force: true });
        throw new BrierError('bad_request', 'the body was sent as application/zip but is not a zip archive');
      }
      const kind: FeedKind | 'auto' = request.query.kind ?? 'auto';
      const location = request.query.name ?? `upload:${path.basename(file)}`;
      const actor = username(request);
      const streaming = (request.headers.accept ?? '').includes('application/x-ndjson');
      const run = (onProgress?: (p: unknown) => void) =>
        vulns
          .importFile(actor, kind, file, location, onProgress ? { onProgress } : {})
          .finally(() => rm(dir, { recursive: true, force: true }));
      if (!streaming) return run();
      const out = new PassThrough();
      const line = (value: unknown) => out.write(`${JSON.stringify(value)}\n`);
      // A stream is sent as is (fastify serialises only objects); the cast only satisfies the typed reply.
      reply.type('application/x-ndjson').send(out as unknown as ImportResult);
      run((p) => line({ progress: p }))
        .then((result: ImportResult) => line({ result }))
        .catch((error: unknown) => {
          const code = error instanceof BrierError ? error.code : ((error as { code?: string }).code ?? 'internal');
          line({ error: { code, detail: error instanceof Error ? error.message : String(error) } });
        })
        .finally(() => out.end());
      return reply;
    },
  );

  app.get(
    '/vulnerabilities/imports',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Recent feed imports with their counts and errors, newest first',
        querystring: Type.Object({ limit: Limit }, { additionalProperties: false }),
        response: { 200: List(ImportRun), ...authErrors },
      },
    },
    async (request) => ({ items: await vulns.imports(request.query.limit) }),
  );

  app.get(
    '/vulnerabilities/feeds',
    {
      onRequest: read,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Scheduled feeds',
        response: { 200: Type.Object({ items: Type.Array(FeedSchedule) }), ...authErrors },
      },
    },
    async () => ({ items: await vulns.feeds() }),
  );

  app.post(
    '/vulnerabilities/feeds',
    {
      onRequest: admin,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Schedules a feed: an http(s) URL or an absolute path on the server, imported on a cron expression (UTC)',
        body: Type.Object(
          {
            kind: FeedKindSchema,
            location: Type.String({ minLength: 1, maxLength: 2000, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
            cron: Type.String({ minLength: 9, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: FeedSchedule, ...authErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await vulns.addFeed(username(request), request.body)),
  );

  app.delete(
    '/vulnerabilities/feeds/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['vulnerabilities'],
        summary: 'Removes a scheduled feed',
        params: IdParams,
        response: { 204: Type.Null(), 404: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      await vulns.removeFeed(username(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/vulnerabilities/:record/remediate',
    {
      onRequest: authorize(auth, 'deployments:manage'),
      schema: {
        tags: ['vulnerabilities'],
        summary:
          'Creates a deployment that upgrades exactly the hosts with an open finding of this record (or the given subset) to the latest available version of the affected packages',
        params: Type.Object({ record: RecordId }),
        body: Type.Object(
          {
            hostIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 10_000 })),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
            critical: Type.Optional(Type.Boolean()),
            emergency: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: RemediateResult, 404: Problem, ...authErrors },
      },
    },
    async (request, reply) => {
      const { user } = principalOf(request);
      const plan = await vulns.remediationPlan(request.params.record, request.body.hostIds);
      const deployment = await services.deployments.create(
        { id: user.id, username: user.username, role: user.role },
        {
          name: request.body.name ?? `Remediate ${request.params.record}`,
          // The latest the host's repositories offer, verified to be at least the fixed version.
          packages: plan.packages.map((p) => ({
            name: p.name,
            version: null,
            ...(p.fixedVersion === null ? {} : { minVersion: p.fixedVersion }),
          })),
          targets: { hostIds: plan.hostIds },
          ...(request.body.critical !== undefined ? { critical: request.body.critical } : {}),
          ...(request.body.emergency !== undefined ? { emergency: request.body.emergency } : {}),
        },
      );
      return reply.code(201).send({ deployment: { id: deployment.id, state: deployment.state, name: deployment.name }, plan });
    },
  );
};
