import type { HostFacts } from '@brier/protocol';
import { and, asc, count, eq, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { EnrollmentToken } from '../auth/types.js';
import type { Host, HostsStore } from '../hosts/types.js';
import type { Db } from './db.js';
import { enrollmentTokens, hostSoftware, hosts, revokedKeys, software } from './schema.js';

type Row = typeof hosts.$inferSelect;

export function toHost(row: Row): Host {
  return {
    id: row.id,
    hostname: row.hostname,
    publicKey: row.publicKey,
    status: row.status,
    enrolledAt: row.enrolledAt,
    approvedAt: row.approvedAt,
    revokedAt: row.revokedAt,
    online: row.online,
    lastSeenAt: row.lastSeenAt,
    os: {
      platform: row.osPlatform,
      distro: row.osDistro,
      release: row.osRelease,
      codename: row.osCodename,
      kernel: row.osKernel,
      arch: row.osArch,
    },
    facts: (row.facts as HostFacts | null) ?? null,
    inventoryHash: row.inventoryHash,
    inventoryAt: row.inventoryAt,
    packageCount: row.packageCount,
  };
}

/** Escapes LIKE wildcards so user text matches literally (backslash is PostgreSQL's default escape). */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export type EnrollOutcome = { host: Host } | { refused: 'token_invalid' | 'token_expired' | 'token_exhausted' | 'conflict' };

export interface HostsStoreWithEnrollment extends HostsStore {
  /**
   * Consumes one use of the join token and creates the host in one transaction, so a token's use
   * count can never be exceeded by concurrent enrolments. `check` is the domain's validity rule.
   */
  enroll(
    secretHash: string,
    check: (token: EnrollmentToken) => 'token_expired' | 'token_exhausted' | 'token_invalid' | null,
    input: { hostname: string; publicKey: string; at: Date },
  ): Promise<EnrollOutcome>;
}

export function createHostsStore(db: Db): HostsStoreWithEnrollment {
  return {
    async create(input) {
      const [row] = await db
        .insert(hosts)
        .values({
          hostname: input.hostname,
          publicKey: input.publicKey,
          status: input.status,
          enrollmentTokenId: input.enrollmentTokenId,
          enrolledAt: input.at,
          approvedAt: input.status === 'approved' ? input.at : null,
        })
        .returning();
      if (!row) throw new Error('insert returned no row');
      return toHost(row);
    },

    async enroll(secretHash, check, input) {
      return db.transaction(async (tx) => {
        const [tokenRow] = await tx.select().from(enrollmentTokens).where(eq(enrollmentTokens.secretHash, secretHash)).for('update');
        if (!tokenRow) return { refused: 'token_invalid' as const };
        const { secretHash: _s, ...token } = tokenRow;
        const refusal = check(token);
        if (refusal) return { refused: refusal };
        const [revoked] = await tx.select().from(revokedKeys).where(eq(revokedKeys.publicKey, input.publicKey));
        const [existing] = await tx.select({ id: hosts.id }).from(hosts).where(eq(hosts.publicKey, input.publicKey));
        if (revoked || existing) return { refused: 'conflict' as const };
        await tx
          .update(enrollmentTokens)
          .set({ uses: sql`${enrollmentTokens.uses} + 1` })
          .where(eq(enrollmentTokens.id, token.id));
        const status = token.autoApprove ? 'approved' : 'pending';
        const [row] = await tx
          .insert(hosts)
          .values({
            hostname: input.hostname,
            publicKey: input.publicKey,
            status,
            enrollmentTokenId: token.id,
            enrolledAt: input.at,
            approvedAt: status === 'approved' ? input.at : null,
          })
          .returning();
        if (!row) throw new Error('insert returned no row');
        return { host: toHost(row) };
      });
    },

    async get(id) {
      const [row] = await db.select().from(hosts).where(eq(hosts.id, id));
      return row ? toHost(row) : undefined;
    },

    async list(query) {
      const conditions: SQL[] = [];
      if (query.q) conditions.push(ilike(hosts.hostname, likeContains(query.q)));
      if (query.status) conditions.push(eq(hosts.status, query.status));
      if (query.online !== undefined) conditions.push(eq(hosts.online, query.online));
      const where = conditions.length ? and(...conditions) : undefined;
      const [rows, totals] = await Promise.all([
        db.select().from(hosts).where(where).orderBy(asc(hosts.hostname), asc(hosts.id)).limit(query.limit).offset(query.offset),
        db.select({ n: count() }).from(hosts).where(where),
      ]);
      return { items: rows.map(toHost), total: totals[0]?.n ?? 0 };
    },

    async setStatus(id, status, at) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(hosts)
          .set({
            status,
            ...(status === 'approved' ? { approvedAt: at } : {}),
            ...(status === 'revoked' ? { revokedAt: at, online: false } : {}),
          })
          .where(eq(hosts.id, id))
          .returning();
        if (!row) return undefined;
        if (status === 'revoked') {
          await tx.insert(revokedKeys).values({ publicKey: row.publicKey, hostId: row.id, revokedAt: at }).onConflictDoNothing();
        }
        return toHost(row);
      });
    },

    async delete(id) {
      const rows = await db.delete(hosts).where(eq(hosts.id, id)).returning({ id: hosts.id });
      return rows.length > 0;
    },

    async isKeyRevoked(publicKey) {
      const [row] = await db.select({ k: revokedKeys.publicKey }).from(revokedKeys).where(eq(revokedKeys.publicKey, publicKey));
      return row !== undefined;
    },

    async setOnline(id, online, at) {
      await db.update(hosts).set({ online, lastSeenAt: at }).where(eq(hosts.id, id));
    },

    async touchLastSeen(ids, at) {
      if (ids.length === 0) return;
      await db
        .update(hosts)
        .set({ lastSeenAt: at })
        .where(inArray(hosts.id, [...ids]));
    },

    async markAllOffline(at) {
      await db.update(hosts).set({ online: false, lastSeenAt: at }).where(eq(hosts.online, true));
    },

    async software(id, query) {
      const conditions: SQL[] = [eq(hostSoftware.hostId, id)];
      if (query.q) {
        const pattern = likeContains(query.q);
        const match = or(ilike(software.name, pattern), ilike(software.source, pattern), ilike(software.version, pattern));
        if (match) conditions.push(match);
      }
      const where = and(...conditions);
      const [rows, totals] = await Promise.all([
        db
          .select({
            ecosystem: software.ecosystem,
            name: software.name,
            version: software.version,
            arch: software.arch,
            source: software.source,
            sourceVersion: software.sourceVersion,
          })
          .from(hostSoftware)
          .innerJoin(software, eq(software.id, hostSoftware.softwareId))
          .where(where)
          .orderBy(asc(software.name), asc(software.arch), asc(software.ecosystem))
          .limit(query.limit)
          .offset(query.offset),
        db.select({ n: count() }).from(hostSoftware).innerJoin(software, eq(software.id, hostSoftware.softwareId)).where(where),
      ]);
      return {
        items: rows.map((r) => ({ ...r, source: r.source || null, sourceVersion: r.sourceVersion || null })),
        total: totals[0]?.n ?? 0,
      };
    },
  };
}
