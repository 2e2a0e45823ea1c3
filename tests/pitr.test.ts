/**
 * The README's continuous archiving with pgBackRest, checked for real: a private PostgreSQL cluster
 * on a free port, the committed infra/pgbackrest configuration (paths and port replaced), a full
 * backup, and a point-in-time recovery to a moment between two writes.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { as, freePort, PG_BIN as BIN, privateDirectory, ROOT } from '@stockgraph/testkit';

let dir: string | undefined;
let dataDir: string | undefined;

afterAll(() => {
  if (dataDir) {
    try {
      as(`${BIN}/pg_ctl`, ['-D', dataDir, '-m', 'immediate', 'stop']);
    } catch {
      // already stopped
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('point-in-time recovery with pgBackRest', () => {
  it('restores the cluster to a moment between two writes, with the configuration the README documents', async () => {
    dir = privateDirectory('sg-pitr-');
    dataDir = join(dir, 'data');
    const repo = join(dir, 'repo');
    const port = await freePort();
    const config = join(dir, 'pgbackrest.conf');
    const template = readFileSync(join(ROOT, 'infra/pgbackrest/pgbackrest.conf'), 'utf8');
    writeFileSync(
      config,
      template
        .replace(/^repo1-path=.*$/m, `repo1-path=${repo}`)
        .replace(/^pg1-path=.*$/m, `pg1-path=${dataDir}`)
        .replace(/^pg1-port=.*$/m, `pg1-port=${port}`)
        .replace(/^pg1-socket-path=.*$/m, `pg1-socket-path=${dir}`)
        .replace(/^log-level-file=.*$/m, 'log-level-file=off'),
    );
    const backrest = (...args: string[]) => as('pgbackrest', [`--config=${config}`, '--stanza=stockgraph', ...args]);

    as(`${BIN}/initdb`, ['-D', dataDir, '-U', 'postgres', '--auth=trust']);
    const archiving = readFileSync(join(ROOT, 'infra/pgbackrest/postgresql.archiving.conf'), 'utf8').replace(
      'pgbackrest --stanza=stockgraph',
      `pgbackrest --config=${config} --stanza=stockgraph`,
    );
    writeFileSync(
      join(dataDir, 'postgresql.conf'),
      `${readFileSync(join(dataDir, 'postgresql.conf'), 'utf8')}\n${archiving}\n`,
    );
    const start = () =>
      as(`${BIN}/pg_ctl`, [
        '-D',
        dataDir!,
        '-w',
        '-t',
        '120',
        '-l',
        join(dir!, 'server.log'),
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
        'start',
      ]);
    const psql = (sql: string) =>
      as('psql', ['-h', dir!, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-At', '-c', sql]).trim();
    start();

    backrest('stanza-create');
    backrest('check');
    backrest('--type=full', 'backup');
    expect(backrest('info')).toMatch(/full backup/);
    // pgBackRest records a backup's stop time in whole seconds (after the last WAL it needs is archived),
    // and a time target must lie after it: writes in the same second as the backup's end are unreachable.
    await new Promise((r) => setTimeout(r, 2100));

    psql('create table ledger (note text not null)');
    psql("insert into ledger values ('before the mistake')");
    const target = psql('select now()');
    await new Promise((r) => setTimeout(r, 1100));
    psql("insert into ledger values ('the mistake')");
    psql('select pg_switch_wal()');
    // Every WAL segment up to the mistake must be in the repository before the cluster is lost.
    backrest('check');

    as(`${BIN}/pg_ctl`, ['-D', dataDir, '-m', 'fast', 'stop']);
    backrest('--delta', '--type=time', `--target=${target}`, '--target-action=promote', 'restore');
    start();
    // Hot standby lets clients in once the restore is consistent, before it has reached the target.
    for (let i = 0; i < 240 && psql('select pg_is_in_recovery()') === 't'; i++)
      await new Promise((r) => setTimeout(r, 500));
    expect(psql("select string_agg(note, ',') from ledger")).toBe('before the mistake');
  }, 240_000);
});
