import { parseSubgraphEnv } from '@stockgraph/config';
import { runMain } from '@stockgraph/server';
import { DEFAULT_PORT, startCustomers } from './app.js';

await runMain(() => startCustomers({ env: parseSubgraphEnv('customers', DEFAULT_PORT) }));
