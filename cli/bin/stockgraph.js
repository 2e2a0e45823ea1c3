#!/usr/bin/env node
// The installed `stockgraph` command. The built bundle (dist/cli/src/main.js, made by `pnpm build`) runs
// with plain Node; from a source checkout without a build, tsx runs the TypeScript entry point.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli/src/main.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
