import { parseId, toPage, toConnection, BadUserInputError } from '@stockgraph/graphql-kit';
import { isUuid } from '@stockgraph/ids';
import { atLeast } from '@stockgraph/auth';
import type { QueryResolvers } from '../generated/resolvers.js';

const MAX_SEARCH = 200;

export const Query: QueryResolvers = {
  customer: (_parent, { id }, { loaders }) => loaders.customerById.load(parseId(id)),

  customerByPhone: (_parent, { phone }, { loaders }) => {
    if (phone.length > 64 || !/\d/.test(phone)) throw new BadUserInputError('phone must contain digits', 'phone');
    return loaders.repository.findByPhone(phone);
  },

  customers: async (_parent, { search, first, after }, { loaders, identity }) => {
    if (search && search.length > MAX_SEARCH)
      throw new BadUserInputError(`search is limited to ${MAX_SEARCH} characters`, 'search');
    const page = toPage({ first, after }, 2, ([, id]) => isUuid(id ?? ''));
    const withContact = !!identity && atLeast(identity.role, 'STAFF');
    const rows = await loaders.repository.list(search, withContact, page);
    return { ...toConnection(rows, page, (c) => [c.name, c.id]), search: search ?? null, withContact };
  },
};
