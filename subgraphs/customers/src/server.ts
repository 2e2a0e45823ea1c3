import { runMain } from '@stockgraph/server';
import { startCustomers } from './app.js';
import { parseCustomersEnv } from './env.js';

await runMain(() => startCustomers({ env: parseCustomersEnv() }), { service: 'customers' });
