/**
 * `pnpm db:template` (also run by `pnpm install` through `prepare`): builds the migrated, seeded PGlite
 * data directory that `pnpm start` and `pnpm dev` copy on first start. Exactly what the services do
 * on an empty database — their migrations, partitions and demo seed — only once, ahead of time.
 * Never fails the install: without a template the first start seeds as it always did.
 */
import { createLogger } from '@stockgraph/logger';
import { buildDemoTemplate, currentTemplate } from '@stockgraph/ops';

const started = performance.now();
try {
  // Production and image builds never start the embedded demo: building its template there is wasted time.
  if (process.env.NODE_ENV === 'production' || process.env.DEMO_TEMPLATE === 'off') process.exit(0);
  if (!process.argv.includes('--force') && currentTemplate()) {
    process.stdout.write('Demo database template is up to date.\n');
    process.exit(0);
  }
  const built = await buildDemoTemplate(createLogger('db-template', process.env.LOG_LEVEL ?? 'warn'));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`Demo database template built in ${seconds}s (${built}).\n`);
} catch (error) {
  process.stderr.write(
    `Could not build the demo database template (the first start will seed instead): ${(error as Error).message}\n`,
  );
}
