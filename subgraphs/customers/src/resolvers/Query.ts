import { atLeast } from '@stockgraph/auth';
import { parseId, toConnection, toPage } from '@stockgraph/graphql-kit';
import { isUuid } from '@stockgraph/ids';
import { phoneQuery, searchTerm } from '../domain/customer-input.js';
import type { QueryResolvers } from '../generated/resolvers.js';

export const Query: QueryResolvers = {
  customer: (_parent, { id }, { loaders }) => loaders.customerById.load(parseId(id)),

  customerByPhone: (_parent, { phone }, { loaders }) => loaders.customers.findByPhone(phoneQuery(phone)),

  customers: async (_parent, args, { loaders, identity }) => {
    const search = searchTerm(args.search);
    const page = toPage(args, 2, ([, id]) => isUuid(id ?? ''));
    const withContact = !!identity && atLeast(identity.role, 'STAFF');
    const rows = await loaders.customers.list(search, withContact, page);
    return { ...toConnection(rows, page, (c) => [c.name, c.id]), search, withContact };
  },
};
