/**
 * `pnpm dev`: the whole supergraph on embedded defaults (as `pnpm start`), watching the subgraphs.
 * - A subgraph's resolver or domain file changes: that subgraph alone restarts on fresh code; the
 *   database, the other services and the gateway keep running.
 * - A subgraph's SDL changes: the supergraph is recomposed; if it composes, the subgraph restarts on
 *   the new SDL and schema/supergraph.graphql is rewritten, which the gateway reloads without a
 *   restart. Then its resolver types are regenerated and the change is compared with `main`
 *   (breaking changes print as a warning). A composition error is printed with file, line, subgraph
 *   and coordinate, and the last good supergraph keeps serving.
 * Nothing here uses the network beyond the loopback ports the services listen on.
 */
import { join, relative, sep } from 'node:path';
import { exitOnConfigError } from '@stockgraph/config';
import { DEMO_PASSWORD } from '@stockgraph/demo-data';
import { watch } from 'chokidar';
import { freshLoader } from './dev/loader.js';
import { breakingChanges, composeWorkingTree, regenerateTypes, writeSupergraph } from './dev/recompose.js';
import { openEmbedded, parseLauncherEnv } from './launcher/embedded.js';
import { SUBGRAPH_NAMES, subgraphEntry } from '@stockgraph/registry';
import { startGatewayOf, startSubgraph, startSubgraphs, type SubgraphName } from './launcher/stack.js';
import { ROOT } from '@stockgraph/ops';
import { createTimings } from './launcher/timings.js';

const BASE = process.env.DEV_SCHEMA_BASE ?? 'main';
const say = (line: string) => process.stdout.write(`dev: ${line}\n`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)}s`;
const errorText = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

try {
  const env = parseLauncherEnv('dev');
  const timings = createTimings();
  // The gateway starts on what the working tree composes to, not on a supergraph file left behind.
  const first = composeWorkingTree(ROOT);
  if (first.ok) writeSupergraph(ROOT, first.sdl);
  else process.stderr.write(`${first.report}dev: serving the last composed schema/supergraph.graphql\n`);

  const embedded = await openEmbedded(env, timings);
  const context = { port: env.PORT, pglite: embedded.pglite, bus: embedded.bus, logger: embedded.logger, timings };
  const running = await startSubgraphs(context);
  const gateway = await startGatewayOf(context, {
    SUPERGRAPH_PATH: join(ROOT, 'schema/supergraph.graphql'),
    SUPERGRAPH_WATCH: 'true',
  });
  process.stdout.write(
    [
      '',
      `Stockgraph dev loop is up in ${(performance.now() / 1000).toFixed(1)}s (${embedded.source}).`,
      `  GraphQL endpoint: ${gateway.url}`,
      ...(gateway.explorerUrl ? [`  Schema explorer: ${gateway.explorerUrl}`] : []),
      `  Demo users: admin@stockgraph.local, manager@…, staff@…, viewer@… (password ${DEMO_PASSWORD})`,
      `  Watching subgraphs/*/src: code reloads its subgraph, SDL recomposes the supergraph (checked against ${BASE}).`,
      '',
    ].join('\n'),
  );

  const generations = new Map<SubgraphName, number>();
  /** Restarts one subgraph on freshly imported code; the old one serves until the new code has loaded. */
  async function reload(name: SubgraphName, loaded?: () => void): Promise<boolean> {
    const generation = (generations.get(name) ?? 0) + 1;
    generations.set(name, generation);
    const load = freshLoader(ROOT, name, generation);
    try {
      await load(subgraphEntry(name));
    } catch (error) {
      process.stderr.write(`dev: ${name} did not load; the previous code keeps serving:\n${errorText(error)}\n`);
      return false;
    }
    // The gateway may take the new supergraph while the subgraph restarts: the old one stops now anyway.
    loaded?.();
    await running.get(name)?.stop();
    running.delete(name);
    try {
      running.set(name, await startSubgraph(name, context, load));
      return true;
    } catch (error) {
      process.stderr.write(`dev: ${name} did not start; fix the error and save again:\n${errorText(error)}\n`);
      return false;
    }
  }

  let lastFailure = '';
  async function schemaChanged(name: SubgraphName, since: number): Promise<void> {
    const composed = composeWorkingTree(ROOT);
    if (!composed.ok) {
      // Printed once per distinct error: saving again without a fix adds nothing to read.
      if (composed.report !== lastFailure) process.stderr.write(`${composed.report}`);
      say(`${name}: composition failed; the gateway keeps serving the last good supergraph`);
      lastFailure = composed.report;
      return;
    }
    if (lastFailure) say('composition fixed');
    lastFailure = '';
    let written = false;
    if (!(await reload(name, () => (written = writeSupergraph(ROOT, composed.sdl))))) return;
    say(
      `${name}: SDL ${written ? 'recomposed, supergraph written' : 'changed, supergraph unchanged'}, restarted in ${seconds(since)}`,
    );
    try {
      await regenerateTypes(ROOT, name);
      say(`${name}: resolver types regenerated`);
    } catch (error) {
      process.stderr.write(`dev: ${name}: resolver types not regenerated: ${(error as Error).message}\n`);
    }
    try {
      const breaking = await breakingChanges(ROOT, BASE);
      if (breaking.length > 0) {
        process.stderr.write(
          `dev: warning: schema:check against ${BASE} finds breaking changes:\n${breaking.join('\n')}\n`,
        );
      } else say(`schema:check against ${BASE}: no breaking changes`);
    } catch (error) {
      say(`schema:check against ${BASE} skipped: ${(error as Error).message}`);
    }
  }

  // One change at a time, in order; a burst of saves to one subgraph becomes one step.
  let queue = Promise.resolve();
  const pending = new Map<SubgraphName, { sdl: boolean; timer: NodeJS.Timeout; since: number }>();
  function changed(path: string): void {
    const [top, name, src, ...rest] = relative(ROOT, path).split(sep);
    if (top !== 'subgraphs' || src !== 'src' || !SUBGRAPH_NAMES.includes(name as SubgraphName)) return;
    const subgraph = name as SubgraphName;
    const sdl = rest.join('/') === 'schema.graphql';
    const before = pending.get(subgraph);
    clearTimeout(before?.timer);
    const step = { sdl: sdl || Boolean(before?.sdl), since: before?.since ?? performance.now() };
    pending.set(subgraph, {
      ...step,
      timer: setTimeout(() => {
        pending.delete(subgraph);
        queue = queue.then(async () => {
          if (step.sdl) return schemaChanged(subgraph, step.since);
          if (await reload(subgraph)) say(`${subgraph}: reloaded in ${seconds(step.since)}`);
        });
      }, 100),
    });
  }
  const watcher = watch(
    SUBGRAPH_NAMES.map((name) => join(ROOT, subgraphEntry(name).dir, 'src')),
    {
      ignoreInitial: true,
      // Generated types are written by this loop; tests do not run in it.
      ignored: (path) => path.includes(`${sep}generated${sep}`) || /\.test\.ts$/.test(path),
    },
  );
  watcher.on('all', (_event, path) => changed(path));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  say('watching');

  const stop = async () => {
    await watcher.close();
    await gateway.stop();
    for (const service of running.values()) await service.stop();
    await embedded.pglite?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} catch (error) {
  exitOnConfigError(error);
}
