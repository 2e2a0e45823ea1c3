import { runMain } from '@stockgraph/server';
import { parseOrdersEnv, startOrders } from './app.js';

await runMain(() => startOrders({ env: parseOrdersEnv() }), { service: 'orders' });
