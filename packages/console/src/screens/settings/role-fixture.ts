import type { Permission, Role } from './roles';

/**
 * For the settings tests: per role, the permissions the Settings tabs and forms look at, as the
 * server grants them (packages/server/src/auth/roles.ts; the console reads the full table from
 * GET /roles). Not the whole table: only what these tests need.
 */
export const TEST_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: [
    'users:manage',
    'enrollment:manage',
    'hosts:read',
    'deployments:read',
    'vulns:read',
    'vulns:manage',
    'groups:manage',
    'settings:manage',
  ],
  approver: ['hosts:read', 'deployments:read', 'vulns:read'],
  operator: ['hosts:read', 'deployments:read', 'vulns:read', 'vulns:manage', 'groups:manage'],
  viewer: ['hosts:read', 'deployments:read', 'vulns:read'],
};
