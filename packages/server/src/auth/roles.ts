import type { Role } from './types.js';

/**
 * What each role may do. Roles are not a strict ladder: an approver signs off changes that an
 * operator drafts, and only an admin manages people, join tokens and host identities.
 */
export const PERMISSIONS = {
  'hosts:read': ['admin', 'approver', 'operator', 'viewer'],
  'hosts:manage': ['admin'],
  'enrollment:manage': ['admin'],
  'users:manage': ['admin'],
  'audit:read': ['admin', 'approver'],
  'deployments:read': ['admin', 'approver', 'operator', 'viewer'],
  /** Draft, pause, resume, abort and retry: the operator's daily work. */
  'deployments:manage': ['admin', 'approver', 'operator'],
  /** The second pair of eyes on critical, emergency and large changes (never one's own). */
  'deployments:approve': ['admin', 'approver'],
  'groups:manage': ['admin', 'operator'],
  'vulns:read': ['admin', 'approver', 'operator', 'viewer'],
  /** Import feeds, set risk tiers of hosts and groups. */
  'vulns:manage': ['admin', 'operator'],
  /** Server-wide settings: the SLA matrix, scheduled feeds (the server fetches what they name). */
  'settings:manage': ['admin'],
  /** Policies, compliance and remediation events, quarantine state and requests, unmanaged devices. */
  'policies:read': ['admin', 'approver', 'operator', 'viewer'],
  /** Create, replace and delete policies (each change re-signs the affected hosts' bundles). */
  'policies:manage': ['admin', 'operator'],
  /** Isolate a host from the network (all but the Brier server) and release it. */
  'quarantine:manage': ['admin', 'operator'],
  /** Decide the quarantines a policy asks for (antivirus unhealthy for too long). */
  'quarantine:approve': ['admin', 'approver'],
  /** Mark unmanaged devices known or ignored. */
  'devices:manage': ['admin', 'operator'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/** Every permission `role` holds, in catalogue order (the console shows and hides actions by them). */
export function permissionsOf(role: Role): Permission[] {
  return (Object.keys(PERMISSIONS) as Permission[]).filter((p) => can(role, p));
}
