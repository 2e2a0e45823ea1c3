import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { parseLsn, type ReadAfter, type ReadReplicas, type ReplicaStatus } from '@stockgraph/db';
import type { Logger } from '@stockgraph/logger';
import { Counter, Gauge, type Registry } from 'prom-client';
import { requestScope } from './metrics.js';

/**
 * Gateway → subgraph: the caller's last write to this subgraph's database, as the LSN this subgraph
 * answered it with, or `primary` when the gateway could not tell. A replica serves the request only
 * once it has replayed that far.
 */
export const READ_AFTER_HEADER = 'x-stockgraph-read-after';
/** Subgraph → gateway, on every mutation's answer: the primary's WAL position after it. */
export const WRITTEN_LSN_HEADER = 'x-stockgraph-written-lsn';

function readAfter(value: string | undefined): ReadAfter {
  if (value === undefined) return undefined;
  // A value that is not an LSN cannot be compared: the primary is the safe answer.
  return value === 'primary' ? 'primary' : (parseLsn(value) ?? 'primary');
}

export type ReplicaMetrics = ReturnType<typeof createReplicaMetrics>;

/** Labels are replica positions in DATABASE_REPLICA_URLS and fixed reasons: a small, bounded set. */
export function createReplicaMetrics(registry: Registry) {
  let status: () => ReplicaStatus[] = () => [];
  new Gauge({
    name: 'stockgraph_db_replica_in_rotation',
    help: 'Whether a read replica (by its position in DATABASE_REPLICA_URLS) serves reads: 1 in rotation, 0 out',
    labelNames: ['replica'] as const,
    registers: [registry],
    collect() {
      for (const r of status()) this.set({ replica: String(r.index) }, r.inRotation ? 1 : 0);
    },
  });
  new Gauge({
    name: 'stockgraph_db_replica_lag_seconds',
    help: 'How long a read replica has not reached a WAL position the primary had (0: caught up), as of the last check',
    labelNames: ['replica'] as const,
    registers: [registry],
    collect() {
      for (const r of status()) this.set({ replica: String(r.index) }, r.lagMs / 1000);
    },
  });
  return {
    /** Report these replicas' rotation and lag (the database is opened after the metrics exist). */
    watch(replicas: ReadReplicas) {
      status = () => replicas.status();
    },
    reads: new Counter({
      name: 'stockgraph_db_reads_total',
      help: "Operations by where their reads went: replica, or primary with why (write; behind: no replica had replayed the caller's last write; unavailable: no replica in rotation; asked: the gateway could not tell the caller's last write)",
      labelNames: ['target', 'reason'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'stockgraph_db_replica_retries_total',
      help: 'Statements a replica could not run (down, recovery conflict) that were run on the primary instead',
      labelNames: ['replica'] as const,
      registers: [registry],
    }),
  };
}

/**
 * Sends each read-only operation's statements to a read replica that has replayed the caller's last
 * write, and tells the gateway, after every mutation, the primary's position its writes reached. Whatever
 * runs in a transaction goes to the primary regardless (the database's router sees to that).
 */
export function readRoutingPlugin<TContext extends BaseContext>(
  replicas: ReadReplicas,
  { reads }: ReplicaMetrics,
  logger: Logger,
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      let mutation = false;
      return {
        async didResolveOperation({ operation, request }) {
          const scope = requestScope.getStore();
          if (!scope) return;
          if (operation?.operation !== 'query') {
            mutation = true;
            reads.inc({ target: 'primary', reason: 'write' });
            return;
          }
          const route = await replicas.choose(readAfter(request.http?.headers.get(READ_AFTER_HEADER)));
          scope.readReplica = route.replica;
          reads.inc(route.replica === undefined ? { target: 'primary', reason: route.reason } : { target: 'replica' });
        },
        async willSendResponse({ response }) {
          if (!mutation) return;
          try {
            response.http.headers.set(WRITTEN_LSN_HEADER, await replicas.primaryLsn());
          } catch (error) {
            // Without it the caller may next read from a replica that lags: say so, do not fail the write.
            logger.warn({ reason: (error as Error).message }, 'could not read the WAL position after a write');
          }
        },
      };
    },
  };
}
