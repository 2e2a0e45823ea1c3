import { parseSubgraphEnv } from '@stockgraph/config';
import { runMain } from '@stockgraph/server';
import { DEFAULT_PORT, startOrders } from './app.js';

await runMain(() => startOrders({ env: parseSubgraphEnv('orders', DEFAULT_PORT) }));
