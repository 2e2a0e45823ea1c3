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

    const [verified, listed] = await Promise.all([
      stockgraph(['backup', 'verify', id], env),
      stockgraph(['--json', 'backup', 'list'], env),
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/is whole/);
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
    // The restored stack starts while the refusals below run: none of them writes to its database,
    // and the two that change a backup work on copies of it.
    const copyOf = (name: string) => {
      const copy = join(dir, name);
      cpSync(join(backups, id), join(copy, id), { recursive: true });
      return copy;
    };
    const other = await createTestDatabase('restored_other');
    await query(other.url, 'create schema users; create table users.kept (id int)');
    // A backup made by a newer Stockgraph (a migration this code does not know).
    const newerDir = copyOf('newer');
    writeFileSync(
      join(newerDir, id, 'manifest.json'),
      JSON.stringify({
        ...manifest,
        subgraphs: manifest.subgraphs.map((s: { latestMigration: number }) => ({
          ...s,
          latestMigration: s.latestMigration + 1,
        })),
      }),
    );
    // One flipped byte in one dump.
    const corruptDir = copyOf('corrupt');
    const dump = join(corruptDir, id, 'orders.dump');
    const bytes = readFileSync(dump);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    writeFileSync(dump, bytes);
    // users.dump swapped for another dump and left out of the manifest's checksums (issue 28, finding 9),
    // and a file the backup never had.
    const swappedDir = copyOf('swapped');
    cpSync(join(swappedDir, id, 'orders.dump'), join(swappedDir, id, 'users.dump'));
    writeFileSync(
      join(swappedDir, id, 'manifest.json'),
      JSON.stringify({ ...manifest, files: manifest.files.filter((f: { file: string }) => f.file !== 'users.dump') }),
    );
    const extraDir = copyOf('extra');
    writeFileSync(join(extraDir, id, 'admin.sql'), "insert into users.users values ('rogue')");
    const nowhere = join(dir, 'nowhere');
    const [started, rerun, refused, tooNew, corrupt, unreachable, swapped, swappedRestore, extra] = await Promise.all([
      startStack({ database: target, env: { SEED_DEMO_DATA: 'false' } }),
      stockgraph(['--json', 'backup', 'restore', id], { ...env, DATABASE_URL: target.url }),
      stockgraph(['backup', 'restore', id], { ...env, DATABASE_URL: other.url }),
      stockgraph(['backup', 'restore', id, '--force'], { ...env, BACKUP_DIR: newerDir }),
      stockgraph(['backup', 'verify', id], { ...env, BACKUP_DIR: corruptDir }),
      stockgraph(['backup', 'create'], {
        ...env,
        BACKUP_DIR: nowhere,
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
      }),
      stockgraph(['backup', 'verify', id], { ...env, BACKUP_DIR: swappedDir }),
      stockgraph(['backup', 'restore', id, '--force'], { ...env, BACKUP_DIR: swappedDir, DATABASE_URL: other.url }),
      stockgraph(['backup', 'verify', id], { ...env, BACKUP_DIR: extraDir }),
    ]);
    stack = started;
    await other.drop();

    // Run again, the same backup is already in: nothing to do, nothing refused.
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout).restored).toEqual([]);
    // A target holding other data is refused: restore does not mix a backup into it.
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not empty.*--force/);
    // The newer backup is refused, in one line, even with --force.
    expect(tooNew.code).toBe(1);
    expect(tooNew.stderr.trim()).toMatch(
      /^stockgraph: backup .* is from a newer schema version: users's migration .* unknown to this Stockgraph/,
    );
    // The flipped byte: verify says which file and exits 1, in one line.
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr.trim()).toMatch(/^stockgraph: backup .*: orders\.dump is corrupted \(SHA-256/);
    expect(corrupt.stderr.trim().split('\n')).toHaveLength(1);
    // A dump without a checksum, or a file the manifest does not list: refused by verify and restore.
    expect(swapped.code).toBe(1);
    expect(swapped.stderr.trim()).toMatch(/^stockgraph: backup .*: users\.dump has no checksum in the manifest$/);
    expect(swappedRestore.code).toBe(1);
    expect(swappedRestore.stderr.trim()).toMatch(/users\.dump has no checksum in the manifest/);
    expect(extra.code).toBe(1);
    expect(extra.stderr.trim()).toMatch(/admin\.sql is not part of it/);
    // An unreachable database: one line, exit 1, and no backup left behind.
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toMatch(/^stockgraph: .*cannot reach/);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
    const nothing = await stockgraph(['--json', 'backup', 'list'], { ...env, BACKUP_DIR: nowhere });
    expect(JSON.parse(nothing.stdout).backups).toEqual([]);

    const after = await graphql(stack.gateway.url, ANSWERS, {}, await stack.as('MANAGER'));
    expect(after.errors).toBeUndefined();
    expect(after.data).toEqual(before.data);

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
