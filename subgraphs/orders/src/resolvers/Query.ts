import { BadUserInputError, parseId, toConnection, toPage } from '@stockgraph/graphql-kit';
import { isUuidV7 } from '@stockgraph/ids';
import type { QueryResolvers } from '../generated/resolvers.js';

const MAX_BUCKETS = 1000;
const BUCKET_MS = { DAY: 86_400_000, WEEK: 7 * 86_400_000, MONTH: 28 * 86_400_000 } as const;

export const orderCursor = (id: string) => isUuidV7(id);

export const Query: QueryResolvers = {
  order: (_parent, { id }, { loaders }) => {
    const orderId = parseId(id);
    // Every order id is a UUIDv7; any other UUID cannot name an order.
    // Live first, then the archive: an archived order keeps its id.
    return isUuidV7(orderId) ? loaders.orderById.load(orderId) : null;
  },

  orders: async (_parent, { filter, first, after }, { loaders }) => {
    const page = toPage({ first, after }, 1, ([id]) => orderCursor(id ?? ''));
    const normalized = {
      status: filter?.status ?? null,
      customerId: filter?.customerId ? parseId(filter.customerId, 'filter.customerId') : null,
      createdFrom: filter?.createdFrom ?? null,
      createdTo: filter?.createdTo ?? null,
      archived: filter?.archived ?? false,
    };
    if (normalized.createdFrom && normalized.createdTo && normalized.createdFrom >= normalized.createdTo) {
      throw new BadUserInputError('filter.createdFrom must be before filter.createdTo', 'filter');
    }
    const rows = await (normalized.archived ? loaders.archive : loaders.orders).list(normalized, page);
    return { ...toConnection(rows, page, (o) => [o.id]), filter: normalized };
  },

  orderStats: (_parent, { from, to, interval }, { loaders }) => {
    const width = interval ?? 'DAY';
    if (from >= to) throw new BadUserInputError('from must be before to', 'from');
    if ((to.getTime() - from.getTime()) / BUCKET_MS[width] > MAX_BUCKETS) {
      throw new BadUserInputError(
        `the range spans more than ${MAX_BUCKETS} ${width.toLowerCase()} buckets`,
        'interval',
      );
    }
    return loaders.orders.stats(from, to, width);
  },
};
