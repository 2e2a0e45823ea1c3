import { exitOnConfigError } from '@stockgraph/config';
import { startGateway } from './app.js';
import { parseGatewayEnv } from './env.js';

try {
  const service = await startGateway({ env: parseGatewayEnv() });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void service.stop().then(() => process.exit(0)));
  }
} catch (error) {
  exitOnConfigError(error);
}
