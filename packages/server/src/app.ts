import { MAX_FRAME_BYTES } from '@brier/protocol';
import AjvCompiler from '@fastify/ajv-compiler';
import compress from '@fastify/compress';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import { auditRoutes } from './api/audit-routes.js';
import { authRoutes } from './api/auth-routes.js';
import { consoleRoutes } from './api/console-routes.js';
import { createConsoleSocket } from './api/console-socket.js';
import { dashboardRoutes } from './api/dashboard-routes.js';
import { deploymentsRoutes } from './api/deployments-routes.js';
import { devicesRoutes } from './api/devices-routes.js';
import { enrollmentRoutes } from './api/enrollment-routes.js';
import { hostsRoutes } from './api/hosts-routes.js';
import { createMetrics } from './api/metrics.js';
import { originOf } from './api/origins.js';
import { patchesRoutes } from './api/patches-routes.js';
import { policiesRoutes } from './api/policies-routes.js';
import { registerProblemHandler, sendProblem } from './api/problem.js';
import { quarantineRoutes } from './api/quarantine-routes.js';
import { systemRoutes } from './api/system-routes.js';
import { vulnsRoutes } from './api/vulns-routes.js';
import { windowsRoutes } from './api/windows-routes.js';
import { workKeyRoutes } from './api/work-key-routes.js';
import { createAuthService } from './auth/auth-service.js';
import { createEnrollmentService } from './auth/enrollment-service.js';
import type { ServerIdentity } from './auth/server-identity.js';
import { rotateWorkSigningKey, type WorkSigningKey } from './auth/work-signing-key.js';
import type { ServerConfig } from './config.js';
import { createDiscoveryService } from './discovery/discovery-service.js';
import { createAgentGateway, type DesiredStateDelivery, type WorkDelivery } from './gateway/agent-gateway.js';
import { createHostsService } from './hosts/hosts-service.js';
import { createInventoryService } from './inventory/inventory-service.js';
import { createLogger } from './logger.js';
import { createPatchesService } from './patches/patches-service.js';
import { createPoliciesService } from './policies/policies-service.js';
import { quarantineEndpoints } from './policies/quarantine-addresses.js';
import { createQuarantineService } from './policies/quarantine-service.js';
import { createDeploymentsService } from './rollouts/deployments-service.js';
import type { Services } from './services.js';
import { createStores, type Database } from './store/index.js';
import { detectFeedKind, readFeed } from './vulns/feeds/index.js';
import { createVulnsService } from './vulns/vulns-service.js';

export const VERSION = '0.1.0';

/**
 * Query strings and params arrive as text, so their validator coerces ("50" -> 50); JSON bodies
 * already carry types, so theirs does not: `{"hostname": 42}` is refused, not stored as "42".
 */
const validatorFactory: AjvCompiler.ValidatorFactory = (externalSchemas, options) => {
  const factory = AjvCompiler();
  const coercing = factory(externalSchemas, options);
  const custom = options && 'customOptions' in options ? options.customOptions : undefined;
  // The options union includes JTD's, which has no coerceTypes; ours are always the Ajv kind.
  const strict = factory(externalSchemas, {
    ...options,
    customOptions: { ...custom, coerceTypes: false },
  } as Parameters<AjvCompiler.ValidatorFactory>[1]);
  return (route) => (route.httpPart === 'body' ? strict : coercing)(route);
};

/**
 * Response types worth compressing: JSON (the API and its problem documents), HTML, CSS, JavaScript,
 * SVG and plain text (the console's files, /metrics). Never a stream whose parts must arrive as they
 * are written: a compressor holds bytes back until its block fills, so server-sent events
 * (text/event-stream) and NDJSON progress (application/x-ndjson) stay as they are; so do binaries.
 */
export function isCompressible(contentType: string): boolean {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'text/event-stream' || type === 'application/x-ndjson') return false;
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/javascript' ||
    type === 'application/xml' ||
    type === 'image/svg+xml'
  );
}

