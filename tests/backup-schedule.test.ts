/**
 * The backup CronJobs of infra/k8s, run for real: the pgbackrest.conf their ConfigMap holds and the
 * arguments each CronJob passes, against a private PostgreSQL cluster whose host side runs the committed
 * infra/pgbackrest/pgbackrest.conf, pgBackRest's TLS server included. The one substitution is the
 * repository: a local directory both sides share stands in for the S3 bucket they share in production
 * (the S3 options themselves are checked offline by `pnpm k8s:check`). The diff backup the schedule
 * takes must restore with the rows written after the full one, and a client certificate with another
 * CN must be turned away.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { render } from '../infra/k8s/validate.js';
import {
  archivingLines,
  as,
  freePort,
  pgbackrestConfig,
  privateCluster,
  privateDirectory,
  spawnAs,
} from '@stockgraph/testkit';

type CronJobSpec = { jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } } };

const objects = render('base');
const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('stockgraph-pgbackrest'));
const jobArgs = (name: string) =>
  (objects.find((o) => o.kind === 'CronJob' && o.metadata.name === name)?.spec as CronJobSpec | undefined)?.jobTemplate
    .spec.template.spec.containers[0]!.args;

/** The repository's encryption, as the Secret stockgraph-backup-s3 gives it to both sides. */
const CIPHER = { PGBACKREST_REPO1_CIPHER_TYPE: 'aes-256-cbc', PGBACKREST_REPO1_CIPHER_PASS: 'x'.repeat(32) };

let dir: string | undefined;
let cluster: ReturnType<typeof privateCluster> | undefined;
let server: ChildProcess | undefined;

afterAll(() => {
  server?.kill('SIGTERM');
  try {
    cluster?.stop('immediate');
  } catch {
    // already stopped
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A CA, a server certificate for localhost and client certificates, made by the postgres user. */
function certificates(tls: string, clients: string[]): void {
  const ssl = (...args: string[]) => as('openssl', args);
  const serverExtensions = join(tls, 'server.ext');
  writeFileSync(serverExtensions, 'subjectAltName=DNS:localhost\n', { mode: 0o644 });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    join(tls, 'ca.key'),
    '-out',
    join(tls, 'ca.crt'),
  );
  for (const [name, cn] of [['server', 'localhost'], ...clients.map((c) => [c, c])] as const) {
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      join(tls, `${name}.key`),
      '-out',
      join(tls, `${name}.csr`),
    );
    ssl(
      'x509',
      '-req',
      '-in',
      join(tls, `${name}.csr`),
      '-CA',
      join(tls, 'ca.crt'),
      '-CAkey',
      join(tls, 'ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      join(tls, `${name}.crt`),
      ...(name === 'server' ? ['-extfile', serverExtensions] : []),
    );
  }
}

describe('the backup CronJobs', () => {
  it('take full and differential backups through the database host’s TLS server, and they restore', async () => {
    expect(configMap?.data?.['pgbackrest.conf'], 'base renders the ConfigMap stockgraph-pgbackrest').toBeTruthy();
    const full = jobArgs('stockgraph-backup-full');
    const diff = jobArgs('stockgraph-backup-diff');
    const check = jobArgs('stockgraph-backup-check');
    expect([full, diff, check].every(Boolean), 'base renders the three backup CronJobs').toBe(true);

    dir = privateDirectory('sg-backup-');
    const tls = join(dir, 'tls');
    as('mkdir', ['-m', '0755', tls]);
    certificates(tls, ['stockgraph-backup', 'intruder']);
    const repo = join(dir, 'repo');
    const [port, tlsPort] = [await freePort(), await freePort()];
    // archive_command inherits the server's environment: the repository's passphrase, as on the host.
    cluster = privateCluster(dir, port, CIPHER);
    const { psql } = cluster;

    // The database host: the committed file with this machine's paths and ports.
    const hostConfig = join(dir, 'host.conf');
    writeFileSync(
      hostConfig,
      pgbackrestConfig({
        'repo1-path': repo,
        'pg1-path': cluster.data,
        'pg1-port': String(port),
        'pg1-socket-path': dir,
        'log-level-file': 'off',
        'tls-server-address': '127.0.0.1',
        'tls-server-port': String(tlsPort),
        'tls-server-ca-file': join(tls, 'ca.crt'),
        'tls-server-cert-file': join(tls, 'server.crt'),
        'tls-server-key-file': join(tls, 'server.key'),
      }).replace('[global]', `[global]\nlock-path=${join(dir, 'host-lock')}`),
    );
    // The CronJobs' side: the ConfigMap's file with the certificates mounted here, the cluster on this
    // host's ports, and the shared local repository in place of the S3 bucket.
    const jobConfig = (client: string) => {
      const file = join(dir!, `${client}.conf`);
      writeFileSync(
        file,
        pgbackrestConfig(
          {
            'repo1-type': undefined,
            'repo1-s3-endpoint': undefined,
            'repo1-s3-region': undefined,
            'repo1-s3-bucket': undefined,
            'repo1-path': repo,
            'lock-path': join(dir!, `${client}-lock`),
            'pg1-host': 'localhost',
            'pg1-host-port': String(tlsPort),
            'pg1-host-ca-file': join(tls, 'ca.crt'),
            'pg1-host-cert-file': join(tls, `${client}.crt`),
            'pg1-host-key-file': join(tls, `${client}.key`),
            'pg1-path': cluster!.data,
            'pg1-port': String(port),
            'pg1-socket-path': dir!,
          },
          configMap!.data!['pgbackrest.conf']!,
        ),
      );
      return (args: string[]) => as('pgbackrest', [`--config=${file}`, ...args], CIPHER);
    };
    const job = jobConfig('stockgraph-backup');

    cluster.init('--no-sync');
    cluster.configure(archivingLines(hostConfig));
    cluster.start();
    server = spawnAs('pgbackrest', [`--config=${hostConfig}`, 'server'], CIPHER);
    const host = (...args: string[]) =>
      as('pgbackrest', [`--config=${hostConfig}`, '--stanza=stockgraph', ...args], CIPHER);
    host('stanza-create');

    // The schedule's three jobs, with exactly their CronJobs' arguments.
    job(check!);
    psql('create table ledger (note text not null)');
    psql("insert into ledger values ('before the full backup')");
    job(full!);
    psql("insert into ledger values ('between full and diff')");
    job(diff!);
    job(check!);
    const info = JSON.parse(job(['--stanza=stockgraph', 'info', '--output=json'])) as {
      backup: { type: string; database: { id: number } }[];
      archive: { min: string; max: string }[];
    }[];
    expect(info[0]!.backup.map((b) => b.type)).toEqual(['full', 'diff']);
    expect(info[0]!.archive[0]!.max > info[0]!.archive[0]!.min).toBe(true);

    // Only the certificate whose CN tls-server-auth names gets in.
    expect(() => jobConfig('intruder')(check!)).toThrow(/access denied/);

    // The diff backup restores on the host (latest by default), with the row written after the full one.
    psql("insert into ledger values ('after diff, archived')");
    psql('select pg_switch_wal()');
    job(check!);
    cluster.stop();
    host('--delta', 'restore');
    cluster.start();
    for (let i = 0; i < 240 && psql('select pg_is_in_recovery()') === 't'; i++)
      await new Promise((r) => setTimeout(r, 500));
    expect(psql("select string_agg(note, ',' order by note) from ledger")).toBe(
      'after diff, archived,before the full backup,between full and diff',
    );
  }, 240_000);
});
