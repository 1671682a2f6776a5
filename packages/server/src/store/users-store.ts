import { asc, count, eq } from 'drizzle-orm';
import type { User, UsersStore, UserWithHash } from '../auth/types.js';
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
  };
}
