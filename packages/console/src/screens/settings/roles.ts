import type { Me } from '../../auth';

export type Permission = Me['permissions'][number];
export type Role = Me['role'];

/** The roles a user can be given (the Users tab's selects; what each holds comes from GET /roles). */
export const ROLES = ['admin', 'approver', 'operator', 'viewer'] as const satisfies readonly Role[];

/** One sentence per role, for people choosing one. */
export const ROLE_SUMMARY: Record<Role, string> = {
  admin: 'Everything: people, join tokens, host identities, server settings (SLA matrix, work key, feeds).',
  approver:
    'Reads everything, runs deployments, and approves others’ critical, emergency and large changes and policy quarantines; reads the audit log.',
  operator:
    'Daily work: drafts and runs deployments, groups hosts, sets risk tiers, imports feeds, manages policies, quarantine and devices.',
  viewer: 'Reads hosts, deployments, vulnerabilities and policies; changes nothing.',
};
