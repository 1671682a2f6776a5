import { and, desc, eq, gt, isNull, ne } from 'drizzle-orm';
import type { AccessToken, AccessTokensStore } from '../auth/types.js';
import type { Db } from './db.js';
import { accessTokens, users } from './schema.js';

type Row = typeof accessTokens.$inferSelect;

function toToken(row: Row): AccessToken {
  return {
    id: row.id,
    kind: row.kind,
    userId: row.userId,
    name: row.name,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

export function createAccessTokensStore(db: Db): AccessTokensStore {
  return {
    async create(input) {
      const [row] = await db.insert(accessTokens).values(input).returning();
      if (!row) throw new Error('insert returned no row');
      return toToken(row);
    },
    async findLive(tokenHash, now) {
      const [row] = await db
        .select({ token: accessTokens, user: users })
        .from(accessTokens)
        .innerJoin(users, eq(users.id, accessTokens.userId))
        .where(and(eq(accessTokens.tokenHash, tokenHash), isNull(accessTokens.revokedAt), gt(accessTokens.expiresAt, now)));
      if (!row) return undefined;
      const u = row.user;
      return {
        token: toToken(row.token),
        user: { id: u.id, username: u.username, role: u.role, disabled: u.disabled, createdAt: u.createdAt },
      };
    },
    async touch(id, at) {
      await db.update(accessTokens).set({ lastUsedAt: at }).where(eq(accessTokens.id, id));
    },
    async revoke(id, kind, userId, at) {
      const conditions = [eq(accessTokens.id, id), eq(accessTokens.kind, kind), isNull(accessTokens.revokedAt)];
      if (userId) conditions.push(eq(accessTokens.userId, userId));
      const rows = await db
        .update(accessTokens)
        .set({ revokedAt: at })
        .where(and(...conditions))
        .returning({ id: accessTokens.id });
      return rows.length > 0;
    },
    async revokeAllOf(userId, at, options = {}) {
      const conditions = [eq(accessTokens.userId, userId), isNull(accessTokens.revokedAt)];
      if (options.kind) conditions.push(eq(accessTokens.kind, options.kind));
      if (options.exceptId) conditions.push(ne(accessTokens.id, options.exceptId));
      const rows = await db
        .update(accessTokens)
        .set({ revokedAt: at })
        .where(and(...conditions))
        .returning({ id: accessTokens.id });
      return rows.length;
    },
    async listApiTokens(userId) {
      const rows = await db
        .select()
        .from(accessTokens)
        .where(and(eq(accessTokens.userId, userId), eq(accessTokens.kind, 'api'), isNull(accessTokens.revokedAt)))
        .orderBy(desc(accessTokens.createdAt));
      return rows.map(toToken);
    },
  };
}
