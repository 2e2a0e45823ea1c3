import { transact, type Database } from '@stockgraph/db';
import { DEMO_PASSWORD, generateDemoData } from '@stockgraph/demo-data';
import type { Logger } from '@stockgraph/logger';
import { hashPassword } from '../domain/passwords.js';
import type * as schema from './schema.js';
import { UserRepository } from './user.repository.js';

/** One demo user per role, password "stockgraph"; only into an empty table and never in production. */
export async function seedDemoData(db: Database<typeof schema>, logger: Logger): Promise<void> {
  await transact(db, async (tx) => {
    const repository = new UserRepository(tx);
    // Checked first: generating the demo history and hashing the password cost every start ~0.4 s.
    if (!(await repository.isEmpty())) return;
    const { users } = generateDemoData();
    const passwordHash = await hashPassword(DEMO_PASSWORD);
    await repository.insertMany(users.map((u) => ({ ...u, passwordHash, updatedAt: u.createdAt })));
    logger.info({ users: users.map((u) => u.email) }, 'demo users seeded');
  });
}
