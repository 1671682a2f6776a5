import type { AuditStore } from '../audit/types.js';
import type { AccessTokensStore, EnrollmentTokensStore, UsersStore } from '../auth/types.js';
import type { DiscoveryStore } from '../discovery/discovery-repository.js';
import type { InventoryStore } from '../hosts/types.js';
import type { PatchesStore } from '../patches/types.js';
import type { PoliciesStore, QuarantineStore } from '../policies/policies-repository.js';
import type { DeploymentsStore } from '../rollouts/deployments-repository.js';
import type { VulnsStore } from '../vulns/vulns-repository.js';
import { createAccessTokensStore } from './access-tokens-store.js';
import { createAuditStore } from './audit-store.js';
import type { Db } from './db.js';
import { createDeploymentsStore } from './deployments-store.js';
import { createDiscoveryStore, createPoliciesStore, createQuarantineStore } from './desired-state-store.js';
import { createEnrollmentTokensStore } from './enrollment-tokens-store.js';
import { createHostsStore, type HostsStoreWithEnrollment } from './hosts-store.js';
import { createInventoryStore } from './inventory-store.js';
import { createPatchesStore } from './patches-store.js';
import { createUsersStore } from './users-store.js';
import { createVulnsStore } from './vulns-store.js';

export interface Stores {
  users: UsersStore;
  accessTokens: AccessTokensStore;
  enrollmentTokens: EnrollmentTokensStore;
  hosts: HostsStoreWithEnrollment;
  inventory: InventoryStore;
  audit: AuditStore;
  patches: PatchesStore;
  deployments: DeploymentsStore;
  vulns: VulnsStore;
  policies: PoliciesStore;
  quarantine: QuarantineStore;
  discovery: DiscoveryStore;
}

export function createStores(db: Db): Stores {
  return {
    users: createUsersStore(db),
    accessTokens: createAccessTokensStore(db),
    enrollmentTokens: createEnrollmentTokensStore(db),
    hosts: createHostsStore(db),
    inventory: createInventoryStore(db),
    audit: createAuditStore(db),
    patches: createPatchesStore(db),
    deployments: createDeploymentsStore(db),
    vulns: createVulnsStore(db),
    policies: createPoliciesStore(db),
    quarantine: createQuarantineStore(db),
    discovery: createDiscoveryStore(db),
  };
}

export { type Database, openDatabase } from './db.js';
export type { EnrollOutcome, HostsStoreWithEnrollment } from './hosts-store.js';