export interface BuildServerDeps {
  config: Readonly<ServerConfig>;
  database: Database;
  identity: ServerIdentity;
  /** Signs work for agents; kept in a file in the data directory, never in the database. */
  workKey: WorkSigningKey;
  logger?: Logger;
  now?: () => Date;
}

/**
 * Builds the whole server (REST API, agent gateway, metrics) without listening: tests use
 * `app.inject()` or `app.listen({ port: 0 })`; only main.ts picks ports and handles signals.
 */
export async function buildServer(deps: BuildServerDeps) {
  const { config, database, identity } = deps;
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger ?? createLogger('silent');
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast only drops pino-specific members from the type.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: MAX_FRAME_BYTES,
    trustProxy: config.trustProxy,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    schemaController: { compilersFactory: { buildValidator: validatorFactory } },
    // A path the router cannot even decode (`/%E0%A4%A`) is a problem document like every other error.
    frameworkErrors: (error, _request, reply) => sendProblem(reply, 'bad_request', error.message),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const stores = createStores(database.db);
  // Replaced in place by a rotation (POST /api/v1/work-key/rotate); work is signed with whatever is current.
  let workKey = deps.workKey;
  const workKeys = {
    current: () => workKey,
    rotate: (): WorkSigningKey => {
      const previous = workKey;
      const rotated = rotateWorkSigningKey(config.dataDir, identity, now());
      // The key in memory is retired too, even if it never came from this data directory (tests).
      const retired = rotated.retired.some((c) => c.keyId === previous.keyId)
        ? rotated.retired
        : [...rotated.retired, previous.certificate];
      workKey = { ...rotated, retired };
      return workKey;
    },
  };
  const metrics = createMetrics();
  // Matching follows inventory changes; the service is created below, the hook reaches it late-bound.
  const inventory = createInventoryService({
    inventory: stores.inventory,
    now,
    onIngested: metrics.inventoryIngested,
    onChanged: (hostId) => vulns.inventoryChanged(hostId),
  });
  const patches = createPatchesService({
    patches: stores.patches,
    hostExists: async (id) => (await stores.hosts.get(id)) !== undefined,
    now,
  });
  // The deployments service pushes work through the gateway, and the gateway hands it what agents
  // report: the gateway reaches the service through this late-bound delivery.
  const workDelivery: WorkDelivery = {
    onSync: (hostId, highest) => deployments.onAgentConnected(hostId, highest),
    onStatus: (hostId, status) => deployments.onAssignmentStatus(hostId, status),
  };
  // Policies, quarantine and discovery take what agents report through this late-bound delivery,
  // and push signed bundles and orders through the gateway created below.
  const desiredStateDelivery: DesiredStateDelivery = {
    onSync: async (hostId, held) => ({
      quarantine: await quarantine.onSync(hostId, held),
      bundle: await policies.onSync(hostId, held),
    }),
    onCompliance: (hostId, report) => policies.onCompliance(hostId, report),
    onRemediations: (hostId, report) => policies.onRemediations(hostId, report),
    onQuarantineStatus: (hostId, status) => quarantine.onStatus(hostId, status),
    onNeighbors: (hostId, report) => discovery.onNeighbors(hostId, report),
  };
  const gateway = createAgentGateway({
    hosts: stores.hosts,
    inventory,
    patches,
    work: workDelivery,
    desiredState: desiredStateDelivery,
    identity,
    config,
    logger,
    now,
    metrics: metrics.gateway,
  });
  const deployments = createDeploymentsService({
    store: stores.deployments,
    audit: stores.audit,
    signing: () => workKey,
    offer: (hostId, signed) => gateway.offer(hostId, signed),
    now,
    config: { approvalHostThreshold: config.approvalHostThreshold, assignmentTtlHours: config.assignmentTtlHours },
    onGroupsChanged: (hostId) => policies.onGroupsChanged(hostId),
  });
  const quarantine = createQuarantineService({
    store: stores.quarantine,
    hosts: stores.hosts,
    audit: stores.audit,
    signing: () => workKey,
    sendOrder: (hostId, signed) => gateway.sendQuarantineOrder(hostId, signed),
    endpoints: (hostId) => quarantineEndpoints(config, gateway.localAddressOf(hostId)),
    now,
    logger,
  });
  const policies = createPoliciesService({
    store: stores.policies,
    audit: stores.audit,
    signing: () => workKey,
    sendBundle: (hostId, signed) => gateway.sendPolicyBundle(hostId, signed),
    now,
    logger,
    onComplianceRecorded: async (hostId) => {
      await quarantine.checkPolicyRequests(hostId);
    },
  });
  const discovery = createDiscoveryService({ store: stores.discovery, audit: stores.audit, now, logger });
  const vulns = createVulnsService({ store: stores.vulns, audit: stores.audit, now, logger, readFeed, detectFeedKind });
  const services: Services = {
    config,
    now,
    database,
    identity,
    auth: createAuthService({ users: stores.users, accessTokens: stores.accessTokens, now, sessionTtlMs: config.sessionTtlMs }),
    enrollment: createEnrollmentService({ tokens: stores.enrollmentTokens, hosts: stores.hosts, identity, now }),
    hosts: createHostsService({ hosts: stores.hosts, audit: stores.audit, now, onIdentityWithdrawn: (id) => gateway.disconnect(id) }),
    inventory,
    patches,
    deployments,
    vulns,
    policies,
    quarantine,
    discovery,
    workKeys,
    audit: stores.audit,
    gateway,
    metrics,
  };

  registerProblemHandler(app);
  // Browsers may drive the API from the server's own origin and from the public URL's (CSRF checks).
  app.decorate('publicOrigin', originOf(config.publicUrl));
  await app.register(cookie);
  // Before every route (it hooks each as it is added): gzip or brotli when the client accepts it, for
  // bodies of 1 KiB and more, file streams from @fastify/static included. Hijacked replies (the
  // deployment events) never pass through it. Request bodies are not decompressed: an upload is
  // taken as sent, its size limit counting the bytes that arrive.
  await app.register(compress, {
    encodings: ['br', 'gzip'],
    customTypes: isCompressible,
    globalDecompression: false,
  });
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Brier API',
        version: VERSION,
        description:
          'Fleet patching: hosts, inventory, enrolment. Authenticate with POST /api/v1/auth/login, then send "Authorization: Bearer <token>". A browser may use the session cookie instead; its POST, PUT, PATCH and DELETE requests must then carry an Origin (or Referer) of this server.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(systemRoutes, { services });
  await app.register(
    async (api) => {
      await api.register(authRoutes, { services });
      await api.register(enrollmentRoutes, { services });
      await api.register(hostsRoutes, { services });
      await api.register(patchesRoutes, { services });
      await api.register(deploymentsRoutes, { services });
      await api.register(windowsRoutes, { services });
      await api.register(auditRoutes, { services });
      await api.register(vulnsRoutes, { services });
      await api.register(workKeyRoutes, { services });
      await api.register(policiesRoutes, { services });
      await api.register(quarantineRoutes, { services });
      await api.register(devicesRoutes, { services });
      await api.register(dashboardRoutes, { services });
    },
    { prefix: '/api/v1' },
  );
  await app.register(consoleRoutes, { consoleDir: config.consoleDir });

  const consoleSocket = createConsoleSocket({
    auth: services.auth,
    deployments,
    config,
    parseCookie: (header) => app.parseCookie(header),
    logger,
  });
  app.server.on('upgrade', (req, socket, head) => {
    if (consoleSocket.handleUpgrade(req, socket, head)) return;
    if (!gateway.handleUpgrade(req, socket, head)) socket.destroy();
  });
  app.addHook('onClose', async () => {
    await consoleSocket.close();
    await gateway.close();
    // Matching that inventory changes started finishes before the database goes away.
    await vulns.idle();
  });

  return Object.assign(app, { services });
}

export type BrierServer = Awaited<ReturnType<typeof buildServer>>;
