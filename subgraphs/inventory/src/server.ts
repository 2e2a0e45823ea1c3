import { runMain } from '@stockgraph/server';
import { parseInventoryEnv, startInventory } from './app.js';

await runMain(() => startInventory({ env: parseInventoryEnv() }), { service: 'inventory' });
