import { and, count, desc, eq, ilike, or, type SQL, sql } from 'drizzle-orm';
import type { AuditQuery, AuditStore } from '../audit/types.js';
import { type Db, likeContains } from './db.js';
import { auditLog } from './schema.js';

function auditFilters(query: AuditQuery): SQL | undefined {
  const conditions: SQL[] = [];
  if (query.actor !== undefined) conditions.push(eq(auditLog.actor, query.actor));
  // likeContains escapes the wildcards; the leading % is dropped to make it a prefix match.
  if (query.action !== undefined) conditions.push(sql`${auditLog.action} like ${likeContains(query.action).slice(1)}`);
  if (query.target !== undefined) conditions.push(eq(auditLog.target, query.target));
  if (query.q) {
    const pattern = likeContains(query.q);
    const match = or(
      ilike(auditLog.actor, pattern),
      ilike(auditLog.action, pattern),
      ilike(auditLog.target, pattern),
      sql`${auditLog.detail}::text ilike ${pattern}`,
    );
    if (match) conditions.push(match);
  }
  return conditions.length > 0 ? and(...conditions) : undefined;
}

export function createAuditStore(db: Db): AuditStore {
  return {
    async record(entry) {
      await db.insert(auditLog).values({
        at: entry.at,
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        detail: entry.detail ?? null,
      });
    },
    async list(query) {
      const where = auditFilters(query);
      const [rows, totals] = await Promise.all([
        db.select().from(auditLog).where(where).orderBy(desc(auditLog.id)).limit(query.limit).offset(query.offset),
        db.select({ n: count() }).from(auditLog).where(where),
      ]);
      return {
        items: rows.map((r) => ({ ...r, detail: (r.detail as Record<string, unknown> | null) ?? null })),
        total: totals[0]?.n ?? 0,
      };
    },
  };
}
