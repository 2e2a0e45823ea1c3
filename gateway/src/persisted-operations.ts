import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApolloServerPlugin, BaseContext, GraphQLRequest } from '@apollo/server';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { ConfigError } from '@stockgraph/config';
import type { Logger } from '@stockgraph/logger';
import { capForLog } from '@stockgraph/server';
import { GraphQLError, Kind, parse } from 'graphql';
import { BoundedRedisStore, inProcessStore } from './apq-store.js';
import type { GatewayEnv } from './env.js';
import type { RedisClient } from './redis.js';

export const OPERATION_NOT_TRUSTED = 'OPERATION_NOT_TRUSTED';

/** How long an automatically persisted operation stays registered after its last registration. */
export const APQ_TTL_SECONDS = 24 * 60 * 60;

/**
 * Refusal of an operation that is not in the manifest while only trusted documents run. A client
 * error: sending it again will not help, shipping the operation in the manifest will.
 */
export class OperationNotTrustedError extends GraphQLError {
  constructor() {
    super(
      'Only operations from the persisted-operation manifest run here: send the sha256Hash of a shipped operation',
      {
        extensions: { code: OPERATION_NOT_TRUSTED, http: { status: 400 } },
      },
    );
  }
}

const REFUSED = 'query OperationNotTrusted { __typename }';

/** sha256 hex of an operation's text: the APQ hash, and the key of the codegen manifest. */
export function operationHash(document: string): string {
  return createHash('sha256').update(document).digest('hex');
}

/**
 * The manifest `pnpm codegen` writes (`{"sha256:<hex>": "<document>"}`), keyed by bare hex as
 * clients send it. Every entry must hash to its key, or a typo in a hand edit would let the gateway
 * run a document other than the one reviewed: that stops the gateway at start.
 */
export function readManifest(path: string): Map<string, string> {
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError('gateway', [
      `PERSISTED_OPERATIONS_PATH=${JSON.stringify(path)}: cannot read the manifest (${(error as Error).message})`,
    ]);
  }
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    throw new ConfigError('gateway', [
      `PERSISTED_OPERATIONS_PATH=${JSON.stringify(path)}: the manifest must be a JSON object of hash → document`,
    ]);
  }
  const manifest = new Map<string, string>();
  const problems: string[] = [];
  for (const [key, document] of Object.entries(entries)) {
    const hash = key.replace(/^sha256:/, '');
    if (typeof document !== 'string' || operationHash(document) !== hash)
      problems.push(`PERSISTED_OPERATIONS_PATH: manifest entry ${key} is not the sha256 of its document`);
    else manifest.set(hash, document);
  }
  if (problems.length > 0) throw new ConfigError('gateway', problems);
  return manifest;
}

/** The operation names of the manifest: the names that get their own metric series. */
export function manifestOperationNames(manifest: ReadonlyMap<string, string>): Set<string> {
  const names = new Set<string>();
  for (const document of manifest.values()) {
    for (const definition of parse(document).definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) names.add(definition.name.value);
    }
  }
  return names;
}

export interface PersistedOperationsOptions<TContext extends BaseContext> {
  /** Trusted documents by hash, from the codegen manifest. */
  manifest: ReadonlyMap<string, string>;
  /** Where automatically persisted operations live: shared Redis, or this process's memory. */
  store: KeyValueCache<string>;
  /** Production setting for mobile builds: run nothing that is not in the manifest. */
  trustedOnly: boolean;
  /** Largest document (UTF-8 bytes) stored as an APQ registration; larger ones run but are not kept. */
  maxDocumentBytes: number;
  /**
   * Whether this caller's registrations may be stored. Called once the operation passed every check
   * (authorization included), so a refused operation is never stored whoever sends it.
   */
  mayRegister: (context: TContext) => boolean;
  logger: Logger;
  /** Told, for each request that names a hash (or every request when trusted-only), whether its document was found. */
  onLookup?: (hit: boolean) => void;
}

function persistedHash(request: GraphQLRequest): string | undefined {
  const persisted = request.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
}

