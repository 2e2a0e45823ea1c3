import { exitOnConfigError, parseSubgraphEnv } from '@stockgraph/config';
import { DEFAULT_PORT, startInventory } from './app.js';

try {
  const env = parseSubgraphEnv('inventory', DEFAULT_PORT);
  const service = await startInventory({ env });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void service.stop().then(() => process.exit(0)));
  }
} catch (error) {
  exitOnConfigError(error);
}
