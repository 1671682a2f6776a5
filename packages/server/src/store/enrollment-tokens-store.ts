import { and, desc, eq, isNull } from 'drizzle-orm';
import type { EnrollmentToken, EnrollmentTokensStore } from '../auth/types.js';
import type { Db } from './db.js';
import { enrollmentTokens } from './schema.js';

type Row = typeof enrollmentTokens.$inferSelect;

function toToken(row: Row): EnrollmentToken {
  const { secretHash: _secret, ...rest } = row;
  return rest;
}

export function createEnrollmentTokensStore(db: Db): EnrollmentTokensStore {
  return {
    async create(input) {
      const [row] = await db.insert(enrollmentTokens).values(input).returning();
      if (!row) throw new Error('insert returned no row');
      return toToken(row);
    },
    async findBySecretHash(secretHash) {
      const [row] = await db.select().from(enrollmentTokens).where(eq(enrollmentTokens.secretHash, secretHash));
      return row ? toToken(row) : undefined;
    },
    async list() {
      const rows = await db.select().from(enrollmentTokens).orderBy(desc(enrollmentTokens.createdAt));
      return rows.map(toToken);
    },
    async revoke(id, at) {
      const rows = await db
        .update(enrollmentTokens)
        .set({ revokedAt: at })
        .where(and(eq(enrollmentTokens.id, id), isNull(enrollmentTokens.revokedAt)))
        .returning({ id: enrollmentTokens.id });
      return rows.length > 0;
    },
  };
}
