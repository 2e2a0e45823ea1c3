/**
 * The whole supergraph in one process: the four subgraphs on one shared PGlite (or DATABASE_URL) and
 * one in-process event bus, and the gateway in front. Shared by `pnpm start` and `pnpm dev`; the dev
 * loop passes its own module loader so a reloaded subgraph gets freshly imported code.
 */
import type { PGlite } from '@electric-sql/pglite';
import { parseSubgraphEnv } from '@stockgraph/config';
import type { EventBus } from '@stockgraph/events';
import type { Logger } from '@stockgraph/logger';
import {
  SUBGRAPHS,
  SUBGRAPH_NAMES,
  subgraphEntry,
  tokenIssuer,
  urlVariable,
  type SubgraphEntry,
  type SubgraphName,
} from '@stockgraph/registry';
import type { SubgraphService } from '@stockgraph/server';
import { loadSubgraphService } from '@stockgraph/ops';
import type { Timings } from './timings.js';

export { type SubgraphName } from '@stockgraph/registry';

export interface Running {
  url: string;
  stop(): Promise<void>;
}

/** Loads a subgraph's service module; the dev loop's loader bypasses the module cache. */
export type Load = (entry: SubgraphEntry) => Promise<SubgraphService>;

/**
 * Starts loading every service's modules without waiting for them, so the loading overlaps with
 * opening the database (PGlite compiles its WebAssembly off the main thread). A module that fails to
 * load fails again, with its error, when its service starts.
 */
export function preloadServices(): void {
  for (const entry of SUBGRAPHS) loadSubgraphService(entry).catch(() => {});
  import('@stockgraph/gateway').catch(() => {});
}

export interface StackContext {
  /** The gateway's port; each subgraph listens on PORT + its registry's port offset. */
  port: number;
  pglite: PGlite | undefined;
  bus: EventBus | undefined;
  logger: Logger;
  timings: Timings;
}

/** Every other service verifies tokens against the token issuer's (users') published keys. */
function jwksUrl(context: StackContext): string {
  const issuer = tokenIssuer();
  const { HOST, PORT } = parseSubgraphEnv(issuer.name, 0, {
    ...process.env,
    PORT: String(context.port + issuer.portOffset),
  });
  return new URL('/.well-known/jwks.json', `http://${HOST}:${PORT}`).toString();
}

/** Starts (or, in the dev loop, restarts) one subgraph with code from `load`. */
export async function startSubgraph(
  name: SubgraphName,
  context: StackContext,
  load: Load = loadSubgraphService,
): Promise<Running> {
  const { pglite, bus } = context;
  const entry = subgraphEntry(name);
  const port = String(context.port + entry.portOffset);
  // The issuer verifies tokens with its own key; the others against its JWKS.
  const env =
    entry === tokenIssuer()
      ? { ...process.env, PORT: port }
      : { ...process.env, PORT: port, JWKS_URL: jwksUrl(context) };
  // Marks the subgraph's own log lines, so --timings splits migrating from seeding.
  const logger = context.logger.child({ service: name });
  const runtime = { pglite, bus, logger: withMarks(logger, name, context.timings) };
  return context.timings.phase(`${name} ready`, async () => (await load(entry)).start(runtime, env));
}

/** The subgraphs' URLs as the gateway's environment names them. */
export function subgraphUrls(port: number): Record<string, string> {
  return Object.fromEntries(
    SUBGRAPHS.map((entry) => [urlVariable(entry), `http://127.0.0.1:${port + entry.portOffset}/graphql`]),
  );
}

export async function startGatewayOf(
  context: StackContext,
  extraEnv: Record<string, string> = {},
): Promise<Running & { explorerUrl?: string }> {
  return context.timings.phase('gateway ready', async () => {
    const [{ startGateway }, { parseGatewayEnv }] = await Promise.all([
      import('@stockgraph/gateway'),
      import('@stockgraph/gateway/env'),
    ]);
    return startGateway({
      env: parseGatewayEnv({
        ...process.env,
        ...subgraphUrls(context.port),
        JWKS_URL: jwksUrl(context),
        PORT: String(context.port),
        ...extraEnv,
      }),
      logger: context.logger.child({ service: 'gateway' }),
      // Subscriptions follow the services' in-process bus when they share it (no REDIS_URL).
      bus: context.bus,
    });
  });
}

/** Starts the four subgraphs side by side: they share nothing but the database and the bus. */
export async function startSubgraphs(context: StackContext): Promise<Map<SubgraphName, Running>> {
  const started = await Promise.allSettled(SUBGRAPH_NAMES.map((name) => startSubgraph(name, context)));
  const running = new Map<SubgraphName, Running>();
  started.forEach((result, i) => result.status === 'fulfilled' && running.set(SUBGRAPH_NAMES[i]!, result.value));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    for (const service of running.values()) await service.stop().catch(() => {});
    throw failed.reason;
  }
  return running;
}

function withMarks(logger: Logger, name: string, timings: Timings): Logger {
  const marked = ['database migrated', 'demo data seeded', 'demo users seeded'];
  const info = logger.info.bind(logger);
  return new Proxy(logger, {
    get(target, key, receiver) {
      if (key === 'info') {
        return (...args: Parameters<Logger['info']>) => {
          const message = args.find((a): a is string => typeof a === 'string');
          if (message && marked.includes(message)) timings.mark(`${name} ${message}`);
          return info(...args);
        };
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}
