import { runMain } from '@stockgraph/server';
import { startUsers } from './app.js';
import { parseUsersEnv } from './env.js';

await runMain(() => startUsers({ env: parseUsersEnv() }), { service: 'users' });
