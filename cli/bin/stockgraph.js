#!/usr/bin/env node
// The installed `stockgraph` command. The built bundle (dist/cli/src/main.js, made by `pnpm build`) runs
// with plain Node; from a source checkout without a build, tsx runs the TypeScript entry point.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The importer reads legacy files with node:sqlite, and the services need Node 24: say so in one line.
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`stockgraph needs Node.js 24 or newer; this is ${process.version} (see the README's "Node.js 24").`);
  process.exit(1);
}
const built = new URL('../dist/cli/src/main.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
