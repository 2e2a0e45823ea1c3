import { runMain } from '@stockgraph/server';
import { startGateway } from './app.js';
import { parseGatewayEnv } from './env.js';

await runMain(() => startGateway({ env: parseGatewayEnv() }), { service: 'gateway' });
