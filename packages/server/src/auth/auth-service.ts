import { BrierError, randomToken, sha256Hex } from '@brier/protocol';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import type { AccessToken, AccessTokensStore, Role, User, UsersStore } from './types.js';

export interface AuthServiceDeps {
  users: UsersStore;
  accessTokens: AccessTokensStore;
  now: () => Date;
  sessionTtlMs: number;
}

export interface Principal {
  user: User;
  tokenId: string;
  tokenKind: AccessToken['kind'];
}

/** Session tokens look like `brs_…`, API tokens `brp_…`: a leaked one is recognisable in logs and scanners. */
const PREFIX = { session: 'brs_', api: 'brp_' } as const;
const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MIN_PASSWORD_LENGTH = 12;
/** How often `lastUsedAt` is written for one token: at most once per minute, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export function tokenHash(token: string): string {
  return sha256Hex(token);
}

export function createAuthService(deps: AuthServiceDeps) {
  const { users, accessTokens, now } = deps;

  async function issue(kind: AccessToken['kind'], userId: string, name: string | null, ttlMs: number) {
    const token = PREFIX[kind] + randomToken();
    const record = await accessTokens.create({
      kind,
      tokenHash: tokenHash(token),
      userId,
      name,
      expiresAt: new Date(now().getTime() + ttlMs),
    });
    return { token, record };
  }

  return {
    /**
     * Creates user `admin` on first start. Returns the generated password when none was given, so
     * the caller can print it once; returns undefined when users already exist.
     */
    async ensureAdmin(password: string | undefined): Promise<{ generatedPassword?: string } | undefined> {
      if ((await users.count()) > 0) return undefined;
      const chosen = password ?? randomToken(18);
      if (chosen.length < MIN_PASSWORD_LENGTH) {
        throw new BrierError('bad_request', `BRIER_ADMIN_PASSWORD must be at least ${MIN_PASSWORD_LENGTH} characters`);
      }
      const passwordHash = await hashPassword(chosen);
      try {
        await users.create({ username: 'admin', passwordHash, role: 'admin' });
      } catch (err) {
        // Another replica starting at the same moment created the admin first: nothing to do.
        if (await users.findByUsername('admin')) return undefined;
        throw err;
      }
      return password ? {} : { generatedPassword: chosen };
    },

    async createUser(input: { username: string; password: string; role: Role }): Promise<User> {
      if (!USERNAME.test(input.username))
        throw new BrierError('bad_request', 'username must be 1-64 of a-z 0-9 . _ - and start with a letter or digit');
      if (input.password.length < MIN_PASSWORD_LENGTH)
        throw new BrierError('bad_request', `password must be at least ${MIN_PASSWORD_LENGTH} characters`);
      if (await users.findByUsername(input.username)) throw new BrierError('conflict', 'a user with that name exists');
      const passwordHash = await hashPassword(input.password);
      try {
        return await users.create({ username: input.username, passwordHash, role: input.role });
      } catch (err) {
        // Two concurrent creates both pass the check above; the unique index refuses the second.
        if (await users.findByUsername(input.username)) throw new BrierError('conflict', 'a user with that name exists', { cause: err });
        throw err;
      }
    },

    listUsers: () => users.list(),

    /**
     * Changes a user's role, disabled flag or password. Refused: disabling yourself, and leaving no
     * enabled admin. Disabling revokes every session and API token of the user (enabling again
     * brings none back); a new password revokes the user's sessions except the caller's own.
     */
    async updateUser(
      by: Principal,
      id: string,
      patch: { role?: Role | undefined; disabled?: boolean | undefined; password?: string | undefined },
    ): Promise<{ user: User; before: User; revokedTokens: number }> {
      if (patch.role === undefined && patch.disabled === undefined && patch.password === undefined)
        throw new BrierError('bad_request', 'give role, disabled or password');
      if (patch.disabled === true && id === by.user.id) throw new BrierError('conflict', 'you cannot disable your own account');
      if (patch.password !== undefined && patch.password.length < MIN_PASSWORD_LENGTH)
        throw new BrierError('bad_request', `password must be at least ${MIN_PASSWORD_LENGTH} characters`);
      const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
      const outcome = await users.update(id, { role: patch.role, disabled: patch.disabled, passwordHash });
      if ('refused' in outcome) {
        if (outcome.refused === 'not_found') throw new BrierError('not_found', 'no such user', { details: { id } });
        throw new BrierError('conflict', 'this is the last enabled admin: make another user admin first');
      }
      const at = now();
      let revokedTokens = 0;
      if (outcome.updated.disabled) revokedTokens = await accessTokens.revokeAllOf(id, at);
      else if (passwordHash !== undefined)
        revokedTokens = await accessTokens.revokeAllOf(id, at, { kind: 'session', ...(id === by.user.id ? { exceptId: by.tokenId } : {}) });
      return { user: outcome.updated, before: outcome.before, revokedTokens };
    },

    async login(username: string, password: string) {
      // A name no account can have (say, one with a NUL byte, which PostgreSQL cannot even compare)
      // is an unknown user: no query, and the same answer as any other unknown name.
      const user = USERNAME.test(username) ? await users.findByUsername(username) : undefined;
      // Verify against a dummy hash for unknown users so timing does not reveal which names exist.
      const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
      if (!user || !ok || user.disabled) throw new BrierError('invalid_credentials', 'unknown user or wrong password');
      const { token, record } = await issue('session', user.id, null, deps.sessionTtlMs);
      const { passwordHash: _h, ...safe } = user;
      return { token, expiresAt: record.expiresAt, user: safe };
    },

    async authenticate(token: string): Promise<Principal> {
      if (!token.startsWith(PREFIX.session) && !token.startsWith(PREFIX.api)) throw new BrierError('unauthenticated', 'unrecognised token');
      const at = now();
      const found = await accessTokens.findLive(tokenHash(token), at);
      if (!found || found.user.disabled) throw new BrierError('unauthenticated', 'token is unknown, expired or revoked');
      if (!found.token.lastUsedAt || at.getTime() - found.token.lastUsedAt.getTime() > TOUCH_INTERVAL_MS) {
        await accessTokens.touch(found.token.id, at);
      }
      return { user: found.user, tokenId: found.token.id, tokenKind: found.token.kind };
    },

    async logout(principal: Principal): Promise<void> {
      await accessTokens.revoke(principal.tokenId, principal.tokenKind, principal.user.id, now());
    },

    async createApiToken(userId: string, name: string, expiresInDays: number) {
      const { token, record } = await issue('api', userId, name, expiresInDays * 86_400_000);
      return { token, record };
    },

    listApiTokens: (userId: string) => accessTokens.listApiTokens(userId),

    async revokeApiToken(userId: string, id: string): Promise<void> {
      if (!(await accessTokens.revoke(id, 'api', userId, now()))) throw new BrierError('not_found', 'no such API token');
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
