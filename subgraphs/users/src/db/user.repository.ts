import { inKeyOrder, type Database } from '@stockgraph/db';
import type { Page } from '@stockgraph/graphql-kit';
import { asc, count, eq, inArray, sql } from 'drizzle-orm';
import type * as schema from './schema.js';
import { users, type NewUserRow, type UserRow } from './schema.js';

export interface UserChanges {
  name?: string;
  role?: UserRow['role'];
  active?: boolean;
  passwordHash?: string;
}

export class UserRepository {
  constructor(private readonly db: Database<typeof schema>) {}

  async findByIds(ids: readonly string[]): Promise<(UserRow | null)[]> {
    return inKeyOrder(
      ids,
      await this.db
        .select()
        .from(users)
        .where(inArray(users.id, [...ids])),
      (r) => r.id,
    );
  }

  /** Sorted by email (unique), so the cursor is the email alone. */
  async list(page: Page): Promise<UserRow[]> {
    return this.db
      .select()
      .from(users)
      .where(page.after ? sql`${users.email} > ${page.after[0]}` : undefined)
      .orderBy(asc(users.email))
      .limit(page.limit + 1);
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(users);
    return Number(row?.n ?? 0);
  }

  async isEmpty(): Promise<boolean> {
    return (await this.db.select({ id: users.id }).from(users).limit(1)).length === 0;
  }

  async insertMany(rows: NewUserRow[]): Promise<void> {
    if (rows.length > 0) await this.db.insert(users).values(rows);
  }

  async findByEmail(email: string): Promise<UserRow | null> {
    const [row] = await this.db.select().from(users).where(eq(users.email, email)).limit(1);
    return row ?? null;
  }

  async findById(id: string): Promise<UserRow | null> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    return row ?? null;
  }

  /** Inserts unless the email is taken; returns null on the conflict instead of throwing a driver error. */
  async insert(row: NewUserRow): Promise<UserRow | null> {
    const [created] = await this.db.insert(users).values(row).onConflictDoNothing({ target: users.email }).returning();
    return created ?? null;
  }

  async update(id: string, changes: UserChanges): Promise<UserRow | null> {
    const [updated] = await this.db
      .update(users)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(users.id, id))
      .returning();
    return updated ?? null;
  }
}
