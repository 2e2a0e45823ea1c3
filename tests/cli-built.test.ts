/**
 * The operator CLI as `pnpm build` makes it (what `@stockgraph/cli start` and the checker image run):
 * plain Node, no TypeScript loader. The import's verification and the sync's ledger run in worker
 * threads whose files the build must compile beside the bundle, or those commands fail only there.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { createTestDatabase, ROOT, type TestDatabase } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
let dir: string;
let database: TestDatabase;

/** The built CLI, its own process, with only what a container would have in its environment. */
const built = (args: string[]) =>
  exec(process.execPath, [join(ROOT, 'cli/dist/cli/src/main.js'), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-cli-built-'));
  [database] = await Promise.all([
    createTestDatabase('cli_built'),
    exec(process.execPath, ['--import', 'tsx', 'scripts/build.ts', '@stockgraph/cli'], { cwd: ROOT }),
  ]);
  await built(['db', 'migrate']);
}, 300_000);

afterAll(async () => {
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the built CLI', () => {
  it('imports a legacy file, verifies it and syncs it, its worker threads included', async () => {
    const file = join(dir, 'legacy.db');
    await built(['import', 'make-legacy', file, '--orders', '200', '--seed', '9', '--dirty']);
    const imported = await built(['import', 'sqlite', file, '--report', join(dir, 'first')]);
    expect(imported.stdout).toMatch(/Imported and verified: \d+ legacy rows/);
    // The verification's legacy side runs in a worker thread.
    const verified = await built(['import', 'verify', file, '--report', join(dir, 'again')]);
    expect(verified.stdout).toMatch(/Verified: the import of \d+ legacy rows, checked again/);
    const legacy = new DatabaseSync(file);
    legacy.exec(
      "update orders set status = 'refunded' where id in (select id from orders where trim(lower(status)) = 'paid' order by id limit 3)",
    );
    legacy.close();
    // The sync plans the ledger in a worker thread.
    const synced = await built(['import', 'sqlite', file, '--sync', '--report', join(dir, 'sync')]);
    expect(synced.stdout).toMatch(/Synced and verified: \d+ legacy rows compared/);
  }, 300_000);
});
