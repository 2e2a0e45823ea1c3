/**
 * The subgraphs, declared once. Everything that needs the list (composition, codegen, the lint's
 * service boundaries, the gateway's routing variables, migrations, the demo template, the launcher,
 * the CLI's database targets, the test stack, the image smoke test, the Kubernetes validator) reads
 * it from here, so a fifth subgraph is this entry, its package and its Kubernetes folder.
 *
 * Plain data with erasable TypeScript only: `eslint.config.js` imports this file directly, through
 * Node's type stripping.
 */
export interface SubgraphEntry {
  /** Its name in the supergraph, the CLI, logs and metrics. */
  readonly name: string;
  /** The workspace package; its `.` export is the service module (`service`: definition, env, start). */
  readonly package: string;
  /** Its folder, from the repository root. */
  readonly dir: string;
  /** It listens on 4000 + this by default; the gateway on 4000. In `pnpm start`, on PORT + this. */
  readonly portOffset: number;
  /** The PostgreSQL schema of its tables, also its database role's name. */
  readonly pgSchema: string;
  /** Prefix of its variables elsewhere: `<PREFIX>_URL` at the gateway, `<PREFIX>_DATABASE_URL` for the tools. */
  readonly envPrefix: string;
  /** It signs the access tokens: every other service verifies them against its JWKS, so it starts first. */
  readonly issuesTokens?: boolean;
}

export const SUBGRAPHS = [
  {
    name: 'users',
    package: '@stockgraph/users',
    dir: 'subgraphs/users',
    portOffset: 1,
    pgSchema: 'users',
    envPrefix: 'USERS',
    issuesTokens: true,
  },
  {
    name: 'inventory',
    package: '@stockgraph/inventory',
    dir: 'subgraphs/inventory',
    portOffset: 2,
    pgSchema: 'inventory',
    envPrefix: 'INVENTORY',
  },
  {
    name: 'orders',
    package: '@stockgraph/orders',
    dir: 'subgraphs/orders',
    portOffset: 3,
    pgSchema: 'orders',
    envPrefix: 'ORDERS',
  },
  {
    name: 'customers',
    package: '@stockgraph/customers',
    dir: 'subgraphs/customers',
    portOffset: 4,
    pgSchema: 'customers',
    envPrefix: 'CUSTOMERS',
  },
] as const satisfies readonly SubgraphEntry[];

export type RegisteredSubgraph = (typeof SUBGRAPHS)[number];
export type SubgraphName = RegisteredSubgraph['name'];

export const SUBGRAPH_NAMES: readonly SubgraphName[] = SUBGRAPHS.map((s) => s.name);

/** The gateway listens here by default; subgraph N on this + its offset. */
export const GATEWAY_DEFAULT_PORT = 4000;

export function subgraphEntry(name: string): RegisteredSubgraph {
  const entry = SUBGRAPHS.find((s) => s.name === name);
  if (!entry) throw new Error(`no subgraph named ${JSON.stringify(name)} (known: ${SUBGRAPH_NAMES.join(', ')})`);
  return entry;
}

/** The subgraph's default port when it runs on its own. */
export function defaultPort(entry: SubgraphEntry): number {
  return GATEWAY_DEFAULT_PORT + entry.portOffset;
}

/** The gateway's variable holding this subgraph's GraphQL URL, e.g. USERS_URL. */
export function urlVariable(entry: SubgraphEntry): string {
  return `${entry.envPrefix}_URL`;
}

/** The tools' variable naming this subgraph's own database, e.g. USERS_DATABASE_URL (else DATABASE_URL). */
export function databaseUrlVariable(entry: SubgraphEntry): string {
  return `${entry.envPrefix}_DATABASE_URL`;
}

/** The migration job's variable with the URL (user, password) this subgraph connects with, e.g. USERS_SERVICE_DATABASE_URL. */
export function serviceDatabaseUrlVariable(entry: SubgraphEntry): string {
  return `${entry.envPrefix}_SERVICE_DATABASE_URL`;
}

/** Its SDL, from the repository root. */
export function sdlPath(entry: SubgraphEntry): string {
  return `${entry.dir}/src/schema.graphql`;
}

/** The subgraph that signs tokens (users). */
export function tokenIssuer(): RegisteredSubgraph {
  return SUBGRAPHS.find((s) => 'issuesTokens' in s && s.issuesTokens)!;
}
