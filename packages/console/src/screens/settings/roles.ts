import type { Me } from '../../auth';

export type Permission = Me['permissions'][number];
export type Role = Me['role'];

export const ROLES = ['admin', 'approver', 'operator', 'viewer'] as const satisfies readonly Role[];

/**
 * What each role holds, as the server grants it (packages/server/src/auth/roles.ts; roles.test.ts
 * fails when the two differ). Shown on the Users tab so an admin knows what a role gives.
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: [
    'hosts:read',
    'hosts:manage',
    'enrollment:manage',
    'users:manage',
    'audit:read',
    'deployments:read',
    'deployments:manage',
    'deployments:approve',
    'groups:manage',
    'vulns:read',
    'vulns:manage',
    'settings:manage',
    'policies:read',
    'policies:manage',
    'quarantine:manage',
    'quarantine:approve',
    'devices:manage',
  ],
  approver: [
    'hosts:read',
    'audit:read',
    'deployments:read',
    'deployments:manage',
    'deployments:approve',
    'vulns:read',
    'policies:read',
    'quarantine:approve',
  ],
  operator: [
    'hosts:read',
    'deployments:read',
    'deployments:manage',
    'groups:manage',
    'vulns:read',
    'vulns:manage',
    'policies:read',
    'policies:manage',
    'quarantine:manage',
    'devices:manage',
  ],
  viewer: ['hosts:read', 'deployments:read', 'vulns:read', 'policies:read'],
};

/** One sentence per role, for people choosing one. */
export const ROLE_SUMMARY: Record<Role, string> = {
  admin: 'Everything: people, join tokens, host identities, server settings (SLA matrix, work key, feeds).',
  approver:
    'Reads everything, runs deployments, and approves others’ critical, emergency and large changes and policy quarantines; reads the audit log.',
  operator:
    'Daily work: drafts and runs deployments, groups hosts, sets risk tiers, imports feeds, manages policies, quarantine and devices.',
  viewer: 'Reads hosts, deployments, vulnerabilities and policies; changes nothing.',
};
