/**
 * `pnpm compose` writes schema/supergraph.graphql from the subgraph SDLs;
 * `pnpm compose --check` fails when the committed file is stale (CI runs it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compose, formatProblems, readSources } from './composition.js';
import { SUBGRAPHS } from '@stockgraph/registry';
import { subgraphs } from './subgraphs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = fileURLToPath(new URL('./supergraph.graphql', import.meta.url));
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } }, strict: true });

const result = compose(readSources(root, subgraphs));
process.stderr.write(formatProblems('Composition hints', result.hints, '⚠'));
if (!result.ok) {
  process.stderr.write(formatProblems('Composition failed', result.errors));
  process.exit(1);
}
const sdl = `${result.supergraphSdl.trimEnd()}\n`;
if (values.check) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // A missing file is as stale as a different one.
  }
  if (committed !== sdl) {
    process.stderr.write('schema/supergraph.graphql is stale: run `pnpm compose` and commit the result.\n');
    process.exit(1);
  }
  process.stdout.write('schema/supergraph.graphql is up to date.\n');
} else {
  writeFileSync(target, sdl);
  // The count is of services: the gateway's own part (submitBatch) is composed too but runs in the gateway.
  process.stdout.write(
    `Composed ${SUBGRAPHS.length} subgraphs and the gateway's own part into schema/supergraph.graphql.\n`,
  );
}
