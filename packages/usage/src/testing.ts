import { createHash } from 'node:crypto';
import type { BaseContext, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { getOperationAST, type GraphQLSchema, parse, validate } from 'graphql';
import type { UsageEnv } from './env.js';
import type { UsageRecorder } from './recorder.js';

/**
 * For tests: hands one operation to a recorder's plugin as Apollo's request pipeline does (parse,
 * validate, pick the operation, didResolveOperation). Apollo itself is not run: under vitest it loads
 * graphql's CommonJS build while workspace code gets the ES module one, and graphql-js refuses schemas
 * from the other build (see vitest.config.ts); in the gateway both are the same.
 */
export async function recordOperation<TContext extends BaseContext>(
  recorder: UsageRecorder<TContext>,
  request: {
    schema: GraphQLSchema;
    contextValue: TContext;
    query: string;
    variables?: Record<string, unknown>;
    operationName?: string;
  },
): Promise<GraphQLRequestContextDidResolveOperation<TContext>> {
  const { schema, contextValue, query, variables, operationName } = request;
  const document = parse(query);
  const errors = validate(schema, document);
  if (errors.length > 0) throw new Error(`invalid operation: ${errors.map((e) => e.message).join('; ')}`);
  const operation = getOperationAST(document, operationName) ?? undefined;
  const requestContext = {
    request: { query, variables, operationName },
    schema,
    contextValue,
    source: query,
    queryHash: createHash('sha256').update(query).digest('hex'),
    document,
    operation,
    operationName: operation?.name?.value ?? null,
  } as GraphQLRequestContextDidResolveOperation<TContext>;
  const listener = await recorder.plugin.requestDidStart?.(requestContext);
  await listener?.didResolveOperation?.(requestContext);
  return requestContext;
}

/** A recorder's settings for tests: every record kept, flushed by hand (the timer never fires during a test). */
export function usageTestEnv(url: string, overrides: Partial<UsageEnv> = {}): UsageEnv {
  return {
    USAGE_DATABASE_URL: url,
    USAGE_SAMPLE_RATE: 1,
    USAGE_FLUSH_SECONDS: 3600,
    USAGE_RETENTION_DAYS: 30,
    USAGE_MAX_KEYS: 50_000,
    USAGE_MAX_CLIENTS_PER_HOUR: 200,
    ...overrides,
  };
}
