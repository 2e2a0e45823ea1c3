/**
 * The service registry's promise: a fifth subgraph is its registry entry and its own package, nothing
 * else. On a copy of the repository (dependencies shared), a throw-away `notes` subgraph is written and
 * registered; then, with no other file touched, `pnpm compose` composes five subgraphs, the lint holds
 * it to the service boundaries, `pnpm db:migrate` migrates its schema, Prometheus' targets and the
 * Dockerfile's subgraph image take it in, and `pnpm start` builds its bundle and serves the new field
 * through the gateway beside the other four.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { graphql } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRepository, freeBasePort, launcherEnv } from './launcher-support.js';

const run = promisify(execFile);
const TIMEOUT = 300_000;

const FILES: Record<string, string> = {
  'subgraphs/notes/package.json': JSON.stringify(
    { name: '@stockgraph/notes', version: '0.1.0', private: true, type: 'module', exports: { '.': './src/app.ts' } },
    null,
    2,
  ),
  'subgraphs/notes/src/schema.graphql': `extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@requiresScopes"])

type Query {
  "A note for whoever signs in: the fifth subgraph's one field."
  noteOfTheDay: String! @requiresScopes(scopes: [["role:viewer"]])
}
`,
  'subgraphs/notes/src/env.ts': `import { parseSubgraphEnv } from '@stockgraph/config';

export const DEFAULT_PORT = 4005;

export function parseNotesEnv(source: NodeJS.ProcessEnv = process.env) {
  return parseSubgraphEnv('notes', DEFAULT_PORT, source);
}
`,
  'subgraphs/notes/src/app.ts': `import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AuthContext } from '@stockgraph/auth';
import { startSubgraph, subgraphService, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { parse } from 'graphql';
import { parseNotesEnv } from './env.js';

export const notesSubgraph: SubgraphDefinition<Record<string, never>, AuthContext> = {
  name: 'notes',
  typeDefs: parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8')),
  resolvers: { Query: { noteOfTheDay: () => 'Registered once, served everywhere.' } },
  dbSchema: {},
  pgSchema: 'notes',
  migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
  bootstrap: () => ({ context: (identity) => ({ identity }) }),
};

export const service = subgraphService({
  definition: notesSubgraph,
  parseEnv: parseNotesEnv,
  start: (runtime: SubgraphRuntime) => startSubgraph(notesSubgraph, runtime),
});
`,
  'subgraphs/notes/src/db/migrations/meta/_journal.json': JSON.stringify(
    { version: '7', dialect: 'postgresql', entries: [] },
    null,
    2,
  ),
};

const ENTRY =
  "  { name: 'notes', package: '@stockgraph/notes', dir: 'subgraphs/notes', portOffset: 5, pgSchema: 'notes', envPrefix: 'NOTES' },\n";

let copy: string;
let dataDir: string;
let child: ChildProcess | undefined;
let output = '';

function pnpm(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return run('pnpm', args, { cwd: copy, env, maxBuffer: 20 * 1024 * 1024 });
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'stockgraph-fifth-'));
  dataDir = mkdtempSync(join(tmpdir(), 'pglite-fifth-'));
  copyRepository(copy);
  for (const [file, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    writeFileSync(join(copy, file), content);
  }
  const registry = join(copy, 'packages/registry/src/index.ts');
  const source = readFileSync(registry, 'utf8');
  const end = source.indexOf('] as const satisfies');
  expect(end).toBeGreaterThan(0);
  writeFileSync(registry, source.slice(0, end) + ENTRY + source.slice(end));
}, TIMEOUT);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  rmSync(copy, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a fifth subgraph, added through the registry alone', () => {
  it(
    'is composed into the supergraph',
    async () => {
      const { stdout } = await pnpm(['compose']);
      expect(stdout).toContain('Composed 5 subgraphs');
      const supergraph = readFileSync(join(copy, 'schema/supergraph.graphql'), 'utf8');
      expect(supergraph).toMatch(/NOTES @join__graph\(name: "notes", url: "http:\/\/127\.0\.0\.1:4005\/graphql"\)/);
      expect(supergraph).toContain('noteOfTheDay: String!');
    },
    TIMEOUT,
  );

  it(
    'is held to the service boundaries by the lint',
    async () => {
      const planted = join(copy, 'subgraphs/notes/src/reach.ts');
      writeFileSync(planted, "export { usersSubgraph } from '@stockgraph/users';\n");
      const lint = await pnpm(['exec', 'eslint', '--no-warn-ignored', 'subgraphs/notes/src/reach.ts']).then(
        () => null,
        (error: { stdout: string }) => error,
      );
      rmSync(planted);
      expect(lint?.stdout).toContain('A subgraph never imports another service');
    },
    TIMEOUT,
  );

  it(
    'is migrated by the migration tool, into a schema of its own',
    async () => {
      const migrated = `${dataDir}/migrated`;
      await pnpm(['db:migrate'], { ...process.env, PGLITE_DIR: migrated, DATABASE_URL: '' });
      const pglite = await PGlite.create(migrated);
      try {
        const { rows } = await pglite.query<{ table_name: string }>(
          "select table_name from information_schema.tables where table_schema = 'notes'",
        );
        // Its migrations are recorded in its own schema, as every subgraph's are.
        expect(rows.map((r) => r.table_name)).toEqual(['__drizzle_migrations']);
      } finally {
        await pglite.close();
      }
    },
    TIMEOUT,
  );

  it(
    'is scraped by Prometheus and built from the one subgraph image target',
    async () => {
      const targetsFile = join(copy, 'targets.json');
      await pnpm(['monitoring:targets', targetsFile], { ...process.env, PORT: '4000' });
      const groups = JSON.parse(readFileSync(targetsFile, 'utf8')) as { targets: string[]; labels: { job: string } }[];
      expect(groups.find((g) => g.labels.job === 'notes')?.targets).toEqual(['localhost:4005']);
      // The image: the Kubernetes check maps stockgraph/notes to the Dockerfile's subgraph target, running
      // the file its package would start.
      const { stdout } = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          "const v = await import('./infra/k8s/validate.ts'); console.log(JSON.stringify(v.imageSource('registry.example.com/stockgraph/notes:1.0.0', v.dockerTargets())));",
        ],
        { cwd: copy },
      );
      expect(JSON.parse(stdout)).toEqual({ target: 'subgraph', file: 'dist/subgraphs/notes/src/server.js' });
    },
    TIMEOUT,
  );

  it(
    'is started by pnpm start and answers through the gateway beside the other four',
    async () => {
      const port = await freeBasePort(5);
      child = spawn(process.execPath, ['scripts/start.mjs'], {
        cwd: copy,
        env: launcherEnv(port, `${dataDir}/start`),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const found = /GraphQL endpoint: (\S+)/.exec(output)?.[1];
          if (found) resolve(found);
          else if (child!.exitCode !== null) reject(new Error(`pnpm start exited:\n${output}`));
          if (found || child!.exitCode !== null) clearInterval(timer);
        }, 100);
      });
      const login = await graphql<{ login: { accessToken: string } }>(
        url,
        'mutation { login(email: "viewer@stockgraph.local", password: "stockgraph") { accessToken } }',
      );
      const token = login.data!.login.accessToken;
      const answer = await graphql<{ noteOfTheDay: string; products: { totalCount: number } }>(
        url,
        '{ noteOfTheDay products(first: 1) { totalCount } }',
        {},
        { authorization: `Bearer ${token}` },
      );
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.noteOfTheDay).toBe('Registered once, served everywhere.');
      expect(answer.data?.products.totalCount).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});