/**
 * Persisted operations at the gateway. A request that carries only `extensions.persistedQuery.sha256Hash`
 * gets its document from the manifest, else from the shared APQ store; a registration (text and hash)
 * is stored once the operation has validated, for every replica to find. Apollo Server then checks
 * the hash against the text as usual, and answers PERSISTED_QUERY_NOT_FOUND for a hash nobody knows,
 * which makes APQ clients send the text.
 *
 * With `trustedOnly`, anything whose hash is not in the manifest is refused with OPERATION_NOT_TRUSTED
 * before it is parsed, so untrusted text costs no parsing and learns nothing about the schema from
 * validation messages.
 */
export function persistedOperationsPlugin<TContext extends BaseContext>(
  options: PersistedOperationsOptions<TContext>,
): ApolloServerPlugin<TContext> {
  const { manifest, store, trustedOnly, maxDocumentBytes, mayRegister, logger } = options;
  const onLookup = options.onLookup ?? (() => {});
  return {
    async requestDidStart({ request }) {
      const hash = persistedHash(request);
      if (trustedOnly) {
        const key = request.query === undefined ? hash : operationHash(request.query);
        const trusted = key !== undefined && manifest.has(key);
        onLookup(trusted);
        if (trusted) {
          request.query ??= manifest.get(key);
          return {};
        }
        logger.info(
          { hash: capForLog(key), operation: capForLog(request.operationName) },
          'refused an operation that is not in the manifest',
        );
        // Apollo turns an error thrown this early into a 500. So the untrusted text is swapped, unparsed,
        // for a stand-in named after the refusal, and the refusal is thrown where Apollo answers it as
        // it should: 400, logged and counted under its code (and the stand-in's name).
        request.query = REFUSED;
        request.operationName = undefined;
        delete request.extensions?.persistedQuery;
        return {
          async didResolveOperation() {
            throw new OperationNotTrustedError();
          },
        };
      }
      if (hash === undefined) return {};
      if (request.query === undefined) {
        request.query = manifest.get(hash) ?? (await store.get(hash));
        onLookup(request.query !== undefined);
        return {};
      }
      if (manifest.has(hash)) return {};
      if (Buffer.byteLength(request.query, 'utf8') > maxDocumentBytes) return {};
      return {
        // Only a document that parsed, validated (its hash verified by Apollo) and passed every plugin's
        // checks — authentication, authorization, limits — is shared; execution starts only after them.
        async executionDidStart({ contextValue }) {
          if (mayRegister(contextValue)) await store.set(hash, request.query!, { ttl: APQ_TTL_SECONDS });
        },
      };
    },
  };
}

export interface PersistedOperationsRuntime<TContext extends BaseContext> {
  plugin: ApolloServerPlugin<TContext>;
  /** The manifest's operation names. */
  operationNames: ReadonlySet<string>;
  /** The manifest's document of this exact text; undefined when it is not in the manifest. */
  manifestDocument(query: string): string | undefined;
}

/**
 * The plugin as the environment configures it: the manifest, and the APQ store on the cache Redis
 * (bounded in entries) or in this process's memory (bounded in bytes and entries).
 */
export function persistedOperationsFromEnv<TContext extends BaseContext>(
  env: GatewayEnv,
  logger: Logger,
  redis: RedisClient | undefined,
  mayRegister: (context: TContext) => boolean,
  onLookup?: (hit: boolean) => void,
): PersistedOperationsRuntime<TContext> {
  const manifest = readManifest(env.PERSISTED_OPERATIONS_PATH);
  const store = redis
    ? new BoundedRedisStore(redis, `${env.REDIS_KEY_PREFIX}apq:`, env.APQ_MAX_ENTRIES, logger)
    : inProcessStore(env.APQ_MAX_ENTRIES);
  logger.info(
    { operations: manifest.size, store: redis ? 'redis' : 'memory', trustedOnly: env.TRUSTED_DOCUMENTS_ONLY },
    'persisted operations',
  );
  const plugin = persistedOperationsPlugin<TContext>({
    manifest,
    store,
    trustedOnly: env.TRUSTED_DOCUMENTS_ONLY,
    maxDocumentBytes: env.APQ_MAX_DOCUMENT_BYTES,
    mayRegister,
    logger,
    onLookup,
  });
  return {
    plugin,
    operationNames: manifestOperationNames(manifest),
    manifestDocument: (query) => manifest.get(operationHash(query)),
  };
}
