/**
 * `pnpm start`: the whole supergraph in one process on embedded defaults — one PGlite database
 * (a schema per subgraph, in .data/pglite) shared by the four subgraphs, each on its own port, and the
 * gateway in front. With DATABASE_URL set, the subgraphs use that PostgreSQL server instead.
 * Production runs each service as its own process (`pnpm --filter @stockgraph/<name> start`).
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { baseEnvShape, exitOnConfigError, parseEnv, parseSubgraphEnv, postgresUrl, z } from '@stockgraph/config';
import { DEMO_PASSWORD, DEMO_ROLES } from '@stockgraph/demo-data';
import { createMemoryBus } from '@stockgraph/events';
import { startCustomers } from '@stockgraph/customers';
import { startGateway } from '@stockgraph/gateway';
import { parseGatewayEnv } from '@stockgraph/gateway/env';
import { startInventory } from '@stockgraph/inventory';
import { createLogger } from '@stockgraph/logger';
import { parseOrdersEnv, startOrders } from '@stockgraph/orders';
import { parseUsersEnv, startUsers } from '@stockgraph/users';

const started = performance.now();
try {
  const env = parseEnv('start', {
    ...baseEnvShape,
    PORT: z.coerce.number().int().min(1).max(65530).default(4000),
    DATABASE_URL: postgresUrl.optional(),
    PGLITE_DIR: z.string().min(1).default('.data/pglite'),
  });
  if (env.NODE_ENV === 'production') {
    throw new Error('pnpm start is the development launcher; run each service on its own in production (see README).');
  }
  const logger = createLogger('stockgraph', env.LOG_LEVEL);
  let pglite: PGlite | undefined;
  if (!env.DATABASE_URL) {
    mkdirSync(env.PGLITE_DIR, { recursive: true });
    pglite = await PGlite.create(env.PGLITE_DIR);
  }
  const services: { stop(): Promise<void> }[] = [];
  const portOf = (offset: number) => String(env.PORT + offset);
  // One in-process event bus links the services unless REDIS_URL names a real one.
  const bus = process.env.REDIS_URL ? undefined : createMemoryBus();
  const users = await startUsers({
    env: parseUsersEnv({ ...process.env, PORT: portOf(1) }),
    pglite,
    bus,
    logger: logger.child({ service: 'users' }),
  });
  services.push(users);
  // Every other service verifies tokens against the users service's published keys.
  const JWKS_URL = new URL('/.well-known/jwks.json', users.url).toString();
  const urls: Record<string, string> = { USERS_URL: users.url };
  const shared = { ...process.env, JWKS_URL };
  const common = { pglite, bus };
  const inventory = await startInventory({
    ...common,
    env: parseSubgraphEnv('inventory', 0, { ...shared, PORT: portOf(2) }),
    logger: logger.child({ service: 'inventory' }),
  });
  const orders = await startOrders({
    ...common,
    env: parseOrdersEnv({ ...shared, PORT: portOf(3) }),
    logger: logger.child({ service: 'orders' }),
  });
  const customers = await startCustomers({
    ...common,
    env: parseSubgraphEnv('customers', 0, { ...shared, PORT: portOf(4) }),
    logger: logger.child({ service: 'customers' }),
  });
  services.push(inventory, orders, customers);
  Object.assign(urls, { INVENTORY_URL: inventory.url, ORDERS_URL: orders.url, CUSTOMERS_URL: customers.url });
  const gateway = await startGateway({
    env: parseGatewayEnv({ ...process.env, ...urls, JWKS_URL, PORT: String(env.PORT) }),
    logger: logger.child({ service: 'gateway' }),
  });
  services.unshift(gateway);

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    [
      '',
      `Stockgraph is up in ${seconds}s (${pglite ? `embedded PGlite in ${env.PGLITE_DIR}` : 'PostgreSQL from DATABASE_URL'}).`,
      `  GraphQL endpoint: ${gateway.url}`,
      ...(gateway.explorerUrl ? [`  Schema explorer: ${gateway.explorerUrl}`] : []),
      `  Demo users (development only): ${DEMO_ROLES.map((r) => `${r.toLowerCase()}@stockgraph.local`).join(', ')}`,
      `  Demo password: ${DEMO_PASSWORD}`,
      '',
    ].join('\n'),
  );

  const stop = async () => {
    for (const service of services) await service.stop();
    await pglite?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} catch (error) {
  exitOnConfigError(error);
}
