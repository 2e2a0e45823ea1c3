import { randomUUID } from 'node:crypto';
import { openDatabase, parseLsn, rowsOf, type DatabaseHandle } from '@stockgraph/db';
import { createLogger } from '@stockgraph/logger';
import {
  graphql,
  readCounter,
  startOwnPostgres,
  startOwnReplica,
  type OwnPostgres,
  type ServiceProcess,
  type Stack,
} from '@stockgraph/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropRedisKeys, eventually, startSagaStack } from '@stockgraph/testkit/saga';

/**
 * A real streaming replica: a private primary (initdb) and a hot standby made from it with
 * pg_basebackup, both started with pg_ctl on free ports. Replay on the standby is paused
 * (pg_wal_replay_pause) to make it lag on demand, so a read served by it visibly misses the latest
 * write while a read served by the primary has it.
 */
let primary: OwnPostgres;
let replica: OwnPostgres;
let stack: Stack;
let prefix: string;
let secondGateway: ServiceProcess;
const DATABASE = 'stockgraph';
/** The gateways' cache keys (rate limits, callers' last writes), removed with the stack. */
const cachePrefix = `sgtest:${randomUUID().slice(0, 8)}:`;

const urlOf = (server: OwnPostgres) => server.url.replace(/\/postgres$/, `/${DATABASE}`);

