/**
 * `pnpm start`: the whole supergraph in one process on embedded defaults — one PGlite database
 * (a schema per subgraph, in .data/pglite) shared by the four subgraphs, each on its own port, and the
 * gateway in front. With DATABASE_URL set, the subgraphs use that PostgreSQL server instead.
 * Production runs each service as its own process (`pnpm --filter @stockgraph/<name> start`).
 * `--timings` prints how long each start-up phase took.
 */
import { parseArgs } from 'node:util';
import { exitOnConfigError } from '@stockgraph/config';
import { DEMO_PASSWORD, DEMO_ROLES } from '@stockgraph/demo-data';
import { startTelemetry } from '@stockgraph/telemetry';
import { openEmbedded, parseLauncherEnv } from './launcher/embedded.js';
import { preloadServices, startGatewayOf, startSubgraphs, type Running } from './launcher/stack.js';
import { createTimings } from './launcher/timings.js';

const { values: args } = parseArgs({ options: { timings: { type: 'boolean', default: false } }, strict: true });
const timings = createTimings();
timings.mark('modules imported');
try {
  const env = parseLauncherEnv('start');
  // The database first: PGlite compiles its WebAssembly on V8's background threads while the main
  // thread loads the services' modules, and neither waits for the other.
  const embedded = openEmbedded(env, timings);
  preloadServices();
  // One process, one tracer provider: every service's spans come from "stockgraph" (OTEL_SERVICE_NAME).
  const telemetry = await startTelemetry(env, 'stockgraph');
  const { pglite, bus, logger, source } = await embedded;
  const context = { port: env.PORT, pglite, bus, logger, timings };
  const subgraphs = await startSubgraphs(context);
  const gateway = await startGatewayOf(context);
  const services: Running[] = [gateway, ...subgraphs.values()];

  const seconds = (performance.now() / 1000).toFixed(1);
  process.stdout.write(
    [
      '',
      `Stockgraph is up in ${seconds}s (${source}).`,
      `  GraphQL endpoint: ${gateway.url}`,
      ...(gateway.explorerUrl ? [`  Schema explorer: ${gateway.explorerUrl}`] : []),
      `  Demo users (development only): ${DEMO_ROLES.map((r) => `${r.toLowerCase()}@stockgraph.local`).join(', ')}`,
      `  Demo password: ${DEMO_PASSWORD}`,
      '',
      ...(args.timings ? [timings.report()] : []),
    ].join('\n'),
  );

  const stop = async () => {
    for (const service of services) await service.stop();
    await pglite?.close();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} catch (error) {
  exitOnConfigError(error);
}
