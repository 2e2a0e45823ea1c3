import { inKeyOrder, type Database } from '@stockgraph/db';
import type { Page } from '@stockgraph/graphql-kit';
import { and, asc, count, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import { normalizePhone } from '../domain/customer-input.js';
import type * as schema from './schema.js';
import { customers, type CustomerRow, type NewCustomerRow } from './schema.js';

function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class CustomerRepository {
  constructor(private readonly db: Database<typeof schema>) {}

  /** Rows in the order of `ids`, null where none exists: the shape DataLoader wants. */
  async findByIds(ids: readonly string[]): Promise<(CustomerRow | null)[]> {
    return inKeyOrder(
      ids,
      await this.db
        .select()
        .from(customers)
        .where(inArray(customers.id, [...ids])),
      (r) => r.id,
    );
  }

  /** `phone` normalised as stored (see normalizePhone). */
  async findByPhone(phone: string): Promise<CustomerRow | null> {
    const [row] = await this.db
      .select()
      .from(customers)
      .where(eq(customers.phone, phone))
      .orderBy(asc(customers.createdAt))
      .limit(1);
    return row ?? null;
  }

  /** `withContact`: also match email and phone, for callers allowed to see them (else search would reveal them). */
  private searchCondition(search: string | null | undefined, withContact: boolean): SQL | undefined {
    const term = search?.trim();
    if (!term) return undefined;
    const pattern = `%${escapeLike(term)}%`;
    const digits = normalizePhone(term);
    if (!withContact) return ilike(customers.name, pattern);
    return or(
      ilike(customers.name, pattern),
      ilike(customers.email, pattern),
      digits.length >= 3 ? sql`${customers.phone} like ${`%${escapeLike(digits)}%`}` : undefined,
    );
  }

  /** Sorted by name then id; the cursor is that pair. Fetches one extra row to tell if a next page exists. */
  async list(search: string | null | undefined, withContact: boolean, page: Page): Promise<CustomerRow[]> {
    const after = page.after
      ? sql`(${customers.name}, ${customers.id}) > (${page.after[0]}, ${page.after[1]}::uuid)`
      : undefined;
    return this.db
      .select()
      .from(customers)
      .where(and(this.searchCondition(search, withContact), after))
      .orderBy(asc(customers.name), asc(customers.id))
      .limit(page.limit + 1);
  }

  async count(search: string | null | undefined, withContact: boolean): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(customers).where(this.searchCondition(search, withContact));
    return Number(row?.n ?? 0);
  }

  async insert(row: NewCustomerRow): Promise<CustomerRow> {
    const [created] = await this.db.insert(customers).values(row).returning();
    return created!;
  }

  async update(id: string, changes: Partial<NewCustomerRow>): Promise<CustomerRow | null> {
    const [updated] = await this.db
      .update(customers)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(customers.id, id))
      .returning();
    return updated ?? null;
  }

  async isEmpty(): Promise<boolean> {
    const rows = await this.db.select({ id: customers.id }).from(customers).limit(1);
    return rows.length === 0;
  }

  async insertMany(rows: NewCustomerRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      await this.db.insert(customers).values(rows.slice(i, i + 500));
    }
  }
}
