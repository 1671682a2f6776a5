import { count, desc } from 'drizzle-orm';
import type { AuditStore } from '../audit/types.js';
import type { Db } from './db.js';
import { auditLog } from './schema.js';

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
      const [rows, totals] = await Promise.all([
        db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(query.limit).offset(query.offset),
        db.select({ n: count() }).from(auditLog),
      ]);
      return {
        items: rows.map((r) => ({ ...r, detail: (r.detail as Record<string, unknown> | null) ?? null })),
        total: totals[0]?.n ?? 0,
      };
    },
  };
}
