import { and, asc, count, eq } from 'drizzle-orm';
import type { User, UsersStore, UserUpdateOutcome, UserWithHash } from '../auth/types.js';
import type { Db } from './db.js';
import { users } from './schema.js';

type Row = typeof users.$inferSelect;

function toUser(row: Row): User {
  return { id: row.id, username: row.username, role: row.role, disabled: row.disabled, createdAt: row.createdAt };
}

export function createUsersStore(db: Db): UsersStore {
  return {
    async count() {
      const [row] = await db.select({ n: count() }).from(users);
      return row?.n ?? 0;
    },
    async create(input) {
      const [row] = await db.insert(users).values(input).returning();
      if (!row) throw new Error('insert returned no row');
      return toUser(row);
    },
    async findByUsername(username): Promise<UserWithHash | undefined> {
      const [row] = await db.select().from(users).where(eq(users.username, username));
      return row ? { ...toUser(row), passwordHash: row.passwordHash } : undefined;
    },
    async findById(id) {
      const [row] = await db.select().from(users).where(eq(users.id, id));
      return row ? toUser(row) : undefined;
    },
    async list() {
      const rows = await db.select().from(users).orderBy(asc(users.username));
      return rows.map(toUser);
    },
    async update(id, patch) {
      return db.transaction(async (tx): Promise<UserUpdateOutcome> => {
        // Locked in id order before the target, the same order every update takes them in.
        const admins = await tx
          .select({ id: users.id })
          .from(users)
          .where(and(eq(users.role, 'admin'), eq(users.disabled, false)))
          .orderBy(asc(users.id))
          .for('update');
        const [row] = await tx.select().from(users).where(eq(users.id, id)).for('update');
        if (!row) return { refused: 'not_found' };
        const before = toUser(row);
        const role = patch.role ?? before.role;
        const disabled = patch.disabled ?? before.disabled;
        const wasEnabledAdmin = before.role === 'admin' && !before.disabled;
        const staysEnabledAdmin = role === 'admin' && !disabled;
        if (wasEnabledAdmin && !staysEnabledAdmin && admins.every((a) => a.id === id)) return { refused: 'last_admin' };
        const [updated] = await tx
          .update(users)
          .set({ role, disabled, ...(patch.passwordHash === undefined ? {} : { passwordHash: patch.passwordHash }) })
          .where(eq(users.id, id))
          .returning();
        if (!updated) return { refused: 'not_found' };
        return { updated: toUser(updated), before };
      });
    },
  };
}
