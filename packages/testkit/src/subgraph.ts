import { parseSubgraphEnv, type SubgraphEnv } from '@stockgraph/config';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * Starts one subgraph in the test process on a fresh PostgreSQL database with the demo data, for
 * the whole test file, and removes both afterwards. Read `.current` inside tests.
 */
export function useSubgraph<S extends { url: string; stop(): Promise<void> }>(
  name: string,
  start: (runtime: { env: Readonly<SubgraphEnv> }) => Promise<S>,
): { current: S } {
  const holder = {} as { current: S };
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(name);
    const env = parseSubgraphEnv(name, 0, { DATABASE_URL: database.url, SEED_DEMO_DATA: 'true', LOG_LEVEL: 'silent' });
    holder.current = await start({ env });
  });
  afterAll(async () => {
    await holder.current?.stop();
    await database?.drop();
  });
  return holder;
}
