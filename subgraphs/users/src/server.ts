import { parseSubgraphEnv } from '@stockgraph/config';
import { runMain } from '@stockgraph/server';
import { DEFAULT_PORT, startUsers } from './app.js';

await runMain(() => startUsers({ env: parseSubgraphEnv('users', DEFAULT_PORT) }));
