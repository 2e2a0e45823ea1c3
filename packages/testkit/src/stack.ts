import { generateKeyPairSync } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from './database.js';
import { graphql } from './graphql.js';
import { startProcess, type ServiceProcess } from './process.js';
import { SUBGRAPHS, tokenIssuer, urlVariable, type SubgraphName } from '@stockgraph/registry';

export { type SubgraphName } from '@stockgraph/registry';

export interface Stack {
  database: TestDatabase;
  subgraphs: Record<SubgraphName, ServiceProcess>;
  gateway: ServiceProcess;
  /** The PKCS#8 PEM the users service signs with, so tests can forge tokens that are almost right. */
  signingKeyPem: string;
  /** Signs in through the gateway and returns the access and refresh tokens. */
  login(email: string, password?: string): Promise<{ accessToken: string; refreshToken: string }>;
  /** `Authorization` header for a demo user of this role. */
  as(role: 'ADMIN' | 'MANAGER' | 'STAFF' | 'VIEWER'): Promise<Record<string, string>>;
  /** One more gateway on the same subgraphs, configured differently; stopped with the stack. */
  startGateway(env?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Extra environment for every service. */
  env?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  /** Run on this database (e.g. one a test restored) instead of a fresh one; dropped by stop() all the same. */
  database?: TestDatabase;
  /** Arguments for Node itself, per service (`gateway` or a subgraph's name): e.g. `--cpu-prof` for a bench. */
  nodeArgs?: (service: string) => string[];
}

/**
 * The production shape for cross-service tests: each subgraph and the gateway its own process, on a
 * fresh database of the machine's PostgreSQL with the demo data, tokens signed with a known test key.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const database = options.database ?? (await createTestDatabase('stack'));
  const signingKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const common = {
    DATABASE_URL: database.url,
    SEED_DEMO_DATA: 'true',
    DATABASE_POOL_MAX: '4',
    PORT: '0',
    ...options.env,
  };
  const started: ServiceProcess[] = [];
  try {
    // The token issuer first: the others verify tokens against its keys.
    const issuer = tokenIssuer();
    const nodeArgs = options.nodeArgs ?? (() => []);
    const users = await startProcess(
      `${issuer.dir}/src/server.ts`,
      { ...common, JWT_PRIVATE_KEY: signingKeyPem, JWT_KEY_ID: 'test-key' },
      undefined,
      nodeArgs(issuer.name),
    );
    started.push(users);
    const JWKS_URL = new URL('/.well-known/jwks.json', users.url).toString();
    const others = await Promise.all(
      SUBGRAPHS.filter((entry) => entry !== issuer).map(async (entry) => {
        const service = await startProcess(
          `${entry.dir}/src/server.ts`,
          { ...common, JWKS_URL },
          undefined,
          nodeArgs(entry.name),
        );
        started.push(service);
        return [entry.name, service] as const;
      }),
    );
    const subgraphs = Object.fromEntries([[issuer.name, users], ...others]) as Record<SubgraphName, ServiceProcess>;
    const startGateway = async (env: Record<string, string> = {}) => {
      const gateway = await startProcess(
        'gateway/src/server.ts',
        {
          PORT: '0',
          JWKS_URL,
          SESSION_CACHE_MS: '0',
          // The stack's own keys in a shared Redis, as it has its own database: the demo users' ids are
          // the same in every stack, so with one prefix the test files running at once would spend one
          // rate-limit budget per user between them.
          REDIS_KEY_PREFIX: `sgtest:${database.name}:`,
          // A test drives the API as a load generator, not as a person at a screen: a whole file's
          // requests as one demo user would meet the per-user default (RATE_LIMIT_POINTS, a minute of the
          // web app's busiest screen). Tests of the limits set their own budgets.
          RATE_LIMIT_POINTS: '1000000000',
          ...Object.fromEntries(SUBGRAPHS.map((entry) => [urlVariable(entry), subgraphs[entry.name].url])),
          ...options.env,
          ...env,
        },
        undefined,
        nodeArgs('gateway'),
      );
      started.push(gateway);
      return gateway;
    };
    const gateway = await startGateway(options.gatewayEnv);
    const tokens = new Map<string, Record<string, string>>();
    const login = async (email: string, password = 'stockgraph') => {
      const result = await graphql(
        gateway.url,
        'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken } }',
        {
          e: email,
          p: password,
        },
      );
      if (!result.data?.login) throw new Error(`login ${email} failed: ${JSON.stringify(result.errors)}`);
      return result.data.login as { accessToken: string; refreshToken: string };
    };
    return {
      database,
      subgraphs,
      gateway,
      signingKeyPem,
      login,
      as: async (role) => {
        if (!tokens.has(role))
          tokens.set(role, {
            authorization: `Bearer ${(await login(`${role.toLowerCase()}@stockgraph.local`)).accessToken}`,
          });
        return tokens.get(role)!;
      },
      startGateway,
      stop: async () => {
        await Promise.all(started.map((s) => s.stop()));
        await database.drop();
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    await database.drop();
    throw error;
  }
}
