import type { Database } from '@stockgraph/db';
import { enqueue } from '@stockgraph/events';
import { CustomerRepository } from './db/customer.repository.js';
import type * as schema from './db/schema.js';
import { outbox, type CustomerRow, type NewCustomerRow } from './db/schema.js';

export const CUSTOMERS_STREAM = 'customers';

/** Creating a customer announces it (in the same transaction) so orders can accept orders for it. */
export class CustomerRegistry {
  constructor(
    private readonly db: Database<typeof schema>,
    private readonly wakeRelay: () => void,
  ) {}

  async create(row: NewCustomerRow): Promise<CustomerRow> {
    const created = await this.db.transaction(async (tx) => {
      const customer = await new CustomerRepository(tx as never).insert(row);
      await enqueue(tx as never, outbox, CUSTOMERS_STREAM, [{ type: 'CustomerCreated', payload: { customerId: customer.id } }]);
      return customer;
    });
    this.wakeRelay();
    return created;
  }
}
