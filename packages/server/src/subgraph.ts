import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { PGlite } from '@electric-sql/pglite';
import type { SubgraphEnv } from '@stockgraph/config';
import { maintainPartitions, openDatabase, type Database, type PartitionedTable } from '@stockgraph/db';
import { createLogger, type Logger } from '@stockgraph/logger';
import type { Request } from 'express';
import type { DocumentNode } from 'graphql';
import { createMetrics } from './metrics.js';
import { startService, type RunningService } from './service.js';

export interface SubgraphDefinition<TSchema extends Record<string, unknown>, TContext extends object> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: unknown;
  dbSchema: TSchema;
  /** The Postgres schema the service owns; its migrations are recorded there too. */
  pgSchema: string;
  migrationsFolder: string;
  partitionedTables?: PartitionedTable[];
  /** Inserts the demo data when the service's tables are empty; must be a no-op otherwise. */
  seed?: (db: Database<TSchema>, logger: Logger) => Promise<void>;
  createContext: (db: Database<TSchema>, req: Request) => TContext;
}

export interface SubgraphRuntime {
  env: Readonly<SubgraphEnv>;
  /** The embedded launcher shares one PGlite between services. */
  pglite?: PGlite;
  logger?: Logger;
}

export interface RunningSubgraph<TSchema extends Record<string, unknown>> extends RunningService {
  db: Database<TSchema>;
}

/** Opens the database, migrates, keeps partitions ahead, seeds (development), and serves. */
export async function startSubgraph<TSchema extends Record<string, unknown>, TContext extends object>(
  definition: SubgraphDefinition<TSchema, TContext>,
  runtime: SubgraphRuntime,
): Promise<RunningSubgraph<TSchema>> {
  const { env } = runtime;
  const logger = runtime.logger ?? createLogger(definition.name, env.LOG_LEVEL);
  const metrics = createMetrics(definition.name);
  const handle = await openDatabase({
    url: env.DATABASE_URL,
    pglite: runtime.pglite,
    pgliteDir: env.PGLITE_DIR ?? `.data/pglite-${definition.name}`,
    poolMax: env.DATABASE_POOL_MAX,
    schema: definition.dbSchema,
    logger,
    onQuery: () => metrics.sqlStatements.inc(),
  });
  try {
    await handle.migrate(definition.migrationsFolder, definition.pgSchema);
    const partitions = maintainPartitions(handle.db, definition.partitionedTables ?? [], logger);
    await partitions.ready;
    logger.info({ driver: handle.driver, schema: definition.pgSchema }, 'database migrated');
    if (definition.seed && (env.SEED_DEMO_DATA ?? env.NODE_ENV === 'development')) {
      await definition.seed(handle.db, logger);
    }
    const schema = buildSubgraphSchema({
      typeDefs: definition.typeDefs,
      // Codegen's resolver types are stricter than Apollo's map type; the SDL check in buildSubgraphSchema is what matters.
      resolvers: definition.resolvers as never,
    });
    const service = await startService<TContext>({
      name: definition.name,
      host: env.HOST,
      port: env.PORT,
      logger,
      metrics,
      apollo: { schema },
      context: async (req) => definition.createContext(handle.db, req),
      readiness: { database: () => handle.ping() },
      introspection: env.NODE_ENV !== 'production',
      // Inline traces feed Apollo Studio, which we do not use; OpenTelemetry carries our traces.
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    return {
      ...service,
      db: handle.db,
      stop: async () => {
        partitions.stop();
        await service.stop();
        await handle.close();
      },
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
