import { inventoryStream } from '@stockgraph/contracts';
import { follow, type EventBus } from '@stockgraph/events';
import type { Logger } from '@stockgraph/logger';
import type { CatalogueCache } from './catalogue-cache.js';

/** Short, so a stop is quick; an event arriving ends the wait at once. */
const BLOCK_MS = 1000;
const RETRY_MS = 250;
const BATCH = 500;

/** The inventory events that change what a product read returns. */
const CHANGES = new Set(['ProductCreated', 'ProductPriceChanged', 'ProductUpdated', 'StockChanged']);

function productOf(payload: unknown): string | null {
  const id = (payload as { productId?: unknown } | null)?.productId;
  return typeof id === 'string' ? id : null;
}

/**
 * Follows the inventory stream outside any consumer group, so every replica sees every event, and
 * drops the products they name: changes committed by other processes (another replica, the saga's
 * consumer, a tool) leave the cache within the relay's delay plus one read of the stream. After an
 * outage it goes on from the last entry it read, so nothing published meanwhile is skipped.
 */
export function followCatalogueChanges(bus: EventBus, cache: CatalogueCache, logger: Logger) {
  let lastId: string | null = null;
  return follow({
    next: async () =>
      bus.tail(inventoryStream.name, (lastId ??= (await bus.position(inventoryStream.name)).lastId), BATCH, BLOCK_MS),
    handle: async (entries) => {
      const ids = new Set<string>();
      for (const entry of entries) {
        const id = CHANGES.has(entry.envelope.type) ? productOf(entry.envelope.payload) : null;
        if (id) ids.add(id);
      }
      if (ids.size > 0) await cache.invalidate([...ids]);
      if (entries.length > 0) lastId = entries.at(-1)!.id;
    },
    retry: { firstMs: RETRY_MS, maxMs: RETRY_MS },
    onError: (error) => logger.debug({ err: error }, 'catalogue cache: reading the inventory stream failed; retrying'),
  });
}
