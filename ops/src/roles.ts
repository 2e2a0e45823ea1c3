/**
 * `db:migrate --create-roles` (or DB_CREATE_ROLES=true): after migrating, gives each subgraph a login
 * role that owns its schema and nothing else (packages/db/src/roles.ts). The role's user and password
 * are those of <NAME>_SERVICE_DATABASE_URL, the URL that service connects with (one Secret holds the
 * password), or `stockgraph_<name>` without a password when it is unset.
 */
import { booleanFromEnv, ConfigError, postgresUrl, type z } from '@stockgraph/config';
import { grantServiceRoles, serviceRoleFrom } from '@stockgraph/db';
import type { Logger } from '@stockgraph/logger';
import { serviceDatabaseUrlVariable, subgraphEntry, SUBGRAPHS } from '@stockgraph/registry';

export const serviceRolesEnvShape = {
  DB_CREATE_ROLES: booleanFromEnv.default(false),
  // USERS_SERVICE_DATABASE_URL, INVENTORY_SERVICE_DATABASE_URL, … for each subgraph of the registry.
  ...(Object.fromEntries(
    SUBGRAPHS.map((entry) => [serviceDatabaseUrlVariable(entry), postgresUrl.optional()]),
  ) as Record<`${(typeof SUBGRAPHS)[number]['envPrefix']}_SERVICE_DATABASE_URL`, z.ZodOptional<typeof postgresUrl>>),
};

type RolesEnv = { DB_CREATE_ROLES: boolean } & Partial<Record<`${string}_SERVICE_DATABASE_URL`, string>>;

/** Whether this run was asked to create the roles. */
export function wantsRoles(env: RolesEnv, argv: string[] = process.argv): boolean {
  return env.DB_CREATE_ROLES || argv.includes('--create-roles');
}

/** `urls`: the administrator's URL per subgraph (the one the migrations ran with). */
export async function createServiceRoles(
  subgraphs: { name: string; pgSchema: string }[],
  urls: Record<string, string | undefined>,
  env: RolesEnv,
  logger: Logger,
): Promise<void> {
  for (const { name, pgSchema } of subgraphs) {
    const url = urls[name];
    if (!url)
      throw new ConfigError('db:migrate', [`--create-roles: ${name} has no PostgreSQL URL (roles need a server)`]);
    const role = serviceRoleFrom(pgSchema, env[`${subgraphEntry(name).envPrefix}_SERVICE_DATABASE_URL`]);
    await grantServiceRoles(url, [role]);
    logger.info({ subgraph: name, role: role.role }, 'role owns the schema');
  }
}
