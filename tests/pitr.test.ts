/**
 * docs/operators/backup.md's continuous archiving with pgBackRest, checked for real: a private PostgreSQL cluster
 * on a free port, the committed infra/pgbackrest configuration (paths and port replaced), a full
 * backup, and a point-in-time recovery to a moment between two writes.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { archivingLines, as, freePort, pgbackrestConfig, privateCluster, privateDirectory } from '@stockgraph/testkit';

let dir: string | undefined;
let cluster: ReturnType<typeof privateCluster> | undefined;

afterAll(() => {
  try {
    cluster?.stop('immediate');
  } catch {
    // already stopped
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('point-in-time recovery with pgBackRest', () => {
  it('restores the cluster to a moment between two writes, with the documented configuration', async () => {
    dir = privateDirectory('sg-pitr-');
    const port = await freePort();
    cluster = privateCluster(dir, port);
    const config = join(dir, 'pgbackrest.conf');
    writeFileSync(
      config,
      pgbackrestConfig({
        'repo1-path': join(dir, 'repo'),
        'pg1-path': cluster.data,
        'pg1-port': String(port),
        'pg1-socket-path': dir,
        'log-level-file': 'off',
      }),
    );
    const backrest = (...args: string[]) => as('pgbackrest', [`--config=${config}`, '--stanza=stockgraph', ...args]);
    const { psql } = cluster;

    cluster.init();
    cluster.configure(archivingLines(config));
    cluster.start();

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

    cluster.stop();
    backrest('--delta', '--type=time', `--target=${target}`, '--target-action=promote', 'restore');
    cluster.start();
    // Hot standby lets clients in once the restore is consistent, before it has reached the target.
    for (let i = 0; i < 240 && psql('select pg_is_in_recovery()') === 't'; i++)
      await new Promise((r) => setTimeout(r, 500));
    expect(psql("select string_agg(note, ',') from ledger")).toBe('before the mistake');
  }, 240_000);
});
