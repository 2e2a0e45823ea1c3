import { parseSubgraphEnv } from '@stockgraph/config';
import { runMain } from '@stockgraph/server';
import { DEFAULT_PORT, startInventory } from './app.js';

await runMain(() => startInventory({ env: parseSubgraphEnv('inventory', DEFAULT_PORT) }));
