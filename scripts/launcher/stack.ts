/**
 * The whole supergraph in one process: the four subgraphs on one shared PGlite (or DATABASE_URL) and
 * one in-process event bus, and the gateway in front. Shared by `pnpm start` and `pnpm dev`; the dev
 * loop passes its own module loader so a reloaded subgraph gets freshly imported code.
 */
import type { PGlite } from '@electric-sql/pglite';
import { parseSubgraphEnv } from '@stockgraph/config';
import type { EventBus } from '@stockgraph/events';
import type * as Customers from '@stockgraph/customers';
import type * as Inventory from '@stockgraph/inventory';
import type { Logger } from '@stockgraph/logger';
import type * as Orders from '@stockgraph/orders';
import type * as Users from '@stockgraph/users';
import type { Timings } from './timings.js';

export const SUBGRAPHS = ['users', 'inventory', 'orders', 'customers'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

export interface Running {
  url: string;
  stop(): Promise<void>;
}

/** Imports a module by specifier; the dev loop's loader bypasses the module cache. */
export type Load = <T>(specifier: string) => Promise<T>;

// Literal specifiers, so the bundle `pnpm start` runs from contains the subgraphs.
const subgraphPackages: Record<string, () => Promise<unknown>> = {
  '@stockgraph/users': () => import('@stockgraph/users'),
  '@stockgraph/inventory': () => import('@stockgraph/inventory'),
  '@stockgraph/orders': () => import('@stockgraph/orders'),
  '@stockgraph/customers': () => import('@stockgraph/customers'),
};

export const importPackage: Load = async <T>(specifier: string) => {
  const load = subgraphPackages[specifier];
  return (load ? load() : import(specifier)) as Promise<T>;
};

/**
 * Starts loading every service's modules without waiting for them, so the loading overlaps with
 * opening the database (PGlite compiles its WebAssembly off the main thread). A module that fails to
 * load fails again, with its error, when its service starts.
 */
export function preloadServices(): void {
  for (const load of [...Object.values(subgraphPackages), () => import('@stockgraph/gateway')]) load().catch(() => {});
}

export interface StackContext {
  /** The gateway's port; subgraph N (1-based, in SUBGRAPHS order) listens on PORT + N. */
  port: number;
  pglite: PGlite | undefined;
  bus: EventBus | undefined;
  logger: Logger;
  timings: Timings;
}

const offset = (name: SubgraphName) => SUBGRAPHS.indexOf(name) + 1;

/** Every other service verifies tokens against the users service's published keys. */
function jwksUrl(context: StackContext): string {
  const { HOST, PORT } = usersEnv(context);
  return new URL('/.well-known/jwks.json', `http://${HOST}:${PORT}`).toString();
}

function usersEnv(context: StackContext) {
  return parseSubgraphEnv('users', 0, { ...process.env, PORT: String(context.port + offset('users')) });
}

/** Starts (or, in the dev loop, restarts) one subgraph with code from `load`. */
export async function startSubgraph(
  name: SubgraphName,
  context: StackContext,
  load: Load = importPackage,
): Promise<Running> {
  const { pglite, bus } = context;
  const env = { ...process.env, PORT: String(context.port + offset(name)), JWKS_URL: jwksUrl(context) };
  // Marks the subgraph's own log lines, so --timings splits migrating from seeding.
  const logger = context.logger.child({ service: name });
  const runtime = { pglite, bus, logger: withMarks(logger, name, context.timings) };
  return context.timings.phase(`${name} ready`, async () => {
    switch (name) {
      case 'users': {
        const m = await load<typeof Users>('@stockgraph/users');
        return m.startUsers({ ...runtime, env: m.parseUsersEnv({ ...process.env, PORT: env.PORT }) });
      }
      case 'inventory': {
        const m = await load<typeof Inventory>('@stockgraph/inventory');
        return m.startInventory({ ...runtime, env: m.parseInventoryEnv(env) });
      }
      case 'orders': {
        const m = await load<typeof Orders>('@stockgraph/orders');
        return m.startOrders({ ...runtime, env: m.parseOrdersEnv(env) });
      }
      case 'customers': {
        const m = await load<typeof Customers>('@stockgraph/customers');
        return m.startCustomers({ ...runtime, env: parseSubgraphEnv('customers', 0, env) });
      }
    }
  });
}

/** The subgraphs' URLs as the gateway's environment names them. */
export function subgraphUrls(port: number): Record<string, string> {
  return Object.fromEntries(
    SUBGRAPHS.map((name) => [`${name.toUpperCase()}_URL`, `http://127.0.0.1:${port + offset(name)}/graphql`]),
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
  const started = await Promise.allSettled(SUBGRAPHS.map((name) => startSubgraph(name, context)));
  const running = new Map<SubgraphName, Running>();
  started.forEach((result, i) => result.status === 'fulfilled' && running.set(SUBGRAPHS[i]!, result.value));
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
