import { exitOnConfigError, parseSubgraphEnv } from '@stockgraph/config';
import { DEFAULT_PORT, startCustomers } from './app.js';

try {
  const env = parseSubgraphEnv('customers', DEFAULT_PORT);
  const service = await startCustomers({ env });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void service.stop().then(() => process.exit(0)));
  }
} catch (error) {
  exitOnConfigError(error);
}
