import { misuse } from './errors.js';
import { parseEnv, postgresUrl, z } from '@stockgraph/config';

export const SUBGRAPH_NAMES = ['users', 'inventory', 'orders', 'customers'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** The databases `db migrate` targets: `<NAME>_DATABASE_URL`, else `DATABASE_URL`, else embedded PGlite. */
export interface Targets {
  urls: Record<SubgraphName, string | undefined>;
  pgliteDir: string;
}

/** The one env shape of the migration targets: `db migrate` here and scripts/db-migrate.ts both read it. */
export const targetsEnvShape = {
  DATABASE_URL: postgresUrl.optional(),
  USERS_DATABASE_URL: postgresUrl.optional(),
  INVENTORY_DATABASE_URL: postgresUrl.optional(),
  ORDERS_DATABASE_URL: postgresUrl.optional(),
  CUSTOMERS_DATABASE_URL: postgresUrl.optional(),
  PGLITE_DIR: z.string().min(1).default('.data/pglite'),
};

type TargetsEnv = Partial<
  Record<
    'DATABASE_URL' | 'USERS_DATABASE_URL' | 'INVENTORY_DATABASE_URL' | 'ORDERS_DATABASE_URL' | 'CUSTOMERS_DATABASE_URL',
    string
  >
>;

export function targetUrls(env: TargetsEnv): Record<SubgraphName, string | undefined> {
  return {
    users: env.USERS_DATABASE_URL ?? env.DATABASE_URL,
    inventory: env.INVENTORY_DATABASE_URL ?? env.DATABASE_URL,
    orders: env.ORDERS_DATABASE_URL ?? env.DATABASE_URL,
    customers: env.CUSTOMERS_DATABASE_URL ?? env.DATABASE_URL,
  };
}

export function resolveTargets(source: NodeJS.ProcessEnv = process.env): Targets {
  const env = parseEnv('stockgraph', targetsEnvShape, source);
  return { urls: targetUrls(env), pgliteDir: env.PGLITE_DIR };
}

/** Commands that bulk-load or dump need a real server: say so once, clearly. */
export function requirePostgres(targets: Targets, command: string): Record<SubgraphName, string> {
  const missing = SUBGRAPH_NAMES.filter((name) => !targets.urls[name]);
  if (missing.length > 0) {
    throw misuse(
      `${command} needs PostgreSQL: set DATABASE_URL (or ${missing.map((n) => `${n.toUpperCase()}_DATABASE_URL`).join(', ')})`,
    );
  }
  return targets.urls as Record<SubgraphName, string>;
}

export { redactUrl } from '@stockgraph/config';
