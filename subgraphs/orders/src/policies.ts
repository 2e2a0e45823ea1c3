import { atLeast, type Policy } from '@stockgraph/auth';
import { isUuidV7 } from '@stockgraph/ids';
import type { Context } from './context.js';

/**
 * The data-dependent rules named by `@policy` in schema.graphql, keyed by that name. The gateway finds
 * the names in the supergraph; their code runs here, next to the data they read.
 */
export const policies: Record<string, Policy<Context>> = {
  // Staff may cancel the orders they placed; managers and admins any. An unknown id passes here and
  // is answered NOT_FOUND by the resolver.
  'order-owner-or-manager': async (_parent, args, { identity, loaders }) => {
    if (!identity) return false;
    if (atLeast(identity.role, 'MANAGER')) return true;
    const id = String(args.id ?? '').toLowerCase();
    const order = isUuidV7(id) ? await loaders.orderById.load(id) : null;
    return !order || order.createdBy === identity.userId;
  },
  // Live status of an order: its author, and STAFF and up. The gateway applies the same rule to every
  // event (it serves subscriptions); here it guards the field should anything resolve it directly.
  'order-owner-or-staff': async (_parent, args, { identity, loaders }) => {
    if (!identity) return false;
    if (atLeast(identity.role, 'STAFF')) return true;
    const id = String(args.orderId ?? '').toLowerCase();
    const order = isUuidV7(id) ? await loaders.orderById.load(id) : null;
    return order?.createdBy === identity.userId;
  },
};
