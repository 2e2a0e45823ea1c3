import { exitOnConfigError, parseSubgraphEnv } from '@stockgraph/config';
import { DEFAULT_PORT, startUsers } from './app.js';

try {
  const env = parseSubgraphEnv('users', DEFAULT_PORT);
  const service = await startUsers({ env });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void service.stop().then(() => process.exit(0)));
  }
} catch (error) {
  exitOnConfigError(error);
}
