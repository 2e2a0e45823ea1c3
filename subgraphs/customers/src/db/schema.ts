import { outboxTable } from '@stockgraph/events';
import { idColumn, idempotencyKeysTable, timestamps } from '@stockgraph/db';
import { index, pgSchema, text } from 'drizzle-orm/pg-core';

export const customersSchema = pgSchema('customers');

export const customerTier = customersSchema.enum('customer_tier', ['STANDARD', 'SILVER', 'GOLD', 'PLATINUM']);

export const customers = customersSchema.table(
  'customers',
  {
    id: idColumn(),
    name: text('name').notNull(),
    /** Stored normalised (+ and digits only) so lookups by phone match however it was typed. */
    phone: text('phone'),
    email: text('email'),
    address: text('address'),
    tier: customerTier('tier').notNull().default('STANDARD'),
    notes: text('notes'),
    ...timestamps,
  },
  (t) => [index('customers_phone_idx').on(t.phone), index('customers_name_id_idx').on(t.name, t.id)],
);

export type CustomerRow = typeof customers.$inferSelect;
export type NewCustomerRow = typeof customers.$inferInsert;

export const outbox = outboxTable(customersSchema);

export const idempotencyKeys = idempotencyKeysTable(customersSchema);