async function onReplica<T>(work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(urlOf(replica), { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

const pauseReplay = () =>
  onReplica(async (sql) => {
    await sql`select pg_wal_replay_pause()`;
    await eventually(
      async () => (await sql`select pg_get_wal_replay_pause_state() as s`)[0]!.s === 'paused',
      10_000,
      'replay paused',
    );
  });
const resumeReplay = () => onReplica((sql) => sql`select pg_wal_replay_resume()`);

beforeAll(async () => {
  primary = await startOwnPostgres();
  const admin = postgres(primary.url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${DATABASE}`);
  await admin.end();
  replica = await startOwnReplica(primary);
  ({ stack, prefix } = await startSagaStack(
    {
      DATABASE_REPLICA_URLS: urlOf(replica),
      DATABASE_REPLICA_CHECK_MS: '200',
      // Long enough that the paused replica stays in rotation while the test proves read-your-writes.
      DATABASE_REPLICA_MAX_LAG_MS: '120000',
      READ_YOUR_WRITES: 'true',
      READ_YOUR_WRITES_TTL_SECONDS: '600',
      // The response cache keeps nothing fetched while a replica may still lag behind what changed.
      RESPONSE_CACHE_SETTLE_MS: '120000',
      REDIS_KEY_PREFIX: cachePrefix,
    },
    { database: { url: urlOf(primary), name: DATABASE, drop: async () => {} } },
  ));
  secondGateway = await stack.startGateway();
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
  await dropRedisKeys(cachePrefix);
  await replica?.remove();
  await primary?.remove();
});

const customersMetrics = () => new URL('/metrics', stack.subgraphs.customers.url).toString();
const reads = (labels: string) => readCounter(customersMetrics(), 'stockgraph_db_reads_total', labels);

const CUSTOMER = 'query ($id: ID!) { customer(id: $id) { id name } }';

describe('read replicas behind every subgraph', () => {
  it('a client reads its own write on its next request through another gateway while the replica lags', async () => {
    const staff = await stack.as('STAFF');
    const manager = await stack.as('MANAGER');
    await pauseReplay();
    try {
      const created = await graphql(
        stack.gateway.url,
        'mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { id name } }',
        { input: { name: 'Replica Lag Ltd' } },
        staff,
      );
      expect(created.errors).toBeUndefined();
      const id = created.data.createCustomer.id as string;
      const behindBefore = await reads('reason="behind"');
      const replicaBefore = await reads('target="replica"');

      // The writer, through the other gateway replica: served by the primary, since the replica has not
      // replayed the write.
      const own = await graphql(secondGateway.url, CUSTOMER, { id }, staff);
      expect(own.errors).toBeUndefined();
      expect(own.data.customer).toEqual({ id, name: 'Replica Lag Ltd' });
      expect(await reads('reason="behind"')).toBe(behindBefore + 1);

      // Someone who wrote nothing reads from the replica, which does not have the customer yet.
      const other = await graphql(stack.gateway.url, CUSTOMER, { id }, manager);
      expect(other.errors).toBeUndefined();
      expect(other.data.customer).toBeNull();
      expect(await reads('target="replica"')).toBe(replicaBefore + 1);

      await resumeReplay();
      await eventually(
        async () => (await graphql(stack.gateway.url, CUSTOMER, { id }, manager)).data?.customer?.name,
        30_000,
        'the replica replays the write',
      );
      // Caught up, the replica serves the writer too.
      const replicaAfter = await reads('target="replica"');
      expect((await graphql(stack.gateway.url, CUSTOMER, { id }, staff)).data.customer.name).toBe('Replica Lag Ltd');
      expect(await reads('target="replica"')).toBe(replicaAfter + 1);
    } finally {
      await resumeReplay();
    }
  });

  it('serves reads from the primary while the replica is down, and from the replica once it is back', async () => {
    const manager = await stack.as('MANAGER');
    // A new document each time (its alias): the response cache would answer a repeat without the read
    // this test watches reaching the subgraph.
    let asked = 0;
    const list = async () => {
      const alias = `list${asked++}`;
      const answer = await graphql(stack.gateway.url, `{ ${alias}: customers(first: 3) { totalCount } }`, {}, manager);
      return { ...answer, data: answer.data && { customers: answer.data[alias] } };
    };
    await replica.stop();
    try {
      for (let i = 0; i < 5; i++) {
        const answer = await list();
        expect(answer.errors).toBeUndefined();
        expect(answer.data.customers.totalCount).toBeGreaterThan(0);
      }
      await eventually(
        async () =>
          (await readCounter(customersMetrics(), 'stockgraph_db_replica_in_rotation', 'replica="0"')) === 0 &&
          (await reads('reason="unavailable"')) > 0,
        30_000,
        'the stopped replica leaves the rotation',
      );
    } finally {
      await replica.start();
    }
    await eventually(
      async () => (await readCounter(customersMetrics(), 'stockgraph_db_replica_in_rotation', 'replica="0"')) === 1,
      60_000,
      'the replica is back in rotation',
    );
    const before = await reads('target="replica"');
    expect((await list()).data.customers.totalCount).toBeGreaterThan(0);
    expect(await reads('target="replica"')).toBe(before + 1);
  });
});

describe('the replica rotation (packages/db)', () => {
  let handle: DatabaseHandle<Record<string, never>>;
  let route: number | undefined;

  beforeAll(async () => {
    handle = await openDatabase({
      url: urlOf(primary),
      schema: {},
      logger: createLogger('test', 'silent'),
      replicas: { urls: [urlOf(replica)], maxLagMs: 300, checkIntervalMs: 100, route: () => route },
    });
    await handle.replicas!.probe();
  });

  afterAll(async () => {
    await resumeReplay();
    await handle?.close();
  });

  const serverInRecovery = async () => {
    const [row] = rowsOf<{ standby: boolean }>(await handle.db.execute('select pg_is_in_recovery() as standby'));
    return row!.standby;
  };

  it('sends statements of a routed request to the replica, transactions and unrouted ones to the primary', async () => {
    route = 0;
    expect(await serverInRecovery()).toBe(true);
    expect(
      await handle.db.transaction(async (tx) => {
        return rowsOf<{ standby: boolean }>(await tx.execute('select pg_is_in_recovery() as standby'))[0]!.standby;
      }),
    ).toBe(false);
    route = undefined;
    expect(await serverInRecovery()).toBe(false);
  });

  it('routes a caller to the replica only once it has replayed the caller’s write', async () => {
    await pauseReplay();
    try {
      await handle.db.execute('create table if not exists rotation_probe (n int)');
      await handle.db.execute('insert into rotation_probe values (1)');
      const written = parseLsn(await handle.replicas!.primaryLsn())!;
      expect(await handle.replicas!.choose(written)).toEqual({ reason: 'behind' });
      expect(await handle.replicas!.choose(undefined)).toEqual({ replica: 0 });
      expect(await handle.replicas!.choose('primary')).toEqual({ reason: 'asked' });
    } finally {
      await resumeReplay();
    }
    const written = parseLsn(await handle.replicas!.primaryLsn())!;
    await eventually(async () => (await handle.replicas!.choose(written)).replica === 0, 10_000, 'replayed');
  });

  it('takes a replica that lags more than the bound out of rotation, and back once it catches up', async () => {
    await pauseReplay();
    try {
      await handle.db.execute('insert into rotation_probe values (2)');
      await eventually(async () => !handle.replicas!.status()[0]!.inRotation, 10_000, 'out of rotation');
      expect(await handle.replicas!.choose(undefined)).toEqual({ reason: 'unavailable' });
    } finally {
      await resumeReplay();
    }
    await eventually(async () => handle.replicas!.status()[0]!.inRotation, 10_000, 'back in rotation');
    route = 0;
    // A write sent to the replica by mistake is run on the primary instead of failing.
    await handle.db.execute('insert into rotation_probe values (3)');
    route = undefined;
    const [row] = rowsOf<{ n: number }>(await handle.db.execute('select count(*)::int as n from rotation_probe'));
    expect(row!.n).toBe(3);
  });
});
