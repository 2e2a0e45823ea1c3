/**
 * `pnpm dev` on a copy of the repository (its own git history with a `main` branch, the installed
 * dependencies shared): a description edited in a subgraph SDL reaches the gateway's schema without a
 * restart; a composition error is reported while the last good supergraph keeps serving; the fix
 * recovers. The copy keeps the edits away from this checkout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphql } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRepository, freeBasePort, launcherEnv } from './launcher-support.js';

const SDL = 'subgraphs/customers/src/schema.graphql';
const ORIGINAL = '"Full name as the customer gave it."';
const FIELDS = '{ __type(name: "Customer") { fields { name description } } }';
const TIMEOUT = 120_000;

let copy: string;
let dataDir: string;
let child: ChildProcess;
let output = '';
let url = '';

function edit(change: (sdl: string) => string): void {
  const path = join(copy, SDL);
  writeFileSync(path, change(readFileSync(path, 'utf8')));
}

async function description(field: string): Promise<string | undefined> {
  const result = await graphql<{ __type: { fields: { name: string; description: string }[] } }>(url, FIELDS).catch(
    () => undefined,
  );
  return result?.data?.__type.fields.find((f) => f.name === field)?.description;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > TIMEOUT) throw new Error(`${what} did not happen; pnpm dev printed:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), 'stockgraph-dev-'));
  dataDir = mkdtempSync(join(tmpdir(), 'pglite-dev-'));
  copyRepository(copy);
  const port = await freeBasePort();
  child = spawn('pnpm', ['dev'], {
    cwd: copy,
    env: launcherEnv(port, dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  url = await until('the dev loop starting', () => {
    if (child.exitCode !== null) throw new Error(`pnpm dev exited with ${child.exitCode}:\n${output}`);
    return output.includes('dev: watching') ? /GraphQL endpoint: (\S+)/.exec(output)?.[1] : undefined;
  });
}, 300_000);

afterAll(async () => {
  if (child?.exitCode === null) {
    // pnpm runs the loop in a child of its own: stop the whole group this test started.
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  rmSync(copy, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('pnpm dev', () => {
  it(
    'serves an edited SDL description through the gateway without a restart',
    async () => {
      expect(await description('name')).toBe('Full name as the customer gave it.');
      const started = Date.now();
      edit((sdl) => sdl.replace(ORIGINAL, '"The name the customer goes by (edited in pnpm dev)."'));
      await until('the new description served', async () =>
        (await description('name')) === 'The name the customer goes by (edited in pnpm dev).' ? true : undefined,
      );
      // Not asserted (no timings in tests): printed for the record.
      process.stdout.write(`SDL edit to served schema: ${Date.now() - started} ms\n`);
      expect(readFileSync(join(copy, 'schema/supergraph.graphql'), 'utf8')).toContain('edited in pnpm dev');
    },
    TIMEOUT,
  );

  it(
    'reports a composition error and keeps the last good supergraph serving',
    async () => {
      const before = output.length;
      // customers now claims orders' `orders` field with another type: composition must refuse it.
      edit((sdl) => `${sdl}\nextend type Query {\n  orders: String\n}\n`);
      const report = await until('the composition error reported', () =>
        output.slice(before).includes('composition failed') ? output.slice(before) : undefined,
      );
      expect(report).toMatch(/Composition failed/);
      expect(report).toContain(`${SDL}:`);
      expect(report).toContain('Query.orders');
      expect(await description('name')).toBe('The name the customer goes by (edited in pnpm dev).');
      const orders = await graphql(url, '{ __type(name: "Query") { fields { name type { kind name } } } }');
      expect(orders.data.__type.fields.find((f: { name: string }) => f.name === 'orders').type.name).not.toBe('String');
    },
    TIMEOUT,
  );

  it(
    'recovers once the error is fixed',
    async () => {
      edit((sdl) =>
        sdl
          .replace(/\nextend type Query \{\n {2}orders: String\n\}\n$/, '')
          .replace('(edited in pnpm dev)', '(fixed in pnpm dev)'),
      );
      await until('the fixed schema served', async () =>
        (await description('name')) === 'The name the customer goes by (fixed in pnpm dev).' ? true : undefined,
      );
      expect(output).toContain('composition fixed');
    },
    TIMEOUT,
  );
});
