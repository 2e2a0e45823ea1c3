import { defaultPartitionRows, type Database, type PartitionedTable } from '@stockgraph/db';
import type { EventBus, Relay } from '@stockgraph/events';
import { Gauge, type Registry } from 'prom-client';

/** One reading shared by the gauges of a scrape, so a scrape costs one query, not one per gauge. */
function perScrape<T>(read: () => Promise<T>, fresh = 1000): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    if (!last || Date.now() - last.at > fresh) last = { at: Date.now(), value: read() };
    return last.value;
  };
}

/** The outbox's backlog: a growing one means the relay cannot publish (Redis away) or falls behind. */
export function registerOutboxMetrics(registry: Registry, relay: Relay) {
  const backlog = perScrape(() => relay.backlog().catch(() => ({ rows: -1, oldestSeconds: -1 })));
  new Gauge({
    name: 'stockgraph_outbox_lag',
    help: 'Events written to the outbox and not yet published (grows while Redis is unreachable); -1 when unreadable',
    registers: [registry],
    async collect() {
      this.set((await backlog()).rows);
    },
  });
  new Gauge({
    name: 'stockgraph_outbox_oldest_age_seconds',
    help: 'How long the oldest unpublished outbox event has waited (0 when none); -1 when unreadable',
    registers: [registry],
    async collect() {
      this.set((await backlog()).oldestSeconds);
    },
  });
}

/** Deliveries a consumer group holds unacknowledged: stuck or slow handlers show here first. */
export function registerPendingMetrics(
  registry: Registry,
  bus: EventBus,
  consumers: readonly { stream: string; group: string }[],
) {
  if (consumers.length === 0) return;
  new Gauge({
    name: 'stockgraph_events_pending',
    help: 'Events delivered to a consumer group and not yet acknowledged (XPENDING); -1 when unreadable',
    labelNames: ['stream', 'group'] as const,
    registers: [registry],
    async collect() {
      await Promise.all(
        consumers.map(async ({ stream, group }) =>
          this.set({ stream, group }, await bus.pending(stream, group).catch(() => -1)),
        ),
      );
    },
  });
}

/** Rows in a DEFAULT partition: a month was not created in time (see partitions.ts); read at scrape time. */
export function registerPartitionMetrics(
  registry: Registry,
  db: Database<Record<string, unknown>>,
  tables: readonly PartitionedTable[],
) {
  if (tables.length === 0) return;
  new Gauge({
    name: 'stockgraph_default_partition_rows',
    help: 'Rows that landed in a partitioned table’s DEFAULT partition; -1 when unreadable',
    labelNames: ['table'] as const,
    registers: [registry],
    async collect() {
      for (const table of tables)
        this.set({ table: `${table.schema}.${table.table}` }, await defaultPartitionRows(db, table).catch(() => -1));
    },
  });
}
