import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createTestDatabase, graphql, startStack, type Stack } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, stockgraph } from './cli-support.js';

const ANSWERS = `{
  products(first: 5) { totalCount edges { node { id sku unitPrice onHand } } }
  orders(first: 5) { totalCount edges { node { id number status total customer { name } items { quantity product { sku } } } } }
  customers(first: 5) { totalCount edges { node { id name phone } } }
}`;

let dir: string;
let stack: Stack | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-cli-backup-'));
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('stockgraph backup', () => {
  it('backs up a populated stack, which comes back whole after it is dropped: the gateway gives the same answers', async () => {
    stack = await startStack();
    const before = await graphql(stack.gateway.url, ANSWERS, {}, await stack.as('MANAGER'));
    expect(before.errors).toBeUndefined();
    expect(before.data.orders.totalCount).toBeGreaterThan(100);
    const backups = join(dir, 'postgres');
    const env = { DATABASE_URL: stack.database.url, BACKUP_DIR: backups };
    const created = await stockgraph(['--json', 'backup', 'create'], env);
    expect(created.code, created.stderr).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const manifest = JSON.parse(readFileSync(join(backups, id, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { file: string }) => f.file).sort()).toEqual([
      'customers.dump',
      'inventory.dump',
      'orders.dump',
      'users.dump',
    ]);
    expect(manifest.subgraphs.find((s: { name: string }) => s.name === 'orders').rowCounts.orders).toBe(
      before.data.orders.totalCount,
    );

    const verified = await stockgraph(['backup', 'verify', id], env);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/is whole/);
    const listed = await stockgraph(['--json', 'backup', 'list'], env);
    expect(JSON.parse(listed.stdout).backups.map((b: { id: string }) => b.id)).toEqual([id]);

    // Disaster: the whole database is gone.
    await stack.stop();
    stack = undefined;
    const target = await createTestDatabase('restored');

    // A restore that fails halfway (the orders dump, third of four, ends early; its checksum is
    // recorded again so that only pg_restore notices) leaves the target as it was, in one line, and
    // the same target then takes the whole backup without --force.
    const broken = join(dir, 'broken');
    cpSync(join(backups, id), join(broken, id), { recursive: true });
    const brokenDump = join(broken, id, 'orders.dump');
    const whole = readFileSync(brokenDump);
    const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
    writeFileSync(brokenDump, cut);
    writeFileSync(
      join(broken, id, 'manifest.json'),
      JSON.stringify({
        ...manifest,
        files: manifest.files.map((f: { file: string }) =>
          f.file === 'orders.dump'
            ? { ...f, sha256: createHash('sha256').update(cut).digest('hex'), bytes: cut.length }
            : f,
        ),
      }),
    );
    const failed = await stockgraph(['backup', 'restore', id], {
      ...env,
      BACKUP_DIR: broken,
      DATABASE_URL: target.url,
    });
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim()).toMatch(/^stockgraph: restore failed, nothing was changed: /);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    const left = await query<{ n: string }>(
      target.url,
      `select count(*)::text as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('users', 'inventory', 'orders', 'customers')`,
    );
    expect(left[0]!.n).toBe('0');

    const restored = await stockgraph(['backup', 'restore', id], { ...env, DATABASE_URL: target.url });
    expect(restored.code, restored.stderr).toBe(0);
    // Run again, the same backup is already in: nothing to do, nothing refused.
    const rerun = await stockgraph(['--json', 'backup', 'restore', id], { ...env, DATABASE_URL: target.url });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout).restored).toEqual([]);
    const other = await createTestDatabase('restored_other');
    // A target holding other data is refused: restore does not mix a backup into it.
    await query(other.url, 'create schema users; create table users.kept (id int)');
    const refused = await stockgraph(['backup', 'restore', id], { ...env, DATABASE_URL: other.url });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not empty.*--force/);
    await other.drop();

    stack = await startStack({ database: target, env: { SEED_DEMO_DATA: 'false' } });
    const after = await graphql(stack.gateway.url, ANSWERS, {}, await stack.as('MANAGER'));
    expect(after.errors).toBeUndefined();
    expect(after.data).toEqual(before.data);

    // A backup made by a newer Stockgraph (a migration this code does not know) is refused, in one line.
    const manifestPath = join(backups, id, 'manifest.json');
    const newer = {
      ...manifest,
      subgraphs: manifest.subgraphs.map((s: { latestMigration: number }) => ({
        ...s,
        latestMigration: s.latestMigration + 1,
      })),
    };
    writeFileSync(manifestPath, JSON.stringify(newer));
    const tooNew = await stockgraph(['backup', 'restore', id, '--force'], env);
    expect(tooNew.code).toBe(1);
    expect(tooNew.stderr.trim()).toMatch(
      /^stockgraph: backup .* is from a newer schema version: users's migration .* unknown to this Stockgraph/,
    );
    writeFileSync(manifestPath, JSON.stringify(manifest));

    // An unreachable database: one line, exit 1, and no backup left behind.
    const unreachable = await stockgraph(['backup', 'create'], {
      ...env,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toMatch(/^stockgraph: .*cannot reach/);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);

    // One flipped byte in one dump: verify says which file, exits 1, and restore will not use it.
    const dump = join(backups, id, 'orders.dump');
    const bytes = readFileSync(dump);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    writeFileSync(dump, bytes);
    const corrupt = await stockgraph(['backup', 'verify', id], env);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr.trim()).toMatch(/^stockgraph: backup .*: orders\.dump is corrupted \(SHA-256/);
    expect(corrupt.stderr.trim().split('\n')).toHaveLength(1);

    // Retention: with --keep 1 a new backup removes the older one.
    const next = await stockgraph(['--json', 'backup', 'create', '--keep', '1'], {
      ...env,
      DATABASE_URL: stack.database.url,
    });
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).removedByRetention).toEqual([id]);
    const remaining = JSON.parse((await stockgraph(['--json', 'backup', 'list'], env)).stdout).backups.map(
      (b: { id: string }) => b.id,
    );
    expect(remaining).toEqual([JSON.parse(next.stdout).id]);
  }, 600000);

  it('backs up and restores embedded PGlite data', async () => {
    const source = join(dir, 'pglite-source');
    const embedded = {
      DATABASE_URL: undefined,
      USERS_DATABASE_URL: undefined,
      INVENTORY_DATABASE_URL: undefined,
      ORDERS_DATABASE_URL: undefined,
      CUSTOMERS_DATABASE_URL: undefined,
    };
    expect((await stockgraph(['db', 'migrate'], { ...embedded, PGLITE_DIR: source })).code).toBe(0);
    const pg = await PGlite.create(source);
    await pg.query(
      `insert into customers.customers (id, name) values ('0190b3c4-0000-7000-8000-00000000c0de', 'Embedded Customer')`,
    );
    await pg.close();

    const backups = join(dir, 'pglite');
    const created = await stockgraph(['--json', 'backup', 'create'], {
      ...embedded,
      PGLITE_DIR: source,
      BACKUP_DIR: backups,
    });
    expect(created.code, created.stderr).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const manifest = JSON.parse(readFileSync(join(backups, id, 'manifest.json'), 'utf8'));
    expect(manifest.subgraphs.find((s: { name: string }) => s.name === 'customers').rowCounts.customers).toBe(1);

    const target = join(dir, 'pglite-restored');
    const restored = await stockgraph(['backup', 'restore', id, '--dir', backups], { ...embedded, PGLITE_DIR: target });
    expect(restored.code, restored.stderr).toBe(0);
    const again = await stockgraph(['backup', 'restore', id, '--dir', backups], { ...embedded, PGLITE_DIR: target });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty/);
    const check = await PGlite.create(target);
    try {
      const { rows } = await check.query<{ name: string }>('select name from customers.customers');
      expect(rows).toEqual([{ name: 'Embedded Customer' }]);
    } finally {
      await check.close();
    }
  }, 600000);
});
