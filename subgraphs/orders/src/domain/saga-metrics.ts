import type { Database } from '@stockgraph/db';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { pendingOrderStats } from '../db/pending-stats.repository.js';
import type * as schema from '../db/schema.js';
import type { OrderRow } from '../db/schema.js';

export type Decision = 'confirmed' | 'rejected';

/** Decisions applied in a transaction not yet known to be committed; a rolled-back one is retried. */
const UNCOMMITTED_MAX = 1000;

/**
 * The saga as operators watch it: orders placed, orders decided (by outcome) and how long placing took
 * to be decided, counted only once the change committed, plus the PENDING orders still waiting.
 * Labels are the outcome only: never an order or customer id.
 */
export function sagaMetrics(registry: Registry, db: Database<typeof schema>, sagaRetryMs: number) {
  const placed = new Counter({
    name: 'stockgraph_orders_placed_total',
    help: 'Orders created PENDING (an idempotent retry of placeOrder is not counted again)',
    registers: [registry],
  });
  const decided = new Counter({
    name: 'stockgraph_orders_decided_total',
    help: "Orders moved from PENDING by inventory's answer, by outcome (confirmed or rejected)",
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const decisionTime = new Histogram({
    name: 'stockgraph_order_decision_seconds',
    help: 'Time from an order being placed to its confirmation or rejection being committed',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const pending = (() => {
    let last: { at: number; value: Promise<{ count: number; oldest: Date | null }> } | null = null;
    return () => {
      if (!last || Date.now() - last.at > 1000)
        last = { at: Date.now(), value: pendingOrderStats(db).catch(() => ({ count: -1, oldest: null })) };
      return last.value;
    };
  })();
  new Gauge({
    name: 'stockgraph_orders_pending',
    help: 'Orders PENDING now (waiting for inventory); -1 when unreadable',
    registers: [registry],
    async collect() {
      this.set((await pending()).count);
    },
  });
  new Gauge({
    name: 'stockgraph_orders_pending_oldest_age_seconds',
    help: 'Age of the oldest PENDING order (0 when none)',
    registers: [registry],
    async collect() {
      const { oldest } = await pending();
      this.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
    },
  });
  // The alert on stuck orders compares against this, so it follows SAGA_RETRY_MS without an edit.
  new Gauge({
    name: 'stockgraph_saga_retry_seconds',
    help: 'SAGA_RETRY_MS: a PENDING order asks inventory again after this long',
    registers: [registry],
  }).set(sagaRetryMs / 1000);

  const uncommitted = new Map<string, { outcome: Decision; order: OrderRow }>();
  return {
    placed: () => placed.inc(),
    /** The handler of event `eventId` moved `order`; counted when that event's transaction commits. */
    decided(eventId: string, outcome: Decision, order: OrderRow) {
      if (uncommitted.size >= UNCOMMITTED_MAX) uncommitted.delete(uncommitted.keys().next().value!);
      uncommitted.set(eventId, { outcome, order });
    },
    /** Event `eventId`'s transaction committed: counts its decision and returns the order as decided. */
    committed(eventId: string): OrderRow | undefined {
      const decision = uncommitted.get(eventId);
      if (!decision) return undefined;
      uncommitted.delete(eventId);
      decided.inc({ outcome: decision.outcome });
      decisionTime.observe(
        { outcome: decision.outcome },
        Math.max(0, (Date.now() - decision.order.createdAt.getTime()) / 1000),
      );
      return decision.order;
    },
  };
}

export type SagaMetrics = ReturnType<typeof sagaMetrics>;
