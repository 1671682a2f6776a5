export const ROLES = ['admin', 'approver', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  createdAt: Date;
}

export interface UserWithHash extends User {
  passwordHash: string;
}

export interface UserPatch {
  role?: Role | undefined;
  disabled?: boolean | undefined;
  passwordHash?: string | undefined;
}

export type UserUpdateOutcome =
  | { updated: User; before: User }
  | { refused: 'not_found' }
  /** The change would leave no enabled admin. */
  | { refused: 'last_admin' };

export interface UsersStore {
  count(): Promise<number>;
  create(input: { username: string; passwordHash: string; role: Role }): Promise<User>;
  findByUsername(username: string): Promise<UserWithHash | undefined>;
  findById(id: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  /**
   * Changes a user in one transaction that locks the enabled admins first, so two concurrent
   * changes cannot both demote or disable "another" admin and leave none.
   */
  update(id: string, patch: UserPatch): Promise<UserUpdateOutcome>;
}

export type AccessTokenKind = 'session' | 'api';

export interface AccessToken {
  id: string;
  kind: AccessTokenKind;
  userId: string;
  name: string | null;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface AccessTokensStore {
  create(input: { kind: AccessTokenKind; tokenHash: string; userId: string; name: string | null; expiresAt: Date }): Promise<AccessToken>;
  /** The live token with this hash and its user, or undefined when unknown, revoked or expired at `now`. */
  findLive(tokenHash: string, now: Date): Promise<{ token: AccessToken; user: User } | undefined>;
  touch(id: string, at: Date): Promise<void>;
  /** Revokes a live token of `kind`, only if it belongs to `userId` when one is given. */
  revoke(id: string, kind: AccessTokenKind, userId: string | null, at: Date): Promise<boolean>;
  listApiTokens(userId: string): Promise<AccessToken[]>;
  /** Revokes every live token of the user (of `kind` only, when given) except `exceptId`; returns how many. */
  revokeAllOf(userId: string, at: Date, options?: { kind?: AccessTokenKind; exceptId?: string }): Promise<number>;
}

export interface EnrollmentToken {
  id: string;
  createdBy: string | null;
  autoApprove: boolean;
  maxUses: number | null;
  uses: number;
  expiresAt: Date;
  revokedAt: Date | null;
  createdAt: Date;
}

export interface EnrollmentTokensStore {
  create(input: {
    secretHash: string;
    createdBy: string | null;
    autoApprove: boolean;
    maxUses: number | null;
    expiresAt: Date;
  }): Promise<EnrollmentToken>;
  findBySecretHash(secretHash: string): Promise<EnrollmentToken | undefined>;
  list(): Promise<EnrollmentToken[]>;
  revoke(id: string, at: Date): Promise<boolean>;
}
