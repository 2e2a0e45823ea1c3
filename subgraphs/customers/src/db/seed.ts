import { transact, type Database } from '@stockgraph/db';
import { generateDemoData } from '@stockgraph/demo-data';
import type { Logger } from '@stockgraph/logger';
import { normalizePhone } from '../domain/customer-input.js';
import { CustomerRepository } from './customer.repository.js';
import type * as schema from './schema.js';

/** Seeds the demo customers in one transaction, only into an empty table, so it never runs twice. */
export async function seedDemoData(db: Database<typeof schema>, logger: Logger): Promise<void> {
  await transact(db, async (tx) => {
    const repository = new CustomerRepository(tx);
    if (!(await repository.isEmpty())) return;
    const { customers } = generateDemoData();
    await repository.insertMany(
      customers.map((c) => ({ ...c, phone: normalizePhone(c.phone), updatedAt: c.createdAt })),
    );
    logger.info({ customers: customers.length }, 'demo data seeded');
  });
}
