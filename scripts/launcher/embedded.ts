import { cpSync, mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { baseEnvShape, parseEnv, postgresUrl, z } from '@stockgraph/config';
import { openPglite } from '@stockgraph/db';
import { createMemoryBus, type EventBus } from '@stockgraph/events';
import { createLogger, type Logger } from '@stockgraph/logger';
import { currentTemplate, isFreshDataDir } from '@stockgraph/ops';
import type { Timings } from './timings.js';

export function parseLauncherEnv(name: string) {
  const env = parseEnv(name, {
    ...baseEnvShape,
    PORT: z.coerce.number().int().min(1).max(65530).default(4000),
    DATABASE_URL: postgresUrl.optional(),
    PGLITE_DIR: z.string().min(1).default('.data/pglite'),
  });
  if (env.NODE_ENV === 'production') {
    throw new Error(`pnpm ${name} is a development launcher; run each service on its own in production (see README).`);
  }
  return env;
}

export interface Embedded {
  pglite: PGlite | undefined;
  bus: EventBus | undefined;
  logger: Logger;
  /** Where the data lives, for the banner. */
  source: string;
}

/** The one PGlite the subgraphs share (unless DATABASE_URL names a server) and the in-process bus. */
export async function openEmbedded(env: ReturnType<typeof parseLauncherEnv>, timings: Timings): Promise<Embedded> {
  const logger = createLogger('stockgraph', env.LOG_LEVEL);
  let pglite: PGlite | undefined;
  let loaded = false;
  if (!env.DATABASE_URL) {
    // An empty directory gets the seeded template instead of initdb, migrations and seeding.
    const template =
      isFreshDataDir(env.PGLITE_DIR) && process.env.SEED_DEMO_DATA !== 'false' ? currentTemplate() : undefined;
    mkdirSync(env.PGLITE_DIR, { recursive: true });
    loaded = template !== undefined;
    if (template)
      await timings.phase('database copied from the template', async () =>
        cpSync(template, env.PGLITE_DIR, { recursive: true }),
      );
    pglite = await timings.phase('database opened', () => openPglite(env.PGLITE_DIR));
  }
  // One in-process event bus links the services unless REDIS_URL names a real one.
  const bus = process.env.REDIS_URL ? undefined : createMemoryBus();
  const source = pglite
    ? `embedded PGlite in ${env.PGLITE_DIR}${loaded ? ', copied from the seeded template' : ''}`
    : 'PostgreSQL from DATABASE_URL';
  return { pglite, bus, logger, source };
}
