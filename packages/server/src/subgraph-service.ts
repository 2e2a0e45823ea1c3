import type { AuthContext } from '@stockgraph/auth';
import type { SubgraphEnv } from '@stockgraph/config';
import type { RunningService } from './service.js';
import type { SubgraphDefinition, SubgraphRuntime } from './subgraph.js';

/**
 * What every subgraph package exports as `service`: the launcher, the migration tools, the demo
 * template and the manifest validator load a subgraph through it, by the registry's entry
 * (@stockgraph/registry), so none of them lists the subgraphs or knows one's start function.
 */
export interface SubgraphService {
  /**
   * Its tables, migrations, partitions and seed, for the tools. Typed for any schema and context:
   * each subgraph's differ, and the tools only use what all definitions share.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the existential over each subgraph's own schema and context
  readonly definition: SubgraphDefinition<any, any>;
  /** Its environment, validated as its own server.ts reads it. */
  parseEnv(source: NodeJS.ProcessEnv): Readonly<SubgraphEnv>;
  /** Starts it with its environment read from `source`. */
  start(runtime: Omit<SubgraphRuntime, 'env'>, source: NodeJS.ProcessEnv): Promise<RunningService>;
}

/** A subgraph's `service`, from its definition, its env parser and its start function. */
export function subgraphService<
  TSchema extends Record<string, unknown>,
  TContext extends AuthContext,
  TEnv extends Readonly<SubgraphEnv>,
>(parts: {
  definition: SubgraphDefinition<TSchema, TContext>;
  parseEnv(source: NodeJS.ProcessEnv): TEnv;
  start(runtime: Omit<SubgraphRuntime, 'env'> & { env: TEnv }): Promise<RunningService>;
}): SubgraphService {
  return {
    definition: parts.definition,
    parseEnv: parts.parseEnv,
    start: (runtime, source) => parts.start({ ...runtime, env: parts.parseEnv(source) }),
  };
}
