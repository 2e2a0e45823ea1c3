import { parseEnv, postgresUrl, z } from '@stockgraph/config';
import { databaseUrlVariable, SUBGRAPHS, type SubgraphName } from '@stockgraph/registry';

/** The databases `db migrate` targets: `<NAME>_DATABASE_URL`, else `DATABASE_URL`, else embedded PGlite. */
export interface Targets {
  urls: Record<SubgraphName, string | undefined>;
  pgliteDir: string;
}

type DatabaseUrlVariable = `${(typeof SUBGRAPHS)[number]['envPrefix']}_DATABASE_URL`;

/** The one env shape of the migration targets: `stockgraph db migrate`, `pnpm db:migrate` and the migration job read it. */
export const targetsEnvShape = {
  DATABASE_URL: postgresUrl.optional(),
  // USERS_DATABASE_URL, INVENTORY_DATABASE_URL, … for each subgraph of the registry.
  ...(Object.fromEntries(SUBGRAPHS.map((entry) => [databaseUrlVariable(entry), postgresUrl.optional()])) as Record<
    DatabaseUrlVariable,
    z.ZodOptional<typeof postgresUrl>
  >),
  PGLITE_DIR: z.string().min(1).default('.data/pglite'),
};

type TargetsEnv = Partial<Record<'DATABASE_URL' | DatabaseUrlVariable, string>>;

export function targetUrls(env: TargetsEnv): Record<SubgraphName, string | undefined> {
  return Object.fromEntries(
    SUBGRAPHS.map((entry) => [entry.name, env[`${entry.envPrefix}_DATABASE_URL`] ?? env.DATABASE_URL]),
  ) as Record<SubgraphName, string | undefined>;
}

export function resolveTargets(source: NodeJS.ProcessEnv = process.env): Targets {
  const env = parseEnv('stockgraph', targetsEnvShape, source);
  return { urls: targetUrls(env), pgliteDir: env.PGLITE_DIR };
}
