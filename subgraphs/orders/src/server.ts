import { exitOnConfigError, parseSubgraphEnv } from '@stockgraph/config';
import { DEFAULT_PORT, startOrders } from './app.js';

try {
  const env = parseSubgraphEnv('orders', DEFAULT_PORT);
  const service = await startOrders({ env });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void service.stop().then(() => process.exit(0)));
  }
} catch (error) {
  exitOnConfigError(error);
}
