import type { Metrics } from './api/metrics.js';
import type { AuditStore } from './audit/types.js';
import type { AuthService } from './auth/auth-service.js';
import type { EnrollmentService } from './auth/enrollment-service.js';
import type { ServerIdentity } from './auth/server-identity.js';
import type { WorkSigningKey } from './auth/work-signing-key.js';
import type { ServerConfig } from './config.js';
import type { DiscoveryService } from './discovery/discovery-service.js';
import type { AgentGateway } from './gateway/agent-gateway.js';
import type { HostsService } from './hosts/hosts-service.js';
import type { InventoryService } from './inventory/inventory-service.js';
import type { PatchesService } from './patches/patches-service.js';
import type { PoliciesService } from './policies/policies-service.js';
import type { QuarantineService } from './policies/quarantine-service.js';
import type { DeploymentsService } from './rollouts/deployments-service.js';
import type { Database } from './store/index.js';
import type { VulnsService } from './vulns/vulns-service.js';

/** Everything the transport layers (api/, gateway/) call, built once per server by buildServer. */
export interface Services {
  config: Readonly<ServerConfig>;
  now: () => Date;
  database: Database;
  identity: ServerIdentity;
  auth: AuthService;
  enrollment: EnrollmentService;
  hosts: HostsService;
  inventory: InventoryService;
  patches: PatchesService;
  deployments: DeploymentsService;
  vulns: VulnsService;
  /** Desired state: policies and their signed bundles, compliance, remediation events. */
  policies: PoliciesService;
  quarantine: QuarantineService;
  /** Neighbour tables reported by agents; unmanaged devices. */
  discovery: DiscoveryService;
  /** The work-signing key in use, and its rotation (the key files live in the data directory). */
  workKeys: { current: () => WorkSigningKey; rotate: () => WorkSigningKey };
  audit: AuditStore;
  gateway: AgentGateway;
  metrics: Metrics;
}
