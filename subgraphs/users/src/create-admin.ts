/**
 * Creates the first administrator of a deployment. Production seeds no users, so an operator runs this
 * once (a Kubernetes Job, or `kubectl exec` into a users pod):
 *   ADMIN_EMAIL=… ADMIN_PASSWORD=… DATABASE_URL=… node dist/subgraphs/users/src/create-admin.js
 * (in development: `pnpm --filter @stockgraph/users create-admin`). It migrates the users schema first,
 * and when the address already has an account it changes nothing and says so (exit 0), so running it
 * again is harmless and never resets a password.
 */
import { exitOnConfigError, parseEnv, postgresUrl, z } from '@stockgraph/config';
import { openDatabase } from '@stockgraph/db';
import { newId } from '@stockgraph/ids';
import { createLogger } from '@stockgraph/logger';
import { usersSubgraph } from './app.js';
import * as dbSchema from './db/schema.js';
import { UserRepository } from './db/user.repository.js';
import { hashPassword } from './domain/passwords.js';

try {
  const env = parseEnv('create-admin', {
    DATABASE_URL: postgresUrl,
    ADMIN_EMAIL: z
      .string()
      .email()
      .transform((e) => e.toLowerCase()),
    ADMIN_PASSWORD: z.string().min(12, 'at least 12 characters'),
    ADMIN_NAME: z.string().min(1).default('Administrator'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  });
  const logger = createLogger('create-admin', env.LOG_LEVEL);
  const handle = await openDatabase({ url: env.DATABASE_URL, schema: dbSchema, logger, poolMax: 1 });
  try {
    await handle.migrate(usersSubgraph.migrationsFolder, usersSubgraph.pgSchema);
    const now = new Date();
    const created = await new UserRepository(handle.db).insert({
      id: newId(now),
      email: env.ADMIN_EMAIL,
      name: env.ADMIN_NAME,
      role: 'ADMIN',
      passwordHash: await hashPassword(env.ADMIN_PASSWORD),
      createdAt: now,
      updatedAt: now,
    });
    logger.info(
      { email: env.ADMIN_EMAIL },
      created ? 'administrator created' : 'an account with this email exists; nothing changed',
    );
  } finally {
    await handle.close();
  }
} catch (error) {
  exitOnConfigError(error);
}
