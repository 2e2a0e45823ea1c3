import { parseSubgraphEnv } from '@stockgraph/config';

export const DEFAULT_PORT = 4004;

/** Customers needs only the settings every subgraph shares. */
export function parseCustomersEnv(source: NodeJS.ProcessEnv = process.env) {
  return parseSubgraphEnv('customers', DEFAULT_PORT, source);
}

export type CustomersEnv = ReturnType<typeof parseCustomersEnv>;
